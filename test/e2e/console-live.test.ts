import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page, Request, Route } from 'playwright-core';
import { waitFor, type TestServer } from '../../src/testing/harness.js';
import { startConsoleSession, type ConsoleSession } from '../../src/testing/console-session.js';

/**
 * The console's live updates where they could miss a change, in a real browser against the real server:
 * a change made after a page read what it shows but before its event stream was open, while a read was
 * still under way when the stream opened, while the stream was down, and while a list was being read
 * for the first time when the change was announced. Playwright holds the stream's or the list's request
 * back to make each moment happen, and the change must show without a reload.
 */

const run = randomUUID().slice(0, 8);

let session: ConsoleSession | undefined;
let server: TestServer;
let context: BrowserContext;
let page: Page;

interface Made {
  id: string;
  message: string;
}

/** Creates an alert through the API and returns once it exists. */
async function createAlert(message: string, tag: string): Promise<Made> {
  const accepted = await server.callOk('POST', '/v2/alerts', { message, tags: [tag] });
  const status = await server.callOk('GET', `/v2/alerts/requests/${accepted.requestId}`);
  return { id: String(status.data.alertId), message };
}

const listUrl = (tag: string) => `${server.url}/alerts?query=${encodeURIComponent(`tag:${tag}`)}`;

/** Whether a request is the alert list's (not its counts') for this tag. */
const isListOf = (tag: string) => (request: Request) => {
  const url = new URL(request.url());
  return url.pathname === '/v2/alerts' && (url.searchParams.get('query') ?? '').includes(`tag:${tag}`);
};

before(async () => {
  session = await startConsoleSession();
  ({ server, context, page } = session);
});

after(async () => {
  await session?.stop();
});

describe('the live updates of the console', () => {
  it('shows a line added to an alert’s log that changes nothing else of the alert, without a reload', async () => {
    const made = await createAlert(`Queue depth high ${run}`, `log-${run}`);
    // Whatever the engine does with a new alert (and announces) is done before the line is added.
    await server.idle();
    await page.goto(`${server.url}/alerts/${made.id}`);
    const log = page.getByRole('region', { name: 'Activity log' });
    await log
      .getByText(/Alert created/)
      .first()
      .waitFor();
    let reloaded = false;
    const onNavigated = (frame: unknown) => {
      if (frame === page.mainFrame()) reloaded = true;
    };
    page.on('framenavigated', onNavigated);
    try {
      // As the escalation or a notification writes one: the alert's row is not touched, so nothing is
      // announced, and the page must read the log again of itself.
      const line = `Notified the night shift by carrier pigeon ${run}`;
      await server.app.context.db
        .insertInto('alert_logs')
        .values({ alert_id: made.id, type: 'system', log: line, owner: 'System' })
        .execute();
      await log.getByText(line).waitFor({ timeout: 25_000 });
      assert.equal(reloaded, false, 'the log changed without a reload');
    } finally {
      page.off('framenavigated', onNavigated);
    }
  });

  it('shows an alert made after the list was read and before its live stream opened', async () => {
    const tag = `opening-${run}`;
    const listed = await createAlert(`Certificate expires soon ${run}`, tag);
    // A page of its own whose event stream is held back until the list has been read and changed.
    const held = await context.newPage();
    let streamAsked!: () => void;
    const asked = new Promise<void>((resolve) => (streamAsked = resolve));
    let openStream!: () => void;
    const released = new Promise<void>((resolve) => (openStream = resolve));
    await held.route('**/api/console/events*', async (route) => {
      streamAsked();
      await released;
      await route.continue();
    });
    try {
      await held.goto(listUrl(tag));
      await held.getByText(listed.message).waitFor();
      await asked;
      const meanwhile = await createAlert(`Certificate expired ${run}`, tag);
      openStream();
      // Made before the stream was open: only the stream telling what changed since the page started shows it.
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
      await held.goto(listUrl(tag));
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
    // The first stream opens, gives a position and ends at once (a proxy that dropped it); the console's
    // next stream, which asks for what changed after that position, is held back until a note was
    // added meanwhile. The position is none the server gave, so it answers that everything changed.
    let resumedWith!: (url: string) => void;
    const asked = new Promise<string>((resolve) => (resumedWith = resolve));
    let letThrough!: () => void;
    const released = new Promise<void>((resolve) => (letThrough = resolve));
    let attempts = 0;
    await held.route('**/api/console/events*', async (route) => {
      attempts++;
      if (attempts === 1)
        return route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
          body: ': connected\n\nevent: position\ndata: "left-here"\n\n',
        });
      resumedWith(route.request().url());
      await released;
      return route.continue();
    });
    let notesRead = 0;
    held.on('response', (response) => {
      if (response.url().includes(`/v2/alerts/${alert.id}/notes`)) notesRead++;
    });
    try {
      await held.goto(`${server.url}/alerts/${alert.id}`);
      await held.getByRole('heading', { name: alert.message }).waitFor();
      assert.equal(new URL(await asked).searchParams.get('after'), 'left-here');
      // The page's own read of the notes must be over before the note is added, or it alone could show it.
      await waitFor('the notes to be read', async () => notesRead >= 1, 15_000);
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

  it('shows an alert announced while its list was being read for the first time', async () => {
    const first = `first-${run}`;
    const second = `second-${run}`;
    const shown = await createAlert(`Disk latency high ${run}`, first);
    await page.goto(listUrl(first));
    await page.getByText(shown.message).waitFor();
    await page.getByRole('img', { name: 'Live updates on' }).waitFor();
    // The new search's first list is read from the server at once, and handed to the page only once an
    // alert it misses has been announced; later reads of it go through.
    let listAsked!: (route: Route) => void;
    const firstList = new Promise<Route>((resolve) => (listAsked = resolve));
    let asked = false;
    const holdFirst = async (route: Route) => {
      if (asked) return route.continue();
      asked = true;
      listAsked(route);
    };
    const isSecondList = isListOf(second);
    await page.route(
      (url) => url.pathname === '/v2/alerts',
      (route) => (isSecondList(route.request()) ? holdFirst(route) : route.continue()),
    );
    try {
      await page.getByLabel('Search alerts').fill(`tag:${second}`);
      await page.getByLabel('Search alerts').press('Enter');
      const route = await firstList;
      const answer = await route.fetch();
      // The announcement has been handled once the page reads its counts again.
      const countsReadAgain = page.waitForRequest((request) => {
        const url = new URL(request.url());
        return url.pathname === '/v2/alerts/counts' && url.search.includes(encodeURIComponent(second));
      });
      const announced = await createAlert(`Disk full ${run}`, second);
      await countsReadAgain;
      await route.fulfill({ response: answer });
      await page.getByText(announced.message).waitFor({ timeout: 15_000 });
    } finally {
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    }
  });
});
