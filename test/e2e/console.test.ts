import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  accessibilityProblems,
  DESKTOP,
  launchBrowser,
  newPage,
  pageAudits,
  PHONE,
  requireChromium,
  screenshot,
  scrollsSideways,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { startFakeAws, type FakeAws } from '../../src/testing/fake-aws.js';
import { startFakeSns, type FakeSns } from '../../src/testing/fake-sns.js';
import { startTestServer, waitFor, type TestServer } from '../../src/testing/harness.js';
import { freePort } from '../../src/testing/network.js';
import { startTestOidcProvider, type TestOidcProvider } from '../../src/testing/oidc-provider.js';
import { createTestSigningCertificate, signSnsMessage } from '../../src/testing/sns-signer.js';
import type { SnsMessage } from '../../src/integrations/securityhub/sns/message.js';

/**
 * The console in a real browser (Debian's Chromium through playwright-core) against the real server:
 * the seed's integration flow, a signed finding arriving in the open list without a reload, the alert's
 * actions reaching the local Security Hub, write-back settings and "Test connection" against the local
 * AWS servers, sign-in by password and by OpenID Connect, an override on the timeline, and the same at a
 * phone's width; axe-core on every main page. Screenshots: test-artifacts/screenshots/.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const RESPONDER = 'responder@example.com';
const CALLER = { id: 'AKIAVIGILCONSOLETEST1', secret: 'vigil-console-test-caller-secret-0123456789' };
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/VigilSecurityHubRoleConsole`;
const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/securityhub';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:securityhub-findings';

let server: TestServer;
let aws: FakeAws;
let sns: FakeSns;
let oidc: TestOidcProvider;
let browser: Browser;
let certDir: string;
let signer: { keyPem: string; certUrl: string };
const roles: Record<string, { externalId: string }> = {};
const savedEnv = { ...process.env };
const { audit, audited, problems } = pageAudits();

function signIn(page: Page): Promise<void> {
  return signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
}

/** Posts an SNS message, signed as SNS signs, to the integration's endpoint URL as SNS does. */
async function postSigned(
  url: string,
  fields: Partial<SnsMessage> & { Type: SnsMessage['Type'] },
): Promise<void> {
  const message = signSnsMessage(
    {
      MessageId: randomUUID(),
      TopicArn: TOPIC,
      Timestamp: new Date().toISOString(),
      Message: '',
      ...fields,
    } as Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>,
    signer.keyPem,
    signer.certUrl,
    '2',
  );
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': fields.Type,
      'user-agent': 'Amazon Simple Notification Service Agent',
    },
    body: JSON.stringify(message),
  });
  assert.equal(response.status, 200, await response.text());
}

/** What SNS sends when the HTTPS subscription is made: Vigil confirms it at the (local) SNS. */
async function subscribe(url: string): Promise<void> {
  const token = sns.issueToken(TOPIC);
  await postSigned(url, {
    Type: 'SubscriptionConfirmation',
    Token: token,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
    SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${token}`,
  });
  await waitFor('the subscription to be confirmed at SNS', async () =>
    sns.requests.some((r) => r.url.includes(token)),
  );
}

/** A finding as Security Hub sends it (an Imported event through EventBridge and SNS) to `url`. */
async function postFinding(url: string, title: string): Promise<string> {
  const id = `arn:aws:securityhub:us-east-1:${ACCOUNT}:finding/${randomUUID()}`;
  aws.addFinding({ Id: id, ProductArn: PRODUCT });
  const finding = {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: PRODUCT,
    GeneratorId: 'aws-foundational-security-best-practices/v/1.0.0/S3.8',
    AwsAccountId: ACCOUNT,
    Types: ['Software and Configuration Checks/AWS Security Best Practices'],
    CreatedAt: new Date().toISOString(),
    UpdatedAt: new Date().toISOString(),
    Severity: { Label: 'HIGH', Normalized: 70 },
    Title: title,
    Description: 'S3 Block Public Access should be turned on for the bucket.',
    Remediation: {
      Recommendation: { Text: 'Turn on Block Public Access.', Url: 'https://docs.aws.amazon.com/' },
    },
    Resources: [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::customer-exports', Region: 'us-east-1' }],
    Compliance: { Status: 'FAILED' },
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
    Region: 'us-east-1',
  };
  const event = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [id],
    detail: { findings: [finding] },
  };
  await postSigned(url, {
    Type: 'Notification',
    Message: JSON.stringify(event),
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:abc`,
  });
  return id;
}

before(async () => {
  await requireChromium();
  certDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-console-certs-'));
  signer = await createTestSigningCertificate(certDir);
  sns = await startFakeSns();
  aws = await startFakeAws({ callerAccessKeyId: CALLER.id, callerSecretAccessKey: CALLER.secret, roles });
  // The AWS SDK reads its credentials and endpoints from the process's environment.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CALLER.id,
    AWS_SECRET_ACCESS_KEY: CALLER.secret,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_STS: aws.stsUrl,
    AWS_ENDPOINT_URL_SECURITYHUB: aws.securityHubUrl,
  });
  const port = await freePort();
  server = await startTestServer({
    env: {
      PORT: String(port),
      VIGIL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      VIGIL_SNS_CERT_DIR: certDir,
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      // The test sign-in provider runs on 127.0.0.1, as an internal one the operator allows.
      VIGIL_SSO_ALLOW_HOSTS: '127.0.0.1',
    },
    writeback: { baseDelayMs: 100, maxDelayMs: 1000 },
    outbound: { ca: sns.ca, lookup: sns.lookup, connectPort: sns.port, env: {} },
  });
  oidc = await startTestOidcProvider({ redirectUri: `${server.url}/api/console/sso/callback` });
  const sso = await server.call('PUT', '/api/console/sso', {
    issuer: oidc.issuer,
    clientId: oidc.clientId,
    clientSecret: oidc.clientSecret,
    label: 'Acme SSO',
  });
  assert.equal(sso.status, 200, JSON.stringify(sso.body));
  for (const [method, p, body] of [
    ['POST', '/v2/teams', { name: 'Security' }],
    ['POST', '/v2/users', { username: RESPONDER, fullName: 'Rita Responder', role: { name: 'User' } }],
    [
      'POST',
      '/v2/schedules',
      {
        name: 'Security primary',
        timezone: 'UTC',
        ownerTeam: { name: 'Security' },
        rotations: [
          {
            name: 'Weekly',
            startDate: '2026-01-05T09:00:00Z',
            type: 'weekly',
            participants: [{ type: 'user', username: ADMIN.email }],
          },
        ],
      },
    ],
  ] as const) {
    const made = await server.call(method, p, body);
    assert.equal(made.status, 201, `${p}: ${JSON.stringify(made.body)}`);
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await oidc?.stop();
  await server?.stop();
  await aws?.close();
  await sns?.close();
  if (certDir) await fs.rm(certDir, { recursive: true, force: true });
  process.env = savedEnv;
});

describe('the console in a browser', () => {
  it('takes the seed from "Add integration" to a finding acknowledged, noted and closed in Security Hub', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await audit(page, 'desktop-alerts-empty');

      // The seed's steps, in its words and order.
      await page.goto(`${server.url}/teams`);
      await page.getByRole('link', { name: 'Security' }).first().click();
      await page.getByRole('link', { name: 'Integrations' }).click();
      await page.getByRole('button', { name: 'Add integration' }).click();
      await page.getByLabel('Search integrations').fill('Amazon');
      await page.getByRole('button', { name: /Amazon Security Hub/ }).click();
      await page.getByLabel('Name', { exact: false }).first().fill('Prod Security Hub');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByText('Steps to configure the integration').click();
      const endpoint = page.getByRole('textbox', { name: 'Integration endpoint URL' });
      await endpoint.waitFor();
      const endpointUrl = await endpoint.inputValue();
      assert.match(
        endpointUrl,
        /^http:\/\/127\.0\.0\.1:\d+\/v1\/json\/integrations\/webhooks\/amazonsecurityhub\?apiKey=/,
      );
      await audit(page, 'desktop-add-integration');
      // The templates download with the console's own session.
      const roleTemplate = page.getByRole('link', { name: 'Download the Role template (YAML)' });
      const href = (await roleTemplate.getAttribute('href')) ?? '';
      const downloaded = await page.evaluate(async (url) => {
        const response = await fetch(url);
        return { status: response.status, text: await response.text() };
      }, href);
      assert.equal(downloaded.status, 200);
      assert.match(downloaded.text, /AWS::IAM::Role/);
      assert.match(downloaded.text, /sts:ExternalId/);
      await page.getByRole('textbox', { name: 'Setup command' }).waitFor();
      await page.getByRole('button', { name: 'Turn on integration' }).click();
      await page.waitForURL('**/integrations/*');
      await page.getByText('The integration is on').waitFor();
      const integrationId = new URL(page.url()).pathname.split('/').pop() ?? '';

      // Write-back settings, then "Test connection" against the local STS and Security Hub.
      const integration = await server.call('GET', `/v2/integrations/${integrationId}`);
      assert.equal(integration.status, 200, JSON.stringify(integration.body));
      roles[ROLE] = { externalId: integration.body.data.externalId };
      await page.getByLabel('Send alert updates back to Amazon Security Hub').check();
      await page.getByLabel('AmazonSecurityHub Role ARN').fill(ROLE);
      // The region list is a searchable select: type, then pick the option.
      await page.getByLabel('Region', { exact: true }).first().fill('us-east-1');
      await page
        .getByRole('option', { name: /us-east-1/ })
        .first()
        .click();
      // The test assumes the saved role: until the form is saved it would answer for other settings.
      const testButton = page.getByRole('button', { name: 'Test connection' });
      const saveFirst = page.getByText('Save first: Test connection uses the saved role and region.');
      await saveFirst.waitFor();
      assert.equal(await testButton.isDisabled(), true, 'Test connection waits for the settings to be saved');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Settings saved.').waitFor();
      const saved = await server.call('GET', `/v2/integrations/${integrationId}`);
      assert.equal(saved.body.data.roleArn, ROLE);
      assert.equal(saved.body.data.region, 'us-east-1');
      assert.equal(saved.body.data.sendUpdatesBack, true);
      await testButton.click();
      await page.getByText('The connection works').waitFor({ timeout: 30_000 });
      assert.ok(aws.assumeRoleCalls.some((c) => c.roleArn === ROLE && c.status === 200));
      // Another role typed in: the answer was about the saved one, so it goes until that one is saved.
      await page.getByLabel('AmazonSecurityHub Role ARN').fill(`${ROLE}-next`);
      await page.getByText('The connection works').waitFor({ state: 'detached' });
      await saveFirst.waitFor();
      assert.equal(await testButton.isDisabled(), true);
      await page.getByLabel('AmazonSecurityHub Role ARN').fill(ROLE);
      await saveFirst.waitFor({ state: 'detached' });
      assert.equal(await testButton.isDisabled(), false);
      await audit(page, 'desktop-integration');

      // The SNS subscription to the copied URL, then a finding through it: it appears in the open list
      // without a reload.
      await subscribe(endpointUrl);
      await page.goto(`${server.url}/alerts`);
      await page.getByRole('heading', { name: 'Alerts' }).waitFor();
      await page.waitForLoadState('networkidle');
      const title = `S3 bucket customer-exports allows public access ${randomUUID().slice(0, 6)}`;
      let reloaded = false;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) reloaded = true;
      });
      const findingId = await postFinding(endpointUrl, title);
      await page.getByText(title).first().waitFor({ timeout: 30_000 });
      assert.equal(reloaded, false, 'the list changed without a reload');
      await audit(page, 'desktop-alerts');

      // Acknowledge, note, raise the priority and close from the alert's page; each reaches the local
      // Security Hub.
      await page
        .getByRole('link', { name: new RegExp(title) })
        .first()
        .click();
      await page.getByRole('heading', { name: /Security Hub finding/ }).waitFor();
      await audit(page, 'desktop-alert');
      await page
        .getByRole('toolbar', { name: 'Alert actions' })
        .getByRole('button', { name: 'Acknowledge' })
        .click();
      await page.getByRole('button', { name: 'Unacknowledge' }).waitFor({ timeout: 30_000 });
      await page.getByLabel('Add a note').fill('Bucket owner contacted');
      await page.getByRole('button', { name: 'Add note' }).click();
      await page.getByText('Bucket owner contacted').first().waitFor({ timeout: 30_000 });
      await page
        .getByRole('toolbar', { name: 'Alert actions' })
        .getByRole('combobox', { name: 'Priority' })
        .selectOption('P1');
      await page.getByLabel('Priority P1', { exact: true }).first().waitFor({ timeout: 30_000 });
      await page
        .getByRole('toolbar', { name: 'Alert actions' })
        .getByRole('button', { name: 'Close' })
        .click();
      await page
        .getByText(/closed/i)
        .first()
        .waitFor({ timeout: 30_000 });

      const updates = await waitFor(
        'the acknowledge, the note, the priority and the close in Security Hub',
        async () => {
          const sent = aws.securityHubRequests
            .filter((r) => r.operation === 'BatchUpdateFindings' && r.status === 200)
            .map((r) => JSON.stringify(r.body));
          const mine = sent.filter((b) => b.includes(findingId));
          return mine.some((b) => b.includes('"NOTIFIED"')) &&
            mine.some((b) => b.includes('Bucket owner contacted')) &&
            mine.some((b) => b.includes('"Label":"CRITICAL"')) &&
            mine.some((b) => b.includes('"RESOLVED"'))
            ? mine
            : undefined;
        },
        60_000,
      );
      assert.ok(updates.length >= 1);
    } finally {
      await context.close();
    }
  });

  it('signs in through OpenID Connect at a phone’s width, and no main page scrolls sideways', async () => {
    const { context, page } = await newPage(browser, PHONE);
    try {
      oidc.signInAs(ADMIN.email);
      await page.goto(`${server.url}/on-call`);
      await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
      await page.waitForURL('**/on-call');
      await page.getByRole('heading', { name: 'Security primary' }).waitFor();
      assert.equal(await scrollsSideways(page), false, 'on-call scrolls sideways');
      await audit(page, 'phone-on-call');

      for (const [name, url] of [
        ['phone-alerts', '/alerts'],
        ['phone-teams', '/teams'],
      ] as const) {
        await page.goto(`${server.url}${url}`);
        await page.getByRole('heading').first().waitFor();
        await page.waitForLoadState('networkidle');
        assert.equal(await scrollsSideways(page), false, `${url} scrolls sideways`);
        await audit(page, name);
      }
      const [alert] = (await server.call('GET', '/v2/alerts?limit=1')).body.data as { id: string }[];
      if (alert) {
        await page.goto(`${server.url}/alerts/${alert.id}`);
        await page.getByRole('toolbar', { name: 'Alert actions' }).waitFor();
        assert.equal(await scrollsSideways(page), false, 'the alert page scrolls sideways');
        await audit(page, 'phone-alert');
      }
      const integrations = (await server.call('GET', '/v2/integrations')).body.data as {
        id: string;
        type: string;
      }[];
      const hub = integrations.find((i) => i.type === 'AmazonSecurityHub');
      if (hub) {
        await page.goto(`${server.url}/integrations/${hub.id}`);
        await page.getByRole('button', { name: 'Test connection' }).waitFor();
        assert.equal(await scrollsSideways(page), false, 'the integration page scrolls sideways');
        await audit(page, 'phone-integration');
      }
    } finally {
      await context.close();
    }
  });

  it('adds an override by the form and shows it on the timeline', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/on-call`);
      const card = page.getByRole('region', { name: 'Security primary' });
      await card.waitFor();
      await card.getByRole('button', { name: 'Override' }).click();
      await card.getByLabel('Who (email)').fill(RESPONDER);
      await card.getByRole('button', { name: 'Add override' }).click();
      await page.getByText(`${RESPONDER} is on call for Security primary`).waitFor();
      await card.getByRole('button', { name: 'Timeline' }).click();
      const final = card.getByRole('list', { name: 'Final schedule (with overrides)' });
      await final.getByRole('listitem').filter({ hasText: 'responder' }).first().waitFor();
      const titleOf = await final
        .getByRole('listitem')
        .filter({ hasText: 'responder' })
        .first()
        .getAttribute('title');
      assert.match(titleOf ?? '', /\(override\)/);
      await card.getByText('Rita Responder').or(card.getByText(RESPONDER)).first().waitFor();
      await audit(page, 'desktop-on-call');
    } finally {
      await context.close();
    }
  });

  it('puts nobody on call by the form, and changes that override by the form', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/on-call`);
      const card = page.getByRole('region', { name: 'Security primary' });
      await card.waitFor();
      await card.getByRole('button', { name: 'Override' }).click();
      await card.getByLabel('Nobody on call').check();
      await card.getByRole('button', { name: 'Add override' }).click();
      await page.getByText('Nobody is on call for Security primary').first().waitFor();
      const schedules = await server.callOk('GET', '/v2/schedules');
      const schedule = (schedules.data as { id: string; name: string }[]).find(
        (s) => s.name === 'Security primary',
      );
      assert.ok(schedule);
      type Override = { alias: string; user: { type: string }; endDate: string };
      const nobodyOf = async () =>
        ((await server.callOk('GET', `/v2/schedules/${schedule.id}/overrides`)).data as Override[]).filter(
          (o) => o.user.type === 'none',
        );
      const [made] = await nobodyOf();
      assert.ok(made, 'a none override was made');

      await card.getByRole('button', { name: 'Timeline' }).click();
      await card
        .getByRole('button', { name: /^Override: nobody,/ })
        .first()
        .click();
      const form = card.getByRole('form', { name: 'Change the override of nobody in Security primary' });
      await form.waitFor();
      assert.equal(await form.getByLabel('Nobody on call').isChecked(), true);
      const until = form.getByLabel('Until');
      // No named function inside: the browser gets the code as written, without tsx's helpers.
      const later = await until.evaluate((input) => {
        const d = new Date((input as unknown as { value: string }).value);
        d.setHours(d.getHours() + 1);
        return [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes()]
          .map((n, i) => (i === 0 ? String(n) : String(n).padStart(2, '0')))
          .join(',')
          .replace(/^(\d+),(\d+),(\d+),(\d+),(\d+)$/, '$1-$2-$3T$4:$5');
      });
      await until.fill(later);
      await form.getByRole('button', { name: 'Save override' }).click();
      await waitFor('the override moved, still nobody', async () => {
        const now = (await nobodyOf()).find((o) => o.alias === made.alias);
        return now && Date.parse(now.endDate) === Date.parse(made.endDate) + 3_600_000;
      });
    } finally {
      await context.close();
    }
  });

  it('adds an override by dragging across the final schedule', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      await page.goto(`${server.url}/on-call`);
      const card = page.getByRole('region', { name: 'Security primary' });
      await card.getByRole('button', { name: 'Timeline' }).click();
      const final = card.getByRole('list', { name: /^Final schedule \(with overrides\)/ }).first();
      await final.waitFor();
      const weekStart = Date.parse((await final.getAttribute('data-start')) ?? '');
      const weekEnd = Date.parse((await final.getAttribute('data-end')) ?? '');
      // Everything on the card loaded first (who is on call, next, the timeline's bars).
      await final.getByRole('listitem').first().waitFor();
      await card.locator('.mantine-Skeleton-root').first().waitFor({ state: 'detached' });
      // dragTo finds the row again for each end (the page may still shift) and checks it takes the pointer.
      const width = (await final.boundingBox())?.width ?? 0;
      await final.dragTo(final, {
        sourcePosition: { x: width * 0.25, y: 12 },
        targetPosition: { x: width * 0.5, y: 12 },
      });
      const box = await final.boundingBox();
      assert.ok(box);

      const form = card.getByRole('form', { name: 'Add an override to Security primary' });
      await form.waitFor();
      const isoOf = (label: string) =>
        form
          .getByLabel(label)
          .evaluate((input) => new Date((input as unknown as { value: string }).value).toISOString());
      const from = Date.parse(await isoOf('From'));
      const until = Date.parse(await isoOf('Until'));
      const quarter = (weekEnd - weekStart) / 4;
      const halfHour = 30 * 60_000;
      // Half an hour of snapping, plus a pixel's worth of time on each side.
      const slack = halfHour + (weekEnd - weekStart) / box.width;
      assert.ok(Math.abs(from - (weekStart + quarter)) <= slack, `from ${new Date(from).toISOString()}`);
      assert.ok(
        Math.abs(until - (weekStart + 2 * quarter)) <= slack,
        `until ${new Date(until).toISOString()}`,
      );
      assert.equal(from % halfHour, 0, 'the times snap to half hours');
      assert.equal(until % halfHour, 0, 'the times snap to half hours');

      await form.getByLabel('Who (email)').fill(ADMIN.email);
      await form.getByRole('button', { name: 'Add override' }).click();
      await page.getByText(`${ADMIN.email} is on call for Security primary`).waitFor();
      const schedules = await server.callOk('GET', '/v2/schedules');
      const schedule = (schedules.data as { id: string; name: string }[]).find(
        (s) => s.name === 'Security primary',
      );
      assert.ok(schedule);
      const overrides = await server.callOk('GET', `/v2/schedules/${schedule.id}/overrides`);
      const added = (overrides.data as { startDate: string; endDate: string }[]).find(
        (o) => Date.parse(o.startDate) === from,
      );
      assert.ok(added, JSON.stringify(overrides.data));
      assert.equal(Date.parse(added.endDate), until);
      await audit(page, 'desktop-on-call-dragged');
    } finally {
      await context.close();
    }
  });

  it('shows the sign-in page with no serious accessibility problem, and every page audited had none', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const { context, page } = await newPage(browser, viewport);
      try {
        await page.goto(`${server.url}/sign-in`);
        await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
        await audit(page, `${viewport === PHONE ? 'phone' : 'desktop'}-sign-in`);
      } finally {
        await context.close();
      }
    }
    assert.deepEqual(problems(), [], 'serious or critical axe-core violations');
    assert.ok(audited().length >= 10, `pages audited: ${audited().join(', ')}`);
  });
});

describe('the console on an empty database', () => {
  let empty: TestServer;
  let logged = '';
  before(async () => {
    const logTo = new PassThrough();
    logTo.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    empty = await startTestServer({ env: { VIGIL_BOOTSTRAP_API_KEY: '' }, logTo });
  });
  after(() => empty.stop());

  it('creates the organization and its first admin on the first visit, from the link in the log', async () => {
    const { context, page } = await newPage(browser, PHONE);
    try {
      // Without the code, the page asks for it (the API refuses a set-up without it).
      await page.goto(`${empty.url}/`);
      await page.getByRole('heading', { name: 'Set up Vigil' }).waitFor();
      assert.equal(await page.getByLabel(/^Setup code/).inputValue(), '');

      // The operator opens the link Vigil logged (its address is the test server's, not the default public URL).
      const link = /There is no organization yet\. Open (\S+) to create it/.exec(logged)?.[1];
      assert.ok(link, logged);
      const opened = new URL(link);
      await page.goto(`${empty.url}${opened.pathname}${opened.search}`);
      await page.getByRole('heading', { name: 'Set up Vigil' }).waitFor();
      assert.equal(await page.getByLabel(/^Setup code/).inputValue(), opened.searchParams.get('code'));
      await screenshot(page, 'phone-setup');
      assert.deepEqual(await accessibilityProblems(page), []);
      await page.getByLabel('Organization name').fill('Acme');
      await page.getByLabel('Your name').fill('Ada Admin');
      await page.getByRole('textbox', { name: /^Email/ }).fill('ada@example.com');
      await page
        .getByLabel(/^Password/)
        .first()
        .fill('a password long enough');
      await page.getByRole('button', { name: /Create|Set up/ }).click();
      await page.getByRole('heading', { name: 'Alerts' }).waitFor();
      const setup = await fetch(`${empty.url}/api/console/setup`);
      assert.deepEqual(await setup.json(), { setupRequired: false });
    } finally {
      await context.close();
    }
  });
});
