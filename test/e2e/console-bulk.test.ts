import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import {
  DESKTOP,
  launchBrowser,
  newPage,
  pageAudits,
  requireChromium,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { startTestServer, type Json, type TestServer } from '../../src/testing/harness.js';

/**
 * The alert list's bulk bar in a real browser against the real server: a selection is acknowledged or
 * closed in one request to POST /v2/bulk/alerts/{action} (never one request per alert), the alerts
 * change (read back through the API), and an alert that could not be done is named with the reason.
 * Audited by axe-core; screenshots: test-artifacts/screenshots/bulk-*.png. Also the live updates where
 * they could miss a change: one made after a page read what it shows but before its event stream was
 * open, or while the stream was down.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const run = randomUUID().slice(0, 8);

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const { audit, problems } = pageAudits('bulk-');

interface Made {
  id: string;
  tinyId: string;
  message: string;
}

async function createAlert(message: string, tag: string): Promise<Made> {
  const accepted = await server.callOk('POST', '/v2/alerts', { message, tags: [tag] });
  const status = await server.callOk('GET', `/v2/alerts/requests/${accepted.requestId}`);
  const alert = (await server.callOk('GET', `/v2/alerts/${status.data.alertId}`)).data;
  return { id: alert.id, tinyId: alert.tinyId, message };
}

const get = async (id: string): Promise<Json> => (await server.callOk('GET', `/v2/alerts/${id}`)).data;

/** The alert action requests the page makes from now on, by path. */
function recordActionRequests(): { paths: string[]; stop: () => void } {
  const paths: string[] = [];
  const listener = (request: { method: () => string; url: () => string }) => {
    const url = new URL(request.url());
    const action = /^\/v2\/(bulk\/)?alerts\//.test(url.pathname);
    if (request.method() !== 'GET' && action) paths.push(url.pathname);
  };
  page.on('request', listener);
  return { paths, stop: () => page.off('request', listener) };
}

before(async () => {
  await requireChromium();
  server = await startTestServer({
    env: {
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    },
  });
  browser = await launchBrowser();
  ({ context, page } = await newPage(browser, DESKTOP));
  await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
});

describe('the bulk bar of the alert list', () => {
  it('acknowledges a selection in one request, and names the alert it could not acknowledge', async () => {
    const made: Made[] = [];
    for (const m of ['Disk full on web-1', 'Disk full on web-2', 'Disk full on web-3', 'Disk full on web-4'])
      made.push(await createAlert(`${m} ${run}`, `ack-${run}`));
    const [first, second, closedMeanwhile, untouched] = made as [Made, Made, Made, Made];
    await page.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:ack-${run}`)}`);
    for (const m of [first, second, closedMeanwhile])
      await page.getByRole('checkbox', { name: `Select alert ${m.tinyId}` }).check();
    await page.getByRole('region', { name: 'Selected alerts' }).getByText('3 selected').waitFor();
    // Someone else closes one of them before the button is pressed.
    await server.callOk('POST', `/v2/alerts/${closedMeanwhile.id}/close`, {});

    const requests = recordActionRequests();
    await page
      .getByRole('region', { name: 'Selected alerts' })
      .getByRole('button', { name: 'Acknowledge' })
      .click();
    // The result stays on the page, named by what was done, until dismissed.
    const result = page.getByRole('status', { name: '2 alerts acknowledged; 1 alert could not be.' });
    await result
      .getByText(
        `#${closedMeanwhile.tinyId} ${closedMeanwhile.message}: Alert is closed: it can not be acknowledged.`,
      )
      .waitFor();
    requests.stop();
    assert.deepEqual(requests.paths, ['/v2/bulk/alerts/acknowledge']);
    await audit(page, 'partial-result');

    assert.equal((await get(first.id)).acknowledged, true);
    assert.equal((await get(second.id)).acknowledged, true);
    assert.equal((await get(closedMeanwhile.id)).acknowledged, false);
    assert.equal((await get(untouched.id)).acknowledged, false);
    assert.equal(
      await page.getByRole('region', { name: 'Selected alerts' }).count(),
      0,
      'the selection is cleared',
    );

    await result.getByRole('button', { name: 'Dismiss' }).click();
    await result.waitFor({ state: 'detached' });
  });

  it('closes every alert on the page in one request, and says how many', async () => {
    const made: Made[] = [];
    for (let i = 1; i <= 5; i++) made.push(await createAlert(`Queue backlog ${i} ${run}`, `close-${run}`));
    await page.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:close-${run}`)}`);
    await page.getByRole('checkbox', { name: `Select alert ${made[0]?.tinyId ?? ''}` }).waitFor();
    await page.getByRole('checkbox', { name: 'Select every alert on this page' }).check();
    await page.getByRole('region', { name: 'Selected alerts' }).getByText('5 selected').waitFor();

    const requests = recordActionRequests();
    await page
      .getByRole('region', { name: 'Selected alerts' })
      .getByRole('button', { name: 'Close' })
      .click();
    await page.getByText('5 alerts closed.').waitFor();
    requests.stop();
    assert.deepEqual(requests.paths, ['/v2/bulk/alerts/close']);
    for (const m of made) assert.equal((await get(m.id)).status, 'closed');
    assert.equal(await page.getByText('Not done:').count(), 0, 'no alert is listed as not done');
  });

  it('had no serious accessibility problem on the pages audited', () => {
    assert.deepEqual(problems(), []);
  });
});

describe('the live updates of the console', () => {
  it('shows an alert made after the list was read and before its live stream opened', async () => {
    const tag = `opening-${run}`;
    const listed = await createAlert(`Certificate expires soon ${run}`, tag);
    // A page of its own whose event stream is held back until the list has been read and changed.
    const held = await context.newPage();
    let streamAsked!: () => void;
    const asked = new Promise<void>((resolve) => (streamAsked = resolve));
    let openStream!: () => void;
    const released = new Promise<void>((resolve) => (openStream = resolve));
    await held.route('**/api/console/events', async (route) => {
      streamAsked();
      await released;
      await route.continue();
    });
    try {
      await held.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:${tag}`)}`);
      await held.getByText(listed.message).waitFor();
      await asked;
      const meanwhile = await createAlert(`Certificate expired ${run}`, tag);
      openStream();
      // Nothing announces this alert any more: only fetching the list again once the stream is open shows it.
      await held.getByText(meanwhile.message).waitFor({ timeout: 15_000 });
    } finally {
      openStream();
      await held.close();
    }
  });

  it('shows an alert made while the list was still being read when its live stream opened', async () => {
    const tag = `reading-${run}`;
    const listed = await createAlert(`Backup job late ${run}`, tag);
    const held = await context.newPage();
    // The list's first answer is read from the server at once but handed to the page only after an alert
    // was made and the stream opened; later reads of the list go through.
    let listAsked!: (route: Route) => void;
    const firstList = new Promise<Route>((resolve) => (listAsked = resolve));
    let asked = false;
    await held.route(
      (url) => url.pathname === '/v2/alerts',
      async (route) => {
        if (asked) return route.continue();
        asked = true;
        listAsked(route);
      },
    );
    try {
      await held.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:${tag}`)}`);
      const route = await firstList;
      const answer = await route.fetch();
      const meanwhile = await createAlert(`Backup job failed ${run}`, tag);
      await held.getByRole('img', { name: 'Live updates on' }).waitFor();
      await route.fulfill({ response: answer });
      await held.getByText(listed.message).waitFor();
      await held.getByText(meanwhile.message).waitFor({ timeout: 15_000 });
    } finally {
      await held.close();
    }
  });

  it('reads an open alert again when its live stream comes back after a drop', async () => {
    const alert = await createAlert(`Root login from a new address ${run}`, `drop-${run}`);
    const held = await context.newPage();
    // The first stream opens and ends at once (a proxy that dropped it); the browser's second attempt is
    // held back until a note was added meanwhile, then goes to the server.
    let secondAsked!: () => void;
    const asked = new Promise<void>((resolve) => (secondAsked = resolve));
    let letThrough!: () => void;
    const released = new Promise<void>((resolve) => (letThrough = resolve));
    let attempts = 0;
    await held.route('**/api/console/events', async (route) => {
      attempts++;
      if (attempts === 1)
        return route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
          body: 'retry: 500\n: connected\n\n',
        });
      secondAsked();
      await released;
      return route.continue();
    });
    try {
      const notesRead = held.waitForResponse((r) => r.url().includes(`/v2/alerts/${alert.id}/notes`));
      await held.goto(`${server.url}/alerts/${alert.id}`);
      await notesRead;
      await held.getByRole('heading', { name: alert.message }).waitFor();
      await asked;
      const noted = await server.callOk('POST', `/v2/alerts/${alert.id}/notes`, {
        note: `Seen from the VPN ${run}`,
      });
      await server.callOk('GET', `/v2/alerts/requests/${noted.requestId}`);
      letThrough();
      await held.getByText(`Seen from the VPN ${run}`).first().waitFor({ timeout: 15_000 });
    } finally {
      letThrough();
      await held.close();
    }
  });
});
