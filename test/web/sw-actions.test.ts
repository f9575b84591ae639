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
