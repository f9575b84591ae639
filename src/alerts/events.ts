import type { Priority, ResponderRef } from '../db/schema.js';

/**
 * The alert events: every change to an alert that later work (notifications, escalations, write-back
 * to Security Hub) may react to. Each is written as a durable job in the same transaction as the
 * change itself (see engine/jobs.ts), so there is never a change without its event or an event
 * without its change. Consumers register in engine/consumers.ts.
 */

/** Who or what made a change: a person (through an API key or link), an integration, or Vigil itself. */
export interface Actor {
  kind: 'user' | 'integration' | 'system';
  /** What the activity log shows: the `user` field of the request, a user's name, an integration's name. */
  name: string;
  userId?: string;
  integrationId?: string;
}

interface Base {
  eventId: string;
  alertId: string;
  orgId: string;
  /** ISO 8601, when the change was committed. */
  at: string;
  actor: Actor;
  source?: string;
  /**
   * The event's place in the order of changes (set when it leaves the outbox). Changes to one alert
   * are made under its row lock, so a higher seq is a later change: consumers order by it.
   */
  seq?: number;
}

export type AlertEvent =
  | (Base & { type: 'created'; priority: Priority })
  | (Base & { type: 'deduplicated'; count: number })
  | (Base & { type: 'acknowledged'; note?: string })
  /** `byEscalate`: as snooze_ended's, the end of the snooze of an acknowledged alert unacknowledging it. */
  | (Base & { type: 'unacknowledged'; note?: string; byEscalate?: { escalationId?: string } })
  | (Base & { type: 'closed'; note?: string })
  | (Base & { type: 'snoozed'; until: string; note?: string })
  /**
   * `byEscalate`: the escalate action ended the snooze (naming the policy it escalates, if one), and its
   * escalated event, handled before or after this one, moves on the runs it reaches. Vigil's, as a timed
   * end is: the escalated event is the person's.
   */
  | (Base & { type: 'snooze_ended'; byEscalate?: { escalationId?: string } })
  | (Base & { type: 'note_added'; note: string })
  | (Base & { type: 'tags_added'; tags: string[] })
  | (Base & { type: 'tags_removed'; tags: string[] })
  | (Base & { type: 'details_added'; keys: string[] })
  | (Base & { type: 'details_removed'; keys: string[] })
  | (Base & { type: 'priority_changed'; from: Priority; to: Priority })
  | (Base & { type: 'message_changed' })
  | (Base & { type: 'description_changed' })
  /** `ownerId`: the owner's user id (events from before it was written have only the username). */
  | (Base & { type: 'owner_assigned'; owner: string; ownerId?: string })
  /** Someone asked to move the alert to the next escalation rule now (of one policy, or of all). */
  | (Base & { type: 'escalated'; escalationId?: string; escalationName?: string })
  /** A responder added to an open alert (Add Responder, Add Team): the engine pages it as creation would. */
  | (Base & { type: 'responder_added'; responder: ResponderRef; name: string })
  /** Someone ran one of the alert's custom actions: for whatever acts on it (a team's webhook). */
  | (Base & { type: 'custom_action'; action: string })
  /**
   * For the engine only (notification-holds.ts), never shown: an alert whose notifications a policy holds
   * occurred again (a de-duplicated create; only held alerts emit it), or that policy stopped holding them.
   */
  | (Base & { type: 'hold_occurrence'; count: number })
  | (Base & { type: 'hold_released'; policyName: string })
  /**
   * `alert`: the alert as it was deleted (its row is gone by the time the event is handled), for the team
   * destinations: whom it goes to (the teams and integration a destination is matched by, as for the
   * alert's other events) and what a receiver keys on. Bounded: the fields the intake bounds, no
   * description, details nor tags. Missing on an event recorded before it was added.
   */
  | (Base & { type: 'deleted'; alert?: DeletedAlert });

/** A deleted alert, as its `deleted` event keeps it. Times in ISO 8601. */
export interface DeletedAlert {
  tinyId: string;
  alias: string;
  message: string;
  entity: string;
  source: string;
  priority: Priority;
  createdAt: string;
  updatedAt: string;
  teamIds: string[];
  integrationId: string | null;
}

export type AlertEventType = AlertEvent['type'];

/** The event of one type, for consumers that narrow on `type`. */
export type AlertEventOf<T extends AlertEventType> = Extract<AlertEvent, { type: T }>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a service supplies; the id and time are filled in when the event is recorded. */
export type AlertEventInput = DistributiveOmit<AlertEvent, 'eventId' | 'at'>;
