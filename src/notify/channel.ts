import type { Priority } from '../db/schema.js';
import type { NotificationActionType } from '../oncall/model.js';

/**
 * What sends to one destination type (destinations/). The engine plans each message as a row with an
 * idempotency key; the sender hands it to the channel of its destination type, which only delivers and
 * says how that went.
 */
export interface NotificationChannel {
  /** The destination type it sends to: "email". */
  type: string;
  send(message: OutgoingNotification): Promise<DeliveryResult>;
  /**
   * Sends messages to one address that fell due together as one (SMS: "3 alerts: …"): the destination's
   * throttle then counts them once. Without it, each is sent on its own.
   */
  sendBundle?(messages: OutgoingNotification[]): Promise<DeliveryResult>;
  /**
   * How many sends it takes at once, for a channel that queues the rest inside itself (email's pool of
   * connections): the sender holds the others back, where it can check their alert again before they go.
   * Without it, every send is handed over at once.
   */
  sendsAtOnce?: number;
  /** Sends a message about no alert: a verification code, a test. */
  sendNotice?(to: { address: string; name: string }, notice: Notice): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

export interface Notice {
  /** Email subject, push title; SMS and voice say only the text. */
  subject: string;
  text: string;
}

/** What a message is about, as the channel renders it. */
export interface OutgoingNotification {
  /** The same for every attempt at this message (providers that de-duplicate get it, email as Message-ID). */
  idempotencyKey: string;
  notificationId: string;
  kind: NotificationActionType;
  to: {
    address: string;
    /** How the message addresses its reader: the person's name, or the destination's ("#security"). */
    name: string;
    /** Present when the destination is a person's contact method. */
    userId?: string;
    timeZone: string;
  };
  alert: {
    id: string;
    orgId: string;
    tinyId: string;
    message: string;
    description: string;
    priority: Priority;
    status: 'open' | 'closed';
    acknowledged: boolean;
    source: string;
    entity: string;
    tags: string[];
    details: Record<string, string>;
    count: number;
    createdAt: Date;
    integrationName: string | null;
  };
  /** Why this person gets it: "escalation Security rule 1, on call in schedule Primary". */
  reason: string;
  /** Who made the change the message reports (acknowledged by, closed by, note by). */
  actor?: string;
  note?: string;
  /** Links that act on the alert without logging in (signed for this person and this alert; none for a destination that is not a person). */
  links: { acknowledge?: string; close?: string; view: string };
  /**
   * Email only: the message the alert's thread keeps in its subject, the alert's message as its first
   * email had it (email-threads.ts), so that an edit of the message does not split the thread.
   */
  thread?: { message: string };
}

/**
 * `sent`: handed over (providerId: the provider's message id). `retry`: a temporary failure, try again
 * later. `failed`: a permanent one (the address was refused): trying again would not help.
 */
export type DeliveryResult =
  | { status: 'sent'; providerId?: string; detail?: string }
  | {
      status: 'retry';
      error: string;
      /**
       * How long the provider asked to be left alone (its Retry-After), in milliseconds: the message is
       * not tried again sooner, whatever the backoff says (the sender bounds it).
       */
      retryAfterMs?: number;
      /**
       * The provider is rate limiting (429): the message was not refused, so the answer does not spend
       * one of its attempts (the sender bounds how long it keeps trying instead).
       */
      rateLimited?: boolean;
    }
  | {
      status: 'failed';
      error: string;
      /**
       * The address itself is the problem (an invalid number, a landline for SMS, an opt-out): its
       * contact method is marked with this and not paged until it is verified again (or, opted out,
       * until it opts back in).
       */
      addressProblem?: string;
      /**
       * The person asked for no more messages (SMS STOP): the address is still theirs, so the contact
       * stays verified, and is paged again once they opt back in (START lifts `addressProblem`).
       */
      optedOut?: boolean;
    };
