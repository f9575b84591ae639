import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../work/clock.js';
import type { QueueBacklog, WorkObserver } from '../work/runner.js';

/** Rounds of the background queues: how many, how long, how many failed. */
export function workRoundMetrics(registry: Registry): WorkObserver {
  const rounds = new Counter({
    name: 'vigil_work_rounds_total',
    help: 'Rounds of a background queue run by this process, by outcome (ok or failed).',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'vigil_work_round_duration_seconds',
    help: 'How long a round of a background queue took in this process.',
    labelNames: ['queue'],
    // From an empty claim (a few ms) to a round that waits on slow channels (tens of seconds).
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  return {
    roundEnded(queue, seconds, failed) {
      rounds.inc({ queue, outcome: failed ? 'failed' : 'ok' });
      duration.observe({ queue }, seconds);
    },
  };
}

/** Read once for the gauges of one scrape, which prom-client collects side by side. */
const SHARED_READ_MS = 1000;

/**
 * The queues' backlogs, read from the database at each scrape: what is due and waiting, and how long the
 * oldest of it has waited. The same in every process (a queue's state is its table), so a dashboard takes
 * their max, not their sum.
 */
export function queueBacklogMetrics(
  registry: Registry,
  backlogs: (now: Date) => Promise<Map<string, QueueBacklog>>,
  clock: Clock,
): void {
  let last: { at: number; read: Promise<{ now: Date; backlogs: Map<string, QueueBacklog> }> } | undefined;
  const read = () => {
    const at = performance.now();
    if (!last || at - last.at > SHARED_READ_MS) {
      const now = clock.now();
      last = { at, read: backlogs(now).then((found) => ({ now, backlogs: found })) };
    }
    return last.read;
  };
  new Gauge({
    name: 'vigil_queue_due_items',
    help: `Items of a background queue that are due and wait for a round (counted up to a limit).`,
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const { backlogs: found } = await read();
      this.reset();
      for (const [queue, backlog] of found) this.set({ queue }, backlog.due);
    },
  });
  new Gauge({
    name: 'vigil_queue_lag_seconds',
    help: 'How long the oldest due item of a background queue has waited for a round (0 when none waits).',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const { now, backlogs: found } = await read();
      this.reset();
      for (const [queue, backlog] of found) {
        const waited = backlog.oldestDueAt ? (now.getTime() - backlog.oldestDueAt.getTime()) / 1000 : 0;
        this.set({ queue }, Math.max(0, waited));
      }
    },
  });
}
