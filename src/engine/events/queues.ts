import { cutToCharacters } from '../../alerts/limits.js';
import { alertsRepository } from '../../alerts/repository.js';
import type { AlertEventType } from '../../alerts/events.js';
import type { Db } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { AlertEventConsumer } from '../consumers.js';
import { retryDelayMs } from '../../work/backoff.js';
import { QUEUES } from '../../work/queue-names.js';
import { BACKLOG_COUNT_LIMIT, type WorkQueueSpec, type WorkSignal } from '../../work/runner.js';
import { eventDeliveriesRepository as repo } from './repository.js';

/**
 * Alert events, from the outbox to each consumer, as queues on the work runner:
 * - `alert-events` moves the outbox into one delivery per consumer that takes the event's type (woken by
 *   whoever committed a change: `signal.wake(ALERT_EVENTS_QUEUE)`);
 * - `events:<consumer>` hands a consumer its deliveries in batches, oldest change first. A delivery its
 *   consumer fails on is retried with backoff, on its own (the other consumers are not bothered), and
 *   after {@link MAX_ATTEMPTS} it is kept as dead, with its error, said once in the log and on the alert's
 *   activity log (docs/operations.md, "Dead event deliveries").
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

/** Each change in plain words, for the same readers: a Record, so a new event type cannot be forgotten. */
const CHANGES: Readonly<Record<AlertEventType, string>> = {
  created: "the alert's creation",
  deduplicated: 'a repeat of the alert',
  acknowledged: "the alert's acknowledgement",
  unacknowledged: "the alert's unacknowledgement",
  closed: "the alert's closing",
  snoozed: "the alert's snooze",
  snooze_ended: "the end of the alert's snooze",
  note_added: 'a note added to the alert',
  tags_added: 'tags added to the alert',
  tags_removed: 'tags removed from the alert',
  details_added: 'details added to the alert',
  details_removed: 'details removed from the alert',
  priority_changed: "a change of the alert's priority",
  message_changed: "a change of the alert's message",
  description_changed: "a change of the alert's description",
  owner_assigned: "the alert's assignment to an owner",
  escalated: 'a request to escalate the alert',
  responder_added: 'a responder added to the alert',
  custom_action: 'a custom action run on the alert',
  hold_occurrence: 'a repeat of the alert while its notifications were held',
  hold_released: "the release of the alert's held notifications",
  deleted: "the alert's deletion",
};

/** An activity log line is read at a glance: a long error (a stack, a whole response) is cut. */
const LOG_ERROR_CHARS = 300;

/** The statement that replays one dead delivery, given in the log where an operator reads about it. */
function replaySql(deliveryId: string): string {
  return `UPDATE event_deliveries SET dead_at = NULL, attempts = 0, due_at = now() WHERE id = ${deliveryId} AND dead_at IS NOT NULL`;
}

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
    backlog: () => repo.outboxBacklog(db, BACKLOG_COUNT_LIMIT),
  };

  const perConsumer = consumers.map((consumer): WorkQueueSpec => ({
    name: consumerQueue(consumer.name),
    concurrency: 4,
    idleMs: deps.idleMs ?? 5000,
    async round(now) {
      const batch = await repo.claim(db, consumer.name, now, DELIVERY_BATCH, leaseMs);
      if (batch.length === 0) return { more: false, nextDueAt: await repo.nextDue(db, consumer.name) };
      const handled: string[] = [];
      /**
       * A dead delivery is retried no more, so whatever it should have done (an alert's first page) never
       * happens: said where operators and the alert's responders look. The delivery is dead already; a
       * line that cannot be written is reported, never a reason to fail its batch.
       */
      const saidDead = async (delivery: (typeof batch)[number], error: unknown, message: string) => {
        const { event } = delivery;
        log.error(
          {
            err: error,
            consumer: consumer.name,
            eventType: event.type,
            eventId: event.eventId,
            alertId: event.alertId,
            orgId: event.orgId,
            deliveryId: delivery.id,
            attempts: delivery.attempts,
            lastError: message,
            replay: replaySql(delivery.id),
          },
          `alert event delivery dead: ${consumer.name} gave up on the ${event.type} event of alert ${event.alertId} after ${delivery.attempts} attempts; to replay it, run the statement in "replay" (docs/operations.md, "Dead event deliveries")`,
        );
        const change = CHANGES[event.type] ?? `the alert's ${String(event.type)} event`;
        const short = cutToCharacters(message, LOG_ERROR_CHARS);
        const line = `${consumer.label} could not handle ${change} and gave up after ${delivery.attempts} attempts: ${short}; an operator can replay it (docs/operations.md, "Dead event deliveries")`;
        // Only an alert that still exists gets the line: a deleted one's delivery dies without a word there.
        await alertsRepository
          .addLogsToExisting(db, [
            { alertId: event.alertId, type: 'event-delivery', log: line, owner: 'Vigil' },
          ])
          .catch((lineError: unknown) =>
            log.error(
              { err: lineError, consumer: consumer.name, eventId: event.eventId, alertId: event.alertId },
              "a dead alert event delivery could not be told on its alert's activity log",
            ),
          );
      };
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
          if (await repo.giveUp(db, delivery.id, now, message)) await saidDead(delivery, error, message);
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
    backlog: (now) => repo.backlog(db, consumer.name, now, BACKLOG_COUNT_LIMIT),
  }));

  return [fanOut, ...perConsumer];
}
