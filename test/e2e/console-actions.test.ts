import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { pageAudits } from '../../src/testing/browser.js';
import { waitFor, type Json, type TestServer } from '../../src/testing/harness.js';
import {
  CONSOLE_ADMIN,
  startConsoleSession,
  type ConsoleSession,
} from '../../src/testing/console-session.js';

/**
 * Actions in the console, in a real browser against the real server, each checked through the API: the
 * alert list's and an alert page's shortcuts (j/k, o, a, c, /, n); the alert toolbar's snooze, assign
 * and escalate; every main page in the dark scheme; and a Security Hub integration's payload log (a
 * delivery received while the integration was off, filtered by its verdict, replayed once it is on), its
 * key (regenerated after asking, shown once, the old one refused at once) and the Standard plan's notice
 * in the seed's words. Screenshots: test-artifacts/screenshots/actions-*.png.
 */

const INTAKE = '/v1/json/integrations/webhooks/amazonsecurityhub';
// A real Security Hub event (test/fixtures/SOURCES.md), its finding's Id made unique per delivery.
const SAMPLE = path.resolve(
  import.meta.dirname,
  '../fixtures/securityhub/events/source_layer_test_test_json_data_afsbp-ec2.7.json',
);

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;
let teamId: string;
const { audit, audited, problems } = pageAudits('actions-');

const made = (method: string, route: string, body?: unknown): Promise<Json> =>
  server.callOk(method, route, body);

/** Posts one finding as an EventBridge API destination does (the key in a header); the HTTP status. */
async function postFinding(apiKey: string, findingId: string): Promise<number> {
  const event = JSON.parse(await fs.readFile(SAMPLE, 'utf8')) as {
    id: string;
    detail: { findings: { Id: string }[] };
  };
  const finding = event.detail.findings[0];
  assert.ok(finding, 'the sample event has a finding');
  finding.Id = findingId;
  // Each EventBridge event has an id of its own; the intake takes a repeated one for a retry.
  event.id = randomUUID();
  const response = await fetch(`${server.url}${INTAKE}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-api-key': apiKey,
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
    },
    body: JSON.stringify(event),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Creates an alert through the API; its id. */
async function alertMade(message: string): Promise<string> {
  const accepted = await made('POST', '/v2/alerts', { message, responders: [{ type: 'team', id: teamId }] });
  return String((await made('GET', `/v2/alerts/requests/${accepted.requestId}`)).data.alertId);
}

const alertOf = async (id: string) => (await made('GET', `/v2/alerts/${id}`)).data;

/** A Security Hub integration of the team, made through the API: its answer (with its key). */
const securityHubIntegration = async (name: string, settings: Record<string, unknown> = {}) =>
  (
    await made('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name,
      ownerTeam: { id: teamId },
      ...settings,
    })
  ).data;
const logLinesOf = async (id: string): Promise<string[]> =>
  ((await made('GET', `/v2/alerts/${id}/logs?order=asc`)).data as Json[]).map((l) => String(l.log));

// Run in the page (this file is type-checked without the DOM's types, hence the expressions as text).
/** The focused element: "row <index>" for a row of the alert list, else its aria-label or tag name. */
const focusedThing = (p: Page) =>
  p.evaluate<string>(`(() => {
    const el = document.activeElement;
    if (!el) return 'nothing';
    if (el.classList.contains('alert-row')) return 'row ' + el.dataset.index;
    return el.getAttribute('aria-label') || el.tagName;
  })()`);

const isFocused = (target: Locator) =>
  target.evaluate(
    (el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
  );

before(async () => {
  session = await startConsoleSession();
  ({ server, page } = session);
  teamId = (await made('POST', '/v2/teams', { name: 'Keys' })).data.id;
});

after(async () => {
  await session?.stop();
});

describe('keyboard shortcuts', () => {
  it('moves through the alert list with j and k, opens with o, acknowledges with a and closes with c', async () => {
    // Created one after the other: the list shows the newest first.
    const oldest = await alertMade('Shortcut oldest');
    const middle = await alertMade('Shortcut middle');
    const newest = await alertMade('Shortcut newest');

    await page.goto(`${server.url}/alerts`);
    const list = page.getByRole('table', { name: 'Alerts' });
    await list.getByRole('link', { name: 'Shortcut oldest' }).waitFor();
    await page.locator('body').click({ position: { x: 1, y: 1 } });

    await page.keyboard.press('/');
    assert.equal(
      await isFocused(page.getByLabel('Search alerts')),
      true,
      '/ puts the cursor in the search box',
    );
    await page.keyboard.press('Escape');
    assert.equal(await focusedThing(page), 'BODY', 'Escape leaves the search box');

    await page.keyboard.press('j');
    assert.equal(await focusedThing(page), 'row 0');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    assert.equal(await focusedThing(page), 'row 2');
    await page.keyboard.press('k');
    assert.equal(await focusedThing(page), 'row 1');

    await page.keyboard.press('o');
    await page.waitForURL(`**/alerts/${middle}`);
    await page.getByRole('toolbar', { name: 'Alert actions' }).waitFor();
    await page.goBack();
    await list.getByRole('link', { name: 'Shortcut newest' }).waitFor();

    // Nothing focused or selected: a and c act on nothing (checked at the end: the newest stays open).
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    await page.keyboard.press('a');
    await page.keyboard.press('c');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    assert.equal(await focusedThing(page), 'row 1');
    await page.keyboard.press('a');
    await waitFor('the middle alert acknowledged', async () => (await alertOf(middle)).acknowledged === true);
    await page.keyboard.press('c');
    await waitFor('the middle alert closed', async () => (await alertOf(middle)).status === 'closed');
    // The open view lets the closed alert go without a reload.
    await list.getByRole('link', { name: 'Shortcut middle' }).waitFor({ state: 'detached' });
    for (const id of [oldest, newest]) {
      const alert = await alertOf(id);
      assert.equal(alert.acknowledged, false, `${alert.message} was left alone`);
      assert.equal(alert.status, 'open', `${alert.message} was left alone`);
    }
    await audit(page, 'desktop-alerts-after-shortcuts');
  });

  it('leaves Enter to the buttons and links of the alert list, and opens a row focused with j', async () => {
    const id = await alertMade('Enter opens me');
    await page.goto(`${server.url}/alerts`);
    const list = page.getByRole('table', { name: 'Alerts' });
    await list.getByRole('link', { name: 'Enter opens me' }).waitFor();

    const closedView = page
      .getByRole('group', { name: 'Alert status' })
      .getByRole('button', { name: /^Closed/ });
    await closedView.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/[?&]view=closed/);
    // The URL changes first, the button's state on the render after it.
    await waitFor(
      'Enter pressed the focused button',
      async () => (await closedView.getAttribute('aria-pressed')) === 'true',
    );

    await page.getByRole('link', { name: 'Teams', exact: true }).first().focus();
    await page.keyboard.press('Enter');
    await page.waitForURL('**/teams');

    await page.goto(`${server.url}/alerts`);
    await list.getByRole('link', { name: 'Enter opens me' }).waitFor();
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    await page.keyboard.press('j');
    assert.equal(await focusedThing(page), 'row 0');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/alerts/${id}`);
  });

  it('puts the cursor in the note box with n, and acknowledges and closes an alert with a and c', async () => {
    const id = await alertMade('Shortcut on its page');
    await page.goto(`${server.url}/alerts/${id}`);
    const toolbar = page.getByRole('toolbar', { name: 'Alert actions' });
    await toolbar.getByRole('button', { name: 'Acknowledge' }).waitFor();

    await page.keyboard.press('n');
    assert.equal(await isFocused(page.getByLabel('Add a note')), true, 'n puts the cursor in the note box');
    // Typed into the box, a and c are letters, not actions.
    await page.keyboard.type('ac');
    assert.equal(await page.getByLabel('Add a note').inputValue(), 'ac');
    assert.equal((await alertOf(id)).acknowledged, false);
    await page.getByLabel('Add a note').fill('');
    await page.evaluate('document.activeElement && document.activeElement.blur()');

    await page.keyboard.press('a');
    await toolbar.getByRole('button', { name: 'Unacknowledge' }).waitFor();
    assert.equal((await alertOf(id)).acknowledged, true);
    await page.keyboard.press('c');
    await waitFor('the alert closed', async () => (await alertOf(id)).status === 'closed');
    await page.locator('.vigil-badge[data-status="closed"]').waitFor();
    // One acknowledge, the shortcut's: the letters typed into the note box did nothing.
    const acknowledged = (await logLinesOf(id)).filter((l) => l.startsWith('Alert acknowledged by '));
    assert.equal(acknowledged.length, 1, acknowledged.join('\n'));
  });
});

describe('the alert’s toolbar', () => {
  it('snoozes an alert for an hour, assigns it to a person found by typing, and escalates it', async () => {
    const escalation = await made('POST', '/v2/escalations', {
      name: 'Keys night',
      ownerTeam: { id: teamId },
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'user', username: CONSOLE_ADMIN.email },
        },
      ],
    });
    assert.ok(escalation.data.id);
    const id = await alertMade('Toolbar actions');
    await page.goto(`${server.url}/alerts/${id}`);
    const toolbar = page.getByRole('toolbar', { name: 'Alert actions' });
    await toolbar.getByRole('button', { name: 'Acknowledge' }).waitFor();

    const before = Date.now();
    await toolbar.getByRole('button', { name: 'Snooze' }).click();
    await page.getByRole('menuitem', { name: '1 hour' }).click();
    const snoozed = await waitFor('the alert snoozed', async () => {
      const alert = await alertOf(id);
      return alert.snoozed === true ? alert : undefined;
    });
    const until = Date.parse(String(snoozed.snoozedUntil));
    assert.ok(until >= before + 3_600_000 - 60_000 && until <= Date.now() + 3_600_000 + 60_000, `${until}`);

    await toolbar.getByRole('button', { name: 'Assign' }).click();
    const owner = page.getByRole('dialog').getByRole('combobox', { name: /^Owner \(email\)/ });
    await owner.fill(CONSOLE_ADMIN.email.slice(0, 5));
    await page.getByRole('option', { name: new RegExp(CONSOLE_ADMIN.email.replace('.', '\\.')) }).click();
    assert.equal(await owner.inputValue(), CONSOLE_ADMIN.email);
    await page.getByRole('dialog').getByRole('button', { name: 'Assign' }).click();
    await waitFor('the alert assigned', async () => (await alertOf(id)).owner === CONSOLE_ADMIN.email);

    await toolbar.getByRole('button', { name: 'Escalate' }).click();
    await page.getByRole('dialog').getByLabel('Escalation', { exact: true }).first().click();
    await page.getByRole('option', { name: 'Keys night' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Escalate' }).click();
    const lines = await waitFor('the escalation started', async () => {
      const log = await logLinesOf(id);
      return log.some((l) => l === 'Escalated: Keys night starts now at its first rule') ? log : undefined;
    });
    assert.ok(
      lines.some((l) => l.startsWith('Escalated to the next rule of Keys night by ')),
      lines.join('\n'),
    );
    await page
      .getByText(/Escalated: Keys night starts now/)
      .first()
      .waitFor();
    await audit(page, 'desktop-alert-after-toolbar');
  });
});

describe('the dark scheme', () => {
  it('shows every main page in the dark scheme with no serious accessibility problem', async () => {
    const alertId = await alertMade('Seen in the dark');
    const integrationId = (await securityHubIntegration('Seen in the dark')).id;
    await page.evaluate("localStorage.setItem('mantine-color-scheme-value', 'dark')");
    try {
      const pages: [string, string, () => Promise<void>][] = [
        ['alerts', '/alerts', () => page.getByRole('link', { name: 'Seen in the dark' }).first().waitFor()],
        ['alert', `/alerts/${alertId}`, () => page.getByRole('toolbar', { name: 'Alert actions' }).waitFor()],
        ['teams', '/teams', () => page.getByRole('link', { name: 'Keys', exact: true }).waitFor()],
        [
          'team-integrations',
          `/teams/${teamId}/integrations`,
          () => page.getByRole('button', { name: 'Add integration' }).waitFor(),
        ],
        [
          'integration',
          `/integrations/${integrationId}`,
          () => page.getByRole('heading', { name: 'Payload log' }).waitFor(),
        ],
        ['on-call', '/on-call', () => page.getByRole('heading', { name: 'On-call' }).first().waitFor()],
        ['people', '/people', () => page.getByRole('heading', { name: 'Invite a person' }).waitFor()],
        [
          'api-keys',
          '/settings/api-keys',
          () => page.getByRole('heading', { name: 'API keys' }).first().waitFor(),
        ],
      ];
      for (const [name, route, shown] of pages) {
        await page.goto(`${server.url}${route}`);
        await shown();
        assert.equal(
          await page.evaluate("document.documentElement.getAttribute('data-mantine-color-scheme')"),
          'dark',
          `${name} is dark`,
        );
        await audit(page, `desktop-dark-${name}`);
      }
    } finally {
      await page.evaluate("localStorage.removeItem('mantine-color-scheme-value')");
    }
  });
});

describe('a Security Hub integration’s payload log and key', () => {
  it('lists a delivery received while off, filters by verdict, and replays it once the integration is on', async () => {
    const integration = await securityHubIntegration('Payload log', { enabled: false });
    assert.equal(integration.enabled, false);
    const findingId = `${integration.id}/finding/while-off`;
    assert.equal(await postFinding(integration.apiKey, findingId), 200, 'answered 2xx while off');

    await page.goto(`${server.url}/integrations/${integration.id}`);
    const log = page.getByRole('region', { name: 'Payload log' });
    await log.getByText('ignored', { exact: true }).waitFor();
    const replay = log.getByRole('button', { name: /^Replay the payload received / });
    assert.equal(await replay.count(), 1);

    // Filtered to another verdict, the log says there is none; filtered to its own, the delivery is back.
    await log.getByLabel('Verdict', { exact: true }).click();
    await page.getByRole('option', { name: 'created', exact: true }).click();
    await log.getByText('Nothing received with the verdict created yet.').waitFor();
    await log.getByLabel('Verdict', { exact: true }).click();
    await page.getByRole('option', { name: 'ignored', exact: true }).click();
    await log.getByText('ignored', { exact: true }).waitFor();

    await page.getByRole('switch', { name: /The integration is/ }).click();
    await waitFor(
      'the integration on',
      async () => (await made('GET', `/v2/integrations/${integration.id}`)).data.enabled,
    );
    await replay.click();
    await page.getByText('Replayed: created').waitFor();
    await log.getByLabel('Verdict', { exact: true }).click();
    await page.getByRole('option', { name: 'created', exact: true }).click();
    await log.getByRole('link', { name: 'alert 1' }).click();
    await page.waitForURL('**/alerts/*');
    const alertId = new URL(page.url()).pathname.split('/').pop() ?? '';
    const alert = await alertOf(alertId);
    assert.equal(alert.integration.id, integration.id);
    await page.goBack();
    await log.getByRole('link', { name: 'alert 1' }).waitFor();
    await audit(page, 'desktop-payload-log');

    // A delivery that arrives while the page is open shows without a reload (the log reads itself again
    // every 10 s).
    let reloaded = false;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) reloaded = true;
    });
    assert.equal(await postFinding(integration.apiKey, `${integration.id}/finding/while-open`), 200);
    // Made into an alert by a worker: a read of the log before that shows the row without its link until
    // the next read, so the wait allows two.
    await server.idle();
    await log.getByRole('link', { name: 'alert 1' }).nth(1).waitFor({ timeout: 25_000 });
    assert.equal(reloaded, false, 'the log changed without a reload');
  });

  it('pages through the payload log 20 at a time', async () => {
    const integration = await securityHubIntegration('A long payload log');
    for (let i = 0; i < 23; i++)
      assert.equal(await postFinding(integration.apiKey, `${integration.id}/finding/page-${i}`), 200);
    // Every delivery made into its alert before the log is read, so that each row has its link.
    await server.idle();
    await page.goto(`${server.url}/integrations/${integration.id}`);
    const log = page.getByRole('region', { name: 'Payload log' });
    const replays = log.getByRole('button', { name: /^Replay the payload received / });
    await log.getByRole('button', { name: 'Older payloads' }).waitFor();
    assert.equal(await replays.count(), 20, 'the first page');
    await log.getByRole('button', { name: 'Older payloads' }).click();
    await log.getByRole('button', { name: 'Older payloads' }).waitFor({ state: 'detached' });
    assert.equal(await replays.count(), 23, 'all of them, once the older ones came');
    // Each listed once: the pages meet without a gap or an overlap.
    const links = await log
      .getByRole('link', { name: 'alert 1' })
      .evaluateAll((els) => els.map((el) => el.getAttribute('href')));
    assert.equal(new Set(links).size, 23, links.join(' '));
  });

  it('regenerates the key after asking, shows the new one once, and refuses the old one at once', async () => {
    const integration = await securityHubIntegration('Key to regenerate');
    const oldKey: string = integration.apiKey;
    assert.equal(await postFinding(oldKey, `${integration.id}/finding/1`), 200);

    await page.goto(`${server.url}/integrations/${integration.id}`);
    const section = page.getByRole('region', { name: 'Key' });
    await section.getByRole('button', { name: 'Regenerate key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate the key?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await postFinding(oldKey, `${integration.id}/finding/2`), 200, 'cancelled: the key stands');

    await section.getByRole('button', { name: 'Regenerate key' }).click();
    await dialog.getByRole('button', { name: 'Regenerate key' }).click();
    await section.getByText('Vigil shows it only this once').waitFor();
    const newKey = await section.getByRole('textbox', { name: 'API key' }).inputValue();
    assert.notEqual(newKey, oldKey);
    const endpoint = await section.getByRole('textbox', { name: 'Integration endpoint URL' }).inputValue();
    assert.ok(endpoint.endsWith(`apiKey=${newKey}`), endpoint);
    await audit(page, 'desktop-key-regenerated');

    assert.equal(await postFinding(oldKey, `${integration.id}/finding/3`), 401, 'the old key is refused');
    assert.equal(await postFinding(newKey, `${integration.id}/finding/4`), 200, 'the new key works');

    // Shown once: a reload offers to regenerate again, and shows no key.
    await page.reload();
    await section.getByRole('button', { name: 'Regenerate key' }).waitFor();
    assert.equal(await section.getByRole('textbox', { name: 'API key' }).count(), 0);
  });

  it('states the Standard plan’s limits as the seed does, and offers no write-back on it', async () => {
    const plan = String((await made('GET', '/v2/organization')).data.plan);
    const integration = await securityHubIntegration('On the Standard plan');
    await made('PATCH', '/v2/organization', { plan: 'standard' });
    try {
      const notice = page.getByRole('alert').filter({ hasText: 'Standard plan' });
      const seedWords = [
        'Bidirectional integrations aren’t supported in the Standard plan.',
        'you can add this integration only from your team’s operations page',
      ];
      await page.goto(`${server.url}/teams/${teamId}/integrations`);
      await page.getByRole('button', { name: 'Add integration' }).click();
      await page.getByRole('heading', { name: 'Add integration' }).waitFor();
      for (const words of seedWords) await notice.getByText(words, { exact: false }).waitFor();

      await page.goto(`${server.url}/integrations/${integration.id}`);
      for (const words of seedWords) await notice.getByText(words, { exact: false }).waitFor();
      const writeBack = page.getByLabel('Send alert updates back to Amazon Security Hub');
      assert.equal(await writeBack.isDisabled(), true, 'write-back cannot be turned on');
      await audit(page, 'desktop-standard-plan');
    } finally {
      await made('PATCH', '/v2/organization', { plan });
    }
    await page.reload();
    await page.getByLabel('Send alert updates back to Amazon Security Hub').waitFor();
    assert.equal(await page.getByLabel('Send alert updates back to Amazon Security Hub').isDisabled(), false);
    assert.equal(await page.getByText('Bidirectional integrations aren’t supported').count(), 0);
  });

  it('found no serious accessibility problem on any view audited', () => {
    assert.deepEqual(audited(), [
      'desktop-alerts-after-shortcuts',
      'desktop-alert-after-toolbar',
      ...[
        'alerts',
        'alert',
        'teams',
        'team-integrations',
        'integration',
        'on-call',
        'people',
        'api-keys',
      ].map((name) => `desktop-dark-${name}`),
      'desktop-payload-log',
      'desktop-key-regenerated',
      'desktop-standard-plan',
    ]);
    assert.deepEqual(problems(), []);
  });
});
