import type { Db } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { AlertEventConsumer } from '../consumers.js';
import { retryDelayMs } from '../../work/backoff.js';
import { QUEUES } from '../../work/queue-names.js';
import type { WorkQueueSpec, WorkSignal } from '../../work/runner.js';
import { eventDeliveriesRepository as repo } from './repository.js';

/**
 * Alert events, from the outbox to each consumer, as queues on the work runner:
 * - `alert-events` moves the outbox into one delivery per consumer that takes the event's type (woken by
 *   whoever committed a change: `signal.wake(ALERT_EVENTS_QUEUE)`);
 * - `events:<consumer>` hands a consumer its deliveries in batches, oldest change first. A delivery its
 *   consumer fails on is retried with backoff, on its own (the other consumers are not bothered), and
 *   after {@link MAX_ATTEMPTS} it is kept as dead, with its error.
 * A consumer must be idempotent by `event.eventId`: a process killed mid-batch leaves its lease to run
 * out, and the batch is handed out again.
 */

export const ALERT_EVENTS_QUEUE = QUEUES.alertEvents;

export function consumerQueue(consumer: string): string {
  return `events:${consumer}`;
}

const FAN_OUT_BATCH = 1000;
const DELIVERY_BATCH = 50;
const LEASE_MS = 120_000;
export const MAX_ATTEMPTS = 25;
const RETRY = { baseMs: 1000, maxMs: 10 * 60_000 };

export function alertEventQueues(deps: {
  db: Db;
  log: Logger;
  signal: WorkSignal;
  consumers: readonly AlertEventConsumer[];
  /** The longest a queue sleeps with nothing to wake it. */
  idleMs?: number;
  /** How long a claimed batch is this process's before another may take it over (default 120 s). */
  leaseMs?: number;
}): WorkQueueSpec[] {
  const { db, log, signal, consumers } = deps;
  const leaseMs = deps.leaseMs ?? LEASE_MS;
  const types = consumers.map((c) => ({
    name: c.name,
    types: c.types === 'all' ? null : c.types,
    onlyWhereEnabled: c.onlyWhereEnabled ?? null,
  }));

  const fanOut: WorkQueueSpec = {
    name: ALERT_EVENTS_QUEUE,
    idleMs: deps.idleMs ?? 1000,
    async round(now) {
      const { moved, consumers: reached } = await repo.fanOut(db, types, now, FAN_OUT_BATCH);
      for (const name of reached) signal.wake(consumerQueue(name));
      return { more: moved >= FAN_OUT_BATCH };
    },
  };

  const perConsumer = consumers.map((consumer): WorkQueueSpec => ({
    name: consumerQueue(consumer.name),
    concurrency: 4,
    idleMs: deps.idleMs ?? 5000,
    async round(now) {
      const batch = await repo.claim(db, consumer.name, now, DELIVERY_BATCH, leaseMs);
      if (batch.length === 0) return { more: false, nextDueAt: await repo.nextDue(db, consumer.name) };
      const handled: string[] = [];
      const fail = async (delivery: (typeof batch)[number], error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        log.error(
          {
            err: error,
            consumer: consumer.name,
            eventId: delivery.event.eventId,
            attempts: delivery.attempts,
          },
          'alert event consumer failed',
        );
        if (delivery.attempts >= MAX_ATTEMPTS) {
          await repo.giveUp(db, delivery.id, now, message);
        } else {
          const dueAt = new Date(now.getTime() + retryDelayMs(delivery.attempts, RETRY));
          await repo.retryLater(db, delivery.id, dueAt, message);
        }
      };
      const wanted = batch.filter((d) => consumer.handles(d.event));
      handled.push(...batch.filter((d) => !wanted.includes(d)).map((d) => d.id));
      // One by one when the consumer has no batch handling, or when its batch failed as a whole.
      let oneByOne = !consumer.handleBatch;
      if (consumer.handleBatch && wanted.length > 0) {
        try {
          const { failed } = await consumer.handleBatch(
            wanted.map((d) => d.event),
            { log },
          );
          const failedIds = new Map(failed.map((f) => [f.eventId, f.error]));
          for (const delivery of wanted) {
            if (failedIds.has(delivery.event.eventId))
              await fail(delivery, failedIds.get(delivery.event.eventId));
            else handled.push(delivery.id);
          }
        } catch (error) {
          log.warn(
            { err: error, consumer: consumer.name },
            'a batch of events failed; handling them one by one',
          );
          oneByOne = true;
        }
      }
      if (oneByOne) {
        for (const delivery of wanted) {
          try {
            await consumer.handle(delivery.event, { log });
            handled.push(delivery.id);
          } catch (error) {
            await fail(delivery, error);
          }
        }
      }
      await repo.done(db, handled);
      if (consumer.wakeWhenDone) signal.wake(consumer.wakeWhenDone);
      return { more: batch.length >= DELIVERY_BATCH };
    },
  }));

  return [fanOut, ...perConsumer];
}
