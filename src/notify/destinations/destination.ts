import type { Config } from '../../config.js';
import type { Db, Queryable } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { NotificationChannel } from '../channel.js';
import type { OutboundFetch } from '../../http/outbound-fetch.js';
import type { Clock } from '../../work/clock.js';

/**
 * A kind of place a message can go: a person's email address, phone (SMS, voice), device (push), and
 * next a Slack channel or a webhook. Each kind is one module in this folder that says how its addresses
 * are written, how fast one address may be sent to, and how this process sends to it; the registry
 * (registry.ts) lists them. Nothing else in Vigil knows the list.
 */
export interface DestinationType<Name extends string = string> {
  /** As stored (notifications.method, contact_methods.method) and as the API names it. */
  readonly name: Name;
  /** How the activity log names it: "Email", "SMS". */
  readonly label: string;
  /** The address as Vigil stores it, or what is wrong with what was given (a sentence). */
  parseAddress(input: string): ParsedAddress;
  /** Present when people add it to their profile as a contact method. */
  readonly contactMethod?: {
    /** How long a new contact's automatic first step waits after an alert: the quiet, cheap kinds first. */
    defaultDelayMinutes: number;
    /**
     * Paged only once a code sent to it was entered: a mistyped phone number would wake a stranger at
     * 3 a.m., and pages to it would never reach the person.
     */
    requiresVerification?: boolean;
    /**
     * What is wrong with an address that must name something of the person's own (a sentence), or
     * undefined when it is theirs: a device's address is a subscription, and someone else's would get the
     * person's pages and their acknowledge links.
     */
    whyNotTheirs?(q: Queryable, userId: string, address: string): Promise<string | undefined>;
  };
  /**
   * Limits on messages to one address, each "at most `limit` in any `windowMs`": a phone that gets ten
   * texts in a second is no better paged, and carriers block senders that do it. A message over a limit
   * waits until the window lets it through; it is never dropped.
   */
  readonly throttle?: readonly ThrottleRule[];
  /** The channel that sends, when this process has what it needs; otherwise why not. */
  channel(setup: ChannelSetup): NotificationChannel | Unavailable;
}

export type ParsedAddress = { ok: true; address: string } | { ok: false; problem: string };

export interface ThrottleRule {
  limit: number;
  windowMs: number;
}

export interface Unavailable {
  /** Why messages of this kind fail, for the alert's activity log. */
  unavailable: string;
  /** What to tell the operator when the process starts, when there is something they can set. */
  startupHint?: string;
}

export interface ChannelSetup {
  config: Config;
  log: Logger;
  /** The workers' database (channels that keep state of their own: push subscriptions). */
  db: Db;
  /** fetch for the providers' HTTPS APIs (HTTPS_PROXY and NO_PROXY honoured). */
  fetch: OutboundFetch;
  /**
   * The engine's clock, for the times a channel records: they are compared with times the engine records
   * on it, such as a reply code's day of being spent.
   */
  clock: Clock;
}
