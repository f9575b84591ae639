import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
import { startTestServer, waitFor, type Json, type TestServer } from '../../src/testing/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/testing/webhook-receiver.js';

/**
 * A team's routing rules with their time restrictions, and a team's webhook destination with its headers,
 * in a real browser against the real server: a rule restricted to weekdays and hours made through the form,
 * stored as given and listed in plain words; a rule restricted through the API edited without losing its
 * restriction, then unrestricted; headers added, kept while left empty, refused by the server when the URL
 * moves to another receiver without their values, given again and removed, each checked through the API
 * and through what the (local) receiver is sent. Audited by axe-core, and at a phone's width.
 * Screenshots: test-artifacts/screenshots/restrictions-*.png.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const TEAM = 'Platform';
const SCHEDULE = 'Platform primary';
const HOOK_PATH = '/hooks/platform';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let receiver: WebhookReceiver;
/** Another receiver, on another port: another origin, where stored header values are not sent unasked. */
let elsewhere: WebhookReceiver;
let teamId: string;
let destinationId: string;
const { audit, audited, problems } = pageAudits('restrictions-');

function made(method: string, path: string, body?: unknown): Promise<Json> {
  return server.callOk(method, path, body);
}

const storedRule = async (id: string): Promise<Json> =>
  (await made('GET', `/v2/teams/${teamId}/routing-rules/${id}`)).data;

const storedDestination = async (): Promise<Json> =>
  (await made('GET', `/v2/destinations/${destinationId}`)).data;

/** "Send test" on the destination's page, and the request the receiver took for it. */
async function sendTest(at: WebhookReceiver): Promise<Json> {
  const before = at.received(HOOK_PATH).length;
  const card = page.getByRole('region', { name: 'Send test', exact: true });
  await card.getByRole('button', { name: 'Send test' }).click();
  await card.getByText('The test arrived').waitFor();
  return waitFor('the test request', async () => at.received(HOOK_PATH)[before]);
}

before(async () => {
  await requireChromium();
  receiver = await startWebhookReceiver();
  elsewhere = await startWebhookReceiver();
  server = await startTestServer({
    env: {
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
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
  browser = await launchBrowser();
  ({ context, page } = await newPage(browser, DESKTOP));
  await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
  await receiver?.close();
  await elsewhere?.close();
});

describe('the console’s routing-rule time restrictions and webhook headers', () => {
  it('adds a routing rule for weekday hours through the form, stored as given and listed in plain words', async () => {
    await page.goto(`${server.url}/teams/${teamId}/routing`);
    const form = page.getByRole('region', { name: 'Add a routing rule' });
    await form.getByRole('textbox', { name: /^Rule name/ }).fill('Office hours');
    await form.getByLabel('Alerts it applies to').selectOption('one');
    await form.getByLabel('Field').selectOption('message');
    await form.getByLabel('Operation').selectOption('contains');
    await form.getByRole('textbox', { name: /^Value/ }).fill('checkout');
    await form.getByLabel('When it applies').selectOption('weekday-and-time-of-day');
    const range1 = form.getByRole('group', { name: 'Range 1' });
    await range1.getByLabel('Start day').selectOption('monday');
    await range1.getByLabel('Start time').fill('08:30');
    await range1.getByLabel('End day').selectOption('monday');
    await range1.getByLabel('End time').fill('17:00');
    // "Add range" repeats the last range a day later: office hours, a day at a time.
    await form.getByRole('button', { name: 'Add range' }).click();
    await form.getByRole('button', { name: 'Add range' }).click();
    const range3 = form.getByRole('group', { name: 'Range 3' });
    assert.equal(await range3.getByLabel('Start day').inputValue(), 'wednesday');
    assert.equal(await range3.getByLabel('End time').inputValue(), '17:00');
    await form.getByRole('button', { name: 'Add range' }).click();
    const range4 = form.getByRole('group', { name: 'Range 4' });
    await range4.getByLabel('Start day').selectOption('saturday');
    await range4.getByLabel('Start time').fill('10:00');
    await range4.getByLabel('End day').selectOption('sunday');
    await range4.getByLabel('End time').fill('18:00');
    await form.getByRole('textbox', { name: /^Time zone/ }).fill('Europe/Berlin');
    await form.getByLabel('Notify').selectOption({ label: SCHEDULE });
    await audit(page, 'desktop-routing-restriction');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Routing rule Office hours is added.').waitFor();

    const item = page.getByRole('listitem', { name: 'Office hours' });
    await item.getByText('Mon–Wed 08:30–17:00, Sat 10:00 – Sun 18:00 (Europe/Berlin)').waitFor();
    const rules = (await made('GET', `/v2/teams/${teamId}/routing-rules`)).data as Json[];
    const rule = rules.find((r) => r.name === 'Office hours');
    assert.ok(rule, JSON.stringify(rules));
    assert.equal(rule.timezone, 'Europe/Berlin');
    const day = (d: string) => ({
      startDay: d,
      startHour: 8,
      startMin: 30,
      endDay: d,
      endHour: 17,
      endMin: 0,
    });
    assert.deepEqual(rule.timeRestriction, {
      type: 'weekday-and-time-of-day',
      restrictions: [
        day('monday'),
        day('tuesday'),
        day('wednesday'),
        { startDay: 'saturday', startHour: 10, startMin: 0, endDay: 'sunday', endHour: 18, endMin: 0 },
      ],
    });
    assert.equal(rule.criteria.conditions[0].expectedValue, 'checkout');
    assert.equal(rule.notify.name, SCHEDULE);

    // Edited in place: the weekend range removed.
    await item.getByRole('button', { name: 'Edit Office hours' }).click();
    await item.getByRole('button', { name: 'Remove range 4' }).click();
    await item.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Office hours is saved.').waitFor();
    await item.getByText('Mon–Wed 08:30–17:00 (Europe/Berlin)').waitFor();
    assert.deepEqual((await storedRule(rule.id)).timeRestriction.restrictions, [
      day('monday'),
      day('tuesday'),
      day('wednesday'),
    ]);
  });

  it('edits a rule restricted through the API without losing its restriction, then lifts it', async () => {
    const restriction = {
      type: 'time-of-day',
      restriction: { startHour: 22, startMin: 0, endHour: 6, endMin: 15 },
    };
    const { data } = await made('POST', `/v2/teams/${teamId}/routing-rules`, {
      name: 'Night shift',
      timezone: 'America/New_York',
      criteria: {
        type: 'match-any-condition',
        conditions: [{ field: 'priority', operation: 'equals', expectedValue: 'P1' }],
      },
      timeRestriction: restriction,
      notify: { type: 'schedule', name: SCHEDULE },
    });
    const before = await storedRule(data.id);
    await page.reload();
    const item = page.getByRole('listitem', { name: 'Night shift' });
    await item.getByText('Every day 22:00–06:15 (America/New_York)').waitFor();

    await item.getByRole('button', { name: 'Edit Night shift' }).click();
    assert.equal(await item.getByLabel('When it applies').inputValue(), 'time-of-day');
    assert.equal(
      await item.getByRole('group', { name: 'Range 1' }).getByLabel('End time').inputValue(),
      '06:15',
    );
    await item.getByRole('textbox', { name: /^Rule name/ }).fill('Night shift (P1)');
    await audit(page, 'desktop-routing-edit-restriction');
    await item.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Night shift (P1) is saved.').waitFor();
    const renamed = await storedRule(data.id);
    assert.deepEqual({ ...renamed, name: before.name }, before, 'only the name changed');
    assert.deepEqual(renamed.timeRestriction, restriction);

    const again = page.getByRole('listitem', { name: 'Night shift (P1)' });
    await again.getByRole('button', { name: 'Edit Night shift (P1)' }).click();
    await again.getByLabel('When it applies').selectOption('none');
    await again.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Night shift (P1) is saved.').first().waitFor();
    await again.getByText('At any time').waitFor();
    const lifted = await storedRule(data.id);
    assert.equal(lifted.timeRestriction, undefined);
    assert.equal(lifted.timezone, 'America/New_York', 'its time zone stays');
    assert.deepEqual(lifted.criteria, before.criteria);
  });

  it('edits a rule made without a name (as Terraform may) and leaves it without one', async () => {
    const { data } = await made('POST', `/v2/teams/${teamId}/routing-rules`, {
      timezone: 'UTC',
      criteria: {
        type: 'match-any-condition',
        conditions: [{ field: 'priority', operation: 'equals', expectedValue: 'P4' }],
      },
      timeRestriction: {
        type: 'time-of-day',
        restriction: { startHour: 1, startMin: 0, endHour: 2, endMin: 0 },
      },
      notify: { type: 'schedule', name: SCHEDULE },
    });
    await page.reload();
    const item = page.getByRole('listitem', { name: 'Unnamed rule' });
    await item.getByRole('button', { name: 'Edit Unnamed rule' }).click();
    assert.equal(await item.getByRole('textbox', { name: /^Rule name/ }).inputValue(), '');
    await item.getByLabel('When it applies').selectOption('none');
    await item.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('The unnamed rule is saved.').waitFor();
    const saved = await storedRule(data.id);
    assert.equal(saved.name, '', 'still without a name');
    assert.equal(saved.timeRestriction, undefined);
    await made('DELETE', `/v2/teams/${teamId}/routing-rules/${data.id as string}`);
  });

  it('adds a header to a team webhook, keeps it while left empty, asks for it again elsewhere, and removes it', async () => {
    receiver.endpoint(HOOK_PATH);
    await page.goto(`${server.url}/teams/${teamId}/destinations/new`);
    await page.getByRole('heading', { name: 'Add destination' }).waitFor();
    await page.getByLabel('Type').selectOption({ label: 'Webhook' });
    await page.getByRole('textbox', { name: /^Name/ }).fill('Platform webhook');
    await page.getByRole('textbox', { name: /^Receiver URL/ }).fill(receiver.url + HOOK_PATH);
    await page.getByRole('button', { name: 'Add header' }).click();
    const header = page.getByRole('group', { name: 'Header 1' });
    await header.getByRole('textbox', { name: /^Header name/ }).fill('X-Receiver-Token');
    await header.getByLabel(/^Header value/).fill('opensesame');
    await audit(page, 'desktop-add-destination-header');
    await page.getByRole('button', { name: 'Add destination' }).click();
    await page.getByText('Vigil shows it only once').waitFor();
    const secret = await page.getByRole('textbox', { name: 'Signing secret', exact: true }).inputValue();
    receiver.setSecret(HOOK_PATH, secret);
    elsewhere.endpoint(HOOK_PATH, secret);
    const listed = (await made('GET', '/v2/destinations')).data as Json[];
    destinationId = listed.find((d) => d.name === 'Platform webhook')?.id;
    assert.ok(destinationId, JSON.stringify(listed));
    assert.deepEqual((await storedDestination()).config.headers, { 'X-Receiver-Token': '****' });
    assert.ok(!JSON.stringify(listed).includes('opensesame'), 'the value is never shown');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('heading', { name: 'Platform webhook' }).waitFor();
    assert.equal((await sendTest(receiver)).headers['x-receiver-token'], 'opensesame');

    // Left empty, the stored value stays; a second header is added beside it.
    const settings = page.getByRole('region', { name: 'Settings', exact: true });
    const value1 = settings.getByRole('group', { name: 'Header 1' }).getByLabel(/^Header value/);
    assert.equal(await value1.inputValue(), '', 'a header value is never shown');
    await settings.getByRole('button', { name: 'Add header' }).click();
    const header2 = settings.getByRole('group', { name: 'Header 2' });
    await header2.getByRole('textbox', { name: /^Header name/ }).fill('X-Team');
    await header2.getByLabel(/^Header value/).fill('platform');
    await settings.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Platform webhook is saved.').waitFor();
    assert.deepEqual((await storedDestination()).config.headers, {
      'X-Receiver-Token': '****',
      'X-Team': '****',
    });
    const sent = await sendTest(receiver);
    assert.equal(sent.headers['x-receiver-token'], 'opensesame', 'left empty, it is kept');
    assert.equal(sent.headers['x-team'], 'platform');

    // Moved to another receiver, the stored values are asked for again: the browser asks first, and the
    // server refuses a form sent without them (its 422 shown as it is), changing nothing.
    const url = settings.getByRole('textbox', { name: /^Receiver URL/ });
    await url.fill(elsewhere.url + HOOK_PATH);
    const moved = settings.getByRole('group', { name: 'Header 1' });
    const nameOf = (group: string) =>
      settings
        .getByRole('group', { name: group })
        .getByRole('textbox', { name: /^Header name/ })
        .inputValue();
    assert.deepEqual([await nameOf('Header 1'), await nameOf('Header 2')], ['X-Receiver-Token', 'X-Team']);
    await moved.getByText('The URL changes: give the value again, or remove the header.').waitFor();
    assert.notEqual(await value1.getAttribute('required'), null, 'the browser asks for the value');
    await audit(page, 'desktop-destination-moves');
    await settings.locator('form').evaluate((form: { noValidate: boolean }) => {
      form.noValidate = true;
    });
    await settings.getByRole('button', { name: 'Save' }).click();
    await settings.getByRole('alert').getByText('must be given again', { exact: false }).waitFor();
    assert.equal((await storedDestination()).config.url, receiver.url + HOOK_PATH, 'nothing changed');

    await settings.getByRole('button', { name: 'Remove header 2' }).click();
    await value1.fill('moved-secret');
    await settings.getByRole('button', { name: 'Save' }).click();
    await waitFor('the webhook on its new origin', async () => {
      const { config } = await storedDestination();
      return config.url === elsewhere.url + HOOK_PATH;
    });
    assert.deepEqual((await storedDestination()).config.headers, { 'X-Receiver-Token': '****' });
    const there = await sendTest(elsewhere);
    assert.equal(there.headers['x-receiver-token'], 'moved-secret');
    assert.equal(there.headers['x-team'], undefined, 'the removed header is not sent');

    // Removed: the config has no headers, and none is sent.
    await page
      .getByRole('region', { name: 'Settings', exact: true })
      .getByRole('group', { name: 'Header 1' })
      .getByRole('button', { name: 'Remove header 1' })
      .click();
    await page
      .getByRole('region', { name: 'Settings', exact: true })
      .getByRole('button', { name: 'Save' })
      .click();
    await waitFor('the header removed', async () => (await storedDestination()).config.headers === undefined);
    assert.equal((await sendTest(elsewhere)).headers['x-receiver-token'], undefined);
    await audit(page, 'desktop-destination-headers');
  });

  it('fits a phone: the routing rules with a restriction being edited, and the webhook’s headers', async () => {
    const phone = await newPage(browser, PHONE);
    try {
      await signInWithPassword(phone.page, server.url, ADMIN.email, ADMIN.password);
      await phone.page.goto(`${server.url}/teams/${teamId}/routing`);
      const item = phone.page.getByRole('listitem', { name: 'Office hours' });
      await item.getByRole('button', { name: 'Edit Office hours' }).click();
      await item.getByRole('group', { name: 'Range 3' }).waitFor();
      await phone.page
        .getByRole('region', { name: 'Add a routing rule' })
        .getByLabel('When it applies')
        .selectOption('time-of-day');
      assert.equal(await scrollsSideways(phone.page), false, 'the routing rules scroll sideways');
      await audit(phone.page, 'phone-routing-restriction');

      await made('PATCH', `/v2/destinations/${destinationId}`, {
        config: { headers: { Authorization: 'Bearer phone' } },
      });
      await phone.page.goto(`${server.url}/teams/${teamId}/destinations/${destinationId}`);
      await phone.page.getByRole('group', { name: 'Header 1' }).waitFor();
      assert.equal(await scrollsSideways(phone.page), false, 'the destination scrolls sideways');
      await audit(phone.page, 'phone-destination-headers');
    } finally {
      await phone.context.close();
    }
  });

  it('found no serious accessibility problem on any view audited', () => {
    assert.ok(audited().length >= 7, `audited: ${audited().join(', ')}`);
    assert.deepEqual(problems(), []);
  });
});
