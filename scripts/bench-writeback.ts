/**
 * Write-back timing: the real server (API, workers, embedded PostgreSQL) and the official AWS SDK
 * against the local STS and Security Hub servers. Measures the time from an acknowledge (the API's
 * answer) to the BatchUpdateFindings request that carries it, for acknowledges arriving steadily, and
 * the requests made for 1,000 alerts closed at once. Not a test: prints numbers.
 *
 *   npm run bench:writeback [-- --findings 1000 --acks 200 --rate 20]
 */
import fs from 'node:fs/promises';
import { startFakeAws } from '../src/testing/fake-aws.js';
import { reportBench } from './lib/report.js';
import { arg, startBenchApp } from './lib/bench-app.js';
import { importedFindingsEvent } from './lib/findings-event.js';

const findings = arg('findings', 1000);
const acks = Math.min(arg('acks', 200), findings);
const rate = arg('rate', 20);

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/VigilSecurityHubRoleBench`;
const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/securityhub';
const caller = { id: 'AKIAVIGILBENCHCALLER', secret: 'vigil-bench-caller-secret-0123456789' };

const { app, key, work } = await startBenchApp('bench-writeback');
const call = async (method: string, route: string, body?: object) => {
  const response = await fetch(`${app.url}${route}`, {
    method,
    headers: { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await response.json()) as { data: { id: string; endpointUrl: string; externalId: string } };
};
await call('POST', '/v2/teams', { name: 'Bench' });
const integration = await call('POST', '/v2/integrations', {
  type: 'AmazonSecurityHub',
  name: 'Bench',
  ownerTeam: { name: 'Bench' },
  verifySignatures: false,
  sendUpdatesBack: true,
  roleArn: ROLE,
  region: 'us-east-1',
});
const aws = await startFakeAws({
  callerAccessKeyId: caller.id,
  callerSecretAccessKey: caller.secret,
  roles: { [ROLE]: { externalId: integration.data.externalId } },
});
Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: caller.id,
  AWS_SECRET_ACCESS_KEY: caller.secret,
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_STS: aws.stsUrl,
  AWS_ENDPOINT_URL_SECURITYHUB: aws.securityHubUrl,
});
const intake = new URL(integration.data.endpointUrl);
intake.protocol = 'http:';
intake.host = new URL(app.url ?? '').host;

process.stdout.write(`sending ${findings} findings through intake ... `);
const alerts: { alertId: string; id: string }[] = [];
for (let i = 0; i < findings; i += 20) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(20, findings - i) }, async (_, k) => {
      const id = `arn:aws:securityhub:us-east-1:${ACCOUNT}:finding/bench-${i + k}`;
      aws.addFinding({ Id: id, ProductArn: PRODUCT });
      const event = importedFindingsEvent([
        {
          Id: id,
          ProductArn: PRODUCT,
          AwsAccountId: ACCOUNT,
          Title: `Bench finding ${i + k}`,
          Description: 'bench',
          Severity: { Label: 'HIGH' },
          Workflow: { Status: 'NEW' },
          RecordState: 'ACTIVE',
          Resources: [{ Type: 'AwsEc2Instance', Id: `i-${i + k}` }],
        },
      ]);
      const response = await fetch(intake, { method: 'POST', body: JSON.stringify(event) });
      const body = (await response.json()) as { payloadId: string };
      // The 200 means stored; the workers make the alert moments later.
      for (;;) {
        const payload = (await call(
          'GET',
          `/v2/integrations/${integration.data.id}/payloads/${body.payloadId}`,
        )) as unknown as {
          data: { verdict: string; alertIds: string[] };
        };
        if (payload.data.verdict !== 'queued') return { alertId: payload.data.alertIds[0] ?? '', id };
        await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  alerts.push(...batch);
}
console.log('done');

const firstRequestAt = (id: string, status: string) =>
  aws.securityHubRequests.find(
    (r) =>
      r.status === 200 &&
      (r.body as { Workflow?: { Status?: string } }).Workflow?.Status === status &&
      ((r.body as { FindingIdentifiers?: { Id: string }[] }).FindingIdentifiers ?? []).some(
        (f) => f.Id === id,
      ),
  )?.at;

async function until(what: string, done: () => boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const isolated = arg('isolated', 10);
console.log(`acknowledging ${isolated} alerts one at a time, a second apart ...`);
const alone: number[] = [];
for (let i = 0; i < isolated; i++) {
  const target = alerts[findings - 1 - i];
  if (!target) break;
  await call('POST', `/v2/alerts/${target.alertId}/acknowledge`, {});
  const at = Date.now();
  await until('the acknowledge written back', () => firstRequestAt(target.id, 'NOTIFIED') !== undefined);
  alone.push((firstRequestAt(target.id, 'NOTIFIED') ?? 0) - at);
  await new Promise((r) => setTimeout(r, 1000));
}
alone.sort((x, y) => x - y);

console.log(`acknowledging ${acks} alerts at ${rate}/s ...`);
const acked: { id: string; at: number }[] = [];
for (let i = 0; i < acks; i++) {
  const target = alerts[i];
  if (!target) break;
  const started = Date.now();
  await call('POST', `/v2/alerts/${target.alertId}/acknowledge`, {});
  acked.push({ id: target.id, at: Date.now() });
  const wait = 1000 / rate - (Date.now() - started);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
await until('every acknowledge written back', () =>
  acked.every((a) => firstRequestAt(a.id, 'NOTIFIED') !== undefined),
);
const latencies = acked.map((a) => (firstRequestAt(a.id, 'NOTIFIED') ?? 0) - a.at).sort((x, y) => x - y);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;

console.log(`closing ${alerts.length} alerts at once ...`);
const before = aws.securityHubRequests.length;
const closeStarted = Date.now();
for (let i = 0; i < alerts.length; i += 50) {
  await Promise.all(alerts.slice(i, i + 50).map((a) => call('POST', `/v2/alerts/${a.alertId}/close`, {})));
}
const closeSent = Date.now();
await until('every close written back', () =>
  alerts.every((a) => aws.findings.get(`${PRODUCT}|${a.id}`)?.Workflow?.Status === 'RESOLVED'),
);
const closeRequests = aws.securityHubRequests
  .slice(before)
  .filter((r) => r.operation === 'BatchUpdateFindings');

console.table([
  {
    measure: 'lone acknowledge -> BatchUpdateFindings, median (ms)',
    value: alone[Math.floor(alone.length / 2)] ?? 0,
  },
  { measure: 'lone acknowledge -> BatchUpdateFindings, max (ms)', value: alone[alone.length - 1] ?? 0 },
  { measure: `acknowledge at ${rate}/s -> BatchUpdateFindings, p50 (ms)`, value: pct(50) },
  { measure: `acknowledge at ${rate}/s -> BatchUpdateFindings, p99 (ms)`, value: pct(99) },
  { measure: `requests for ${alerts.length} closes`, value: closeRequests.length },
  {
    measure: `requests per 1,000 closes`,
    value: Math.round((closeRequests.length / alerts.length) * 1000 * 10) / 10,
  },
  { measure: 'closes sent through the API in (ms)', value: closeSent - closeStarted },
  {
    measure: 'last close written back after the last API answer (ms)',
    value: Math.max(...closeRequests.map((r) => r.at)) - closeSent,
  },
  {
    measure: 'throttled (429) answers',
    value: aws.securityHubRequests.filter((r) => r.status === 429).length,
  },
]);

const throttled = aws.securityHubRequests.filter((r) => r.status === 429).length;
await app.stop();
await aws.close();
await fs.rm(work, { recursive: true, force: true });

const allowed = Math.ceil(alerts.length / 100);
reportBench('write-back', [
  {
    measure: `acknowledge → BatchUpdateFindings sent, p99, ${acked.length} acks at ${rate}/s`,
    value: pct(99),
    unit: 'ms',
    baseline: {
      label: `a lone acknowledge (one a second), max of ${alone.length}`,
      value: alone[alone.length - 1] ?? NaN,
      unit: 'ms',
    },
    target: 'p99 ≤ 2 s under 20 acks/s',
    met: rate >= 20 ? pct(99) <= 2000 : undefined,
    ...(rate < 20 ? { note: `${rate} acks/s, fewer than the target's 20` } : {}),
  },
  {
    measure: `BatchUpdateFindings requests for ${alerts.length.toLocaleString('en-US')} alerts closed at once`,
    value: closeRequests.length,
    unit: 'requests',
    target: `≤ ceil(N/100) = ${allowed}`,
    met: closeRequests.length <= allowed,
  },
  {
    measure: 'throttled (429) answers from Security Hub, whole run',
    value: throttled,
    unit: 'answers',
    target: '0',
    met: throttled === 0,
  },
]);
