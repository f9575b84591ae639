import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { newPage, pageAudits, signInWithPassword } from '../../src/testing/browser.js';
import { type Json, type TestServer } from '../../src/testing/harness.js';
import {
  addConsoleUser,
  startConsoleSession,
  type ConsoleSession,
} from '../../src/testing/console-session.js';

/**
 * The alert list's bulk bar in a real browser against the real server: a selection is acknowledged or
 * closed in one request to POST /v2/bulk/alerts/{action} (never one request per alert), the alerts
 * change (read back through the API), and an alert that could not be done is named with the reason.
 * The focused alert alone goes through its own endpoint, so a role without the rights to act on many
 * alerts at once acts on it; and a and c act on a selection right after a box is ticked with the mouse.
 * Audited by axe-core; screenshots: test-artifacts/screenshots/bulk-*.png.
 */

const run = randomUUID().slice(0, 8);

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;
let browser: Browser;
const { audit, problems } = pageAudits('bulk-');

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

/** The alert action requests the page (`on`) makes from now on, by path. */
function recordActionRequests(on: Page = page): { paths: string[]; stop: () => void } {
  const paths: string[] = [];
  const listener = (request: { method: () => string; url: () => string }) => {
    const url = new URL(request.url());
    const action = /^\/v2\/(bulk\/)?alerts\//.test(url.pathname);
    if (request.method() !== 'GET' && action) paths.push(url.pathname);
  };
  on.on('request', listener);
  return { paths, stop: () => on.off('request', listener) };
}

before(async () => {
  session = await startConsoleSession();
  ({ server, page, browser } = session);
});

after(async () => {
  await session?.stop();
});

describe('the bulk bar of the alert list', () => {
  it('acknowledges a selection in one request, and names the alert it could not acknowledge', async () => {
    const made: Made[] = [];
    for (const m of ['Disk full on web-1', 'Disk full on web-2', 'Disk full on web-3', 'Disk full on web-4'])
      made.push(await createAlert(`${m} ${run}`, `ack-${run}`));
    const [first, second, closedMeanwhile, untouched] = made as [Made, Made, Made, Made];
    // The All view: in the default Open view, the live update of the close below takes the alert off the
    // list, and with it out of the selection (as it should), which would race the button press.
    await page.goto(`${server.url}/alerts?view=all&query=${encodeURIComponent(`tag:ack-${run}`)}`);
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

  it('forgets a selection once the list is another (back, the header link), so nothing hidden is acted on', async () => {
    const made: Made[] = [];
    for (let i = 1; i <= 2; i++) made.push(await createAlert(`Hidden choice ${i} ${run}`, `hidden-${run}`));
    await page.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:hidden-${run}`)}`);
    const select = async () => {
      for (const m of made) await page.getByRole('checkbox', { name: `Select alert ${m.tinyId}` }).check();
      await page.getByRole('region', { name: 'Selected alerts' }).getByText('2 selected').waitFor();
    };
    await select();
    // The header's link to the whole list: the page stays, only its URL changes.
    await page.getByRole('banner').getByRole('link', { name: 'Alerts' }).click();
    await page.waitForURL((url) => !url.search.includes('hidden'));
    await page.getByRole('region', { name: 'Selected alerts' }).waitFor({ state: 'detached' });
    const requests = recordActionRequests();
    await page.locator('body').press('a');
    await page.waitForTimeout(300);
    requests.stop();
    assert.deepEqual(requests.paths, [], '"a" with nothing chosen acknowledges nothing');
    // And back: the filtered list again, with nothing chosen either.
    await page.goBack();
    await page.waitForURL((url) => url.search.includes('hidden'));
    await page.getByRole('checkbox', { name: `Select alert ${made[0]?.tinyId ?? ''}` }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Selected alerts' }).count(), 0);
    for (const m of made) assert.equal((await get(m.id)).acknowledged, false);
  });

  it('keeps j/k on the alert chosen when a new one arrives above it, and acts on that one', async () => {
    const tag = `focus-${run}`;
    const made: Made[] = [];
    for (let i = 1; i <= 3; i++) made.push(await createAlert(`Focus ${i} ${run}`, tag));
    await page.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:${tag}`)}`);
    await page.getByRole('checkbox', { name: `Select alert ${made[0]?.tinyId ?? ''}` }).waitFor();
    // Newest first: j, j is the second row, "Focus 2".
    await page.locator('body').press('j');
    await page.locator('body').press('j');
    const chosen = made[1] as Made;
    await page.locator(`[data-focused="true"]`).getByText(chosen.message).waitFor();
    const newcomer = await createAlert(`Focus 4 ${run}`, tag);
    await page.getByText(newcomer.message).waitFor();
    await page.locator(`[data-focused="true"]`).getByText(chosen.message).waitFor();
    await page.keyboard.press('c');
    await page.getByText('1 alert closed.').waitFor();
    assert.equal((await get(chosen.id)).status, 'closed');
    for (const other of [made[0], made[2], newcomer] as Made[])
      assert.equal((await get(other.id)).status, 'open', other.message);
  });

  it('acts on a selection with the keys right after its boxes are ticked with the mouse, and leaves the search box its keys', async () => {
    const tag = `ticked-${run}`;
    const made: Made[] = [];
    for (let i = 1; i <= 3; i++) made.push(await createAlert(`Ticked ${i} ${run}`, tag));
    const [first, second, untouched] = made as [Made, Made, Made];
    await page.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:${tag}`)}`);
    const box = (m: Made) => page.getByRole('checkbox', { name: `Select alert ${m.tinyId}` });
    for (const m of [first, second]) await box(m).check();
    await page.getByRole('region', { name: 'Selected alerts' }).getByText('2 selected').waitFor();

    // Typed into the search box, a and c are letters, not shortcuts.
    const requests = recordActionRequests();
    const search = page.getByLabel('Search alerts');
    await search.click();
    await page.keyboard.type('ac');
    assert.equal(await search.inputValue(), `tag:${tag}ac`);
    await page.waitForTimeout(300);
    assert.deepEqual(requests.paths, [], 'typing in the search box acts on nothing');

    // The focus stays on the box the mouse ticked last, and the keys act from there.
    await box(second).uncheck();
    await box(second).check();
    await page.getByRole('region', { name: 'Selected alerts' }).getByText('2 selected').waitFor();
    await page.keyboard.press('a');
    await page.getByText('2 alerts acknowledged.').waitFor();
    requests.stop();
    assert.deepEqual(requests.paths, ['/v2/bulk/alerts/acknowledge']);
    assert.equal((await get(first.id)).acknowledged, true);
    assert.equal((await get(second.id)).acknowledged, true);
    assert.equal((await get(untouched.id)).acknowledged, false);
    await page.keyboard.press('j');
    await page.locator('[data-focused="true"]').waitFor();
  });

  it('acts on the focused alert alone through its own endpoint, for a role without the rights to act on many', async () => {
    const email = `single-${run}@example.com`;
    const password = 'single horse battery staple';
    const role = `One at a time ${run}`;
    // Opsgenie's usual split: a responder acts on each alert, not on many at once.
    await server.callOk('POST', '/v2/roles', {
      name: role,
      extendedRole: 'user',
      grantedRights: [],
      disallowedRights: ['alert-acknowledge-all', 'alert-close-all'],
    });
    const userId = await addConsoleUser(server, { email, fullName: 'Sol Single', password, role });
    const team = `Singles ${run}`;
    const teamId: string = (await server.callOk('POST', '/v2/teams', { name: team })).data.id;
    await server.callOk('POST', `/v2/teams/${teamId}/members`, { user: { id: userId }, role: 'user' });

    const tag = `single-${run}`;
    const made: Made[] = [];
    for (let i = 1; i <= 3; i++)
      made.push(await createAlert(`Single ${i} ${run}`, tag, [{ type: 'team', id: teamId }]));
    // Newest first: the first row is "Single 3".
    const [otherA, otherB, focusedAlert] = made as [Made, Made, Made];

    const own = await newPage(browser);
    try {
      const p = own.page;
      await signInWithPassword(p, server.url, email, password);
      await p.goto(`${server.url}/alerts?query=${encodeURIComponent(`tag:${tag}`)}`);
      await p.getByRole('checkbox', { name: `Select alert ${focusedAlert.tinyId}` }).waitFor();
      const { paths } = recordActionRequests(p);
      const refusal = p.getByText('many alerts at once');

      await p.locator('body').click({ position: { x: 1, y: 1 } });
      await p.keyboard.press('j');
      await p.locator('[data-focused="true"]').getByText(focusedAlert.message).waitFor();
      await p.keyboard.press('a');
      await p.getByText('1 alert acknowledged.').waitFor();
      assert.equal((await get(focusedAlert.id)).acknowledged, true);
      assert.equal(await refusal.count(), 0);
      await p.keyboard.press('c');
      await p.getByText('1 alert closed.').waitFor();
      assert.equal((await get(focusedAlert.id)).status, 'closed');
      assert.equal(await refusal.count(), 0);
      assert.deepEqual(paths, [
        `/v2/alerts/${focusedAlert.id}/acknowledge`,
        `/v2/alerts/${focusedAlert.id}/close`,
      ]);

      // A real selection still goes in one request, which the role refuses with the server's words.
      for (const m of [otherA, otherB])
        await p.getByRole('checkbox', { name: `Select alert ${m.tinyId}` }).check();
      await p
        .getByRole('region', { name: 'Selected alerts' })
        .getByRole('button', { name: 'Acknowledge' })
        .click();
      await p
        .getByText(`Your role [${role}] does not allow you to acknowledge many alerts at once`, {
          exact: false,
        })
        .waitFor();
      assert.equal(paths.at(-1), '/v2/bulk/alerts/acknowledge');
      for (const m of [otherA, otherB]) assert.equal((await get(m.id)).acknowledged, false);
    } finally {
      await own.context.close();
    }
  });

  it('had no serious accessibility problem on the pages audited', () => {
    assert.deepEqual(problems(), []);
  });
});
