import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  DESKTOP,
  launchBrowser,
  newPage,
  pageAudits,
  PHONE,
  requireChromium,
  scrollsSideways,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';

/**
 * The console's administration pages in a real browser against the real server: a team's escalation
 * policies and routing rules edited as ordered lists, a person's contact methods and notification rules,
 * and API keys; each checked through the API, audited by axe-core, and at a phone's width.
 * Screenshots: test-artifacts/screenshots/admin-*.png.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const TEAM = 'Platform';
const SCHEDULE = 'Platform primary';

let server: TestServer;
let browser: Browser;
let teamId: string;
let adminId: string;
const { audit, audited, problems } = pageAudits('admin-');

function signIn(page: Page): Promise<void> {
  return signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
}

function made(method: string, path: string, body?: unknown) {
  return server.callOk(method, path, body);
}

before(async () => {
  await requireChromium();
  server = await startTestServer({
    env: {
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    },
  });
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
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the console’s administration pages', () => {
  it('makes an escalation policy of two rules, reorders them and saves the new order', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/teams/${teamId}`);
      await page.getByRole('link', { name: 'Escalations' }).click();
      await page.getByRole('heading', { name: 'Escalations' }).waitFor();
      const form = page.getByRole('region', { name: 'New escalation policy' });
      await form.getByLabel('Policy name').fill('Platform escalation');
      await form.getByRole('button', { name: 'Add rule' }).click();
      await form.getByRole('button', { name: 'Add rule' }).click();
      await form
        .getByRole('group', { name: 'Rule 1' })
        .getByLabel('Notify')
        .selectOption({ label: ADMIN.email });
      await form
        .getByRole('group', { name: 'Rule 2' })
        .getByLabel('Notify')
        .selectOption({ label: `Team ${TEAM}` });
      await form.getByRole('group', { name: 'Rule 2' }).getByLabel('Condition').selectOption('if-not-closed');
      await form.getByRole('button', { name: 'Create policy' }).click();

      const policy = page.getByRole('region', { name: 'Platform escalation' });
      await policy.waitFor();
      const created = await made('GET', '/v2/escalations/Platform%20escalation?identifierType=name');
      assert.deepEqual(
        created.data.rules.map((r: { recipient: { type: string } }) => r.recipient.type),
        ['user', 'team'],
      );
      await audit(page, 'desktop-escalations');

      await policy.getByRole('button', { name: 'Move rule 2 up' }).click();
      await policy.getByRole('button', { name: 'Save rules' }).click();
      await page.getByText('Platform escalation is saved.').waitFor();
      const saved = await made('GET', '/v2/escalations/Platform%20escalation?identifierType=name');
      assert.deepEqual(
        saved.data.rules.map((r: { recipient: { type: string }; condition: string }) => [
          r.recipient.type,
          r.condition,
        ]),
        [
          ['team', 'if-not-closed'],
          ['user', 'if-not-acked'],
        ],
      );
      // The page shows the saved order.
      await policy.getByRole('group', { name: 'Rule 1' }).getByLabel('Notify').waitFor();
      assert.equal(
        await policy.getByRole('group', { name: 'Rule 1' }).getByLabel('Notify').inputValue(),
        `team:${teamId}`,
      );
    } finally {
      await context.close();
    }
  });

  it('adds a routing rule and moves it above another', async () => {
    await made('POST', `/v2/teams/${teamId}/routing-rules`, {
      name: 'Night shift',
      notify: { type: 'schedule', name: SCHEDULE },
    });
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/teams/${teamId}/routing`);
      await page.getByRole('heading', { name: 'Routing rules', level: 2 }).waitFor();
      const form = page.getByRole('region', { name: 'Add a routing rule' });
      await form.getByLabel('Rule name').fill('Database alerts');
      await form.getByLabel('Alerts it applies to').selectOption('one');
      await form.getByLabel('Field').selectOption('message');
      await form.getByLabel('Operation').selectOption('contains');
      await form.getByLabel('Value').fill('database');
      await form.getByLabel('Notify').selectOption({ label: SCHEDULE });
      await form.getByRole('button', { name: 'Add rule' }).click();
      await page.getByRole('listitem', { name: 'Database alerts' }).waitFor();
      await page.getByRole('button', { name: 'Move Database alerts up' }).click();
      await page.getByText('Database alerts is now rule 1.').waitFor();
      const rules = await made('GET', `/v2/teams/${teamId}/routing-rules`);
      assert.deepEqual(rules.data.map((r: { name: string }) => r.name).slice(0, 2), [
        'Database alerts',
        'Night shift',
      ]);
      assert.equal(rules.data.at(-1).isDefault, true);
      assert.equal(rules.data[0].criteria.conditions[0].expectedValue, 'database');
      await page.getByText('message contains “database”').waitFor();
      await audit(page, 'desktop-routing');
    } finally {
      await context.close();
    }
  });

  it('adds a contact method to a person and a notification step for it', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People' }).click();
      await page.getByRole('heading', { name: 'People' }).waitFor();
      await audit(page, 'desktop-people');
      await page
        .getByRole('link', { name: /Admin|admin@example\.com/ })
        .first()
        .click();
      await page.getByRole('heading', { name: 'Contact methods' }).waitFor();
      await page.getByLabel('Method', { exact: true }).selectOption('sms');
      await page.getByLabel('Phone number').fill('+447700900123');
      await page.getByRole('button', { name: 'Add contact method' }).click();
      await page.getByText('is added.').first().waitFor();
      const contacts = await made('GET', `/v2/users/${adminId}/contacts`);
      const sms = contacts.data.find((c: { method: string }) => c.method === 'sms');
      assert.ok(sms, JSON.stringify(contacts.data));

      const rule = page.getByRole('region', { name: 'New alert' });
      await rule.getByLabel('Contact method').selectOption({ label: `SMS ${sms.to}` });
      await rule.getByLabel('After (minutes)').fill('5');
      await rule.getByRole('button', { name: 'Add step' }).click();
      await rule.getByText(`After 5 min: SMS ${sms.to}`).waitFor();
      const rules = await made('GET', `/v2/users/${adminId}/notification-rules`);
      const newAlert = rules.data.find((r: { name: string }) => r.name === 'New alert');
      const detail = await made('GET', `/v2/users/${adminId}/notification-rules/${newAlert.id}`);
      assert.ok(
        detail.data.steps.some(
          (s: { contact: { method: string; to: string }; sendAfter: { timeAmount: number } }) =>
            s.contact.method === 'sms' && s.contact.to === sms.to && s.sendAfter.timeAmount === 5,
        ),
        JSON.stringify(detail.data.steps),
      );
      await audit(page, 'desktop-person');
    } finally {
      await context.close();
    }
  });

  it('creates an API key, shown once, and deletes it', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/settings/api-keys`);
      await page.getByRole('heading', { name: 'API keys' }).waitFor();
      await page.getByLabel('Key name').fill('Terraform');
      await page.getByRole('button', { name: 'Create key' }).click();
      const field = page.getByRole('textbox', { name: 'API key' });
      await field.waitFor();
      const key = await field.inputValue();
      assert.ok(key.length >= 16, key);
      await page.getByText('it will not be shown again').waitFor();
      await audit(page, 'desktop-api-keys');
      const works = await server.call('GET', '/v2/teams', undefined, key);
      assert.equal(works.status, 200, JSON.stringify(works.body));
      const listed = await made('GET', '/v2/api-keys');
      assert.ok(listed.data.some((k: { name: string }) => k.name === 'Terraform'));
      assert.ok(!JSON.stringify(listed.data).includes(key), 'the list never holds the key');

      await page.getByRole('button', { name: 'I have copied it' }).click();
      assert.equal(await field.count(), 0, 'the key is not shown again');
      await page.getByRole('button', { name: 'Delete Terraform' }).click();
      await page.getByRole('button', { name: 'Delete key' }).click();
      await page.getByText('Terraform is deleted').waitFor();
      const after = await made('GET', '/v2/api-keys');
      assert.ok(!after.data.some((k: { name: string }) => k.name === 'Terraform'));
      const refused = await server.call('GET', '/v2/teams', undefined, key);
      assert.equal(refused.status, 401);
    } finally {
      await context.close();
    }
  });

  it("shows a person's custom role by its name and gives them another one", async () => {
    await made('POST', '/v2/roles', { name: 'Watcher', extendedRole: 'observer' });
    await made('POST', '/v2/roles', {
      name: 'Responder',
      extendedRole: 'user',
      disallowedRights: ['alert-delete'],
    });
    const person = await made('POST', '/v2/users', {
      username: 'custom.role@example.com',
      fullName: 'Custom Role',
      role: { name: 'Watcher' },
    });
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/people/${person.data.id}`);
      const picker = page.getByLabel('Role in the organization');
      await page
        .getByRole('option', { name: 'Responder (custom, extends user)' })
        .waitFor({ state: 'attached' });
      assert.equal(await picker.inputValue(), 'Watcher', 'the role held is the one selected');
      await picker.selectOption('Responder');
      await page.getByRole('button', { name: 'Change role' }).click();
      await page.getByText('custom.role@example.com is now Responder.').waitFor();
      const saved = await made('GET', `/v2/users/${person.data.id}`);
      assert.equal(saved.data.role.name, 'Responder');
    } finally {
      await context.close();
    }
  });

  it('fits every new page on a phone, reached through the navigation drawer', async () => {
    const { context, page } = await newPage(browser, PHONE);
    try {
      await signIn(page);
      await page.getByRole('button', { name: 'Open navigation' }).click();
      await page.getByRole('dialog').getByRole('link', { name: 'People' }).click();
      await page.getByRole('heading', { name: 'People' }).waitFor();
      for (const [name, url, heading] of [
        ['phone-people', '/people', 'People'],
        ['phone-person', `/people/${adminId}`, 'Contact methods'],
        ['phone-escalations', `/teams/${teamId}/escalations`, 'Escalations'],
        ['phone-routing', `/teams/${teamId}/routing`, 'Routing rules'],
        ['phone-api-keys', '/settings/api-keys', 'API keys'],
      ] as const) {
        await page.goto(`${server.url}${url}`);
        await page.getByRole('heading', { name: heading, exact: true }).first().waitFor();
        await audit(page, name);
        assert.equal(await scrollsSideways(page), false, `${url} scrolls sideways`);
      }
    } finally {
      await context.close();
    }
  });

  it('found no serious accessibility problem on any page audited', () => {
    assert.ok(audited().length >= 10, `audited: ${audited().join(', ')}`);
    assert.deepEqual(problems(), []);
  });
});
