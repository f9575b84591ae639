/**
 * Acknowledging 500 alerts: one POST /v2/bulk/alerts/acknowledge against 500 POST
 * /v2/alerts/{id}/acknowledge sent 6 at a time (a browser's connections to one host), and against what
 * the console did before the bulk endpoint (each of those followed by its request status, polled as
 * the console polled it). Fresh open alerts for each round, the server idle before each; the rounds
 * alternate, so the machine's load falls on each method alike. Not a test: prints numbers.
 *
 *   npm run bench:bulk [-- --alerts 500 --rounds 3 --concurrency 6]
 */
import { sql } from 'kysely';
import fs from 'node:fs/promises';
import { arg, startBenchApp } from './lib/bench-app.js';

const alerts = arg('alerts', 500);
const rounds = arg('rounds', 3);
const concurrency = arg('concurrency', 6);

const { app, key, work } = await startBenchApp('bulk-actions');
const url = app.url ?? '';
const headers = { 'content-type': 'application/json', authorization: `GenieKey ${key}` };

async function post(path: string, body: unknown): Promise<{ data?: unknown; requestId?: string }> {
  const response = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = (await response.json()) as { data?: unknown; requestId?: string };
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function get(path: string): Promise<Response> {
  return fetch(url + path, { headers });
}

/** Runs `work` on every item, `size` at a time. */
async function pool<T>(items: T[], size: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: size }, worker));
}

async function freshAlerts(round: string): Promise<string[]> {
  const ids: string[] = [];
  await pool(
    Array.from({ length: alerts }, (_, i) => i),
    20,
    async (i) => {
      const accepted = await post('/v2/alerts', { message: `bench ${round} ${i}`, priority: 'P5' });
      const status = (await (await get(`/v2/alerts/requests/${accepted.requestId}`)).json()) as {
        data: { alertId: string };
      };
      ids.push(status.data.alertId);
    },
  );
  return ids;
}

/** Until the workers have handed out every alert event (they share the machine with the API). */
async function idle(): Promise<void> {
  for (;;) {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox_jobs`.execute(
      app.context.db,
    );
    if ((rows[0]?.n ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const methods = {
  bulk: async (ids: string[]) => {
    const answer = (await post('/v2/bulk/alerts/acknowledge', { identifiers: ids })) as {
      data: { succeeded: string[] };
    };
    if (answer.data.succeeded.length !== ids.length) throw new Error('not every alert was acknowledged');
  },
  single: async (ids: string[]) => {
    await pool(ids, concurrency, (id) => post(`/v2/alerts/${id}/acknowledge`, {}));
  },
  // The console before: each acknowledge, then its request status, first asked 150 ms later.
  'single + status': async (ids: string[]) => {
    await pool(ids, concurrency, async (id) => {
      const accepted = await post(`/v2/alerts/${id}/acknowledge`, {});
      await sleep(150);
      await get(`/v2/alerts/requests/${accepted.requestId}`);
    });
  },
};

const times: Record<string, number[]> = { bulk: [], single: [], 'single + status': [] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const [name, method] of Object.entries(methods)) {
      const ids = await freshAlerts(`${round} ${name}`);
      await idle();
      const started = performance.now();
      await method(ids);
      times[name]?.push(performance.now() - started);
      console.log(`round ${round + 1}: ${name}: ${Math.round(times[name]?.at(-1) ?? 0)} ms`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  console.log(`\nacknowledging ${alerts} alerts, median of ${rounds}:`);
  for (const [name, xs] of Object.entries(times)) {
    console.log(
      `  ${name.padEnd(16)} ${Math.round(median(xs)).toLocaleString()} ms  (${xs.map(Math.round).join(', ')})`,
    );
  }
} finally {
  await app.stop();
  await fs.rm(work, { recursive: true, force: true });
}
