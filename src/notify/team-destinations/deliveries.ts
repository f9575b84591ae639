import { alertsRepository } from '../../alerts/repository.js';
import type { AlertEvent, DeletedAlert } from '../../alerts/events.js';
import { alertDetail } from '../../alerts/present.js';
import type { Config } from '../../config.js';
import type { OutboundFetch } from '../../http/outbound-fetch.js';
import type { Db } from '../../db/database.js';
import type { TeamDestinationDeliveryRow, TeamDestinationRow } from '../../db/schema.js';
import type { AlertEventConsumer } from '../../engine/consumers.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import { formatDuration } from '../../work/durations.js';
import { QUEUES } from '../../work/queue-names.js';
import { BACKLOG_COUNT_LIMIT, type WorkQueueSpec, type WorkSignal } from '../../work/runner.js';
import { retryingOutcome } from '../outcome-retry.js';
import { countsAgainstDestination, type TeamDeliveryContext, type TeamDeliveryResult } from './kind.js';
import { eventTypesTaken, kindsTaking, teamDestinationKind } from './registry.js';
import { timedFetch, timingExchanges } from './post.js';
import {
  destinationAlertKey,
  notSentError,
  PER_DESTINATION_PER_CLAIM,
  teamDestinationsRepository as repo,
  TEAM_DESTINATIONS_CONSUMER,
  type DeliveryOutcome,
  type DestinationHold,
} from './repository.js';

/**
 * Alert events to team destinations, in two steps:
 * - the `team-destinations` consumer of alert events adds one delivery per event and enabled destination
 *   that takes it (those of the alert's teams and of its integration), in one statement; an event handed
 *   out again adds nothing (unique per destination and event); one for a destination whose integration a
 *   maintenance disables is recorded as failed (not sent) with the maintenance as its reason;
 * - the `team-destinations` queue claims due deliveries with a lease (SKIP LOCKED), only the oldest
 *   unsent one per destination and alert, and none while an earlier change to the alert is still on its
 *   way to the consumer (a Slack message is posted on `created` and edited later: the edit must not
 *   overtake the post, nor a webhook's Close its Create), hands each to its kind's deliver(), and
 *   records the outcome.
 * Failures are retried on Standard Webhooks' schedule for a day; a destination that answers "gone", or
 * whose every attempt failed for a day, is disabled with its reason; a failure about one message alone (a
 * Slack message deleted by hand, a body too large) does not count towards that. A rate limit (429) is no
 * failure: the delivery waits for the Retry-After and the attempt is not counted, and the destination's
 * other deliveries wait as long (the limit is the endpoint's; at most a few minutes), put off to the
 * hold's end (holdDestinations). A destination whose receiver kept a request waiting most of its timeout
 * and then did not answer 2xx (no answer, a gateway's 504) is held the same way, briefly
 * (NO_ANSWER_HOLD_MS); and a claim takes a share of its deliveries per destination, passing by one with
 * a few already in flight (repository.ts claim): one organization's receiver slow to answer, fed a
 * storm, must not hold every round, and every other organization's deliveries, for its timeouts.
 * What may change while a delivery waits (a retry, a 429) is read again when it is sent: a delivery whose
 * integration a maintenance now disables, or whose destination's team no longer has the alert (the
 * destination, or its Webhook integration, moved to another team), is recorded as failed, not sent.
 */

/** When the n-th retry is due, counted from the first attempt (Standard Webhooks' schedule). */
export const RETRY_SCHEDULE_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  14 * 3600_000,
  20 * 3600_000,
  24 * 3600_000,
] as const;
/** A delivery is given up this long after its first attempt. */
export const GIVE_UP_AFTER_MS = 24 * 3600_000;
/** A destination whose deliveries have all failed this long is disabled. */
export const FAILING_DISABLES_AFTER_MS = 24 * 3600_000;
/**
 * How long a rate-limited delivery waits when the destination gave no Retry-After: Slack allows about a
 * message a second per channel, and a few seconds let a burst's others go first.
 */
export const RATE_LIMIT_WAIT_MS = 5_000;
/**
 * The shortest wait after a 429, whatever its Retry-After (0, or a date already past): else the delivery,
 * never counted as a failure, would be sent again at once, round after round, for a day.
 */
export const RATE_LIMIT_MIN_WAIT_MS = 1000;
/** The longest Retry-After waited for: an alert told hours late is little use, and the day still bounds it. */
export const RATE_LIMIT_MAX_WAIT_MS = 3600_000;
/**
 * The longest a 429 holds the destination as a whole, whatever its Retry-After: an hour's silence of every
 * alert (a generic receiver's quota, a Retry-After read wrong) costs more than what a hold saves. When it
 * ends the deliveries it held go, put off to its end by holdDestinations (repository.ts); a receiver still limiting
 * answers 429 and is held again. The delivery that met the 429 still waits its own Retry-After, when
 * longer (RATE_LIMIT_MAX_WAIT_MS).
 */
export const DESTINATION_HOLD_MAX_MS = 5 * 60_000;
/**
 * A destination whose receiver took this long over a request (the HTTP exchange itself, post.ts
 * timingExchanges: most of the shortest timeout of a kind, Slack's 10 s, a webhook's 15 s) and then did
 * not answer 2xx (no answer at all, a gateway's 504, Slack's error) is held NO_ANSWER_HOLD_MS, as a 429
 * holds it: a receiver that slow would else have its other alerts' deliveries claimed round after round,
 * each round waiting on it. A failure answered at once holds nothing: it holds no round.
 */
export const NO_ANSWER_HOLD_AFTER_MS = 8_000;
/**
 * How long a destination slow to answer and failing is held: short, as a receiver briefly slow must not lose
 * minutes of alerts; long enough that the rounds in between, and every other organization's
 * deliveries, are not held by its timeouts. Its deliveries then go, a share per claim (repository.ts
 * claim).
 */
export const NO_ANSWER_HOLD_MS = 30_000;
const LEASE_MS = 60_000;
/**
 * How many times a round tries to record its outcomes while the database fails (about half a minute in
 * all, outcome-retry.ts), and no later than a quarter of the lease before it runs out: a card posted whose
 * outcome is left unrecorded is taken again by the next round once the lease ends, and posted twice
 * (Slack and Teams have no idempotency key; a webhook's receiver would have to drop it by its webhook-id).
 */
const RECORD_TRIES = 8;
/**
 * How soon a delivery held back for an earlier change to its alert still on its way to the consumer is
 * looked at again, at the soonest: the consumer's queue wakes the sender once it is done with a batch, so
 * this is for a change still in the outbox (one that makes no delivery wakes nothing).
 */
const ON_ITS_WAY_RECHECK_MS = 1000;
/**
 * The latest a delivery held back for an earlier change the consumer is retrying is looked at again,
 * if no wake came (another process's lost): else it is looked at when that event is next due to the
 * consumer, not every second for the hours a retried event may take.
 */
const ON_ITS_WAY_FALLBACK_MS = 10_000;
// Enough per round that a burst (a storm of findings told to Slack, Teams and a webhook) drains in a few
// rounds, few enough that one round does not hold the event loop from the API and the other senders.
const BATCH = 50;

/**
 * When to try again after `attempts` attempts, the first made at `firstAt`; undefined to give up. The
 * gap since the previous step of the schedule is jittered by ±10 %, so the deliveries an outage failed
 * together do not all come back at once; a Retry-After later than that is waited for.
 */
export function nextAttemptAt(
  attempts: number,
  firstAt: Date,
  now: Date,
  retryAfterMs?: number,
): Date | undefined {
  const offset = RETRY_SCHEDULE_MS[attempts - 1];
  // A day after the first attempt it is given up, however few attempts the schedule could make (a
  // worker that was down, a long Retry-After).
  if (offset === undefined || now.getTime() - firstAt.getTime() >= GIVE_UP_AFTER_MS) return undefined;
  const previous = RETRY_SCHEDULE_MS[attempts - 2] ?? 0;
  const jittered = previous + (offset - previous) * (0.9 + Math.random() * 0.2);
  const scheduled = Math.max(firstAt.getTime() + jittered, now.getTime() + 1000);
  return new Date(Math.max(scheduled, now.getTime() + (retryAfterMs ?? 0)));
}

/**
 * When to try a rate-limited delivery again; undefined to give up (a day after its first attempt, as any
 * delivery). The destination's Retry-After (or a few seconds), plus up to a second (or a tenth of the
 * wait) of jitter: the deliveries one burst got limited come back spread out, not as the same burst.
 */
export function rateLimitedUntil(firstAt: Date, now: Date, retryAfterMs?: number): Date | undefined {
  if (now.getTime() - firstAt.getTime() >= GIVE_UP_AFTER_MS) return undefined;
  return jitteredAfter(now, rateLimitWaitMs(retryAfterMs));
}

/** `wait` after `at`, plus up to a second (or a tenth of the wait) of jitter. */
function jitteredAfter(at: Date, wait: number): Date {
  return new Date(at.getTime() + wait + Math.random() * Math.max(1000, wait * 0.1));
}

/** How long a 429 is waited for: its Retry-After (or a few seconds), bounded by `max`. */
export function rateLimitWaitMs(retryAfterMs?: number, max: number = RATE_LIMIT_MAX_WAIT_MS): number {
  return Math.min(Math.max(RATE_LIMIT_MIN_WAIT_MS, retryAfterMs ?? RATE_LIMIT_WAIT_MS), max);
}

/**
 * When a destination that answered a 429 at `settledAt` is held until: the Retry-After, at most
 * DESTINATION_HOLD_MAX_MS, plus up to a second (or a tenth of the wait) of jitter, so that destinations
 * limited together, and Vigil's processes, do not all come back at the same instant.
 */
export function destinationHeldUntil(settledAt: Date, retryAfterMs?: number): Date {
  return jitteredAfter(settledAt, rateLimitWaitMs(retryAfterMs, DESTINATION_HOLD_MAX_MS));
}

export function teamDestinationsConsumer(deps: {
  db: Db;
  clock: Clock;
  signal?: WorkSignal;
  /**
   * Why a maintenance disables the integration now (maintenance/service.ts), else undefined: an
   * integration's destinations send nothing while it is disabled, as Opsgenie's Webhook integration.
   */
  disabledBy?: (integrationId: string) => Promise<string | undefined>;
}): AlertEventConsumer & { wakeWhenDone: string } {
  const { disabledBy } = deps;
  /** The integrations owning destinations in these organizations that a maintenance disables, with why. */
  const pausedIn = async (orgIds: string[]): Promise<Map<string, string>> => {
    if (!disabledBy) return new Map();
    const owners = await repo.destinationIntegrations(deps.db, orgIds);
    const reasons = await Promise.all(owners.map(async (id) => [id, await disabledBy(id)] as const));
    return new Map(reasons.flatMap(([id, reason]) => (reason === undefined ? [] : [[id, reason]])));
  };
  const add = async (events: AlertEvent[]) => {
    const paused = await pausedIn([...new Set(events.map((e) => e.orgId))]);
    const added = await repo.insertDeliveries(
      deps.db,
      events.map((event) => ({
        eventId: event.eventId,
        alertId: event.alertId,
        orgId: event.orgId,
        type: event.type,
        event,
        seq: event.seq ?? 0,
        kinds: kindsTaking(event.type),
      })),
      deps.clock.now(),
      paused,
    );
    if (added > 0) deps.signal?.wake(QUEUES.teamDestinations);
  };
  return {
    name: TEAM_DESTINATIONS_CONSUMER,
    label: 'The team destinations (webhooks, Slack, Teams)',
    // A delivery waits while an earlier change to its alert is among this consumer's events: a batch's
    // second change of an alert goes once the batch has left the queue, not at the next recheck.
    wakeWhenDone: QUEUES.teamDestinations,
    types: eventTypesTaken(),
    // Every delivery it makes is to an enabled destination of the event's organization.
    onlyWhereEnabled: 'team_destinations',
    handles: (event) => kindsTaking(event.type).length > 0,
    handle: (event) => add([event]),
    async handleBatch(events) {
      await add(events);
      return { failed: [] };
    },
  };
}

export interface TeamDeliverySender {
  /** Delivers what is due at `now`, up to one batch; returns how many it claimed. */
  deliverDue(now: Date): Promise<number>;
  queue(options?: { idleMs?: number }): WorkQueueSpec;
}

export function createTeamDeliverySender(deps: {
  db: Db;
  log: Logger;
  clock: Clock;
  config: Config;
  fetch: OutboundFetch;
  leaseMs?: number;
  /** NO_ANSWER_HOLD_AFTER_MS, shorter in tests (a receiver's timeout is not waited for there). */
  noAnswerHoldAfterMs?: number;
  /**
   * As the consumer's (teamDestinationsConsumer): asked again when a delivery is sent, since one made
   * before a maintenance began may wait a day for its retries.
   */
  disabledBy?: (integrationId: string) => Promise<string | undefined>;
  /** Waits between tries to record outcomes (outcome-retry.ts); tests move their clock instead. */
  sleep?: (ms: number) => Promise<void>;
}): TeamDeliverySender {
  const { db, log, clock, config, disabledBy } = deps;
  const leaseMs = deps.leaseMs ?? LEASE_MS;
  const noAnswerHoldAfterMs = deps.noAnswerHoldAfterMs ?? NO_ANSWER_HOLD_AFTER_MS;
  // The providers' API calls are timed as the posts are (post.ts), for a receiver slow to answer.
  const context: TeamDeliveryContext = { db, log, clock, config, fetch: timedFetch(deps.fetch) };

  interface Outcome {
    row: TeamDestinationDeliveryRow;
    result: TeamDeliveryResult;
    /**
     * Not sent, for what changed since the delivery was made (whyNotSent): no request went out, so the
     * attempt is given back and the destination's health is not judged by it (a day's maintenance must not
     * disable it as failing).
     */
    notSent?: boolean;
    /** How long the attempt's longest HTTP exchange took (post.ts timingExchanges), when one was made. */
    exchangeMs?: number;
  }

  /**
   * Of the enabled destinations of the round owned by an integration, those a maintenance disables now,
   * with why: read when the round sends, on the Clock the maintenance is judged by.
   */
  async function pausedNow(destinations: Iterable<TeamDestinationRow>): Promise<Map<string, string>> {
    if (!disabledBy) return new Map();
    const ids = new Set<string>();
    for (const d of destinations) if (d.enabled && d.integration_id) ids.add(d.integration_id);
    const reasons = await Promise.all([...ids].map(async (id) => [id, await disabledBy(id)] as const));
    return new Map(reasons.flatMap(([id, reason]) => (reason === undefined ? [] : [[id, reason]])));
  }

  /**
   * Why an enabled destination's delivery is not to be sent now, else undefined. `taken`: whether the
   * destination still takes the alert, as the consumer decided when it made the delivery
   * (repository.ts stillTaking). A responder_added delivery is about a team already in the alert's teams
   * (added in the same change), so the same rule passes it.
   */
  function whyNotSent(
    destination: TeamDestinationRow,
    paused: ReadonlyMap<string, string>,
    taken: boolean,
  ): string | undefined {
    const pausedBy = destination.integration_id ? paused.get(destination.integration_id) : undefined;
    // The text insertDeliveries records for one made during the maintenance.
    if (pausedBy !== undefined) return notSentError(`the integration is ${pausedBy}`);
    if (!taken) return notSentError('the team no longer has the alert');
    return undefined;
  }

  async function attempt(
    row: TeamDestinationDeliveryRow,
    destination: TeamDestinationRow | undefined,
    alert: ReturnType<typeof alertDetail> | undefined,
    deletedAlert: DeletedAlert | undefined,
  ): Promise<TeamDeliveryResult> {
    if (!destination) return { status: 'failed', error: 'the destination was deleted' };
    if (!destination.enabled) {
      return {
        status: 'failed',
        error: notSentError(
          `the destination is disabled (${destination.disabled_reason ?? 'no reason given'})`,
        ),
      };
    }
    const kind = teamDestinationKind(destination.type);
    if (!kind)
      return { status: 'failed', error: `Vigil no longer knows destinations of type ${destination.type}` };
    try {
      return await kind.deliver(
        {
          deliveryId: row.id,
          attempt: row.attempts,
          destination: {
            id: destination.id,
            orgId: destination.org_id,
            name: destination.name,
            teamId: destination.team_id,
            integrationId: destination.integration_id,
            config: destination.config,
          },
          // Written by the consumer from an AlertEvent.
          event: row.event as unknown as AlertEvent,
          alert,
          ...(alert === undefined && deletedAlert ? { deletedAlert } : {}),
          links: { view: `${config.publicUrl}/alerts/${row.alert_id}` },
        },
        context,
      );
    } catch (error) {
      log.warn({ err: error, deliveryId: row.id, destinationId: destination.id }, 'a team destination threw');
      return { status: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * Whether the attempt's request may have reached the receiver, so that it counts as told of the alert
   * (repository.ts insertDeliveries): an answer of 2xx, or none once a request may have gone out (a
   * timeout, a connection reset, a kind that threw: the receiver may have taken it and answered too late).
   * Not a retry that failed before any request could be written (`noRequest`: an address or connection
   * refused, a certificate refused), nor a refusal answered (an HTTP status other than 2xx, a 429, "gone"),
   * nor a delivery not sent: every `failed` a kind gives is an answer or a check before any request (a URL
   * no longer allowed, a secret unusable, no Slack token). A refusal of Slack's Web API carries no response and counts as reached
   * when retried: the Slack kind edits the alert's one message rather than post it again anyway.
   */
  function mayHaveReached({ result, notSent }: Outcome): boolean {
    if (notSent) return false;
    switch (result.status) {
      case 'sent':
        return true;
      case 'failed':
      case 'gone':
        return false;
      case 'retry':
        return !result.rateLimited && !result.noRequest && result.response === undefined;
    }
  }

  function outcomeOf(
    outcome: Outcome,
    now: Date,
    settledAt: Date,
    holds: ReadonlyMap<string, DestinationHold>,
  ): DeliveryOutcome {
    const { row, result, notSent } = outcome;
    const response = {
      responseStatus: result.response?.status ?? null,
      responseExcerpt: result.response?.excerpt ?? null,
    };
    const base = { id: row.id, attempts: row.attempts, ...response, mayHaveReached: mayHaveReached(outcome) };
    if (notSent && result.status === 'failed')
      return { ...base, state: 'failed', error: result.error, refundAttempt: true };
    switch (result.status) {
      case 'sent':
        return { ...base, state: 'sent', sentAt: settledAt, error: null };
      case 'failed':
        return { ...base, state: 'failed', error: result.error };
      case 'gone':
        return { ...base, state: 'failed', error: `${result.error}; the destination was disabled` };
      case 'retry': {
        const firstAt = row.first_attempt_at ?? now;
        if (result.rateLimited) {
          // Not a failed attempt (the sender's throttle does the same): a burst that meets the
          // destination's limit must not spend the retry schedule, nor hold the alert's later changes
          // behind minutes of backoff. Counted from the answer (settledAt), not the round's start: a round
          // that took longer than a short Retry-After would else be due again at once.
          const own = rateLimitedUntil(firstAt, settledAt, result.retryAfterMs);
          if (!own) {
            const over = formatDuration(settledAt.getTime() - firstAt.getTime());
            return {
              ...base,
              state: 'failed',
              error: `gave up after ${over} of being rate limited: ${result.error}`,
            };
          }
          // Its destination held, it goes at the hold's end with the rest (holdDestinations); only a
          // Retry-After longer than a hold may be is waited for on its own.
          const hold = holds.get(row.destination_id)?.until;
          const ownIsLonger = rateLimitWaitMs(result.retryAfterMs) > DESTINATION_HOLD_MAX_MS;
          const dueAt = hold && (!ownIsLonger || own < hold) ? hold : own;
          return { ...base, state: 'pending', dueAt, error: result.error, refundAttempt: true };
        }
        const next = nextAttemptAt(row.attempts, firstAt, now, result.retryAfterMs);
        if (!next) {
          const over = formatDuration(now.getTime() - firstAt.getTime());
          return {
            ...base,
            state: 'failed',
            error: `gave up after ${row.attempts} attempts over ${over}: ${result.error}`,
          };
        }
        return { ...base, state: 'pending', dueAt: next, error: result.error };
      }
    }
  }

  /**
   * Whether the attempt failed after its receiver kept a request waiting NO_ANSWER_HOLD_AFTER_MS or more:
   * no answer, or one not 2xx after that long (a gateway's 504; Slack's Web API answers its errors with
   * no `response` here, which says nothing of how long it took). The time is the exchange's own, not the
   * attempt's (a kind's database lookups around it). A 429 holds by its Retry-After; a delivery sent, or
   * of a destination gone, holds nothing.
   */
  function slowToFail({ result, notSent, exchangeMs }: Outcome): boolean {
    if (notSent || result.status === 'sent' || result.status === 'gone') return false;
    if (result.status === 'retry' && result.rateLimited) return false;
    return exchangeMs !== undefined && exchangeMs >= noAnswerHoldAfterMs;
  }

  /**
   * A 429 limits the receiver's endpoint, not the one delivery that met it: the destination is held for
   * the Retry-After (at most DESTINATION_HOLD_MAX_MS, jittered), counted from the answer (`settledAt`),
   * the latest of the round's 429s from it. Else every other alert's delivery to it would be sent
   * meanwhile, each to meet its own 429 (a storm's hundreds), which a receiver may take as abuse.
   * A receiver that failed slowly (slowToFail) is held NO_ANSWER_HOLD_MS: each of its deliveries would
   * else hold a round for its timeout, and fed a storm, it held every round of every organization.
   */
  function holdsOf(
    outcomes: readonly Outcome[],
    destinations: ReadonlyMap<string, TeamDestinationRow>,
    settledAt: Date,
  ): Map<string, DestinationHold> {
    const holds = new Map<string, DestinationHold>();
    for (const outcome of outcomes) {
      const { row, result } = outcome;
      const destination = destinations.get(row.destination_id);
      if (!destination?.enabled) continue;
      const until =
        result.status === 'retry' && result.rateLimited
          ? destinationHeldUntil(settledAt, result.retryAfterMs)
          : slowToFail(outcome)
            ? jitteredAfter(settledAt, NO_ANSWER_HOLD_MS)
            : undefined;
      if (!until) continue;
      const hold = holds.get(destination.id);
      if (!hold || until > hold.until)
        holds.set(destination.id, { id: destination.id, until, readAt: destination.updated_at });
    }
    return holds;
  }

  /**
   * The alert's log says where its page went and where a change could not be told: the first delivery
   * (of `created`) when it arrives, and any delivery that failed for good. The rest is in the
   * destination's delivery log; one line per change would bury the alert's own history.
   */
  function logLines(
    outcomes: readonly Outcome[],
    /** The deliveries that failed for good, with why. */
    failed: ReadonlyMap<string, string>,
    destinations: ReadonlyMap<string, TeamDestinationRow>,
    alertIds: ReadonlySet<string>,
  ): { alertId: string; type: string; log: string; owner: string }[] {
    return outcomes.flatMap(({ row, result }) => {
      const destination = destinations.get(row.destination_id);
      if (!destination || !alertIds.has(row.alert_id)) return [];
      const label = teamDestinationKind(destination.type)?.label ?? destination.type;
      const where = `${label} "${destination.name}"`;
      const line =
        result.status === 'sent' && row.event_type === 'created'
          ? `${where} got the alert`
          : failed.has(row.id)
            ? `${where} was not told of ${row.event_type.replace(/_/g, ' ')}: ${failed.get(row.id)}`
            : undefined;
      return line ? [{ alertId: row.alert_id, type: 'notification', log: line, owner: 'Vigil' }] : [];
    });
  }

  /**
   * Destinations that answered "gone", or have failed for a day, are disabled. Each is judged as the round
   * read it (its updated_at then): one edited while its deliveries were out (another URL) is neither
   * disabled nor counted failing for what its old config met.
   */
  async function judge(outcomes: Outcome[], destinations: Map<string, TeamDestinationRow>, now: Date) {
    const gone = new Map<string, string>();
    const health = new Map<string, { id: string; delivered: boolean; readAt: Date }>();
    for (const { row, result, notSent } of outcomes) {
      const destination = destinations.get(row.destination_id);
      if (!destination?.enabled || notSent) continue;
      // A destination that asks to slow down is working, and one that refused only this message (deleted
      // in Slack, too large) still takes the others: neither is a failure towards disabling it, nor a
      // success that would clear its failures.
      if (!countsAgainstDestination(result)) continue;
      if (result.status === 'gone') gone.set(destination.id, result.error);
      health.set(destination.id, {
        id: destination.id,
        delivered: (health.get(destination.id)?.delivered ?? false) || result.status === 'sent',
        readAt: destination.updated_at,
      });
    }
    const failingSince = await repo.recordHealth(
      db,
      [...health.values()].filter((h) => !gone.has(h.id)),
      now,
    );
    for (const [id, since] of failingSince) {
      if (now.getTime() - since.getTime() >= FAILING_DISABLES_AFTER_MS) {
        gone.set(id, `every delivery failed for ${formatDuration(now.getTime() - since.getTime())}`);
      }
    }
    for (const [id, reason] of gone) {
      const readAt = health.get(id)?.readAt;
      if (readAt && (await repo.disable(db, id, reason, now, readAt))) {
        log.warn({ destinationId: id, reason }, 'a team destination was disabled');
      }
    }
  }

  /**
   * A "gone" from a destination edited while the delivery was out was its old config's answer (another
   * URL): the delivery is a failure tried again, at the destination as it is now.
   */
  async function asTried(
    outcomes: Outcome[],
    destinations: ReadonlyMap<string, TeamDestinationRow>,
  ): Promise<Outcome[]> {
    const goneFrom = new Set(
      outcomes.flatMap((o) => (o.result.status === 'gone' ? [o.row.destination_id] : [])),
    );
    const read = [...goneFrom].flatMap((id) => {
      const destination = destinations.get(id);
      return destination ? [{ id, readAt: destination.updated_at }] : [];
    });
    const changed = await repo.changedSince(db, read);
    if (changed.size === 0) return outcomes;
    return outcomes.map((outcome) => {
      const { row, result } = outcome;
      return result.status === 'gone' && changed.has(row.destination_id)
        ? {
            row,
            result: {
              status: 'retry',
              error: `${result.error} (before the destination was changed)`,
              ...(result.response ? { response: result.response } : {}),
            },
          }
        : outcome;
    });
  }

  /**
   * Of the outcomes a retried write did not record, those an earlier try of this settling wrote: as it
   * left them (their state, their attempts less the one given back, no lease) and updated at `settledAt`,
   * the instant every try of one settling writes. A delivery another claim took since (its lease ran out)
   * has another attempt, or is `sending`; one a destination disabled since failed was updated then.
   */
  async function writtenBefore(
    changes: readonly DeliveryOutcome[],
    recorded: ReadonlySet<string>,
    settledAt: Date,
  ): Promise<string[]> {
    const missing = new Map(changes.filter((c) => !recorded.has(c.id)).map((c) => [c.id, c]));
    if (missing.size === 0) return [];
    const rows = await db
      .selectFrom('team_destination_deliveries')
      .select(['id', 'state', 'attempts'])
      .where('id', 'in', [...missing.keys()])
      .where('updated_at', '=', settledAt)
      .where('lease_until', 'is', null)
      .execute();
    return rows.flatMap((row) => {
      const change = missing.get(row.id);
      const attempts = change ? change.attempts - (change.refundAttempt ? 1 : 0) : undefined;
      return change && row.state === change.state && row.attempts === attempts ? [row.id] : [];
    });
  }

  /**
   * Records the outcomes of the sends of a round to one or more destinations (each one's all together),
   * holds those that asked, and judges them.
   */
  async function settle(
    sent: Outcome[],
    now: Date,
    /** When the round's claim runs out, and another round may take its deliveries and send them again. */
    leaseUntil: Date,
    destinations: Map<string, TeamDestinationRow>,
    /** The alerts that still exist, whose logs say where the change went. */
    alertIds: ReadonlySet<string>,
  ): Promise<void> {
    // One instant for the outcomes and the destination's health: a day of failures counts from when the
    // attempt ended, however long the writes in between take (and their retries).
    const settledAt = clock.now();
    // The sends are done: their outcomes are recorded while the database fails a while (a fail-over, a
    // dropped connection), as long as the claim holds them. What is written is worked out once, so every
    // try writes the same (the due times are jittered, a destination may change between tries).
    let planned:
      { outcomes: Outcome[]; changes: DeliveryOutcome[]; holds: Map<string, DestinationHold> } | undefined;
    const { outcomes, changes, holds, recorded } = await retryingOutcome(
      async (attempt) => {
        if (!planned) {
          // Outcomes land after the deliveries of a disabled destination were failed: its own outcome says why.
          const outcomes = await asTried(sent, destinations);
          const holds = holdsOf(outcomes, destinations, settledAt);
          planned = { outcomes, holds, changes: outcomes.map((o) => outcomeOf(o, now, settledAt, holds)) };
        }
        const recorded = await repo.recordOutcomes(db, planned.changes, settledAt);
        // A try that committed but whose answer was lost is not written twice (its deliveries are no longer
        // being sent), so this try matches none of them: those that hold what was written are recorded,
        // and go on to the alert's log and the judging (a 410 disables, a success clears the failures).
        // Read back, rather than the outcomes, log lines and judging written in one transaction (as sender.ts
        // records): the judging updates destinations the queue's two rounds share, and would hold them
        // locked across the settling; its warnings would be logged of a write that may yet roll back.
        if (attempt > 1 && recorded.size < planned.changes.length) {
          for (const id of await writtenBefore(planned.changes, recorded, settledAt)) recorded.add(id);
        }
        return { ...planned, recorded };
      },
      {
        clock,
        tries: RECORD_TRIES,
        until: new Date(leaseUntil.getTime() - leaseMs / 4),
        sleep: deps.sleep,
        onRetry: (error, attempt) =>
          log.warn(
            { err: error, attempt, deliveryIds: sent.map((o) => o.row.id) },
            'the outcome of team destination deliveries could not be recorded; trying again',
          ),
      },
    );
    // After the outcomes: the deliveries that met the 429 are pending again, and put off with the rest.
    await repo.holdDestinations(db, [...holds.values()]);
    const mine = outcomes.filter((o) => recorded.has(o.row.id));
    const failed = new Map(changes.flatMap((c) => (c.state === 'failed' ? [[c.id, c.error ?? '']] : [])));
    await alertsRepository.addLogs(db, logLines(mine, failed, destinations, alertIds));
    await judge(mine, destinations, settledAt);
  }

  /**
   * A round: `capped` when the claim took PER_DESTINATION_PER_CLAIM or more of one destination, so more
   * of it likely waits (a healthy receiver's burst goes on at once, a round after another, not after a pause).
   */
  async function deliverRound(now: Date): Promise<{ claimed: number; capped: boolean }> {
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const rows = await repo.claim(db, now, leaseUntil, BATCH);
    if (rows.length === 0) return { claimed: 0, capped: false };
    const [destinationRows, alertRows] = await Promise.all([
      repo.byIds(db, [...new Set(rows.map((r) => r.destination_id))]),
      alertsRepository.byIds(db, [...new Set(rows.map((r) => r.alert_id))]),
    ]);
    const destinations = new Map(destinationRows.map((d) => [d.id, d]));
    const alerts = new Map(alertRows.map((a) => [a.id, alertDetail(a)]));
    const toSend = rows.filter((r) => destinations.get(r.destination_id)?.enabled);
    // A change of an alert deleted since shows it as its deleted event kept it, to a destination that
    // event was delivered to.
    const gone = toSend
      .filter((r) => !alerts.has(r.alert_id))
      .map((r) => ({ destinationId: r.destination_id, alertId: r.alert_id }));
    const [paused, taken, deletedAlerts] = await Promise.all([
      pausedNow(destinations.values()),
      repo.stillTaking(
        db,
        toSend.map((r) => ({ destinationId: r.destination_id, alertId: r.alert_id })),
      ),
      repo.deletedAlerts(db, gone),
    ]);
    const send = async (row: TeamDestinationDeliveryRow): Promise<Outcome> => {
      const destination = destinations.get(row.destination_id);
      const why = destination?.enabled
        ? whyNotSent(destination, paused, taken.has(destinationAlertKey(row.destination_id, row.alert_id)))
        : undefined;
      if (why !== undefined) return { row, result: { status: 'failed', error: why }, notSent: true };
      const { value: result, longestExchangeMs } = await timingExchanges(() =>
        attempt(
          row,
          destination,
          alerts.get(row.alert_id),
          deletedAlerts.get(destinationAlertKey(row.destination_id, row.alert_id)),
        ),
      );
      return { row, result, exchangeMs: longestExchangeMs };
    };
    const byDestination = new Map<string, TeamDestinationDeliveryRow[]>();
    for (const row of rows) {
      const group = byDestination.get(row.destination_id);
      if (group) group.push(row);
      else byDestination.set(row.destination_id, [row]);
    }
    // Each destination's outcomes are recorded as soon as its sends are done, not once the round's
    // slowest is: a receiver that hangs until its timeout must not keep the others' outcomes (and the
    // alerts' next changes, which wait for them) unrecorded. One destination's together, as its health
    // and holds are judged over them; one recording at a time. The destinations that finish while one
    // is recorded are gathered and recorded together when it ends: a settling is several writes, and
    // one per destination in turn made a round spread over many destinations many times slower to
    // record than the single settling it had before. A group's promise is its settling's, so a failure
    // still fails the round.
    const alertIds = new Set(alerts.keys());
    let recording: Promise<void> = Promise.resolve();
    let gathering: { outcomes: Outcome[]; turn: Promise<void> } | undefined;
    const recordInTurn = (outcomes: Outcome[]): Promise<void> => {
      if (gathering) {
        gathering.outcomes.push(...outcomes);
        return gathering.turn;
      }
      const gathered = [...outcomes];
      const turn = recording.then(() => {
        gathering = undefined;
        return settle(gathered, now, leaseUntil, destinations, alertIds);
      });
      gathering = { outcomes: gathered, turn };
      recording = turn.catch(() => undefined);
      return turn;
    };
    const done = await Promise.allSettled(
      [...byDestination.values()].map(async (group) => recordInTurn(await Promise.all(group.map(send)))),
    );
    for (const result of done) if (result.status === 'rejected') throw result.reason;
    const capped = [...byDestination.values()].some((group) => group.length >= PER_DESTINATION_PER_CLAIM);
    return { claimed: rows.length, capped };
  }

  return {
    deliverDue: async (now: Date) => (await deliverRound(now)).claimed,
    queue: ({ idleMs } = {}) => ({
      name: QUEUES.teamDestinations,
      // Receivers take their time (up to 15 s each): two rounds side by side keep the others moving.
      concurrency: 2,
      idleMs: idleMs ?? 5000,
      async round(now) {
        const { claimed, capped } = await deliverRound(now);
        if (claimed >= BATCH || capped) return { more: true };
        return {
          more: false,
          nextDueAt: await repo.nextDueAt(
            db,
            clock.now(),
            new Date(clock.now().getTime() + ON_ITS_WAY_RECHECK_MS),
            new Date(clock.now().getTime() + ON_ITS_WAY_FALLBACK_MS),
          ),
        };
      },
      backlog: (now) => repo.backlog(db, now, BACKLOG_COUNT_LIMIT),
    }),
  };
}
