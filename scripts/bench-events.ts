/**
 * Alert events, from the change's commit to a consumer: a consumer that only records when each event
 * reaches it, and alerts created through the alert service (32 at a time), one at a time first and then
 * N at once. Prints the latency (commit to consumer) and how long the burst takes to drain. Not a test.
 *
 *   npm run bench:events [-- --alerts 2000]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AlertEvent } from '../src/alerts/events.js';
import type { AlertEventConsumer } from '../src/engine/consumers.js';
import { reportBench } from './lib/report.js';
import { arg, startBenchApp } from './lib/bench-app.js';

const burst = arg('alerts', 2000);

const arrived = new Map<string, number>();
const recorder: AlertEventConsumer = {
  name: 'bench-recorder',
  label: 'The bench consumer',
  types: ['created'],
  handles: (event: AlertEvent) => event.type === 'created',
  handle: async (event: AlertEvent) => {
    if (!arrived.has(event.alertId)) arrived.set(event.alertId, performance.now());
  },
};

const { app, key, work } = await startBenchApp('bench-events', {
  dataDir: (dir) => path.join(dir, 'data'),
  start: { consumers: [recorder] },
});
const principal = await app.context.accounts.authenticate(key);
if (!principal) throw new Error('no principal');

async function create(): Promise<{ id: string; committed: number }> {
  const { alert } = await app.context.alerts.create(principal!, randomUUID(), {
    message: 'bench',
    alias: randomUUID(),
  });
  return { id: alert.id, committed: performance.now() };
}

async function waitAll(ids: string[], timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (ids.some((id) => !arrived.has(id))) {
    if (Date.now() > deadline) throw new Error('events did not all arrive');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN);
};

// One at a time: the latency of a lone change.
const lone: number[] = [];
for (let i = 0; i < 50; i++) {
  const { id, committed } = await create();
  await waitAll([id]);
  lone.push((arrived.get(id) ?? 0) - committed);
}

// A burst: as fast as the service commits them, 32 at a time.
const started = performance.now();
const made: { id: string; committed: number }[] = [];
for (let i = 0; i < burst; i += 32) {
  made.push(...(await Promise.all(Array.from({ length: Math.min(32, burst - i) }, create))));
}
const createdIn = performance.now() - started;
await waitAll(made.map((m) => m.id));
const drainedIn = performance.now() - started;
const latency = made.map((m) => (arrived.get(m.id) ?? 0) - m.committed);

console.table([
  { measure: 'lone change: commit to consumer, p50 ms', value: pct(lone, 50) },
  { measure: 'lone change: commit to consumer, p99 ms', value: pct(lone, 99) },
  { measure: `${burst} at once: created in ms`, value: Math.round(createdIn) },
  { measure: `${burst} at once: all at the consumer after ms`, value: Math.round(drainedIn) },
  { measure: `${burst} at once: commit to consumer, p50 ms`, value: pct(latency, 50) },
  { measure: `${burst} at once: commit to consumer, p99 ms`, value: pct(latency, 99) },
  { measure: 'events/s through to the consumer', value: Math.round((burst / drainedIn) * 1000) },
]);
await app.stop();
await fs.rm(work, { recursive: true, force: true });

reportBench('events', [
  {
    measure: 'a lone alert event: commit → consumer, p50 (n=50)',
    value: pct(lone, 50),
    unit: 'ms',
    note: 'informational, no baseline',
  },
  {
    measure: `${burst} alerts at once (32 at a time): commit → consumer, p99`,
    value: pct(latency, 99),
    unit: 'ms',
    baseline: { label: 'a lone alert event, p99 (n=50)', value: pct(lone, 99), unit: 'ms' },
    note: 'informational',
  },
  {
    measure: `${burst} alerts at once: events through to the consumer`,
    value: Math.round((burst / drainedIn) * 1000),
    unit: 'events/s',
    baseline: {
      label: 'the same alerts committed by the alert service',
      value: Math.round((burst / createdIn) * 1000),
      unit: 'alerts/s',
    },
    note: 'informational',
  },
]);
