/**
 * Fuzzes the real server, as a hostile sender and a careless client would: the Alert API and the other
 * APIs' creates with any JSON, any strings (NULs, lone surrogates, prototype names), any numbers, in
 * bodies, paths and query strings; and the Security Hub intake with bare EventBridge events, SNS
 * notifications signed with a trusted test certificate carrying hostile events, unsigned and mis-signed
 * SNS messages, subscription confirmations whose SubscribeURL cannot be reached, non-JSON bytes, and
 * unknown keys. Prints the answers counted by status for each family, every 5xx but the documented 502
 * of an unreachable SNS confirmation, and what became of every delivery accepted. Exits 1 on an
 * undocumented 5xx or a delivery whose good findings failed.
 *
 *   npm run fuzz [-- --requests 6000 --seed 1234 --concurrency 8]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import {
  hostileApiRequest,
  hostileDelivery,
  hostileJson,
  hostileString,
} from '../src/testing/hostile-arbitraries.js';
import { createTestSigningCertificate, signSnsMessage } from '../src/testing/sns-signer.js';
import { makeWorkDir } from './lib/work-dir.js';
import { arg } from './lib/bench-app.js';
import { stopLeftoverPostgresOnExit } from './lib/leftover-postgres.js';

const total = arg('requests', 6000);
const seed = arg('seed', Math.floor(Math.random() * 2 ** 31));
const concurrency = arg('concurrency', 8);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:fuzz';

const work = await makeWorkDir('fuzz');
const certDir = path.join(work, 'certs');
const signer = await createTestSigningCertificate(certDir);
const key = randomUUID();
stopLeftoverPostgresOnExit(work);
const config = loadConfig({
  ...process.env,
  PORT: '0',
  HOST: '127.0.0.1',
  VIGIL_DATA_DIR: path.join(work, 'data'),
  VIGIL_BOOTSTRAP_API_KEY: key,
  VIGIL_SNS_CERT_DIR: certDir,
  LOG_LEVEL: 'silent',
});
console.log(
  `seed ${seed}: starting Vigil (${config.databaseUrl ? 'DATABASE_URL' : 'embedded PostgreSQL'}) ...`,
);
const app = await startApp(config, { role: 'all', log: createLogger('silent') });
const base = app.url ?? '';
const call = async (method: string, route: string, body?: unknown) => {
  const response = await fetch(base + route, {
    method,
    headers: { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data: Record<string, unknown> } };
};
await call('POST', '/v2/teams', { name: 'Prop' });
await call('POST', '/v2/alerts', { message: 'target', alias: 'target' });
const target = String((await call('GET', '/v2/alerts/target?identifierType=alias')).body.data.id);
const addIntegration = async (settings: object) =>
  (
    await call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: `Fuzz ${randomUUID().slice(0, 8)}`,
      ownerTeam: { name: 'Prop' },
      ...settings,
    })
  ).body.data as { id: string; apiKey: string };
const bare = await addIntegration({ verifySignatures: false });
const signed = await addIntegration({ allowedTopicArns: ['*'] });
const intake = `${base}/v1/json/integrations/webhooks/amazonsecurityhub`;

interface FuzzRequest {
  family: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

const snsFields = {
  Timestamp: new Date().toISOString(),
  UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:fuzz`,
};
const json = { 'content-type': 'application/json' };
const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

const generators: [number, fc.Arbitrary<FuzzRequest>][] = [
  [
    45,
    hostileApiRequest.map((r) => ({
      family: `API ${r.method} ${r.path.split('?')[0]?.replace(/\/v2\/alerts\/[^/]+/, '/v2/alerts/{id}')}`,
      method: r.method,
      url: base + r.path.replace('TARGET', target),
      headers: { authorization: `GenieKey ${key}`, ...(r.body !== undefined ? json : {}) },
      ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
    })),
  ],
  [
    30,
    hostileDelivery.map((event) => ({
      family: 'intake: EventBridge event (key in header)',
      method: 'POST',
      url: intake,
      headers: { ...json, 'x-api-key': bare.apiKey },
      body: JSON.stringify(event),
    })),
  ],
  [
    10,
    fc
      .tuple(fc.oneof(hostileDelivery, hostileString({ maxLength: 200 })), hostileString({ minLength: 1 }))
      .map(([event, messageId]) => ({
        family: 'intake: signed SNS notification',
        method: 'POST',
        url: `${intake}?apiKey=${encodeURIComponent(signed.apiKey)}`,
        headers: { 'content-type': 'text/plain; charset=UTF-8' },
        body: JSON.stringify(
          signSnsMessage(
            {
              Type: 'Notification',
              MessageId: messageId,
              TopicArn: TOPIC,
              Message: asText(event),
              ...snsFields,
            },
            signer.keyPem,
            signer.certUrl,
            '2',
          ),
        ),
      })),
  ],
  [
    5,
    fc.tuple(hostileJson, hostileString()).map(([message, signature]) => ({
      family: 'intake: SNS message, unsigned or mis-signed',
      method: 'POST',
      url: `${intake}?apiKey=${encodeURIComponent(signed.apiKey)}`,
      headers: { 'content-type': 'text/plain; charset=UTF-8' },
      body: JSON.stringify({
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: TOPIC,
        Message: asText(message),
        SignatureVersion: '2',
        Signature: signature,
        SigningCertURL: signer.certUrl,
        ...snsFields,
      }),
    })),
  ],
  [
    3,
    fc.uint8Array({ maxLength: 2000 }).map((bytes) => ({
      family: 'intake: bytes that are not JSON',
      method: 'POST',
      url: `${intake}?apiKey=${encodeURIComponent(bare.apiKey)}`,
      headers: { 'content-type': 'text/plain' },
      body: Buffer.concat([Buffer.from('{"'), Buffer.from(bytes)]),
    })),
  ],
  [
    4,
    hostileJson.map((body) => ({
      family: 'intake: any JSON, signatures on, key in URL',
      method: 'POST',
      url: `${intake}?apiKey=${encodeURIComponent(signed.apiKey)}`,
      headers: json,
      body: JSON.stringify(body),
    })),
  ],
  [
    2,
    hostileString().map((apiKey) => ({
      family: 'intake: unknown key',
      method: 'POST',
      url: `${intake}?apiKey=${encodeURIComponent(apiKey.replace(/[\ud800-\udfff]/g, '?'))}x`,
      headers: json,
      body: '{}',
    })),
  ],
  [
    1,
    fc.constant(null).map(() => {
      const token = randomBytes(16).toString('hex');
      return {
        family: 'intake: SNS confirmation, SubscribeURL unreachable (502 documented)',
        method: 'POST',
        url: `${intake}?apiKey=${encodeURIComponent(signed.apiKey)}`,
        headers: { 'content-type': 'text/plain; charset=UTF-8' },
        body: JSON.stringify(
          signSnsMessage(
            {
              Type: 'SubscriptionConfirmation',
              MessageId: randomUUID(),
              TopicArn: TOPIC,
              Token: token,
              Message: 'You have chosen to subscribe.',
              SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${token}`,
              Timestamp: new Date().toISOString(),
            },
            signer.keyPem,
            signer.certUrl,
            '2',
          ),
        ),
      };
    }),
  ],
];

const requests = fc.sample(fc.oneof(...generators.map(([weight, arbitrary]) => ({ weight, arbitrary }))), {
  seed,
  numRuns: total,
});

const counts = new Map<string, Map<number, number>>();
const serverErrors: string[] = [];
const accepted: { integrationId: string; payloadId: string }[] = [];
let done = 0;
const started = Date.now();

async function send(r: FuzzRequest): Promise<void> {
  let status: number;
  let text: string;
  try {
    const response = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    status = 0;
    text = (error as Error).message;
  }
  const family = counts.get(r.family) ?? new Map<number, number>();
  family.set(status, (family.get(status) ?? 0) + 1);
  counts.set(r.family, family);
  const documented = status === 502 && r.family.includes('502 documented');
  if ((status >= 500 || status === 0) && !documented) {
    serverErrors.push(`${status} ${r.method} ${r.url.slice(0, 200)}: ${text.slice(0, 300)}`);
  }
  if (status === 200 && r.family.startsWith('intake')) {
    const payloadId = (JSON.parse(text) as { payloadId?: string; verdict?: string }).payloadId;
    if (payloadId)
      accepted.push({
        integrationId: r.url.includes(bare.apiKey) || r.headers['x-api-key'] ? bare.id : signed.id,
        payloadId,
      });
  }
  done++;
  if (done % 500 === 0)
    process.stdout.write(`${done}/${total} requests (${Math.round((Date.now() - started) / 1000)} s)\n`);
}

const queue = [...requests];
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let r = queue.shift(); r; r = queue.shift()) await send(r);
  }),
);

console.log(`waiting for the ${accepted.length} accepted deliveries to be processed ...`);
const verdicts = new Map<string, number>();
const failed: string[] = [];
for (const { integrationId, payloadId } of accepted) {
  for (;;) {
    const payload = await call('GET', `/v2/integrations/${integrationId}/payloads/${payloadId}`);
    const verdict = String(payload.body.data.verdict);
    if (verdict !== 'queued') {
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      if (verdict === 'failed' || /findings failed/.test(String(payload.body.data.reason))) {
        failed.push(`payload ${payloadId}: ${String(payload.body.data.reason).slice(0, 300)}`);
      }
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const statuses = [...new Set([...counts.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
console.table(
  [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([family, m]) => ({
      family,
      ...Object.fromEntries(statuses.map((s) => [String(s), m.get(s) ?? 0])),
    })),
);
const all = new Map<number, number>();
for (const m of counts.values()) for (const [s, n] of m) all.set(s, (all.get(s) ?? 0) + n);
console.log(
  `${done} requests in ${Math.round((Date.now() - started) / 1000)} s, by status: ` +
    [...all.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', '),
);
console.log(
  `deliveries accepted: ${accepted.length}, by verdict: ` +
    [...verdicts.entries()].map(([v, n]) => `${v}: ${n}`).join(', '),
);
console.log(`undocumented 5xx: ${serverErrors.length}; deliveries with failed findings: ${failed.length}`);
for (const line of [...serverErrors, ...failed].slice(0, 20)) console.log(`  ${line}`);

await app.stop();
await fs.rm(work, { recursive: true, force: true });
process.exit(serverErrors.length > 0 || failed.length > 0 ? 1 : 0);
