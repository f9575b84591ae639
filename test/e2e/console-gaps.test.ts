import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DESKTOP, newPage, pageAudits, signInWithPassword } from '../../src/testing/browser.js';
import { waitFor, type Json, type TestServer } from '../../src/testing/harness.js';
import {
  CONSOLE_ADMIN,
  startConsoleSession,
  type ConsoleSession,
} from '../../src/testing/console-session.js';

/**
 * The console's gaps closed, in a real browser against the real server: saved filters kept as the
 * server's saved searches (and those a browser kept before, moved there), people past the first page
 * of 100 (listed, and found by the pickers as one types), escalation policies renamed, routing rules
 * edited in place, and whole notification rules made and deleted; each checked through the API and
 * audited by axe-core. Screenshots: test-artifacts/screenshots/gaps-*.png.
 */

const ADMIN = CONSOLE_ADMIN;
const TEAM = 'Platform';
const SCHEDULE = 'Platform primary';
const PEOPLE = 105;
/** user001@… to user105@…: by username, the first page of 100 holds the admin and user001 to user099. */
const username = (n: number) => `user${String(n).padStart(3, '0')}@example.com`;

let session: ConsoleSession | undefined;
let server: TestServer;
let browser: Browser;
let page: Page;
let teamId: string;
let adminId: string;
let databaseAlertId: string;
const { audit, audited, problems } = pageAudits('gaps-');

function made(method: string, path: string, body?: unknown): Promise<Json> {
  return server.callOk(method, path, body);
}

async function createAlert(message: string, tags: string[]): Promise<string> {
  const accepted = await made('POST', '/v2/alerts', { message, tags });
  return waitFor(`the alert "${message}"`, async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${accepted.requestId}`);
    return status.status === 200 && status.body.data.success ? (status.body.data.alertId as string) : false;
  });
}

/** Runs `work` on the items a few at a time: quicker than one by one, gentler than all at once. */
async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

before(async () => {
  session = await startConsoleSession();
  ({ server, browser, page } = session);
  teamId = (await made('POST', '/v2/teams', { name: TEAM })).data.id;
  await made('POST', '/v2/schedules', {
    name: SCHEDULE,
    timezone: 'UTC',
    ownerTeam: { name: TEAM },
    rotations: [
      {
        name: 'Weekly',
        startDate: '2026-01-05T09:00:00Z',
        type: 'weekly',
        participants: [{ type: 'user', username: ADMIN.email }],
      },
    ],
  });
  adminId = (await made('GET', `/v2/users/${encodeURIComponent(ADMIN.email)}`)).data.id;
  await inBatches(
    Array.from({ length: PEOPLE }, (_, i) => i + 1),
    10,
    (n) =>
      made('POST', '/v2/users', {
        username: username(n),
        fullName: `Gaps Person ${n}`,
        role: { name: 'User' },
      }),
  );
  databaseAlertId = await createAlert('Database connection refused on db-1', ['gapsdb']);
  await createAlert('Disk full on web-1', ['gapsweb']);
});

after(async () => {
  await session?.stop();
});

describe('the console’s gaps, closed', () => {
  it('saves a filter on the server, finds it in another browser, applies, renames and deletes it', async () => {
    await page.goto(`${server.url}/alerts`);
    await page.getByRole('textbox', { name: /^Search alerts/ }).fill('tag:gapsdb');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('button', { name: /^Saved filters/ }).click();
    await page.getByRole('button', { name: 'Save this search…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save this search' });
    await dialog.getByRole('textbox', { name: /^Name/ }).fill('Database alerts');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('The saved filter Database alerts is saved.').waitFor();

    const listed = await made('GET', '/v2/alerts/saved-searches');
    const saved = listed.data.find((s: { name: string }) => s.name === 'Database alerts');
    assert.ok(saved, JSON.stringify(listed.data));
    const detail = await made('GET', `/v2/alerts/saved-searches/${saved.id}`);
    assert.equal(detail.data.query, 'tag:gapsdb');
    assert.equal(detail.data.owner.id, adminId);

    await page.getByRole('button', { name: /^Saved filters \(1\)/ }).click();
    const list = page.getByRole('list', { name: 'Saved filters' });
    await list.getByRole('button', { name: /^Database alerts/ }).waitFor();
    await list.getByText('tag:gapsdb').waitFor();
    await audit(page, 'desktop-saved-filters');
    await page.keyboard.press('Escape');

    // Another browser, signed in as the same person, has nothing in its localStorage.
    const other = await newPage(browser, DESKTOP);
    try {
      const p = other.page;
      await signInWithPassword(p, server.url, ADMIN.email, ADMIN.password);
      await p.getByRole('button', { name: /^Saved filters \(1\)/ }).click();
      await p
        .getByRole('list', { name: 'Saved filters' })
        .getByRole('button', { name: /^Database alerts/ })
        .click();
      await p.getByRole('region', { name: 'Saved filter in use' }).getByText('Database alerts').waitFor();
      const table = p.getByRole('table', { name: 'Alerts' });
      await table.getByRole('link', { name: 'Disk full on web-1' }).waitFor({ state: 'detached' });
      await table.getByRole('link', { name: 'Database connection refused on db-1' }).waitFor();
      assert.equal(await table.getByRole('link').count(), 1, 'only the alert the filter matches is listed');
      assert.match(p.url(), new RegExp(`search=${saved.id}`));
      await audit(p, 'desktop-saved-filter-applied');

      await p.getByRole('button', { name: /^Saved filters/ }).click();
      await p.getByRole('button', { name: 'Rename the saved filter Database alerts' }).click();
      const rename = p.getByRole('dialog', { name: 'Rename the saved filter Database alerts' });
      await rename.getByRole('textbox', { name: /^Name/ }).fill('Database pages');
      await rename.getByRole('button', { name: 'Rename', exact: true }).click();
      await p.getByText('The saved filter Database pages is saved.').waitFor();
      await p.getByRole('region', { name: 'Saved filter in use' }).getByText('Database pages').waitFor();
      const renamed = await made('GET', `/v2/alerts/saved-searches/${saved.id}`);
      assert.equal(renamed.data.name, 'Database pages');
      assert.equal(renamed.data.query, 'tag:gapsdb', 'the query is kept');

      await p.getByRole('button', { name: /^Saved filters/ }).click();
      await p.getByRole('button', { name: 'Delete the saved filter Database pages' }).click();
      await p.getByText('The saved filter Database pages is deleted.').waitFor();
      // The list stops running the filter that is gone.
      await p.getByRole('region', { name: 'Saved filter in use' }).waitFor({ state: 'detached' });
      await table.getByRole('link', { name: 'Disk full on web-1' }).waitFor();
    } finally {
      await other.context.close();
    }
    const afterDelete = await made('GET', '/v2/alerts/saved-searches');
    assert.ok(!afterDelete.data.some((s: { id: string }) => s.id === saved.id));
  });

  it('offers to move the filters this browser kept before, and moves them', async () => {
    await page.goto(`${server.url}/alerts`);
    await page.evaluate(
      `localStorage.setItem('vigil.savedFilters', JSON.stringify([{ name: 'Web disks', query: 'tag:gapsweb' }, { name: 'Everything', query: '' }]))`,
    );
    await page.reload();
    const notice = page.getByRole('region', { name: 'Saved filters from this browser' });
    await notice.getByText('2 filters are saved in this browser only.', { exact: false }).waitFor();
    await audit(page, 'desktop-legacy-filters');
    await notice.getByRole('button', { name: 'Move them to Vigil' }).click();
    await notice.waitFor({ state: 'detached' });
    const listed = await made('GET', '/v2/alerts/saved-searches');
    const moved = listed.data.find((s: { name: string }) => s.name === 'Web disks');
    assert.ok(moved, JSON.stringify(listed.data));
    assert.equal((await made('GET', `/v2/alerts/saved-searches/${moved.id}`)).data.query, 'tag:gapsweb');
    assert.equal(await page.evaluate(`localStorage.getItem('vigil.savedFilters')`), null);
    await page.reload();
    await page.getByRole('button', { name: /^Saved filters \(1\)/ }).waitFor();
    assert.equal(await notice.count(), 0, 'the offer is not made again');
  });

  it(`lists all ${PEOPLE + 1} people, and the assign picker finds the 104th by typing`, async () => {
    await page.goto(`${server.url}/people`);
    await page.getByText(`${PEOPLE + 1} people`, { exact: true }).waitFor();
    const rows = page.getByRole('table', { name: 'People' }).getByRole('row');
    assert.equal(await rows.count(), PEOPLE + 2, 'a row per person, and the header');
    await page.getByRole('link', { name: 'Gaps Person 105' }).waitFor();
    await audit(page, 'desktop-people');

    await page.goto(`${server.url}/alerts/${databaseAlertId}`);
    await page
      .getByRole('toolbar', { name: 'Alert actions' })
      .getByRole('button', { name: 'Assign' })
      .click();
    const popover = page.getByRole('dialog');
    await popover.getByRole('combobox', { name: /^Owner \(email\)/ }).fill('person 104');
    await page.getByRole('option', { name: /user104@example\.com/ }).click();
    assert.equal(
      await popover.getByRole('combobox', { name: /^Owner \(email\)/ }).inputValue(),
      username(104),
    );
    await popover.getByRole('button', { name: 'Assign' }).click();
    await waitFor('the alert to be assigned', async () => {
      const alert = await made('GET', `/v2/alerts/${databaseAlertId}`);
      return alert.data.owner === username(104);
    });
  });

  it('renames an escalation policy and notifies a person found by searching', async () => {
    await made('POST', '/v2/escalations', {
      name: 'Gaps policy',
      ownerTeam: { id: teamId },
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'user', username: ADMIN.email },
        },
      ],
    });
    await page.goto(`${server.url}/teams/${teamId}/escalations`);
    const policy = page.getByRole('region', { name: 'Gaps policy' });
    await policy.getByRole('button', { name: 'Rename Gaps policy' }).click();
    await policy.getByRole('textbox', { name: /^New name/ }).fill('Gaps escalation');
    await policy.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('Gaps policy is now called Gaps escalation.').waitFor();

    const renamed = page.getByRole('region', { name: 'Gaps escalation' });
    const rule = renamed.getByRole('group', { name: 'Rule 1' });
    await rule.getByLabel('Notify').selectOption({ label: 'Find another person…' });
    await rule.getByRole('combobox', { name: /^Find a person/ }).fill('user105');
    await page.getByRole('option', { name: /user105@example\.com/ }).click();
    await renamed.getByRole('button', { name: 'Save rules' }).click();
    await page.getByText('Gaps escalation is saved.').waitFor();
    await audit(page, 'desktop-escalations');

    await page.reload();
    await page.getByRole('region', { name: 'Gaps escalation' }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Gaps policy' }).count(), 0);
    const saved = await made('GET', '/v2/escalations/Gaps%20escalation?identifierType=name');
    assert.equal(saved.data.rules[0].recipient.username, username(105));
  });

  it('edits a routing rule’s condition in place', async () => {
    const schedules = await made('GET', '/v2/schedules');
    const rule = await made('POST', `/v2/teams/${teamId}/routing-rules`, {
      name: 'Database pages',
      criteria: {
        type: 'match-all-conditions',
        conditions: [{ field: 'message', operation: 'contains', expectedValue: 'database' }],
      },
      notify: { type: 'schedule', id: schedules.data[0].id },
    });
    await page.goto(`${server.url}/teams/${teamId}/routing`);
    const item = page.getByRole('listitem', { name: 'Database pages' });
    await item.getByText('message contains “database”').waitFor();
    await item.getByRole('button', { name: 'Edit Database pages' }).click();
    await item.getByLabel('Operation').selectOption('starts-with');
    await item.getByRole('textbox', { name: /^Value/ }).fill('postgres');
    await audit(page, 'desktop-routing-edit');
    await item.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Database pages is saved.').waitFor();
    await item.getByText('message starts with “postgres”').waitFor();

    await page.reload();
    await page
      .getByRole('listitem', { name: 'Database pages' })
      .getByText('message starts with “postgres”')
      .waitFor();
    const stored = await made('GET', `/v2/teams/${teamId}/routing-rules/${rule.data.id}`);
    assert.deepEqual(
      stored.data.criteria.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
      [['message', 'starts-with', 'postgres']],
    );
    assert.equal(stored.data.notify.type, 'schedule', 'what was not edited stays');
  });

  it('creates a whole notification rule with a step, edits its name and condition, and deletes it', async () => {
    await page.goto(`${server.url}/people/${adminId}`);
    const form = page.getByRole('region', { name: 'New notification rule' });
    await form.getByRole('textbox', { name: /^Rule name/ }).fill('Urgent pages');
    await form.getByLabel('When', { exact: true }).selectOption('create-alert');
    await form.getByLabel('Alerts it applies to').selectOption('one');
    await form.getByLabel('Field').selectOption('priority');
    await form.getByLabel('Operation').selectOption('equals');
    await form.getByRole('textbox', { name: /^Value/ }).fill('P1');
    const step = form.getByRole('group', { name: 'Step 1' });
    await step.getByLabel('Contact method').selectOption({ label: `Email ${ADMIN.email}` });
    await step.getByLabel('After (minutes)').fill('2');
    await audit(page, 'desktop-person-new-rule');
    await form.getByRole('button', { name: 'Create rule' }).click();
    await page.getByText('The notification rule Urgent pages is created.').waitFor();
    const card = page.getByRole('region', { name: 'Urgent pages' });
    await card.getByText(`After 2 min: Email ${ADMIN.email}`).waitFor();

    const rules = await made('GET', `/v2/users/${adminId}/notification-rules`);
    const created = rules.data.find((r: { name: string }) => r.name === 'Urgent pages');
    assert.ok(created, JSON.stringify(rules.data));
    assert.equal(created.actionType, 'create-alert');
    const detail = await made('GET', `/v2/users/${adminId}/notification-rules/${created.id}`);
    assert.deepEqual(
      detail.data.steps.map((s: Json) => [s.contact.method, s.contact.to, s.sendAfter.timeAmount]),
      [['email', ADMIN.email, 2]],
    );
    assert.deepEqual(
      detail.data.criteria.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
      [['priority', 'equals', 'P1']],
    );

    // Renamed and its condition changed in place; the steps stay.
    await card.getByRole('button', { name: 'Edit the rule Urgent pages' }).click();
    const edit = card.getByRole('form', { name: 'Edit the rule Urgent pages' });
    await edit.getByRole('textbox', { name: /^Rule name/ }).fill('Urgent or high pages');
    await edit.getByLabel('Operation').selectOption('less-than');
    await edit.getByRole('textbox', { name: /^Value/ }).fill('P3');
    await audit(page, 'desktop-person-edit-rule');
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('The notification rule Urgent or high pages is saved.').waitFor();
    const renamed = page.getByRole('region', { name: 'Urgent or high pages' });
    await renamed.getByText('priority less than “P3”', { exact: false }).waitFor();
    const edited = await made('GET', `/v2/users/${adminId}/notification-rules/${created.id}`);
    assert.equal(edited.data.name, 'Urgent or high pages');
    assert.deepEqual(
      edited.data.criteria.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
      [['priority', 'less-than', 'P3']],
    );
    assert.deepEqual(
      edited.data.steps.map((s: Json) => [s.contact.method, s.sendAfter.timeAmount]),
      [['email', 2]],
      'the steps are kept',
    );

    await renamed.getByRole('button', { name: 'Delete the rule Urgent or high pages' }).click();
    await renamed.getByRole('button', { name: 'Delete rule', exact: true }).click();
    await page.getByText('Urgent or high pages is deleted.').waitFor();
    const left = await made('GET', `/v2/users/${adminId}/notification-rules`);
    assert.ok(!left.data.some((r: { name: string }) => r.name === 'Urgent or high pages'));
  });

  it('found no serious accessibility problem on any view audited', () => {
    assert.ok(audited().length >= 8, `audited: ${audited().join(', ')}`);
    assert.deepEqual(problems(), []);
  });
});
