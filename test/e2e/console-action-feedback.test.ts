import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import { newPage, signInWithPassword } from '../../src/testing/browser.js';
import { waitFor, type Json, type TestServer } from '../../src/testing/harness.js';
import {
  addConsoleUser,
  startConsoleSession,
  type ConsoleSession,
} from '../../src/testing/console-session.js';

/**
 * What the console tells of an alert action, in a real browser against the real server: a note sent
 * with Ctrl+Enter pressed twice is added once, and what is typed while it is sent stays; an action whose
 * outcome cannot be read is told as unconfirmed, not done; a bulk action refused as a whole keeps the
 * selection; and a failed acknowledge from the list is told after the person has opened the alert.
 */

const REQUEST_STATUS = '**/v2/alerts/requests/*';
const run = randomUUID().slice(0, 8);

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;
let browser: Browser;

interface Made {
  id: string;
  tinyId: string;
  message: string;
}

async function createAlert(message: string, tag: string, responders: Json[] = []): Promise<Made> {
  const accepted = await server.callOk('POST', '/v2/alerts', { message, tags: [tag], responders });
  const status = await server.callOk('GET', `/v2/alerts/requests/${accepted.requestId}`);
  const alert = (await server.callOk('GET', `/v2/alerts/${status.data.alertId}`)).data;
  return { id: alert.id, tinyId: alert.tinyId, message };
}

const get = async (id: string): Promise<Json> => (await server.callOk('GET', `/v2/alerts/${id}`)).data;

/** Holds the page's requests to `url` until `release` is called. */
async function hold(
  on: Page,
  url: string | ((url: URL) => boolean),
): Promise<{ release: () => Promise<void> }> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const held = new Set<Promise<void>>();
  const handler = (route: Route) => {
    const passed = gate.then(() => route.continue());
    held.add(passed);
    return passed;
  };
  await on.route(url, handler);
  return {
    async release() {
      open();
      // Unrouted only once every held read has gone on: unroute would answer a held one itself.
      await Promise.all(held);
      await on.unroute(url, handler);
    },
  };
}

/** Holds the page's reads of a request's status until `release` is called. */
const holdRequestStatus = (on: Page) => hold(on, REQUEST_STATUS);

/** The notification (a toast) whose text matches. */
const toast = (on: Page, text: string | RegExp) => on.getByRole('alert').filter({ hasText: text });

before(async () => {
  session = await startConsoleSession();
  ({ server, page, browser } = session);
});

after(async () => {
  await session?.stop();
});

describe('what the console tells of an alert action', () => {
  it('adds a note once when Ctrl+Enter is pressed twice, and keeps what was typed while it was sent', async () => {
    const alert = await createAlert(`Noted twice ${run}`, `note-${run}`);
    await page.goto(`${server.url}/alerts/${alert.id}`);
    const box = page.getByLabel('Add a note');
    await box.fill('Restarted the pod');
    const held = await holdRequestStatus(page);
    await box.press('Control+Enter');
    await box.press('Control+Enter');
    // The next note, typed while the first is on its way.
    await box.fill('Watching the error rate');
    await page.waitForTimeout(300);
    await held.release();
    await toast(page, 'Note added').first().waitFor();
    await page.getByText('Restarted the pod', { exact: true }).waitFor();
    const notes = (await server.callOk('GET', `/v2/alerts/${alert.id}/notes`)).data as Json[];
    assert.deepEqual(
      notes.map((n) => n.note),
      ['Restarted the pod'],
    );
    assert.equal(await box.inputValue(), 'Watching the error rate');
  });

  it('sends one acknowledge when a is pressed twice on the alert page', async () => {
    const alert = await createAlert(`Pressed twice ${run}`, `twice-${run}`);
    await page.goto(`${server.url}/alerts/${alert.id}`);
    await page.getByRole('toolbar', { name: 'Alert actions' }).waitFor();
    const sent: string[] = [];
    const listener = (request: { method: () => string; url: () => string }) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/acknowledge'))
        sent.push(request.url());
    };
    page.on('request', listener);
    const held = await holdRequestStatus(page);
    try {
      // Back to back, in the same moment: before the first press's pending state has come.
      const body = page.locator('body');
      await Promise.all([body.press('a'), body.press('a')]);
      await page.waitForTimeout(300);
    } finally {
      await held.release();
      page.off('request', listener);
    }
    await toast(page, 'Acknowledged').first().waitFor();
    assert.equal(sent.length, 1, sent.join(', '));
  });

  it('closes with c while the acknowledge sent with a is still being confirmed', async () => {
    const alert = await createAlert(`Then closed ${run}`, `then-closed-${run}`);
    await page.goto(`${server.url}/alerts/${alert.id}`);
    const toolbar = page.getByRole('toolbar', { name: 'Alert actions' });
    await toolbar.getByRole('button', { name: 'Acknowledge' }).waitFor();
    const held = await holdRequestStatus(page);
    try {
      await page.locator('body').press('a');
      // The live stream shows it acknowledged; the acknowledge's own outcome is still held back.
      await toolbar.getByRole('button', { name: 'Unacknowledge' }).waitFor();
      await page.locator('body').press('c');
      await waitFor('the alert closed', async () => (await get(alert.id)).status === 'closed', 10_000);
    } finally {
      await held.release();
    }
    await toast(page, 'Closed').first().waitFor();
  });

  it('sends one acknowledge and one close when a, c, a are pressed while the acknowledge is confirmed', async () => {
    const alert = await createAlert(`Pressed a, c, a ${run}`, `a-c-a-${run}`);
    await page.goto(`${server.url}/alerts/${alert.id}`);
    await page
      .getByRole('toolbar', { name: 'Alert actions' })
      .getByRole('button', { name: 'Acknowledge' })
      .waitFor();
    const sent: string[] = [];
    const listener = (request: { method: () => string; url: () => string }) => {
      const action = /\/(acknowledge|close)$/.exec(new URL(request.url()).pathname)?.[1];
      if (request.method() === 'POST' && action) sent.push(action);
    };
    page.on('request', listener);
    const held = await holdRequestStatus(page);
    // The page goes on showing the alert open and not acknowledged, so that the second a is not
    // turned away by what it shows but only by the acknowledge still in flight.
    const shown = await hold(page, (url) => url.pathname.endsWith(`/v2/alerts/${alert.id}`));
    try {
      const body = page.locator('body');
      await body.press('a');
      await body.press('c');
      await body.press('a');
      await waitFor('the alert closed', async () => (await get(alert.id)).status === 'closed', 10_000);
      await page.waitForTimeout(300);
    } finally {
      await held.release();
      await shown.release();
      page.off('request', listener);
    }
    await toast(page, 'Closed').first().waitFor();
    await toast(page, 'Acknowledged').first().waitFor();
    assert.deepEqual(sent.sort(), ['acknowledge', 'close']);
    assert.equal(await toast(page, 'could not be done').count(), 0);
  });

  it('says an acknowledge was sent but not confirmed when its outcome cannot be read', async () => {
    const alert = await createAlert(`Unconfirmed ${run}`, `unconfirmed-${run}`);
    await page.goto(`${server.url}/alerts/${alert.id}`);
    const unavailable = (route: Route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: '{"message":"Down"}' });
    await page.route(REQUEST_STATUS, unavailable);
    try {
      await page
        .getByRole('toolbar', { name: 'Alert actions' })
        .getByRole('button', { name: 'Acknowledge' })
        .click();
      const told = toast(page, /could not be confirmed|Acknowledged/);
      await told.waitFor();
      assert.match(await told.innerText(), /Sent, but its result could not be confirmed: check the alert\./);
      assert.doesNotMatch(await told.innerText(), /^Acknowledged$/m);
    } finally {
      await page.unroute(REQUEST_STATUS, unavailable);
    }
  });

  it('tells of a failed acknowledge from the list after the alert was opened', async () => {
    const alert = await createAlert(`Closed meanwhile ${run}`, `late-${run}`);
    // Someone else closed it: acknowledging it fails, once Vigil has processed the request.
    await server.callOk('POST', `/v2/alerts/${alert.id}/close`, {});
    await page.goto(`${server.url}/alerts?view=all&query=${encodeURIComponent(`tag:late-${run}`)}`);
    await page.getByRole('checkbox', { name: `Select alert ${alert.tinyId}` }).waitFor();
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    await page.keyboard.press('j');
    await page.locator('[data-focused="true"]').getByText(alert.message).waitFor();
    const held = await holdRequestStatus(page);
    await page.keyboard.press('a');
    await page.keyboard.press('o');
    await page.waitForURL(`**/alerts/${alert.id}`);
    await page.getByRole('toolbar', { name: 'Alert actions' }).waitFor();
    await held.release();
    const told = toast(page, 'could not be');
    await told.waitFor({ timeout: 8000 });
    assert.match(await told.innerText(), /Alert is closed: it can not be acknowledged\./);
    assert.equal((await get(alert.id)).acknowledged, false);
  });

  it('keeps the selection when a bulk acknowledge is refused as a whole', async () => {
    const email = `refused-${run}@example.com`;
    const password = 'refused horse battery staple';
    const role = `No bulk ${run}`;
    await server.callOk('POST', '/v2/roles', {
      name: role,
      extendedRole: 'user',
      grantedRights: [],
      disallowedRights: ['alert-acknowledge-all', 'alert-close-all'],
    });
    const userId = await addConsoleUser(server, { email, fullName: 'Rae Refused', password, role });
    const teamId: string = (await server.callOk('POST', '/v2/teams', { name: `Refused ${run}` })).data.id;
    await server.callOk('POST', `/v2/teams/${teamId}/members`, { user: { id: userId }, role: 'user' });
    const tag = `refused-${run}`;
    const made: Made[] = [];
    for (let i = 1; i <= 2; i++)
      made.push(await createAlert(`Refused ${i} ${run}`, tag, [{ type: 'team', id: teamId }]));

    const own = await newPage(browser);
    try {
      const p = own.page;
      await signInWithPassword(p, server.url, email, password);
      await p.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:${tag}`)}`);
      for (const m of made) await p.getByRole('checkbox', { name: `Select alert ${m.tinyId}` }).check();
      const bar = p.getByRole('region', { name: 'Selected alerts' });
      await bar.getByText('2 selected').waitFor();
      await bar.getByRole('button', { name: 'Acknowledge' }).click();
      await toast(p, 'many alerts at once').waitFor();
      assert.equal(await bar.getByText('2 selected').count(), 1, 'the selection is kept');
      for (const m of made) {
        assert.equal(await p.getByRole('checkbox', { name: `Select alert ${m.tinyId}` }).isChecked(), true);
        assert.equal((await get(m.id)).acknowledged, false);
      }
    } finally {
      await own.context.close();
    }
  });
});
