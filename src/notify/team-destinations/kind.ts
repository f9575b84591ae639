import type { Actor, AlertEvent, AlertEventType, DeletedAlert } from '../../alerts/events.js';
import type { alertDetail } from '../../alerts/present.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import type { OutboundFetch } from '../../http/outbound-fetch.js';

/**
 * A team destination: a place a team's (or an integration's) alert events go that is not a person — a
 * signed webhook, a Slack channel, a Teams channel. Each kind is one module (here, or in a folder of
 * its own); the registry (registry.ts) lists them. The delivery queue (deliveries.ts) hands each kind
 * its deliveries one at a time per (destination, alert), oldest event first, so a kind that posts on
 * `created` and edits that post later never sees the edit before the post.
 */
export interface TeamDestinationKind {
  /** As stored (team_destinations.type) and as the API names it: 'webhook', 'slack', 'teams'. */
  readonly type: string;
  /** How the API and logs name it: 'Webhook'. */
  readonly label: string;
  /**
   * The alert event types it gets ('all' for every one). A `test` event is always delivered. Of
   * `responder_added`, only one that adds a team: the added team's own destinations get it (addsOwnTeam),
   * the alert's others only if `takesOtherTeamsAdded`.
   */
  readonly events: readonly AlertEventType[] | 'all';
  /**
   * Whether a team added to an alert is news to the destinations of the alert's other teams too: Opsgenie
   * triggers the earlier teams' integrations with AddTeam ("Outgoing integration triggers for team
   * routings"), which a webhook's receiver may act on; a channel has nothing to show for it.
   */
  readonly takesOtherTeamsAdded?: boolean;
  /**
   * Validates the API's `config` object. `previous` is the stored config when updating, so a secret the
   * caller left out (or sent back masked) may be kept. Returns the config to store, or what is wrong with
   * it as one sentence (the API answers 422 with it, under `config`). `setup` carries the operator's
   * settings (which hosts may be reached over plain http); a kind that needs none may leave it out.
   */
  parseConfig(
    input: Record<string, unknown>,
    previous: Record<string, unknown> | undefined,
    setup: TeamDestinationSetup,
  ): { ok: true; config: Record<string, unknown> } | { ok: false; problem: string };
  /** The config as the API shows it: secrets masked (only their last 4 characters shown). */
  present(config: Record<string, unknown>): Record<string, unknown>;
  /**
   * Sends one delivery. It must not throw for the destination's own failures (answer `retry`, `failed` or
   * `gone`); a throw counts as `retry`. The delivery's `deliveryId` and `event.eventId` stay the same
   * across its attempts, so either can be the receiver's idempotency key.
   */
  deliver(delivery: TeamDelivery, context: TeamDeliveryContext): Promise<TeamDeliveryResult>;
}

/** The alert as the API shows it (alerts/present.ts `alertDetail`): ISO times, Opsgenie field names. */
export type AlertSnapshot = ReturnType<typeof alertDetail>;

/** What `POST /v2/destinations/{id}/test` sends: no alert, and never stored as a delivery. */
export interface TestEvent {
  type: 'test';
  eventId: string;
  orgId: string;
  /** ISO 8601. */
  at: string;
  actor: Actor;
}

export interface TeamDestinationRef {
  id: string;
  orgId: string;
  name: string;
  teamId: string | null;
  integrationId: string | null;
  /** As stored (the secrets unmasked). */
  config: Record<string, unknown>;
}

export interface TeamDelivery {
  /** The delivery row's id (for a test: a fresh id). */
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  destination: TeamDestinationRef;
  event: AlertEvent | TestEvent;
  /** The alert as it is now (undefined if it was deleted, and for a test event). */
  alert: AlertSnapshot | undefined;
  /**
   * A deleted alert as its deleted event keeps it (events.ts DeletedAlert), for this delivery or another
   * change of the alert sent after the deletion to a destination that deleted event was delivered to;
   * undefined while the alert exists, or when no deleted event with it was made into a delivery to this
   * destination (one recorded before it was kept, not yet handled, or not for this destination: it no
   * longer took the alert as it was deleted).
   */
  deletedAlert?: DeletedAlert;
  links: {
    /** The console's page of the alert (for a test event: the console's alert list). */
    view: string;
  };
}

export type TeamDeliveryResult = (
  | { status: 'sent'; detail?: string }
  /**
   * A failure that may pass: tried again on the retry schedule, or after `retryAfterMs` when given.
   * `rateLimited` (an HTTP 429): the destination asked to slow down, which says nothing about whether it
   * works, so it is not counted as a failed attempt and is tried again after `retryAfterMs` (or a few
   * seconds), however often; only the day after the first attempt still bounds it. `noRequest`: it failed
   * before any request could have been written (post.ts PostError), so the receiver was not told.
   */
  | {
      status: 'retry';
      error: string;
      retryAfterMs?: number;
      rateLimited?: boolean;
      perMessage?: boolean;
      noRequest?: boolean;
    }
  /** This delivery will never succeed (a 4xx): not retried; the destination stays enabled. */
  | { status: 'failed'; error: string; perMessage?: boolean }
  /** The destination is no more (HTTP 410, a deleted channel): it is disabled with `error` as the reason. */
  | { status: 'gone'; error: string }
) & {
  /** What the destination answered, for the delivery log, when it answered over HTTP. */
  response?: TeamDeliveryResponse;
};

/**
 * `perMessage` on a `retry` or `failed`: the failure is about this one message, not the destination (a
 * Slack message someone deleted, or an edit of it Slack refuses; a body too large for the receiver). Not
 * a refusal of a new post: Vigil builds every alert's message alike, so a receiver that refuses one may
 * refuse them all, and a day of that must disable the destination with its reason. The
 * destination works (its other alerts still arrive), so such a failure is not counted towards disabling
 * it, as a 429 is not: one message deleted by hand must not, a day later, silence every new alert. Left
 * out, a failure counts: a channel the bot was removed from, a revoked token, a receiver down or gone.
 */
export function countsAgainstDestination(result: TeamDeliveryResult): boolean {
  if (result.status === 'retry') return !result.rateLimited && !result.perMessage;
  if (result.status === 'failed') return !result.perMessage;
  return true;
}

export interface TeamDeliveryResponse {
  status: number;
  /** The start of the answer's body (at most 1,000 characters are kept). */
  excerpt?: string;
}

/** What parseConfig may read. */
export interface TeamDestinationSetup {
  config: Config;
}

export interface TeamDeliveryContext {
  db: Db;
  log: Logger;
  clock: Clock;
  config: Config;
  /** fetch for the providers' HTTPS APIs (Slack's; HTTPS_PROXY and NO_PROXY honoured). */
  fetch: OutboundFetch;
}

/**
 * Whether the event adds the destination's own team to the alert: its team, or `ownTeamId` (a Webhook
 * integration's destination: the integration's team). The destination has not heard of the alert (a
 * team's destinations get the alerts of its teams only), so it gets it as a `created`, as Opsgenie
 * triggers the added team's integrations with Create.
 */
export function addsOwnTeam(
  delivery: Pick<TeamDelivery, 'event' | 'destination'>,
  ownTeamId: string | null = delivery.destination.teamId,
): boolean {
  const { event } = delivery;
  return (
    event.type === 'responder_added' &&
    event.responder.type === 'team' &&
    ownTeamId !== null &&
    event.responder.id === ownTeamId
  );
}

/**
 * What a kind answers a responder_added that is not its team's (a delivery made before such ones were
 * left out): nothing to send, nothing wrong.
 */
export const NOT_OWN_TEAM: TeamDeliveryResult = {
  status: 'sent',
  detail: "nothing posted: the responder added is not the destination's team",
};
