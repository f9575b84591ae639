import type { AlertsService } from '../../alerts/service.js';
import type { Db } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import type { AlertEventConsumer } from '../consumers.js';
import { QUEUES } from '../../work/queue-names.js';
import { BACKLOG_COUNT_LIMIT, type WorkQueueSpec, type WorkSignal } from '../../work/runner.js';
import { createEscalationConsumer } from './consumer.js';
import { engineTx } from './engine-tx.js';
import { LATE_AFTER_MS } from '../../work/durations.js';
import { escalationRepository } from './repository.js';
import { createStepRunner } from './runner.js';

/**
 * The escalation engine. An alert's escalations are rows in `alert_escalations` (runs, one per policy it
 * runs), each knowing its next step and when that is due. Alert events start, pause, resume, escalate and
 * finish them (consumer.ts); a loop in every worker process claims the due ones with SKIP LOCKED and runs
 * their steps (runner.ts), so any number of processes share the work and a step is run once. A step plans
 * its messages as rows with idempotency keys (notify/planner.ts); the sender (notify/sender.ts) delivers them.
 *
 * What an event or a due step does to a run is decided in transition.ts, against the alert row as it is,
 * never against the order events arrive in: two events handled at once, or a retried one, end in the state
 * the alert is in.
 */

export interface EscalationEngineOptions {
  db: Db;
  log: Logger;
  clock: Clock;
  alerts: AlertsService;
  /** Told of messages due now (the sender's queue) and of alert changes the engine made (closes). */
  signal: WorkSignal;
  /** A step that fires later than this after it fell due says so in the activity log. */
  lateAfterMs?: number;
  /** Due escalations claimed per transaction. */
  batchSize?: number;
}

export interface EscalationEngine {
  consumer: AlertEventConsumer;
  /** Runs the steps due at `now`, up to one batch; returns how many escalations it claimed. */
  runDue(now: Date): Promise<number>;
  /** The due steps as a queue of the work runner. */
  queue(options?: { idleMs?: number }): WorkQueueSpec;
}

export function createEscalationEngine(options: EscalationEngineOptions): EscalationEngine {
  const { db, log, clock, alerts, signal } = options;
  const batchSize = options.batchSize ?? 50;
  const runner = createStepRunner({ alerts, log, lateAfterMs: options.lateAfterMs ?? LATE_AFTER_MS });

  async function runDue(now: Date): Promise<number> {
    const { claimed, due } = await db.transaction().execute(async (tx) => {
      const etx = engineTx(tx);
      const ran = await runner.claimAndRun(etx, now, batchSize);
      await etx.logs.flush(tx);
      return ran;
    });
    if (due) signal.wake(QUEUES.notifications);
    if (claimed > 0) signal.wake(QUEUES.alertEvents);
    return claimed;
  }

  return {
    consumer: createEscalationConsumer({ db, clock, signal, runner, batchSize }),
    runDue,
    queue: ({ idleMs } = {}) => ({
      name: QUEUES.escalations,
      // Several claimers: a step waits on PostgreSQL most of the time, and SKIP LOCKED splits the due ones.
      concurrency: 4,
      idleMs: idleMs ?? 5000,
      async round(now) {
        if ((await runDue(now)) >= batchSize) return { more: true };
        const { after, held } = await escalationRepository.nextDue(db, now);
        // Runs due now that this round did not claim are another transaction's (another loop, the event
        // consumer), which moves them on: no need to look again at once (a loop that did would spin until
        // that commits), only shortly, in case it rolls back.
        const recheck = held ? new Date(now.getTime() + HELD_RECHECK_MS) : null;
        return { more: false, nextDueAt: earliest(after, recheck) };
      },
      backlog: (now) => escalationRepository.backlog(db, now, BACKLOG_COUNT_LIMIT),
    }),
  };
}

/** How soon a loop looks again at due runs another transaction held. */
const HELD_RECHECK_MS = 100;

function earliest(a: Date | null, b: Date | null): Date | null {
  if (!a || !b) return a ?? b;
  return a.getTime() <= b.getTime() ? a : b;
}

/** Old handled-event marks can go: a job is never retried weeks later. */
export function purgeHandledEvents(db: Db, before: Date): Promise<number> {
  return escalationRepository.purgeHandled(db, before);
}
