import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import vm from 'node:vm';

/**
 * The service worker's decisions (web/public/sw-actions.js), run from Node as the worker's importScripts
 * runs them: a classic script that puts `vigilPush` on `self`.
 */
interface Shown {
  title: string;
  options: { tag?: string; renotify?: boolean; requireInteraction?: boolean; actions?: unknown[] };
}
const source = readFileSync(new URL('../../web/public/sw-actions.js', import.meta.url), 'utf8');
const self: { vigilPush?: { notificationOf: (d: unknown) => Shown } } = {};
vm.runInNewContext(source, { self, URL, atob });
const { notificationOf } = self.vigilPush!;

describe("the service worker's notification for a push", () => {
  it('shows a test message (no alert) without renotify, which Chrome refuses without a tag', () => {
    // What the push channel sends for a notice (src/notify/push/channel.ts sendNotice).
    const shown = notificationOf({
      title: 'Vigil test message',
      body: 'This device gets your Vigil notifications.',
      kind: 'notice',
      url: 'https://vigil.example.com',
      actions: {},
    });
    assert.equal(shown.title, 'Vigil test message');
    // Chromium: "Notifications which set the renotify flag must specify a non-empty tag".
    assert.ok(!shown.options.renotify || !!shown.options.tag, JSON.stringify(shown.options));
    assert.equal(shown.options.renotify, undefined);
    assert.equal(shown.options.tag, undefined);
    assert.equal(shown.options.actions?.length, 0);
    assert.equal(notificationOf({ title: 'x', alertId: '' }).options.renotify, undefined);
  });

  it("tags an alert's page with the alert and renotifies, so an update replaces it with a sound", () => {
    const shown = notificationOf({
      title: '[P1] Disk full',
      kind: 'create-alert',
      alertId: 'a1',
      actions: {},
    });
    assert.equal(shown.options.tag, 'a1');
    assert.equal(shown.options.renotify, true);
    assert.equal(shown.options.requireInteraction, true);
  });
});

describe('a note or an assignment about an alert whose page is on screen', () => {
  const page = { title: '[P1] Disk full', kind: 'create-alert', alertId: 'a1', actions: {} };

  it('gets a tag of its own, so the page stays on screen until someone answers it', () => {
    const shownPage = notificationOf(page);
    for (const kind of ['add-note', 'assigned-alert']) {
      const update = notificationOf({ ...page, title: `[P1] ${kind}: Disk full`, kind });
      // The same tag would replace the page with a notification that may go away on its own.
      assert.notEqual(update.options.tag, shownPage.options.tag, kind);
      assert.ok(update.options.tag, kind);
      assert.equal(update.options.renotify, true, kind);
      // The next note replaces the last one, not the page.
      assert.equal(notificationOf({ ...page, kind }).options.tag, update.options.tag, kind);
    }
    assert.notEqual(
      notificationOf({ ...page, kind: 'add-note' }).options.tag,
      notificationOf({ ...page, kind: 'assigned-alert' }).options.tag,
    );
  });

  it('while its acknowledgement or close still replaces the page', () => {
    for (const kind of ['acknowledged-alert', 'closed-alert']) {
      const update = notificationOf({ ...page, kind });
      assert.equal(update.options.tag, 'a1', kind);
      assert.equal(update.options.requireInteraction, false, kind);
    }
  });
});
