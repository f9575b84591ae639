import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '../../logger.js';
import { httpAnswerOf } from '../http-answer.js';
import { createSecurityHubIntake } from './intake.js';
import { systemClock } from '../../work/clock.js';
import { CertificateNotServed, SnsCertificateStore } from './sns/certificates.js';
import {
  addOrganization,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';

/**
 * The intake under hostile input: bytes PostgreSQL cannot store, identifiers too long for an index, keys
 * that name Object.prototype's properties, and a finding that fails for a reason of its own. Each must
 * fail alone (or not at all), never make a neighbour's answer a 5xx, never take a delivery's good findings
 * along, and always leave an entry in the payload log with its reason.
 */

let server: TestServer;
let db: pg.Client;
const logLines: Json[] = [];

before(async () => {
  const logs = new PassThrough();
  let pending = '';
  logs.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) logLines.push(JSON.parse(line));
  });
  server = await startTestServer({ logTo: logs, logLevel: 'warn' });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  assert.equal((await server.call('POST', '/v2/teams', { name: 'SecOps' })).status, 201);
});

after(async () => {
  await db.end();
  await server.stop();
});

const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';

/** A logger whose lines a test can read. */
function capturedLog() {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  return { log: createLogger('warn', stream), lines };
}

/** The server's intake called directly, so that a test can hand it deliveries in one tick. */
function directIntake(log: ReturnType<typeof capturedLog>['log']) {
  return createSecurityHubIntake({
    db: server.app.context.apiDb,
    alerts: server.app.context.alerts,
    config: server.app.context.config,
    log,
    certificates: new SnsCertificateStore({}),
    confirmSubscription: async () => ({ status: 500, body: '' }),
    clock: systemClock,
  });
}

/**
 * Hands the bodies to the intake in one tick, so that they are stored together, in one statement; what
 * it answered each, and the lines it logged.
 */
async function handedTogether(integration: Integration, bodies: string[]) {
  const { log, lines } = capturedLog();
  const intake = directIntake(log);
  const row = await server.app.context.integrations.byApiKey(integration.apiKey);
  const answers = (
    await Promise.all(
      bodies.map((body, i) =>
        intake.handle(row, { keyInHeader: true, contentType: 'application/json', body }, `together-${i}`),
      ),
    )
  )
    .map(httpAnswerOf)
    .map((a) => ({ status: a.status, body: a.body as Json }));
  return { answers, lines };
}

function finding(id: string, extra: Json = {}): Json {
  return {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: PRODUCT,
    AwsAccountId: '123456789012',
    Title: `Finding ${id.slice(0, 40)}`,
    Description: 'Something happened.',
    Severity: { Label: 'HIGH' },
    Types: ['TTPs/Discovery'],
    Resources: [{ Type: 'AwsEc2Instance', Id: 'i-0123' }],
    UpdatedAt: '2026-11-30T10:00:00Z',
    ...extra,
  };
}

function event(findings: Json[], id: string = randomUUID()): Json {
  return {
    version: '0',
    id,
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: '123456789012',
    time: '2026-11-30T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { findings },
  };
}

interface Integration {
  id: string;
  apiKey: string;
}

async function addIntegration(call: TestServer['call'] = server.call, team = 'SecOps'): Promise<Integration> {
  const res = await call('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: `Hub ${randomUUID().slice(0, 8)}`,
    ownerTeam: { name: team },
    verifySignatures: false,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.data.id, apiKey: res.body.data.apiKey };
}

const INTAKE = '/v1/json/integrations/webhooks/amazonsecurityhub';

/** Posts a body as EventBridge API destinations do (key in a header), or as SNS does (key in the URL). */
async function deliver(integration: Integration, body: string | Json, sns = false) {
  const response = await fetch(
    server.url + INTAKE + (sns ? `?apiKey=${encodeURIComponent(integration.apiKey)}` : ''),
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(sns ? {} : { 'x-api-key': integration.apiKey }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
  );
  return { status: response.status, body: (await response.json()) as Json };
}

async function settled(
  integration: Integration,
  payloadId: string,
  call: TestServer['call'] = server.call,
): Promise<Json> {
  return waitFor(
    `payload ${payloadId} to be processed`,
    async () => {
      const res = await call('GET', `/v2/integrations/${integration.id}/payloads/${payloadId}`);
      return res.body.data?.verdict !== 'queued' ? res.body.data : undefined;
    },
    30_000,
  );
}

describe('deliveries PostgreSQL could not store', () => {
  it('are stored made storable, and never fail the deliveries stored with them, across organizations', async () => {
    const other = await addOrganization(server, 'Other Org');
    assert.equal((await other.call('POST', '/v2/teams', { name: 'Blue' })).status, 201);
    const hostile = await addIntegration();
    const victim = await addIntegration(other.call, 'Blue');

    const longId = 'x'.repeat(8192);
    const bad = [
      // A NUL in the event id (the idempotency key), an 8 KB id, and an UnsubscribeConfirmation with a NUL in
      // its TopicArn: each once made the whole write batch answer 503.
      ...Array.from({ length: 20 }, () => JSON.stringify(event([], `a\u0000b-${randomUUID()}`))),
      ...Array.from({ length: 20 }, (_, i) => JSON.stringify(event([], `${longId}-${i}`))),
      ...Array.from({ length: 5 }, () =>
        JSON.stringify({
          Type: 'UnsubscribeConfirmation',
          MessageId: randomUUID(),
          Token: 't',
          TopicArn: 'arn:aws:sns:us-east-1:123456789012:a\u0000b',
          Message: 'You have chosen to deactivate subscription.',
          SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: 'x',
          SigningCertURL: 'https://sns.us-east-1.amazonaws.com/x.pem',
        }),
      ),
    ];
    const good = Array.from({ length: 60 }, (_, i) => event([finding(`good-${i}-${randomUUID()}`)]));
    const answers = await Promise.all([
      ...bad.map((body, i) => deliver(hostile, body, i >= 40)),
      ...good.map((body) => deliver(victim, body)),
    ]);
    const statuses = answers.map((a) => a.status);
    assert.deepEqual(
      statuses.filter((s) => s >= 500),
      [],
      'no 5xx, for anyone',
    );
    const victims = answers.slice(bad.length);
    assert.ok(victims.every((a) => a.status === 200 && a.body.verdict === 'queued'));
    for (const a of victims)
      assert.equal((await settled(victim, a.body.payloadId, other.call)).verdict, 'created');

    // The NUL became U+FFFD in the stored id; the long id is kept whole in the log and still de-duplicates.
    const nul = answers[0]!;
    assert.equal(nul.status, 200);
    const stored = await server.call('GET', `/v2/integrations/${hostile.id}/payloads/${nul.body.payloadId}`);
    assert.match(stored.body.data.messageId, /^eventbridge:a\uFFFDb-/);
    const retry = await deliver(hostile, bad[20]!);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.verdict, 'duplicate');
    const long = await server.call(
      'GET',
      `/v2/integrations/${hostile.id}/payloads/${answers[20]!.body.payloadId}`,
    );
    assert.equal(long.body.data.messageId, `eventbridge:${longId}-0`);
    // The unsubscribes were taken, TopicArn made storable.
    assert.ok(answers.slice(40, 45).every((a) => a.status === 200 && a.body.verdict === 'unsubscribed'));
  });

  it('refuses a delivery PostgreSQL still refuses with a 4xx and a log entry, and stores its neighbours', async () => {
    const integration = await addIntegration();
    // Stand-in for any value the database refuses: a trigger raising a data exception for one body.
    await db.query(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.body LIKE '%poison-body%' THEN
          RAISE EXCEPTION 'this value cannot be stored' USING ERRCODE = '22023';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_poison BEFORE INSERT ON integration_payloads
        FOR EACH ROW EXECUTE FUNCTION refuse_poison();`);
    try {
      const bodies = Array.from({ length: 30 }, (_, i) =>
        event([finding(i === 7 ? `poison-body-${randomUUID()}` : `neighbour-${i}-${randomUUID()}`)]),
      );
      const { answers, lines } = await handedTogether(
        integration,
        bodies.map((b) => JSON.stringify(b)),
      );
      assert.ok(
        lines.some((l) => l.includes('storing deliveries together failed')),
        'the batch statement failed, then each was stored alone',
      );
      const poisoned = answers[7]!;
      assert.equal(poisoned.status, 400);
      assert.match(poisoned.body.reason, /cannot store this delivery .*will not help/);
      const neighbours = answers.filter((_, i) => i !== 7);
      assert.ok(neighbours.every((a) => a.status === 200 && a.body.verdict === 'queued'));
      const refused = await server.call(
        'GET',
        `/v2/integrations/${integration.id}/payloads?verdict=refused&includeBody=true`,
      );
      assert.equal(refused.body.data.length, 1);
      assert.match(refused.body.data[0].reason, /cannot store this delivery/);
      assert.match(refused.body.data[0].body, /^\(not kept: /);
    } finally {
      await db.query('DROP TRIGGER refuse_poison ON integration_payloads; DROP FUNCTION refuse_poison();');
    }
  });

  it('keeps every body stored together byte for byte, whatever its characters and length', async () => {
    const integration = await addIntegration();
    const texts = [
      'plain ASCII',
      'quotes " and backslashes \\ and \\" together',
      'accents: café, naïve, Ærøskøbing',
      'CJK: 漢字かなカナ, 한국어',
      'emoji: 🚨🔥 and a flag 🇩🇪',
      'a tab\tand a newline\nin the title',
      'x'.repeat(70_000),
      '',
    ];
    // Bodies written as they arrived, not re-serialized: spacing and escapes of their own.
    const bodies = texts.map(
      (
        title,
        i,
      ) => `{ "version":"0", "id":"${randomUUID()}",\n  "detail-type":"Security Hub Findings - Imported",
        "source":"aws.securityhub", "detail":{"findings":[${JSON.stringify(finding(`body-${i}-${randomUUID()}`, { Title: title }))}]},
        "note":"\\u00e9 stays escaped: ${i}" }`,
    );
    const together = await handedTogether(integration, bodies);
    const answers = together.answers.map((a) => a.body);
    assert.ok(answers.every((a) => a.verdict === 'queued'));
    // Stored by the one statement for all of them, not by the one-by-one fallback after it failed.
    assert.deepEqual(
      together.lines.filter((l) => l.includes('storing deliveries together failed')),
      [],
    );
    const stored = await db.query<{ id: string; body: string }>(
      'SELECT id::text, body FROM integration_payloads WHERE id = ANY($1::bigint[])',
      [answers.map((a) => a.payloadId)],
    );
    const byId = new Map(stored.rows.map((r) => [r.id, r.body]));
    answers.forEach((a, i) => assert.equal(byId.get(String(a.payloadId)), bodies[i], `body ${i}`));
    const alerts = await Promise.all(
      answers.map(async (a) => (await settled(integration, String(a.payloadId))).alertIds as string[]),
    );
    for (const [i, ids] of alerts.entries()) {
      assert.equal(ids.length, 1, `delivery ${i} made its alert`);
      const alert = await server.callOk('GET', `/v2/alerts/${ids[0]}`);
      assert.ok(
        String(alert.data.message).includes(texts[i]!.slice(0, 100)) || texts[i] === '',
        `alert ${i}: ${alert.data.message}`,
      );
    }
  });

  it('ignores SNS notifications whose Message is not an event: at once, or from the workers', async () => {
    const integration = await addIntegration();
    const notification = (message: string) => ({
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:securityhub-findings',
      Message: message,
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      Signature: 'x',
      SigningCertURL: 'https://sns.us-east-1.amazonaws.com/x.pem',
      UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
    });
    // A test message published from the SNS console: plain text, answered at once.
    const plain = await deliver(integration, notification('Hello from the SNS console'), true);
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    assert.equal(plain.body.verdict, 'ignored');
    assert.match(plain.body.reason, /not a JSON object, so not an EventBridge event/);
    // One that only starts like JSON is stored, and the workers settle it the same way.
    const broken = await deliver(integration, notification('{"detail": {"findings": ['), true);
    assert.equal(broken.status, 200);
    assert.equal(broken.body.verdict, 'queued');
    const settledBroken = await settled(integration, broken.body.payloadId);
    assert.equal(settledBroken.verdict, 'ignored');
    assert.match(settledBroken.reason, /not a JSON object, so not an EventBridge event/);
    // Replayed from the payload log, each is a new delivery, ignored for the same reason (not a duplicate).
    const logged = await server.callOk('GET', `/v2/integrations/${integration.id}/payloads`);
    const plainId = logged.data.find(
      (p: Json) => p.verdict === 'ignored' && p.id !== broken.body.payloadId,
    )?.id;
    assert.ok(plainId, JSON.stringify(logged.data));
    for (const payloadId of [plainId, broken.body.payloadId]) {
      const replay = await server.call(
        'POST',
        `/v2/integrations/${integration.id}/payloads/${payloadId}/replay`,
      );
      assert.equal(replay.status, 200, JSON.stringify(replay.body));
      assert.equal(replay.body.verdict, 'ignored', JSON.stringify(replay.body));
      assert.match(replay.body.reason, /not a JSON object, so not an EventBridge event/);
    }
    // And one that is an event becomes its alert.
    const good = await deliver(
      integration,
      notification(JSON.stringify(event([finding(`sns-${randomUUID()}`)]))),
      true,
    );
    assert.equal(good.body.verdict, 'queued');
    assert.equal((await settled(integration, good.body.payloadId)).alertIds.length, 1);
    // A NUL in the Message's own JSON text (which JSON does not allow there) is read replaced, as the
    // intake reads the rest of a delivery: the finding still becomes its alert.
    const withNul = JSON.stringify(event([finding(`nul-${randomUUID()}`, { Title: 'before-NUL-after' })]));
    const nul = await deliver(integration, notification(withNul.replace('-NUL-', '\u0000')), true);
    assert.equal(nul.body.verdict, 'queued');
    const nulSettled = await settled(integration, nul.body.payloadId);
    assert.equal(nulSettled.verdict, 'created', JSON.stringify(nulSettled));
    const made = await server.callOk('GET', `/v2/alerts/${nulSettled.alertIds[0]}`);
    assert.match(made.data.message, /before\uFFFDafter/);
  });

  it('refuses with a 400 an SNS message nested too deeply, and logs it', async () => {
    const integration = await addIntegration();
    let attributes: unknown = 'x';
    for (let i = 0; i < 100; i++) attributes = { a: attributes };
    const res = await deliver(
      integration,
      {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:deep',
        Message: JSON.stringify(event([finding(`deep-${randomUUID()}`)])),
        MessageAttributes: attributes,
        Timestamp: new Date().toISOString(),
        SignatureVersion: '2',
        Signature: 'x',
        SigningCertURL: 'https://sns.us-east-1.amazonaws.com/x.pem',
        UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
      },
      true,
    );
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.reason, /nested more than 64 levels/);
    const log = await server.call('GET', `/v2/integrations/${integration.id}/payloads?verdict=refused`);
    assert.equal(log.body.data.length, 1);
  });

  it('answers 401 to a delivery for an integration deleted while it arrived, and stores its neighbours', async () => {
    const doomed = await addIntegration();
    const other = await addIntegration();
    const intake = directIntake(capturedLog().log);
    const doomedRow = await server.app.context.integrations.byApiKey(doomed.apiKey);
    const otherRow = await server.app.context.integrations.byApiKey(other.apiKey);
    assert.equal((await server.call('DELETE', `/v2/integrations/${doomed.id}`)).status, 200);
    const request = (b: Json) => ({
      keyInHeader: true,
      contentType: 'application/json',
      body: JSON.stringify(b),
    });
    const [gone, ...rest] = (
      await Promise.all([
        intake.handle(doomedRow, request(event([finding(`gone-${randomUUID()}`)])), 'gone'),
        ...Array.from({ length: 5 }, (_, i) =>
          intake.handle(otherRow, request(event([finding(`alive-${i}-${randomUUID()}`)])), `alive-${i}`),
        ),
      ])
    ).map(httpAnswerOf);
    assert.equal(gone?.status, 401);
    assert.ok(rest.every((a) => a.status === 200 && a.body.verdict === 'queued'));
  });

  it('logs a 503 with the request id of the delivery it refused', async () => {
    const integration = await addIntegration();
    await db.query('ALTER TABLE integration_payloads RENAME TO integration_payloads_away');
    let answer;
    try {
      answer = await deliver(integration, event([finding(`db-down-${randomUUID()}`)]));
    } finally {
      await db.query('ALTER TABLE integration_payloads_away RENAME TO integration_payloads');
    }
    assert.equal(answer.status, 503);
    const line = logLines.find((l) => /could not be stored/.test(l.msg ?? ''));
    assert.ok(line, 'a log line for the 503');
    assert.equal(line.requestId, answer.body.requestId);
  });
});

describe('SNS signature checks that cannot be made', () => {
  const snsFixtures = fileURLToPath(new URL('../../../test/fixtures/sns/', import.meta.url));
  const pem = 'SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem';

  /** The server's intake, its SNS certificates fetched by `fetch`, the fixtures' age not checked. */
  function intakeFetching(fetch: (url: string) => Promise<Buffer>) {
    return createSecurityHubIntake({
      db: server.app.context.apiDb,
      alerts: server.app.context.alerts,
      config: { ...server.app.context.config, snsMaxMessageAge: 0 },
      log: capturedLog().log,
      certificates: new SnsCertificateStore({ fetch }),
      confirmSubscription: async () => ({ status: 500, body: '' }),
      clock: systemClock,
    });
  }

  it('answers 503 (SNS retries) when the signing certificate cannot be fetched, 403 when the message is bad', async () => {
    const body = await fs.readFile(path.join(snsFixtures, 'test-notification-with-subject.json'), 'utf8');
    const message = JSON.parse(body) as Json;
    const res = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: `Hub ${randomUUID().slice(0, 8)}`,
      ownerTeam: { name: 'SecOps' },
      allowedTopicArns: [message.TopicArn],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const row = await server.app.context.integrations.byApiKey(res.body.data.apiKey);
    const send = async (intake: ReturnType<typeof intakeFetching>, text: string) =>
      httpAnswerOf(
        await intake.handle(
          row,
          { keyInHeader: false, contentType: 'text/plain; charset=UTF-8', body: text },
          randomUUID(),
        ),
      );
    const genuine = () => fs.readFile(path.join(snsFixtures, pem));

    // Timeout, DNS, a proxy, SNS's own 5xx: Vigil could not check, so the sender must retry, not drop it.
    for (const failure of [
      new Error('GET https://sns.us-west-2.amazonaws.com/x.pem timed out after 5000 ms.'),
      new Error('getaddrinfo EAI_AGAIN sns.us-west-2.amazonaws.com'),
      new Error('GET https://sns.us-west-2.amazonaws.com/x.pem answered HTTP 503.'),
    ]) {
      const down = await send(
        intakeFetching(() => Promise.reject(failure)),
        body,
      );
      assert.equal(down.status, 503, JSON.stringify(down.body));
      assert.equal(down.body.result, 'Retry');
      assert.match(down.body.reason ?? '', /could not be checked/);
      assert.ok(down.body.payloadId, 'logged, so that the operator sees why');
    }

    // The retry, once the certificate can be had, is taken (the 503 claimed no message id).
    const retried = await send(intakeFetching(genuine), body);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.verdict, 'ignored');

    // Checked and bad stays a 403: an altered message, and a certificate SNS says it does not have.
    const tampered = JSON.stringify({ ...message, MessageId: randomUUID(), Subject: 'changed' });
    assert.equal((await send(intakeFetching(genuine), tampered)).status, 403);
    const missing = await send(
      intakeFetching(() => Promise.reject(new CertificateNotServed('answered HTTP 404.'))),
      JSON.stringify({ ...message, MessageId: randomUUID() }),
    );
    assert.equal(missing.status, 403, JSON.stringify(missing.body));
  });
});

describe('findings of one delivery', () => {
  it('become alerts though some of them carry NULs, lone surrogates, 3,000-character Ids or prototype names', async () => {
    const integration = await addIntegration();
    const run = randomUUID();
    const findings = Array.from({ length: 95 }, (_, i) => finding(`plain-${run}-${i}`));
    findings.push(
      finding(`nul-title-${run}`, { Title: 'a\u0000b' }),
      finding(`surrogate-type-${run}`, { Types: ['\ud800Effects/Data Exposure'] }),
      finding(`${'L'.repeat(3000)}-${run}`),
      finding(`constructor-${run}`, {
        ProductArn: 'arn:aws:securityhub:us-east-1::product/acme/constructor',
      }),
      finding(`proto-${run}`, { ProductArn: 'arn:aws:securityhub:us-east-1::product/acme/__proto__' }),
    );
    const answer = await deliver(integration, event(findings));
    assert.equal(answer.status, 200);
    const outcome = await settled(integration, answer.body.payloadId);
    assert.equal(outcome.verdict, 'created', outcome.reason);
    assert.equal(outcome.alertIds.length, 100);

    const title = await server.call('GET', `/v2/alerts/${outcome.alertIds.find(Boolean)}`);
    assert.equal(title.status, 200);
    const count = await server.call(
      'GET',
      `/v2/alerts/count?query=${encodeURIComponent('message:"a\uFFFDb"')}`,
    );
    assert.equal(count.body.data.count, 1, 'the NUL became U+FFFD');
    const proto = await server.call(
      'GET',
      `/v2/alerts/count?query=${encodeURIComponent(`details.ProductName:"Constructor"`)}`,
    );
    assert.ok(proto.body.data.count >= 1, 'a product named constructor is a product like any other');

    // Sent again, the long-Id finding updates its alert: its key holds, however long the Id.
    const again = await deliver(integration, event([finding(`${'L'.repeat(3000)}-${run}`)]));
    assert.equal((await settled(integration, again.body.payloadId)).verdict, 'updated');
  });

  it('each fail alone, with the reason and request id of their delivery, and the others become alerts', async () => {
    const integration = await addIntegration();
    await db.query(`
      CREATE FUNCTION refuse_doomed_alert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.message LIKE '%doomed%' THEN RAISE EXCEPTION 'the alert store refused it'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_doomed_alert BEFORE INSERT ON alerts
        FOR EACH ROW EXECUTE FUNCTION refuse_doomed_alert();`);
    try {
      const run = randomUUID();
      const findings = [
        ...Array.from({ length: 10 }, (_, i) => finding(`ok-${run}-${i}`)),
        finding(`doomed-${run}`, { Title: 'doomed' }),
      ];
      const answer = await deliver(integration, event(findings));
      const outcome = await settled(integration, answer.body.payloadId);
      assert.equal(outcome.verdict, 'created');
      assert.equal(outcome.alertIds.length, 10);
      assert.match(outcome.reason, /1 of 11 findings failed/);
      assert.match(outcome.reason, new RegExp(`finding doomed-${run} failed: the alert store refused it`));
      assert.match(outcome.reason, new RegExp(`request ${answer.body.requestId}`));
    } finally {
      await db.query('DROP TRIGGER refuse_doomed_alert ON alerts; DROP FUNCTION refuse_doomed_alert();');
    }
  });

  it('keeps the tally of a chunked delivery whose failures fall in different chunks', async () => {
    const integration = await addIntegration();
    await db.query(`
      CREATE FUNCTION refuse_doomed_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.message LIKE '%chunk-doomed%' THEN RAISE EXCEPTION 'refused: %', NEW.message; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_doomed_chunk BEFORE INSERT ON alerts
        FOR EACH ROW EXECUTE FUNCTION refuse_doomed_chunk();`);
    try {
      const run = randomUUID();
      // 250 findings (three chunks), 30 of them refused, spread over all of the chunks.
      const findings = Array.from({ length: 250 }, (_, i) => ({
        Id: `chunk-${run}-${i}`,
        ProductArn: PRODUCT,
        Title: i % 8 === 0 && i < 240 ? `chunk-doomed ${i}` : `chunk ${i}`,
        Severity: { Label: 'LOW' },
      }));
      const answer = await deliver(integration, event(findings));
      const outcome = await settled(integration, answer.body.payloadId);
      assert.equal(outcome.verdict, 'created');
      assert.equal(outcome.alertIds.length, 220);
      assert.match(outcome.reason, /^30 of 250 findings failed; /);
      // The first 20 distinct reasons are shown, and the others counted.
      assert.equal((outcome.reason.match(/refused: \[[^\]]*\] chunk-doomed/g) ?? []).length, 20);
      assert.match(outcome.reason, /; and 10 more$/);
    } finally {
      await db.query('DROP TRIGGER refuse_doomed_chunk ON alerts; DROP FUNCTION refuse_doomed_chunk();');
    }
  });

  it('takes a delivery of 1,000 findings in chunks, and ends with one verdict for all of them', async () => {
    const integration = await addIntegration();
    const run = randomUUID();
    const findings = Array.from({ length: 1000 }, (_, i) => ({
      Id: `bulk-${run}-${i}`,
      ProductArn: PRODUCT,
      Title: `bulk ${i}`,
      Severity: { Label: i === 500 ? 'INFORMATIONAL' : 'LOW' },
    }));
    const answer = await deliver(integration, event(findings));
    assert.equal(answer.status, 200);
    const outcome = await settled(integration, answer.body.payloadId);
    assert.equal(outcome.verdict, 'created');
    assert.equal(outcome.alertIds.length, 1000);
    const count = await server.call('GET', `/v2/alerts/count?query=${encodeURIComponent(`message:"bulk"`)}`);
    assert.ok(count.body.data.count >= 1000);
  });
});
