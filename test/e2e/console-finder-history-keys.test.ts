import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page, Request } from 'playwright-core';
import { createAlert, waitFor, type Json, type TestServer } from '../../src/testing/harness.js';
import {
  CONSOLE_ADMIN,
  startConsoleSession,
  type ConsoleSession,
} from '../../src/testing/console-session.js';

/**
 * Three keyboard and paging paths of the console, in a real browser against the real server: Enter in an
 * escalation rule's "Find another person…" picks the person typed (and saves nothing), in a policy's card
 * as in "New escalation policy"; an alert's notes and activity log past the newest 100 entries, read with
 * "Show older", while the newest keep coming; and o on a ticked row's box opens that alert.
 */

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;

const made = (method: string, route: string, body?: unknown): Promise<Json> =>
  server.callOk(method, route, body);

before(async () => {
  session = await startConsoleSession();
  ({ server, page } = session);
});

after(async () => {
  await session?.stop();
});

describe("an escalation rule's person finder", () => {
  it('picks the person typed in full on Enter, without saving or creating the policy', async () => {
    const team = (await made('POST', '/v2/teams', { name: 'Finders' })).data;
    const bob = (
      await made('POST', '/v2/users', {
        username: 'bob.finder@example.com',
        fullName: 'Bob Finder',
        role: { name: 'User' },
      })
    ).data;
    const policy = (
      await made('POST', '/v2/escalations', {
        name: 'Finder policy',
        ownerTeam: { id: team.id },
        rules: [
          {
            condition: 'if-not-acked',
            notifyType: 'default',
            delay: { timeAmount: 0 },
            recipient: { type: 'user', username: CONSOLE_ADMIN.email },
          },
        ],
      })
    ).data;
    const writes: Request[] = [];
    const record = (request: Request) => {
      if (request.method() !== 'GET' && new URL(request.url()).pathname.startsWith('/v2/escalations'))
        writes.push(request);
    };
    page.on('request', record);
    try {
      await page.goto(`${server.url}/teams/${team.id}/escalations`);

      /** In `region`: Find another person…, bob's email typed in full, listed, then Enter. */
      const findBob = async (region: Locator) => {
        await region.getByLabel('Notify').selectOption({ label: 'Find another person…' });
        const finder = region.getByLabel('Find a person');
        await finder.pressSequentially(bob.username as string);
        // The server's answer is in: the person typed is among those found.
        await page
          .getByRole('listbox')
          .getByRole('option', { name: bob.username as string })
          .waitFor();
        await finder.press('Enter');
        await waitFor(
          'the rule to name bob',
          async () => (await region.getByLabel('Notify').inputValue()) === `user:${bob.id}`,
        );
        assert.equal(await finder.count(), 0, 'the finder closes once the person is picked');
      };

      const card = page.getByRole('region', { name: 'Finder policy' });
      await findBob(card);
      await card.getByRole('button', { name: 'Save rules' }).click();
      await page.getByText('Finder policy is saved.').waitFor();
      const saved = (await made('GET', `/v2/escalations/${policy.id}`)).data;
      assert.deepEqual(
        saved.rules.map((r: Json) => r.recipient.id),
        [bob.id],
      );

      const fresh = page.getByRole('region', { name: 'New escalation policy' });
      await fresh.getByLabel('Policy name').fill('Made with the finder');
      await fresh.getByRole('button', { name: 'Add rule' }).click();
      await findBob(fresh);
      await fresh.getByRole('button', { name: 'Create policy' }).click();
      await page.getByText('Made with the finder is created.').waitFor();
      const mine = ((await made('GET', '/v2/escalations')).data as Json[]).filter(
        (p) => p.name === 'Made with the finder',
      );
      assert.equal(mine.length, 1, 'one policy is created, by the button');
      const created = (await made('GET', `/v2/escalations/${mine[0].id}`)).data;
      assert.deepEqual(
        created.rules.map((r: Json) => r.recipient.id),
        [bob.id],
      );

      // Enter saved nothing: the only writes are the two buttons', each naming bob.
      assert.deepEqual(
        writes.map((w) => w.method()),
        ['PATCH', 'POST'],
      );
      for (const w of writes) assert.match(w.postData() ?? '', new RegExp(bob.id as string));
    } finally {
      page.off('request', record);
    }
  });

  it('does nothing on Enter while the text names nobody found, and keeps the finder open', async () => {
    const team = (await made('POST', '/v2/teams', { name: 'Half typed' })).data;
    await page.goto(`${server.url}/teams/${team.id}/escalations`);
    const fresh = page.getByRole('region', { name: 'New escalation policy' });
    await fresh.getByLabel('Policy name').fill('Never made');
    await fresh.getByRole('button', { name: 'Add rule' }).click();
    const notify = fresh.getByLabel('Notify');
    const before = await notify.inputValue();
    await notify.selectOption({ label: 'Find another person…' });
    const finder = fresh.getByLabel('Find a person');
    await finder.pressSequentially('bob.finder@');
    await page.getByRole('listbox').getByRole('option', { name: 'bob.finder@example.com' }).waitFor();
    await finder.press('Enter');
    // The finder is still there with what was typed, and the rule is as it was.
    assert.equal(await finder.inputValue(), 'bob.finder@');
    assert.equal(await notify.inputValue(), before);
    await fresh.getByRole('button', { name: 'Cancel' }).click();
    await fresh.getByRole('button', { name: 'Create policy' }).click();
    await page.getByText('Never made is created.').waitFor();
    const named = ((await made('GET', '/v2/escalations')).data as Json[]).filter(
      (p) => p.name === 'Never made',
    );
    assert.equal(named.length, 1, 'Enter created nothing: only the button did');
  });
});

describe("an alert's notes and activity log", () => {
  it('show the entries past the newest 100 on asking, and keep showing the newest as they come', async () => {
    const alertId = await createAlert(server, { message: 'A long history' });
    const db = server.app.context.db;
    // Oldest first: ids grow with them, and the page lists the newest first.
    const COUNT = 130;
    for (let i = 1; i <= COUNT; i++) {
      await db
        .insertInto('alert_notes')
        .values({ alert_id: alertId, note: `History note ${i}`, owner: 'tester' })
        .execute();
      await db
        .insertInto('alert_logs')
        .values({ alert_id: alertId, type: 'system', log: `History log ${i}`, owner: 'tester' })
        .execute();
    }
    await page.goto(`${server.url}/alerts/${alertId}`);
    const notes = page.getByRole('region', { name: 'Notes', exact: true });
    const log = page.getByRole('region', { name: 'Activity log', exact: true });
    await notes.getByText(`History note ${COUNT}`, { exact: true }).waitFor();
    await log.getByText(`History log ${COUNT}`, { exact: true }).waitFor();
    const shown = async (region: Locator, prefix: string) =>
      (await region.getByText(new RegExp(`^${prefix} \\d+$`)).allTextContents()).map((t) =>
        Number(t.slice(prefix.length + 1)),
      );
    const newestFirst = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => to - i);

    assert.deepEqual(await shown(notes, 'History note'), newestFirst(COUNT - 99, COUNT));
    await notes.getByRole('button', { name: 'Show older notes' }).click();
    await notes.getByText('History note 1', { exact: true }).waitFor();
    assert.deepEqual(await shown(notes, 'History note'), newestFirst(1, COUNT));
    assert.equal(await notes.getByRole('button', { name: 'Show older notes' }).count(), 0, 'no more');

    assert.deepEqual(await shown(log, 'History log'), newestFirst(COUNT - 99, COUNT));
    await log.getByRole('button', { name: 'Show older entries' }).click();
    await log.getByText('History log 1', { exact: true }).waitFor();
    assert.deepEqual(await shown(log, 'History log'), newestFirst(1, COUNT));

    // A note added on the page comes at the top; the older ones stay, each once.
    await notes.getByLabel('Add a note').fill(`History note ${COUNT + 1}`);
    await notes.getByRole('button', { name: 'Add note' }).click();
    await notes.getByText(`History note ${COUNT + 1}`, { exact: true }).waitFor();
    assert.deepEqual(await shown(notes, 'History note'), newestFirst(1, COUNT + 1));

    // A line the log gains (as the escalation adds them) shows on the log's own re-reading.
    await db
      .insertInto('alert_logs')
      .values({ alert_id: alertId, type: 'system', log: `History log ${COUNT + 1}`, owner: 'tester' })
      .execute();
    await log.getByText(`History log ${COUNT + 1}`, { exact: true }).waitFor();
    assert.deepEqual(await shown(log, 'History log'), newestFirst(1, COUNT + 1));
  });
});

describe('the alert list', () => {
  it('opens the alert of a ticked box with o', async () => {
    const team = (await made('POST', '/v2/teams', { name: 'Tickers' })).data;
    const ids: string[] = [];
    for (const m of ['Ticked first', 'Ticked second', 'Ticked third'])
      ids.push(await createAlert(server, { message: m, responders: [{ type: 'team', id: team.id }] }));
    await page.goto(`${server.url}/alerts?query=${encodeURIComponent('teams:Tickers')}`);
    const list = page.getByRole('table', { name: 'Alerts' });
    await list.getByRole('link', { name: 'Ticked first' }).waitFor();
    const middle = (await made('GET', `/v2/alerts/${ids[1]}`)).data;
    const box = list.getByRole('checkbox', { name: `Select alert ${middle.tinyId}` });
    await box.click();
    assert.equal(await box.isChecked(), true);
    await page.keyboard.press('o');
    await page.waitForURL(`**/alerts/${ids[1]}`);
    await page.getByRole('toolbar', { name: 'Alert actions' }).waitFor();
  });
});
