import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../work/clock.js';
import { BACKLOG_COUNT_LIMIT, type Backlogs, type WorkObserver } from '../work/runner.js';

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

/**
 * How long a backlog read serves scrapes. Prometheus scrapes every 15 s or so, each process, maybe
 * from two servers: one read at most this often (and never two at once) keeps the count to a statement
 * a queue every few seconds, whoever scrapes and however often.
 */
export const BACKLOG_READ_REUSE_MS = 5000;

/**
 * How long a scrape waits for the backlogs: under the listener's own deadline (listener.ts), so a
 * database that does not answer costs the backlog gauges, not the whole page.
 */
export const BACKLOG_READ_DEADLINE_MS = 7000;

/**
 * The queues' backlogs, read from the database at a scrape: what is due and waiting, and how long the
 * oldest of it has waited. The same in every process (a queue's state is its table), so a dashboard takes
 * their max, not their sum. A read is shared by the scrapes that come while it runs and for
 * {@link BACKLOG_READ_REUSE_MS} after: a slow or hung database then holds one connection for the
 * metrics, not one more each scrape.
 */
export function queueBacklogMetrics(
  registry: Registry,
  source: {
    backlogs(now: Date): Promise<Backlogs>;
    /** The queues that tell their backlog: all unread when a read outlasts its deadline. */
    queues(): readonly string[];
  },
  clock: Clock,
  deadlineMs = BACKLOG_READ_DEADLINE_MS,
): void {
  type Read = { now: Date; found: Backlogs };
  let reading: Promise<Read> | undefined;
  let unanswered: Promise<Read> | undefined;
  let readAt = -Infinity;
  const start = () => {
    const now = clock.now();
    const started = source.backlogs(now).then((found) => ({ now, found }));
    reading = started;
    // Reused from its end, not its start: a read that took long is not followed by another at once.
    readAt = Infinity;
    let deadline: NodeJS.Timeout | undefined;
    unanswered = new Promise<Read>((resolve) => {
      deadline = setTimeout(
        () => resolve({ now, found: { read: new Map(), unreadable: [...source.queues()] } }),
        deadlineMs,
      );
    });
    void started
      .then(
        () => {
          if (reading === started) readAt = performance.now();
        },
        () => {
          // A failed read is not kept: the next scrape reads again.
          if (reading === started) reading = undefined;
        },
      )
      .finally(() => clearTimeout(deadline));
  };
  const read = (): Promise<Read> => {
    if (!reading || performance.now() - readAt > BACKLOG_READ_REUSE_MS) start();
    // A read the database has not answered by its deadline (it holds its statement until the pool's
    // query timeout, up to minutes) answers as unread: the scrape still shows the rest, and
    // vigil_queue_backlog_up says what is missing, rather than the whole page timing out. The read goes
    // on, and a scrape after its end has its answer.
    return Promise.race([reading, unanswered].filter((p) => p !== undefined));
  };
  new Gauge({
    name: 'vigil_queue_due_items',
    help: `Items of a background queue that are due and wait for a round (counted up to ${BACKLOG_COUNT_LIMIT}).`,
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const { found } = await read();
      this.reset();
      for (const [queue, backlog] of found.read) this.set({ queue }, backlog.due);
    },
  });
  new Gauge({
    name: 'vigil_queue_lag_seconds',
    help: 'How long the oldest due item of a background queue has waited for a round (0 when none waits).',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const { now, found } = await read();
      this.reset();
      for (const [queue, backlog] of found.read) {
        const waited = backlog.oldestDueAt ? (now.getTime() - backlog.oldestDueAt.getTime()) / 1000 : 0;
        this.set({ queue }, Math.max(0, waited));
      }
    },
  });
  new Gauge({
    name: 'vigil_queue_backlog_up',
    help: "1 when a background queue's backlog was read at the last scrape, 0 when its read failed (its lag is then missing, and an alert on the lag would go quiet).",
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const { found } = await read();
      this.reset();
      for (const queue of found.read.keys()) this.set({ queue }, 1);
      for (const queue of found.unreadable) this.set({ queue }, 0);
    },
  });
}
