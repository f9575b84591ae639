import type { AlertEvent, AlertEventType } from '../alerts/events.js';
import type { Logger } from '../logger.js';

/** Tables of things an organization sets up and turns on or off (an `org_id` and an `enabled` column). */
export type EnabledInOrganization = 'team_destinations';

/**
 * The consumers of alert events. Each gets the events of its types (engine/events): a delivery it fails
 * on is retried, and one may be handed out again after a crash, so a consumer must be idempotent (key its
 * own work by `event.eventId`). Escalations and the Security Hub write-back are consumers.
 */
export interface AlertEventConsumer {
  name: string;
  /** What it is called on an alert's activity log, read by people who never saw its name ("Escalation"). */
  label: string;
  /** The event types it takes ('all' for every one): other types never reach it. */
  types: readonly AlertEventType[] | 'all';
  /**
   * Set when the consumer can only act for an organization with an enabled row in this table: the
   * events of other organizations never reach it either. Checked as the events leave the outbox, in the
   * same statement, so a row enabled before an event's commit always lets the event through.
   */
  onlyWhereEnabled?: EnabledInOrganization;
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
  /**
   * The queue to wake once a batch of its events has left its own queue (handled, put back for later or
   * given up), for a consumer whose own work waits while its events are still there.
   */
  wakeWhenDone?: string;
}
