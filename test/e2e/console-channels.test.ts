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
import { startFakeTwilio, type FakeTwilio } from '../../src/testing/fake-twilio.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testing/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/testing/webhook-receiver.js';

/**
 * The console's channels in a real browser against the real server: a person's SMS contact verified with
 * the code the (local, fake) Twilio was asked to text, then tested; a team's webhook destination added,
 * its signing secret shown once, tested against a Standard Webhooks receiver that verifies every request,
 * and its delivery log; a Microsoft Teams destination that answers "gone", edited and deleted. Each view
 * is audited by axe-core, and at a phone's width. Screenshots: test-artifacts/screenshots/channels-*.png.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const TEAM = 'Platform';
const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'fake-twilio-auth-token-0123456789';
const FROM = '+14155550100';
const PHONE_NUMBER = '+447700900123';

let server: TestServer;
let browser: Browser;
let twilio: FakeTwilio;
let receiver: WebhookReceiver;
let teamId: string;
let adminId: string;
let webhookId: string;
const { audit, audited, problems } = pageAudits('channels-');

function signIn(page: Page): Promise<void> {
  return signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
}

/**
 * The team's Destinations tab, through its navigation; the mouse then leaves the link (an active link's
 * hover colours are Mantine's own, below 4.5:1, and not what a person reading the page sees).
 */
async function openDestinations(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Destinations' }).click();
  await page.mouse.move(0, 0);
}

function made(method: string, path: string, body?: unknown) {
  return server.callOk(method, path, body);
}

before(async () => {
  await requireChromium();
  twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, numbers: [FROM] });
  receiver = await startWebhookReceiver();
  server = await startTestServer({
    env: {
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      VIGIL_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      VIGIL_TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      VIGIL_TWILIO_FROM: FROM,
      VIGIL_TWILIO_API_URL: twilio.url,
      VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
    },
  });
  teamId = (await made('POST', '/v2/teams', { name: TEAM })).data.id;
  adminId = (await made('GET', `/v2/users/${encodeURIComponent(ADMIN.email)}`)).data.id;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await receiver?.close();
  await twilio?.close();
});

describe('the console’s channels', () => {
  it('verifies an SMS contact with the code Twilio was asked to text, then tests it', async () => {
    await made('POST', `/v2/users/${adminId}/contacts`, { method: 'sms', to: PHONE_NUMBER });
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/people/${adminId}`);
      await page.getByRole('heading', { name: 'Contact methods' }).waitFor();
      const card = page.getByRole('listitem', { name: `SMS ${PHONE_NUMBER}` });
      await card.getByText('Not verified').waitFor();

      // A test to an unverified number is refused, in the server's words.
      await card.getByRole('button', { name: `Test SMS ${PHONE_NUMBER}` }).click();
      await card.getByText('Verify this contact before testing it').waitFor();

      await card.getByRole('button', { name: `Verify SMS ${PHONE_NUMBER}` }).click();
      await card.getByRole('button', { name: 'Send code' }).click();
      const [sent] = await twilio.waitForMessages(1);
      assert.equal(sent?.to, PHONE_NUMBER);
      const code = /\b(\d{6})\b/.exec(sent?.body ?? '')?.[1];
      assert.ok(code, sent?.body);
      await card.getByText(`A code is on its way to ${PHONE_NUMBER}`).waitFor();

      // Asked again within a minute: the server's 429 message, and the code input stays.
      await card.getByRole('button', { name: 'Send a new code' }).click();
      await card.getByText('less than a minute ago').waitFor();
      assert.equal(twilio.messages.length, 1, 'no second code was sent');

      const wrong = code === '000000' ? '111111' : '000000';
      await card.getByRole('textbox', { name: 'Code' }).fill(wrong);
      await card.getByRole('button', { name: 'Verify', exact: true }).click();
      await card.getByText('That code is not the one sent (4 tries left).').waitFor();
      await audit(page, 'desktop-verify');

      await card.getByRole('textbox', { name: 'Code' }).fill(code);
      await card.getByRole('button', { name: 'Verify', exact: true }).click();
      await card.getByText('Verified', { exact: true }).waitFor();
      assert.equal(await card.getByText('Not verified').count(), 0);
      const contacts = await made('GET', `/v2/users/${adminId}/contacts`);
      const sms = contacts.data.find((c: { method: string }) => c.method === 'sms');
      assert.equal(sms.status.verified, true, JSON.stringify(sms));

      await card.getByRole('button', { name: `Test SMS ${PHONE_NUMBER}` }).click();
      await page.getByText('Test message sent').waitFor();
      const [, test] = await twilio.waitForMessages(2);
      assert.equal(test?.to, PHONE_NUMBER);
      assert.match(test?.body ?? '', /test/i);
      await audit(page, 'desktop-person-verified');
    } finally {
      await context.close();
    }
  });

  it('adds a webhook destination to a team, shows its secret once, tests it and lists its deliveries', async () => {
    const path = '/hooks/platform';
    receiver.endpoint(path);
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/teams/${teamId}`);
      await openDestinations(page);
      await page.getByRole('heading', { name: 'Destinations' }).waitFor();
      await page.getByText('This team has no destination yet').waitFor();
      await audit(page, 'desktop-destinations-empty');

      await page.getByRole('button', { name: 'Add destination' }).click();
      await page.getByRole('heading', { name: 'Add destination' }).waitFor();
      await page.getByLabel('Type').selectOption({ label: 'Webhook' });
      await page.getByRole('textbox', { name: 'Name' }).fill('Platform webhook');
      await page.getByRole('textbox', { name: 'Receiver URL' }).fill(receiver.url + path);
      await audit(page, 'desktop-add-destination');
      await page.getByRole('button', { name: 'Add destination' }).click();

      // The form has a "Signing secret" field of its own (empty: Vigil makes one): read the field only
      // once the page that shows the made secret is there.
      await page.getByText('Vigil shows it only once').waitFor();
      const field = page.getByRole('textbox', { name: 'Signing secret', exact: true });
      const secret = await field.inputValue();
      assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
      await page.getByRole('button', { name: 'Copy Signing secret' }).waitFor();
      await audit(page, 'desktop-destination-secret');
      receiver.setSecret(path, secret);

      const listed = await made('GET', '/v2/destinations');
      const stored = listed.data.find((d: { name: string }) => d.name === 'Platform webhook');
      assert.ok(stored, JSON.stringify(listed.data));
      assert.equal(stored.team.id, teamId);
      assert.equal(stored.config.url, receiver.url + path);
      assert.ok(!JSON.stringify(listed.data).includes(secret), 'the list never holds the secret');
      webhookId = stored.id;

      await page.getByRole('button', { name: 'I have copied it' }).click();
      await page.getByRole('heading', { name: 'Platform webhook' }).waitFor();
      assert.equal(
        await page.getByRole('textbox', { name: 'Signing secret', exact: true }).count(),
        0,
        'shown once',
      );

      await page.getByRole('button', { name: 'Send test' }).click();
      await page.getByText('The test arrived').waitFor();
      const tests = await waitFor('the test webhook', async () => {
        const got = receiver.received(path);
        return got.length >= 1 ? got : undefined;
      });
      assert.equal(tests[0]?.body.type, 'test');
      await audit(page, 'desktop-destination');

      // An alert for the team: its `created` event is delivered, and listed in the delivery log.
      const alert = await made('POST', '/v2/alerts', {
        message: 'Disk full on db-1',
        priority: 'P2',
        responders: [{ type: 'team', name: TEAM }],
      });
      const alertId = await waitFor('the alert to be made', async () => {
        const status = await server.call('GET', `/v2/alerts/requests/${alert.requestId}`);
        return status.body.data?.alertId as string | undefined;
      });
      await waitFor('the created webhook', async () =>
        receiver.received(path).find((r) => r.body.type === 'alert.created'),
      );
      await waitFor('the delivery to be recorded as sent', async () => {
        const log = await made('GET', `/v2/destinations/${webhookId}/deliveries`);
        return log.data.find((d: { state: string }) => d.state === 'sent');
      });

      await page.getByRole('tab', { name: 'Deliveries' }).click();
      await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
      const table = page.getByRole('table', { name: 'Deliveries to Platform webhook' });
      await table.waitFor();
      const row = table.getByRole('row').filter({ hasText: 'created' });
      await row.getByText('Sent', { exact: true }).waitFor();
      assert.equal(
        await row.getByRole('link', { name: alertId.slice(0, 8) }).getAttribute('href'),
        `/alerts/${alertId}`,
      );
      assert.equal(await page.url(), `${server.url}/teams/${teamId}/destinations/${webhookId}/deliveries`);
      await audit(page, 'desktop-deliveries');

      await openDestinations(page);
      const list = page.getByRole('table', { name: 'Destinations' });
      await list
        .getByRole('row')
        .filter({ hasText: 'Platform webhook' })
        .getByRole('cell', { name: 'Webhook', exact: true })
        .waitFor();
      await audit(page, 'desktop-destinations');
    } finally {
      await context.close();
    }
  });

  it('shows a Teams destination turned off by a failed test, edits it and deletes it', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/teams/${teamId}/destinations/new`);
      await page.getByRole('heading', { name: 'Add destination' }).waitFor();
      await page.getByLabel('Type').selectOption({ label: 'Microsoft Teams' });
      await page.getByRole('textbox', { name: 'Name' }).fill('Platform Teams');
      // No endpoint there: the receiver answers 404, which Teams means as a deleted workflow.
      await page.getByRole('textbox', { name: 'Workflow URL' }).fill(`${receiver.url}/no-such-workflow`);
      await page.getByRole('button', { name: 'Add destination' }).click();
      await page.getByRole('heading', { name: 'Platform Teams' }).waitFor();
      assert.equal(await page.getByRole('textbox', { name: /signing secret/i }).count(), 0);

      await page.getByRole('button', { name: 'Send test' }).click();
      await page.getByText('The test did not arrive').waitFor();
      await page.getByText('Vigil turned the destination off').waitFor();
      await page.getByText('This destination is off').waitFor();
      await audit(page, 'desktop-destination-off');

      await page.getByRole('textbox', { name: 'Name' }).fill('Platform Teams channel');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Platform Teams channel is saved.').waitFor();
      const listed = await made('GET', '/v2/destinations');
      const teams = listed.data.find((d: { type: string }) => d.type === 'teams');
      assert.equal(teams.name, 'Platform Teams channel');
      assert.equal(teams.enabled, false);
      assert.match(teams.disabledReason, /404/);

      await openDestinations(page);
      const row = page
        .getByRole('table', { name: 'Destinations' })
        .getByRole('row')
        .filter({ hasText: 'Platform Teams channel' });
      await row.getByText('Off', { exact: true }).waitFor();
      await row.getByText('404').waitFor();
      await row.getByRole('link', { name: 'Platform Teams channel' }).click();

      await page.getByRole('button', { name: 'Delete destination' }).click();
      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByText('Platform Teams channel is deleted.').waitFor();
      await page.getByRole('heading', { name: 'Destinations' }).waitFor();
      const left = await made('GET', '/v2/destinations');
      assert.deepEqual(
        left.data.map((d: { name: string }) => d.name),
        ['Platform webhook'],
      );
    } finally {
      await context.close();
    }
  });

  it('fits the new views on a phone', async () => {
    const { context, page } = await newPage(browser, PHONE);
    try {
      await signIn(page);
      for (const [name, url, heading] of [
        ['phone-person', `/people/${adminId}`, 'Contact methods'],
        ['phone-destinations', `/teams/${teamId}/destinations`, 'Destinations'],
        ['phone-add-destination', `/teams/${teamId}/destinations/new`, 'Add destination'],
        ['phone-destination', `/teams/${teamId}/destinations/${webhookId}`, 'Platform webhook'],
        ['phone-deliveries', `/teams/${teamId}/destinations/${webhookId}/deliveries`, 'Deliveries'],
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

  it('found no serious accessibility problem on any view audited', () => {
    assert.ok(audited().length >= 13, `audited: ${audited().join(', ')}`);
    assert.deepEqual(problems(), []);
  });
});
