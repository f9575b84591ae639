/**
 * Security Hub intake throughput: SNS notifications signed with a test certificate (trusted through
 * VIGIL_SNS_CERT_DIR, every check on), each carrying a distinct finding, posted by autocannon in its own
 * process at the real server on the embedded PostgreSQL; against a bare Fastify route that parses the
 * same bodies (and the event inside), measured in the same run. A 2xx from Vigil means the delivery is
 * committed; the workers make the alerts from it, and the script waits for them and says how long they
 * took. Not a test: prints numbers.
 *
 *   npm run bench:intake [-- --seconds 10 --connections 20 --messages 12000]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createTestSigningCertificate, signSnsMessage } from '../src/testing/sns-signer.js';
import { loadBodies, non2xxNote, type LoadResult } from './lib/load.js';
import { reportBench, significant, type BenchRow } from './lib/report.js';
import { makeWorkDir } from './lib/work-dir.js';
import { arg } from './lib/bench-app.js';
import { stopLeftoverPostgresOnExit } from './lib/leftover-postgres.js';

const seconds = arg('seconds', 10);
const connections = arg('connections', 20);
const messages = arg('messages', 12000);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:securityhub-findings';

const work = await makeWorkDir('bench-intake');
const certDir = path.join(work, 'certs');
const signer = await createTestSigningCertificate(certDir);
const here = path.dirname(fileURLToPath(import.meta.url));
const sample = JSON.parse(
  await fs.readFile(
    path.join(here, '../test/fixtures/securityhub/events/source_layer_test_test_json_data_afsbp-ec2.7.json'),
    'utf8',
  ),
) as { detail: { findings: { Id: string }[] } };

process.stdout.write(`signing ${messages} SNS notifications, each with its own finding ... `);
const bodies: string[] = [];
for (let i = 0; i < messages; i++) {
  const event = structuredClone(sample);
  const finding = event.detail.findings[0];
  if (finding) finding.Id = `${finding.Id}/bench/${i}`;
  const message = signSnsMessage(
    {
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: TOPIC,
      Message: JSON.stringify(event),
      Timestamp: new Date().toISOString(),
      UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:bench`,
    },
    signer.keyPem,
    signer.certUrl,
    '2',
  );
  bodies.push(JSON.stringify(message));
}
const bodiesFile = path.join(work, 'bodies.json');
await fs.writeFile(bodiesFile, JSON.stringify(bodies));
console.log('done');

const key = randomUUID();
stopLeftoverPostgresOnExit(work);
const config = loadConfig({
  ...process.env,
  PORT: '0',
  HOST: '127.0.0.1',
  VIGIL_DATA_DIR: path.join(work, 'data'),
  VIGIL_BOOTSTRAP_API_KEY: key,
  VIGIL_SNS_CERT_DIR: certDir,
  LOG_LEVEL: 'warn',
});
console.log(`starting Vigil (${config.databaseUrl ? 'DATABASE_URL' : 'embedded PostgreSQL'}) ...`);
// --api-only: no workers in this process, to measure what the intake alone can store.
const role = process.argv.includes('--api-only') ? 'api' : 'all';
const app = await startApp(config, { role, log: createLogger('warn') });
const call = async (method: string, route: string, body?: object) => {
  const response = await fetch(`${app.url}${route}`, {
    method,
    headers: { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await response.json()) as { data: { endpointUrl: string; count: number } };
};
await call('POST', '/v2/teams', { name: 'Bench' });
const integration = await call('POST', '/v2/integrations', {
  type: 'AmazonSecurityHub',
  name: 'Bench',
  ownerTeam: { name: 'Bench' },
  allowedTopicArns: [TOPIC],
});
const intakeUrl = new URL(integration.data.endpointUrl);
intakeUrl.protocol = 'http:';
intakeUrl.host = new URL(app.url ?? '').host;

const bare = Fastify({ bodyLimit: 262_144 });
bare.removeAllContentTypeParsers();
bare.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
bare.post('/intake', async (request) => {
  const envelope = JSON.parse(request.body as string) as { Message: string };
  const event = JSON.parse(envelope.Message) as { detail: { findings: unknown[] } };
  return { result: 'Accepted', findings: event.detail.findings.length };
});
const bareUrl = `${await bare.listen({ port: 0, host: '127.0.0.1' })}/intake`;

const headers = { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' };
console.log(`bare route, then Vigil: ${seconds} s each at ${connections} connections ...`);
const baseline = await loadBodies(bareUrl, { bodiesFile, headers, seconds, connections });
const vigil = await loadBodies(intakeUrl.toString(), { bodiesFile, headers, seconds, connections });
// Vigil answers once a delivery is stored; the workers then make the alerts. Wait for them to finish.
const loadEnded = Date.now();
const countAlerts = async () =>
  (await call('GET', '/v2/alerts/count?query=integration.name:Bench')).data.count;
const target = Math.min(vigil.total, messages);
let made = await countAlerts();
const deadline = Date.now() + 600_000;
while (role !== 'api' && made < target && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 250));
  made = await countAlerts();
}
const drained = Date.now();
const stored = { data: { count: made } };

const row = (route: string, r: LoadResult) => ({
  route,
  'requests/s': Math.round(r.rps),
  'p50 ms': r.p50,
  'p99 ms': r.p99,
  requests: r.total,
  non2xx: r.non2xx,
  errors: r.errors,
});
console.table([
  row('bare Fastify route (parse only)', baseline),
  row('Vigil intake (verify + store durably)', vigil),
]);
if (vigil.non2xx > 0) console.log(`Vigil: ${non2xxNote(vigil)}`);
console.log(
  `findings stored as alerts: ${stored.data.count} (of ${vigil.total} requests; bodies cycle after ${messages})`,
);
if (role !== 'api') {
  console.log(
    `the workers had made every alert ${((drained - loadEnded) / 1000).toFixed(1)} s after the load ended ` +
      `(${Math.round(made / (seconds + (drained - loadEnded) / 1000))} alerts/s over the whole run)`,
  );
}
console.log(`Vigil / bare = ${(vigil.rps / baseline.rps).toFixed(3)}`);

await bare.close();
await app.stop();
await fs.rm(work, { recursive: true, force: true });

// Deliveries answered 2xx per second: a 2xx means the delivery is stored.
const storedRate = Math.round(vigil.total > 0 ? (vigil.rps * (vigil.total - vigil.non2xx)) / vigil.total : 0);
const bareBaseline = {
  label: `bare Fastify route parsing the same bodies, ${connections} connections`,
  value: Math.round(baseline.rps),
  unit: 'req/s',
};
const rows: BenchRow[] = [];
if (role !== 'api') {
  const alertsPerSecond = Math.round(made / (seconds + (drained - loadEnded) / 1000));
  rows.push({
    measure: `signed SNS findings in, alerts made, end to end (${seconds} s of load + drain)`,
    value: alertsPerSecond,
    unit: 'alerts/s',
    baseline: bareBaseline,
    target: '≥ 3,000/s',
    met: alertsPerSecond >= 3000,
    ...(made < target ? { note: `only ${made} of ${target} alerts made before the deadline` } : {}),
  });
}
rows.push(
  {
    measure: `signed SNS deliveries stored (2xx)${role === 'api' ? ', no workers in the process' : ''}`,
    value: storedRate,
    unit: 'deliveries/s',
    baseline: bareBaseline,
    ratio: significant(storedRate / baseline.rps),
    target: '≥ 0.30 × bare route',
    met: storedRate / baseline.rps >= 0.3,
    ...(vigil.non2xx > 0 ? { note: non2xxNote(vigil) } : {}),
  },
  {
    measure: 'signed SNS delivery latency p99 (request to 2xx)',
    value: vigil.p99,
    unit: 'ms',
    baseline: { ...bareBaseline, value: baseline.p99, unit: 'ms' },
  },
);
reportBench('intake', rows);
