import type { AlertEvent, AlertEventType } from '../alerts/events.js';
import type { Logger } from '../logger.js';

/**
 * The consumers of alert events. Each sees every event once per delivery of the `alert-event` job;
 * a job that fails is retried, so a consumer must be idempotent (key its own work by `event.eventId`).
 * Notifications, escalations and the Security Hub write-back register here.
 */
export interface AlertEventConsumer {
  name: string;
  /** The event types it may take ('all' for every one): other types never become jobs (see relay.ts). */
  types: readonly AlertEventType[] | 'all';
  handles(event: AlertEvent): boolean;
  handle(event: AlertEvent, context: { log: Logger }): Promise<void>;
}

export async function dispatchAlertEvent(
  consumers: readonly AlertEventConsumer[],
  event: AlertEvent,
  log: Logger,
): Promise<void> {
  const failures: string[] = [];
  for (const consumer of consumers) {
    if (!consumer.handles(event)) continue;
    try {
      await consumer.handle(event, { log });
    } catch (error) {
      log.error(
        { err: error, consumer: consumer.name, eventId: event.eventId },
        'alert event consumer failed',
      );
      failures.push(consumer.name);
    }
  }
  if (failures.length > 0) {
    throw new Error(`alert event ${event.eventId} (${event.type}) failed in: ${failures.join(', ')}`);
  }
}

/** The event types any of the consumers takes: what the relay turns into jobs. */
export function wantedEventTypes(
  consumers: readonly AlertEventConsumer[],
): readonly AlertEventType[] | 'all' {
  if (consumers.some((c) => c.types === 'all')) return 'all';
  return [...new Set(consumers.flatMap((c) => (c.types === 'all' ? [] : c.types)))];
}
