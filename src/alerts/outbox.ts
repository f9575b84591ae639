import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import type { AlertEvent, AlertEventInput } from './events.js';

/**
 * Alert events are written to the outbox in the transaction of the change they describe (a plain insert):
 * the alert-events queue (engine/events) then hands each to the consumers that take its type.
 */

/** Gives an event its id and time. */
export function buildAlertEvent<T extends Partial<AlertEventInput>>(
  input: T,
): T & { eventId: string; at: string } {
  return { ...input, eventId: randomUUID(), at: new Date().toISOString() };
}

/** Records an alert event in the caller's transaction; whoever commits it wakes the alert-events queue. */
export async function recordAlertEvent(tx: Queryable, input: AlertEventInput): Promise<AlertEvent> {
  const event = buildAlertEvent(input) as AlertEvent;
  await tx
    .insertInto('outbox_jobs')
    .values({ task: 'alert-event', payload: JSON.stringify(event) })
    .execute();
  return event;
}
