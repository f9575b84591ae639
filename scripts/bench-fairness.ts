/**
 * Fairness of the intake's workers: how long one integration's lone CRITICAL finding takes to become an
 * alert (the request that delivers it, to its payload's verdict) on its own, and then while another
 * integration's 20 deliveries of 1,000 findings each are in flight. Real server, embedded PostgreSQL,
 * bare EventBridge events with the key in a header. Not a test: prints medians of several rounds and the
 * ratio to the baseline measured in the same run.
 *
 *   npm run bench:fairness [-- --rounds 5 --deliveries 20 --findings 1000]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { reportBench } from './lib/report.js';
import { arg, startBenchApp } from './lib/bench-app.js';
import { importedFindingsEvent } from './lib/findings-event.js';

const rounds = arg('rounds', 5);
const deliveries = arg('deliveries', 20);
const perDelivery = arg('findings', 1000);
const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';

console.log(`starting Vigil (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'}) ...`);
const { app, key, work } = await startBenchApp('bench-fairness', {
  dataDir: (dir) => path.join(dir, 'data'),
});
const call = async (method: string, route: string, body?: object) => {
  const response = await fetch(`${app.url}${route}`, {
    method,
    headers: { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await response.json()) as { data: { id: string; apiKey: string; verdict: string } & unknown[] };
};
for (const name of ['Bulk', 'Lone']) await call('POST', '/v2/teams', { name });
const integration = async (team: string) => {
  const res = await call('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: `${team} ${randomUUID().slice(0, 6)}`,
    ownerTeam: { name: team },
    verifySignatures: false,
  });
  return { id: res.data.id, key: res.data.apiKey };
};
const bulk = await integration('Bulk');
const lone = await integration('Lone');

const event = (findings: object[]) => JSON.stringify(importedFindingsEvent(findings));
const deliver = async (integrationKey: string, body: string) => {
  const res = await fetch(`${app.url}/v1/json/integrations/webhooks/amazonsecurityhub`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': integrationKey },
    body,
  });
  if (res.status !== 200) throw new Error(`the intake answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { payloadId: string };
};
const queued = async (integrationId: string) =>
  (await call('GET', `/v2/integrations/${integrationId}/payloads?verdict=queued&limit=100`)).data.length;

/** Milliseconds from the lone finding's request to its verdict. */
async function loneFinding(): Promise<number> {
  const started = performance.now();
  if (process.env.DEBUG_DP) console.error(`LONE start ${Date.now() % 100000}`);
  const answer = await deliver(
    lone.key,
    event([
      { Id: `lone-${randomUUID()}`, ProductArn: PRODUCT, Title: 'lone', Severity: { Label: 'CRITICAL' } },
    ]),
  );
  for (;;) {
    const res = await call('GET', `/v2/integrations/${lone.id}/payloads/${answer.payloadId}`);
    if ((res.data as unknown as { verdict: string }).verdict !== 'queued') {
      if (process.env.DEBUG_DP) console.error(`LONE done ${Date.now() % 100000}`);
      return performance.now() - started;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const alone: number[] = [];
const behind: number[] = [];
const waitingBehind: number[] = [];
for (let round = 1; round <= rounds; round++) {
  alone.push(await loneFinding());
  process.stdout.write(`round ${round}/${rounds}: storing ${deliveries} × ${perDelivery} findings ... `);
  const bodies = Array.from({ length: deliveries }, (_, d) =>
    event(
      Array.from({ length: perDelivery }, (_, i) => ({
        Id: `bulk-${round}-${d}-${i}-${randomUUID()}`,
        ProductArn: PRODUCT,
        Title: 'bulk',
        Severity: { Label: 'LOW' },
      })),
    ),
  );
  await Promise.all(bodies.map((b) => deliver(bulk.key, b)));
  behind.push(await loneFinding());
  waitingBehind.push(await queued(bulk.id));
  console.log(
    `lone finding ${Math.round(alone[alone.length - 1] ?? 0)} ms alone, ${Math.round(behind[behind.length - 1] ?? 0)} ms behind the bulk (${waitingBehind[waitingBehind.length - 1]} bulk deliveries still queued); draining ...`,
  );
  while ((await queued(bulk.id)) > 0) await new Promise((r) => setTimeout(r, 500));
}

console.table([
  { measure: 'lone CRITICAL finding, alone: request to alert, median ms', value: Math.round(median(alone)) },
  {
    measure: `lone CRITICAL finding behind ${deliveries} × ${perDelivery}: median ms`,
    value: Math.round(median(behind)),
  },
  { measure: 'behind / alone', value: Number((median(behind) / median(alone)).toFixed(2)) },
  { measure: 'bulk deliveries still queued when it was done (median)', value: median(waitingBehind) },
]);

await app.stop();
await fs.rm(work, { recursive: true, force: true });

reportBench('fairness', [
  {
    measure: `a lone CRITICAL finding behind ${deliveries} × ${perDelivery} bulk findings: request → alert, median of ${rounds}`,
    value: Math.round(median(behind)),
    unit: 'ms',
    baseline: {
      label: `the same finding alone, median of ${rounds}`,
      value: Math.round(median(alone)),
      unit: 'ms',
    },
    note: `informational; ${median(waitingBehind)} bulk deliveries still queued when it was done (median)`,
  },
]);
