import type { AlertEvent, AlertEventType } from '../alerts/events.js';
import type { Logger } from '../logger.js';

/**
 * The consumers of alert events. Each gets the events of its types (engine/events): a delivery it fails
 * on is retried, and one may be handed out again after a crash, so a consumer must be idempotent (key its
 * own work by `event.eventId`). Escalations and the Security Hub write-back are consumers.
 */
export interface AlertEventConsumer {
  name: string;
  /** The event types it takes ('all' for every one): other types never reach it. */
  types: readonly AlertEventType[] | 'all';
  handles(event: AlertEvent): boolean;
  handle(event: AlertEvent, context: { log: Logger }): Promise<void>;
  /**
   * Several events at once (in the order of the changes), when the consumer can do better than one by
   * one: those it reports failed are retried on their own, the others count as handled.
   */
  handleBatch?(
    events: AlertEvent[],
    context: { log: Logger },
  ): Promise<{ failed: { eventId: string; error: unknown }[] }>;
}
