import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { pageAudits } from '../../src/testing/browser.js';
import { type Json, type TestServer } from '../../src/testing/harness.js';
import { startConsoleSession, type ConsoleSession } from '../../src/testing/console-session.js';

/**
 * The alert list's bulk bar in a real browser against the real server: a selection is acknowledged or
 * closed in one request to POST /v2/bulk/alerts/{action} (never one request per alert), the alerts
 * change (read back through the API), and an alert that could not be done is named with the reason.
 * Audited by axe-core; screenshots: test-artifacts/screenshots/bulk-*.png.
 */

const run = randomUUID().slice(0, 8);

let session: ConsoleSession | undefined;
let server: TestServer;
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
  session = await startConsoleSession();
  ({ server, page } = session);
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

  it('had no serious accessibility problem on the pages audited', () => {
    assert.deepEqual(problems(), []);
  });
});
