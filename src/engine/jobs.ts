import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AlertEvent, AlertEventInput } from '../alerts/events.js';
import type { Queryable } from '../db/database.js';

/**
 * Every durable job Vigil runs, with its payload. Adding a task means adding it here and giving it a
 * handler in engine/tasks.ts; the compiler then holds both sides to the same payload.
 */
export interface TaskPayloads {
  'alert-event': AlertEvent;
  'alert-unsnooze': { alertId: string; orgId: string; until: string };
  'purge-alert-requests': Record<string, never>;
}

export type TaskName = keyof TaskPayloads;

export interface JobOptions {
  runAt?: Date;
  /** A job with the same key replaces the pending one instead of adding another. */
  jobKey?: string;
}

/**
 * Adds a job at once through graphile-worker's own SQL function (for scheduled or keyed jobs; events go
 * through the outbox), on the connection given: inside a transaction
 * the job exists only if the transaction commits.
 */
export async function enqueueJob<T extends TaskName>(
  db: Queryable,
  task: T,
  payload: TaskPayloads[T],
  options: JobOptions = {},
): Promise<void> {
  await sql`SELECT graphile_worker.add_job(
    identifier => ${task},
    payload => ${JSON.stringify(payload)}::json,
    run_at => ${options.runAt ?? null},
    job_key => ${options.jobKey ?? null}
  )`.execute(db);
}

/** Gives an event its id and time. */
export function buildAlertEvent<T extends Partial<AlertEventInput>>(
  input: T,
): T & { eventId: string; at: string } {
  return { ...input, eventId: randomUUID(), at: new Date().toISOString() };
}

/**
 * Records an alert event in the caller's transaction, through the outbox: the relay turns it into an
 * `alert-event` job within moments (see engine/relay.ts).
 */
export async function recordAlertEvent(tx: Queryable, input: AlertEventInput): Promise<AlertEvent> {
  const event = buildAlertEvent(input) as AlertEvent;
  await tx
    .insertInto('outbox_jobs')
    .values({ task: 'alert-event', payload: JSON.stringify(event) })
    .execute();
  return event;
}
