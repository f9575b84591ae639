import { sql } from 'kysely';
import { alertsRepository } from '../alerts/repository.js';
import { peopleRepository } from '../oncall/people/repository.js';
import type { Db } from '../db/database.js';
import type { AlertRow, ContactMethodRow, NotificationRow } from '../db/schema.js';
import type { NotificationRuleStep } from '../oncall/model.js';
import type { Clock } from '../work/clock.js';
import { formatDuration, LATE_AFTER_MS } from '../work/durations.js';
import { retryDelayMs as backoff } from '../work/backoff.js';
import { retryingOutcome } from './outcome-retry.js';
import { QUEUES } from '../work/queue-names.js';
import { BACKLOG_COUNT_LIMIT, type WorkQueueSpec, type WorkSignal } from '../work/runner.js';
import type { Logger } from '../logger.js';
import type { DeliveryResult, NotificationChannel, OutgoingNotification } from './channel.js';
import {
  CONTACT_METHOD_TYPES,
  destinationLabel,
  throttleOf,
  type Channels,
} from './destinations/registry.js';
import { bothAllow, nextAllowedAt } from './destinations/throttle.js';
import {
  destinationKey,
  notificationsRepository as repo,
  THROTTLED,
  type NotificationOutcome,
} from './repository.js';
import { emailThreadsRepository } from './email-threads.js';
import { whyNotPageable, whyUnwanted } from './planner.js';

/**
 * Delivers planned messages. Every worker process runs one; each claims due rows with SKIP LOCKED and a
 * lease (state `sending`), so a message is handed to one process at a time. A process that dies mid-send
 * leaves the lease to run out, and another takes the message over. The result is recorded on the row and
 * on the alert's activity log. Temporary failures are retried with backoff, never sooner than the
 * provider's Retry-After; permanent ones are not. A rate-limited answer (429) spends no attempt: it is
 * tried again less and less often, for a bounded time from the first 429 of a run of them
 * (`rate_limited_since`, cleared by any other answer).
 * Each message goes to the channel of its destination type (destinations/registry.ts), and waits its
 * turn when that type throttles sends to one address.
 *
 * A page (`create-alert`) is only sent while the alert is still open, unacknowledged and not snoozed:
 * the check happens here, at the moment of sending, whatever was planned earlier (a send that waited for
 * its turn, behind a slow email relay say, reads its alert and its recipient again first). So is a
 * message to a person's contact method: one deleted, disabled, given another address or no longer
 * pageable since the message was planned does not get it. A message a notification rule's step planned
 * (a step after some minutes, above all) goes only while that rule and step still ask for it: one whose
 * rule was disabled or deleted, or whose step was disabled, deleted or pointed at another contact since,
 * is not sent.
 */

export interface ActionLinkMaker {
  url(
    claims: { alertId: string; userId: string; orgId: string; action: 'acknowledge' | 'close' },
    now: Date,
  ): string;
}

export interface NotificationSenderOptions {
  db: Db;
  log: Logger;
  clock: Clock;
  channels: Channels;
  links: ActionLinkMaker;
  publicUrl: string;
  /**
   * How long a claimed message is this process's before another may take it over. It must outlast the
   * slowest send of a batch: a round of 24 emails over the pool's 8 connections (one round at a time
   * sends email: `lanes` in createNotificationSender) is three turns of at most 10 s to connect, 10 s
   * for the greeting and 30 s of socket time each, so 150 s; 360 s leaves ample room.
   */
  leaseMs?: number;
  /** Temporary failures are retried this many times in all. */
  maxAttempts?: number;
  /** Messages claimed (and sent side by side) per round. */
  batchSize?: number;
  /**
   * The work runner's wake: a round that left a type out because another round held its lane may be
   * asleep until a due time that leaves that type out too, and is woken when the lane frees.
   */
  signal?: WorkSignal;
  /** Told of each outcome recorded (the metrics). */
  observer?: NotificationObserver;
}

export interface NotificationObserver {
  /**
   * An outcome of a message a round took its turn for, as recorded: `pending` is a send to try again (or
   * one given back unsent). Messages put back to wait for their throttle are not told.
   */
  recorded(method: string, state: NotificationOutcome['state']): void;
}

export interface NotificationSender {
  /** Sends the messages due at `now`, up to one batch; returns how many it claimed. */
  sendDue(now: Date): Promise<number>;
  /** The due messages as a queue of the work runner. */
  queue(options?: { idleMs?: number }): WorkQueueSpec;
}

/** Who a message is for: a person (by their contact method), or a destination that is not one. */
interface Recipient {
  userId?: string;
  name: string;
  timeZone: string;
  /**
   * Why the person is no longer to get the message: they were blocked, or their contact method, or the
   * rule's step that planned it, changed since (for the log: no address).
   */
  unpageable?: string;
}

/** A person's contact method as it is now, when the message to it is sent. */
type ContactNow = Pick<ContactMethodRow, 'method' | 'address' | 'enabled' | 'verified_at' | 'problem'>;

/**
 * Why a message planned for a person's contact method must not go to it now. It was planned with the
 * address of the moment, and the contact may have changed since: a new number is not verified yet, and a
 * deleted or disabled contact is not to be paged at all.
 */
function whyContactGone(row: NotificationRow, contact: ContactNow | undefined): string | undefined {
  if (!contact) return 'the contact method was deleted';
  if (!contact.enabled) return 'the contact method is disabled';
  if (contact.address !== row.address) return 'the contact method was changed after the page was planned';
  return whyNotPageable(contact);
}

/** The rule that planned a message, as it is now: absent when it was deleted. */
interface RuleNow {
  enabled: boolean;
  /** The planned step, found by its id; null when the rule no longer has it. */
  step: NotificationRuleStep | null;
  /** The rule has an enabled step with the planned step's contact and delay (its steps given again). */
  stepRemade: boolean;
}

/**
 * Why a message a notification rule's step planned must not go now. Every step of a rule is planned when
 * the page is made, each due after its delay, and the person may turn the step or the rule off before it
 * falls due (docs/oncall.md). Replacing a rule's steps gives them new ids: a step given again with the
 * same contact and delay is the one that planned the message, and it still goes.
 */
function whyStepGone(row: NotificationRow, rule: RuleNow | undefined): string | undefined {
  const planned = row.rule_step;
  if (!row.rule_id || !planned) return undefined;
  if (!rule) return 'its notification rule was deleted after the page was planned';
  if (!rule.enabled) return 'its notification rule was disabled after the page was planned';
  const { step } = rule;
  if (!step) {
    return rule.stepRemade ? undefined : "the rule's step was deleted after the page was planned";
  }
  if (!step.enabled) return "the rule's step was disabled after the page was planned";
  if (step.contactId !== planned.contactId) {
    return "the rule's step was given another contact method after the page was planned";
  }
  return undefined;
}

/** In the sender's recipients query: the planned step (`n.rule_step`) in its rule (`r`) now, by id. */
const PLANNED_STEP_NOW = sql<NotificationRuleStep | null>`
  jsonb_path_query_first(r.steps, '$[*] ? (@.id == $id)', jsonb_build_object('id', n.rule_step -> 'id'))`;

/** Likewise: whether the rule has an enabled step with the planned step's contact and delay. */
const PLANNED_STEP_REMADE = sql<boolean | null>`
  r.steps @> jsonb_build_array(jsonb_build_object('contactId', n.rule_step -> 'contactId',
    'sendAfterMinutes', n.rule_step -> 'sendAfterMinutes', 'enabled', true))`;

/** An alert as a round sends about it: with the message its email thread keeps, for its emails. */
type RoundAlert = AlertRow & { threadMessage?: string | undefined };

/** What a send is checked against: its alerts by id and its messages' recipients by message id. */
interface SendView {
  alertOf(id: string): RoundAlert | undefined;
  recipients: ReadonlyMap<string, Recipient>;
}

/** A round's alerts and recipients. */
interface RoundReads {
  /** As the round read them before sending anything. */
  asRead: SendView;
  /**
   * The alerts and recipients of `rows` as read at most RECHECK_ALERT_AFTER_MS ago; undefined while the
   * round's own read is that fresh. Rejects when the database fails.
   */
  again(rows: readonly NotificationRow[]): Promise<SendView | undefined>;
}

/** A temporary failure is tried again after 15 s, 30 s, 1 min … up to 15 min, with jitter. */
export function retryDelayMs(attempt: number): number {
  return backoff(attempt, { baseMs: 15_000, maxMs: 15 * 60_000 });
}

/**
 * The longest a provider's Retry-After is waited for: a page is about waking someone now, and one held
 * longer is little use (a push service drops an undelivered one after its hour of TTL anyway).
 */
export const MAX_RETRY_AFTER_MS = 3600_000;

/**
 * How long a message is kept trying while its provider rate limits it (429), counted on the engine's
 * clock from the first 429 of a run of them (`rate_limited_since`): a rate-limited answer spends no
 * attempt, and a provider that answers 429 for ever must not keep a message alive for ever. The first
 * 429 after this gives the message up, so it is given up at most this plus one wait (at most
 * MAX_RETRY_AFTER_MS) after it was first rate limited.
 */
export const RATE_LIMITED_FOR_AT_MOST_MS = 2 * 3600_000;

/**
 * How long a rate-limited message waits before it is tried again, having been limited for `limitedForMs`:
 * half that, between 15 s and 15 min, with ±20 % jitter (a Twilio 429 is account-wide, and the pages it
 * turned away together must not all come back together), and never less than the provider asked for
 * (`askedMs`, at most MAX_RETRY_AFTER_MS). A 429 refunds its attempt, so the attempt count cannot grow
 * the wait; how long it has been limited does, with no count to keep, and a long Retry-After waited out
 * makes the next wait of our own longer too. From the first 429: 15 s three times, then about 1.5 times
 * longer each, 15 min from the first half hour on; some twenty requests over the two hours, not one
 * every 15 s.
 */
export function rateLimitedDelayMs(limitedForMs: number, askedMs = 0, random = Math.random): number {
  const own = Math.min(15 * 60_000, Math.max(15_000, limitedForMs / 2)) * (0.8 + random() * 0.4);
  return Math.round(Math.max(own, askedWaitMs(askedMs)));
}

/** A provider's Retry-After as waited for: at most MAX_RETRY_AFTER_MS (the parser gives none below 0). */
function askedWaitMs(askedMs = 0): number {
  return Math.min(askedMs, MAX_RETRY_AFTER_MS);
}

/** Messages that may go as one: to one address of one person (two people may share a phone). */
function bundleKey(row: NotificationRow): string {
  return `${destinationKey(row.method, row.address)} ${row.user_id ?? row.destination_name ?? ''}`;
}

/** Why a page is cancelled once another page about its alert reached its address (and its log says so). */
const COPY_SENT = 'a page about this alert was just sent to the same address';

/** Tries to record sent messages' outcomes while the database fails, about half a minute in all. */
const RECORD_TRIES = 8;

/**
 * How long after a round read its alerts a send may still go on that read. A send that waited longer
 * for its turn (a slow or tarpitting email relay holds the pool's connections for tens of seconds each)
 * reads its alert again just before it goes: a page must not leave minutes after the alert was
 * acknowledged or closed. Every send of a quick round starts within milliseconds of the read, so the
 * normal case costs no read of its own; and a change a second or two before a send races that send
 * however it is checked.
 */
export const RECHECK_ALERT_AFTER_MS = 2000;

/** A send's turn: `waited` when others held every place as it asked (a send that did may be stale). */
interface Turn {
  end: () => void;
  waited: boolean;
}

/** Takes a turn among at most `size` at once (the rest wait in order); `end` gives it to the next. */
function turns(size: number): () => Promise<Turn> {
  let free = size;
  const waiting: (() => void)[] = [];
  const end = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return async () => {
    if (free > 0) {
      free--;
      return { end, waited: false };
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
    return { end, waited: true };
  };
}

/** The turn of a send whose type has no limit: nothing to wait for or give back. */
const noTurn = async (): Promise<Turn> => ({ end: () => {}, waited: false });

export function createNotificationSender(options: NotificationSenderOptions): NotificationSender {
  const { db, log, clock, channels, links } = options;
  const leaseMs = options.leaseMs ?? 360_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const batchSize = options.batchSize ?? 24;
  // A channel that takes only so many sends at once (email's pool) gets them in turns, shared by the
  // process's rounds as its pool is: a send queued inside the channel could not be checked again.
  const turnsOf = new WeakMap<NotificationChannel, () => Promise<Turn>>();
  const turnOf = (channel: NotificationChannel) => {
    if (!channel.sendsAtOnce) return noTurn;
    let take = turnsOf.get(channel);
    if (!take) turnsOf.set(channel, (take = turns(channel.sendsAtOnce)));
    return take;
  };
  // A pool-limited type (email) is claimed by one round of this process at a time: its lane. A round
  // waits for its slowest send, and a slow relay (a dropped SYN is the connect timeout, a tarpit up to
  // 50 s a turn) would otherwise hold both of the queue's rounds, and every SMS, call and push due
  // meanwhile behind them (and behind older email retries, claimed first by due time). Capping each
  // round's emails at the pool's free turns would not do: two rounds could still each hold a few slow
  // ones. With a lane, the other round always claims the other types, and a round's emails still take
  // their turns on the pool (checked again when they waited, above). The pool stays as busy: its
  // connections, not the number of rounds feeding them, are the limit, and a lane passes on as soon as
  // its round's last message of the type has taken its turn on the pool, so the next round claims and
  // reads while that turn is on the wire, and its sends queue up for the next free connection.
  const pooled = CONTACT_METHOD_TYPES.filter((type) => channels.get(type)?.sendsAtOnce);
  const lanesTaken = new Set<string>();
  // The lanes a round left out while another held them: that round may sleep until a due time without
  // them (`queue` below), so whoever frees one wakes the queue.
  const lanesWanted = new Set<string>();
  // A round that never ends (a send that hangs while keepClaim renews its leases) must not stop the
  // type in the whole process: its lane passes on after this long whatever the round is doing. Longer
  // than the slowest turns a round's messages wait for (two of at most 50 s for a round of 24 emails).
  const laneDeadlineMs = leaseMs / 3;
  /** `more`: the round that frees it left more of the type waiting, likely. */
  const freeLane = (type: string, more: boolean) => {
    lanesTaken.delete(type);
    if (lanesWanted.delete(type) || more) options.signal?.wake(QUEUES.notifications);
  };

  interface Outcome {
    row: NotificationRow;
    changes: Omit<NotificationOutcome, 'id' | 'attempts'>;
    logLine: string | undefined;
    /** What is wrong with the address: its contact method is marked with it. */
    addressProblem?: string;
    /** The address opted out: marked, but still verified (the number is still the person's). */
    optedOut?: boolean;
  }

  /**
   * Records a round's outcomes, each with its line on the alert's activity log, in one transaction.
   * Returns the ids whose claim was still current (the others were taken over, and recorded by no one).
   */
  async function record(outcomes: readonly Outcome[]): Promise<ReadonlySet<string>> {
    if (outcomes.length === 0) return new Set();
    const now = clock.now();
    return db.transaction().execute(async (tx) => {
      const mine = await repo.recordOutcomes(
        tx,
        outcomes.map((o) => ({
          id: o.row.id,
          attempts: o.row.attempts,
          ...o.changes,
        })),
        now,
      );
      for (const o of outcomes) {
        if (!o.addressProblem || !o.row.contact_method_id || !mine.has(o.row.id)) continue;
        await peopleRepository.markContactProblem(tx, [o.row.contact_method_id], o.addressProblem, now, {
          unverify: !o.optedOut,
        });
      }
      // Pages of earlier repeat rounds that a provider outage held back fall due together: once one page
      // reached the address, its other copies due now or retrying would only repeat it.
      const copies = await repo.cancelCopiesOfSentPages(
        tx,
        outcomes
          .filter((o) => o.changes.state === 'sent' && o.row.kind === 'create-alert' && mine.has(o.row.id))
          .map((o) => o.row.id),
        now,
        COPY_SENT,
      );
      await alertsRepository.addLogs(tx, [
        ...outcomes.flatMap((o) =>
          o.logLine && mine.has(o.row.id)
            ? [{ alertId: o.row.alert_id, type: 'notification', log: o.logLine, owner: 'Vigil' }]
            : [],
        ),
        ...copies.map((c) => ({
          alertId: c.alert_id,
          type: 'notification',
          log: `${destinationLabel(c.method)} to ${c.recipient ?? 'a user who no longer exists'} not sent: ${COPY_SENT}`,
          owner: 'Vigil',
        })),
      ]);
      return mine;
    });
  }

  function render(
    row: NotificationRow,
    alert: RoundAlert,
    recipient: Recipient,
    now: Date,
  ): OutgoingNotification {
    const actionable = alert.status === 'open';
    // Action links act as a person: a destination that is not one gets only the link to view. They are
    // bound to the contact method and address the message goes to, and act only while the person still
    // has that contact, at that address, enabled (notify/links.ts, routes.ts).
    const claims =
      recipient.userId && row.contact_method_id
        ? {
            alertId: alert.id,
            userId: recipient.userId,
            orgId: alert.org_id,
            contact: { id: row.contact_method_id, address: row.address },
          }
        : undefined;
    return {
      idempotencyKey: row.idempotency_key,
      notificationId: row.id,
      kind: row.kind,
      to: {
        address: row.address,
        name: recipient.name,
        ...(recipient.userId ? { userId: recipient.userId } : {}),
        timeZone: recipient.timeZone,
      },
      alert: {
        id: alert.id,
        orgId: alert.org_id,
        tinyId: alert.tiny_id,
        message: alert.message,
        description: alert.description,
        priority: alert.priority,
        status: alert.status,
        acknowledged: alert.acknowledged,
        source: alert.source,
        entity: alert.entity,
        tags: alert.tags,
        details: alert.details,
        count: alert.count,
        createdAt: alert.created_at,
        integrationName: alert.integration_name,
      },
      reason: row.reason,
      ...(row.context.actor ? { actor: row.context.actor } : {}),
      ...(row.context.note ? { note: row.context.note } : {}),
      links: {
        ...(claims && actionable && !alert.acknowledged
          ? { acknowledge: links.url({ ...claims, action: 'acknowledge' }, now) }
          : {}),
        ...(claims && actionable ? { close: links.url({ ...claims, action: 'close' }, now) } : {}),
        view: `${options.publicUrl}/alerts/${alert.id}`,
      },
      ...(alert.threadMessage !== undefined ? { thread: { message: alert.threadMessage } } : {}),
    };
  }

  /** A message ready to hand to its channel, or the outcome that ends it without sending. */
  function prepare(
    row: NotificationRow,
    alert: RoundAlert | undefined,
    recipient: Recipient | undefined,
    now: Date,
  ): Outcome | { row: NotificationRow; message: OutgoingNotification; channel: NotificationChannel } {
    const label = destinationLabel(row.method);
    // Names, not addresses: alert logs are read with integration keys too.
    const who = recipient?.name ?? 'a user who no longer exists';
    const unwanted = whyUnwanted(row.stop_on, alert);
    if (unwanted || !alert || !recipient) {
      const why = !alert ? 'the alert was deleted' : (unwanted ?? 'the user no longer exists');
      return {
        row,
        changes: { state: 'cancelled', error: why },
        logLine: alert ? `${label} to ${who} not sent: ${why}` : undefined,
      };
    }
    if (recipient.unpageable) {
      return {
        row,
        changes: { state: 'cancelled', error: recipient.unpageable },
        logLine: `${label} to ${who} not sent: ${recipient.unpageable}`,
      };
    }
    const channel = channels.get(row.method);
    if (!channel) {
      const error = channels.whyUnavailable(row.method);
      return { row, changes: { state: 'failed', error }, logLine: `${label} to ${who} not sent: ${error}` };
    }
    return { row, message: render(row, alert, recipient, now), channel };
  }

  function outcomeOf(row: NotificationRow, who: string, result: DeliveryResult, now: Date): Outcome {
    const label = destinationLabel(row.method);
    const lateMs = now.getTime() - row.due_at.getTime();
    const late = lateMs > LATE_AFTER_MS ? ` (${formatDuration(lateMs)} after it was due)` : '';
    if (result.status === 'sent') {
      return {
        row,
        // The round's instant, as the throttle counted it when it let the message through: a clock read
        // after the send would move with a test's clock jumping once the receiver has the message.
        changes: { state: 'sent', providerId: result.providerId, sentAt: now },
        logLine: `${label} sent to ${who}${late}${result.detail ? `: ${result.detail}` : ''}`,
      };
    }
    let why = 'not retried';
    if (result.status === 'retry' && result.rateLimited) {
      // The provider turned the request away unprocessed: the message is as good as not yet tried, and a
      // burst that meets the limit must not spend its attempts (the throttle's wait does the same). It
      // is kept trying, less and less often, for a bounded time from the first 429, all on the clock. A
      // limited period ends at any other answer (the repository clears it): a 429 after a 503 starts anew.
      const at = clock.now();
      const since = row.rate_limited_since ?? at;
      const limitedFor = at.getTime() - since.getTime();
      if (limitedFor <= RATE_LIMITED_FOR_AT_MOST_MS) {
        const delay = rateLimitedDelayMs(limitedFor, result.retryAfterMs);
        const first = row.rate_limited_since === null;
        return {
          row,
          changes: {
            state: 'pending',
            dueAt: new Date(at.getTime() + delay),
            error: result.error,
            refundAttempt: true,
            // Kept from the first 429 of the period on (the repository leaves one already set).
            rateLimitedSince: since,
          },
          // Said once per limited period, when it starts: each try after is the same news (the give-up is
          // said too). A 429 after another answer starts a new period (the row has none), said again.
          logLine: first
            ? `${label} to ${who} is rate limited by its provider (not counted as an attempt); trying again in ${formatDuration(delay)}, then less and less often for up to ${RATE_LIMITED_FOR_AT_MOST_MS / 3600_000} h: ${result.error}`
            : undefined,
        };
      }
      why = `gave up: still rate limited ${formatDuration(limitedFor)} after the first 429`;
    } else if (result.status === 'retry') {
      if (row.attempts < maxAttempts) {
        // Never sooner than the provider asked: it would only refuse again. Bounded; an absent wait is
        // the backoff's.
        const delay = Math.max(retryDelayMs(row.attempts), askedWaitMs(result.retryAfterMs));
        return {
          row,
          changes: { state: 'pending', dueAt: new Date(clock.now().getTime() + delay), error: result.error },
          logLine: `${label} to ${who} failed for now (attempt ${row.attempts} of ${maxAttempts}); trying again in ${formatDuration(delay)}: ${result.error}`,
        };
      }
      why = `gave up after ${row.attempts} attempts`;
    }
    const optedOut = result.status === 'failed' && result.optedOut === true;
    const marked =
      result.status === 'failed' && result.addressProblem && row.contact_method_id
        ? `. This ${label} contact of ${who} is not paged again until ${optedOut ? 'it opts back in' : 'it is verified again'}`
        : '';
    return {
      row,
      changes: { state: 'failed', error: result.error },
      logLine: `${label} to ${who} failed (${why}): ${result.error}${marked}`,
      ...(result.status === 'failed' && result.addressProblem
        ? { addressProblem: result.addressProblem, ...(optedOut ? { optedOut } : {}) }
        : {}),
    };
  }

  /**
   * Sends one message, or several to one address as one when its channel bundles them; every message
   * of a bundle gets the bundle's outcome. A send waits its turn when its channel takes only so many at
   * once, and is checked again against its alert and recipients as they are then (`round.again`).
   */
  async function deliver(
    rows: readonly NotificationRow[],
    round: RoundReads,
    now: Date,
    tookTurn: () => void,
  ): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    type Ready = { row: NotificationRow; message: OutgoingNotification; channel: NotificationChannel };
    const prepareAll = (of: readonly NotificationRow[], view: SendView) => {
      const ready: Ready[] = [];
      for (const row of of) {
        const prepared = prepare(row, view.alertOf(row.alert_id), view.recipients.get(row.id), now);
        if ('changes' in prepared) outcomes.push(prepared);
        else ready.push(prepared);
      }
      return ready;
    };
    let view = round.asRead;
    let ready = prepareAll(rows, view);
    const [waiting] = ready;
    if (!waiting) return outcomes;
    const turn = await turnOf(waiting.channel)();
    tookTurn();
    try {
      // The round's own read unless this send waited for its turn (and long): then a message that became
      // unwanted meanwhile ends as one found unwanted at the round's start does. One that took its turn at
      // once goes on the round's read, however long the round took to get there.
      let again: SendView | undefined;
      try {
        if (turn.waited) again = await round.again(ready.map((r) => r.row));
      } catch (error) {
        // Nothing was sent: given back as a round that fails before sending gives its messages back (due
        // again, the attempt refunded, last_error kept), but recorded with the round's outcomes, which
        // tries again while the database fails. Left claimed, they would wait out their lease.
        log.warn(
          { err: error, notificationIds: ready.map((r) => r.row.id) },
          'notifications that waited for their turn could not be checked again; they are given back',
        );
        for (const { row } of ready) {
          outcomes.push({
            row,
            changes: { state: 'pending', error: row.last_error ?? undefined, refundAttempt: true },
            logLine: undefined,
          });
        }
        return outcomes;
      }
      if (again) {
        view = again;
        ready = prepareAll(
          ready.map((r) => r.row),
          view,
        );
      }
      const [first] = ready;
      if (!first) return outcomes;
      let result: DeliveryResult;
      try {
        const { channel } = first;
        result =
          ready.length > 1 && channel.sendBundle
            ? await channel.sendBundle(ready.map((r) => r.message))
            : await channel.send(first.message);
      } catch (error) {
        result = { status: 'retry', error: error instanceof Error ? error.message : String(error) };
      }
      for (const { row } of ready) {
        outcomes.push(
          outcomeOf(row, view.recipients.get(row.id)?.name ?? 'a user who no longer exists', result, now),
        );
      }
      return outcomes;
    } finally {
      turn.end();
    }
  }

  /**
   * A round's alerts and recipients: as the round read them, and for a send that asks more than
   * RECHECK_ALERT_AFTER_MS after that read, as they are now. Its recipients are read again, one statement
   * for its messages; its alerts are read again by id, one read shared by the sends about that alert that
   * ask within that time. Timed on the process's monotonic time, not the engine's clock: what counts is
   * how long a send really waited.
   */
  function roundReads(
    alerts: ReadonlyMap<string, RoundAlert>,
    recipients: ReadonlyMap<string, Recipient>,
    readAt: number,
  ): RoundReads {
    const reads = new Map<string, { at: number; alert: Promise<RoundAlert | undefined> }>();
    const alertNow = (id: string, at: number): Promise<RoundAlert | undefined> => {
      const last = reads.get(id);
      if (last && at - last.at <= RECHECK_ALERT_AFTER_MS) return last.alert;
      const entry = {
        at,
        // The thread's message stays the round's: it is the one the alert's first email set.
        alert: alertsRepository
          .byIds(db, [id])
          .then(
            ([row]): RoundAlert | undefined =>
              row && { ...row, threadMessage: alerts.get(id)?.threadMessage },
          ),
      };
      // A failed read is not kept: the next send to wait asks again.
      entry.alert.catch(() => {
        if (reads.get(id) === entry) reads.delete(id);
      });
      reads.set(id, entry);
      return entry.alert;
    };
    return {
      asRead: { alertOf: (id) => alerts.get(id), recipients },
      async again(rows) {
        const at = performance.now();
        if (at - readAt <= RECHECK_ALERT_AFTER_MS) return undefined;
        const ids = [...new Set(rows.map((r) => r.alert_id))];
        const [found, recipientsNow] = await Promise.all([
          Promise.all(ids.map(async (id) => [id, await alertNow(id, at)] as const)),
          recipientsOf(rows),
        ]);
        const current = new Map(found);
        return { alertOf: (id) => current.get(id), recipients: recipientsNow };
      },
    };
  }

  /**
   * Splits claimed messages into those that may go now and those that must wait for their destination's
   * throttle (each with the outcome that puts it back, due when the throttle lets it through). Messages
   * of this round count against the throttle as they are let through, in the order they fell due.
   *
   * Rounds run side by side (two in each process, and any number of processes). A round decides from
   * what it reads, then marks what it lets through in one statement that takes a lock per address and
   * returns what counted just before (with every mark made before the lock was granted); it sends only
   * what that still allows. Another round's marks count as sends, and only marks do: counting every
   * claimed message would make two rounds hold each other's back.
   */
  async function throttled(
    rows: NotificationRow[],
    now: Date,
  ): Promise<{ go: NotificationRow[]; wait: Outcome[] }> {
    const limited = rows.filter((r) => throttleOf(r.method).length > 0);
    if (limited.length === 0) return { go: rows, wait: [] };
    const destinations = limited.map((r) => ({ type: r.method, address: r.address }));
    const longestWindowMs = Math.max(...limited.flatMap((r) => throttleOf(r.method).map((t) => t.windowMs)));
    const since = new Date(now.getTime() - longestWindowMs);
    const own = limited.map((r) => r.id);
    const first = decide(rows, await repo.sendsSince(db, destinations, since, own), now);
    const marked = first.go.filter((r) => throttleOf(r.method).length > 0);
    // Waiting is always safe: only a message let through needs the check.
    if (marked.length === 0) return first;
    const fresh = await repo.letThrough(
      db,
      marked.map((r) => ({ type: r.method, address: r.address })),
      since,
      own,
      marked.map((r) => r.id),
      now,
    );
    const both = bothAllow(rows, first, decide(rows, fresh, now));
    // A mark on a message that now waits would hold its address back until this round is recorded.
    const going = new Set(both.go.map((r) => r.id));
    await repo.clearLetThrough(
      db,
      marked.filter((r) => !going.has(r.id)).map((r) => r.id),
    );
    return both;
  }

  /** The throttle's decision for a round's messages, given the sends that count against it. */
  function decide(
    rows: NotificationRow[],
    sent: Map<string, Date[]>,
    now: Date,
  ): { go: NotificationRow[]; wait: Outcome[] } {
    const go: NotificationRow[] = [];
    const wait: Outcome[] = [];
    const bundled = new Set<string>();
    for (const row of rows) {
      const rules = throttleOf(row.method);
      if (rules.length === 0) {
        go.push(row);
        continue;
      }
      const key = destinationKey(row.method, row.address);
      // A message that joins one already let through this round goes in the same text or call.
      if (bundles(row.method) && bundled.has(bundleKey(row))) {
        go.push(row);
        continue;
      }
      const before = sent.get(key) ?? [];
      const at = nextAllowedAt(rules, before, now);
      if (at.getTime() <= now.getTime()) {
        sent.set(key, [...before, now]);
        bundled.add(bundleKey(row));
        go.push(row);
        continue;
      }
      const first = !row.last_error?.startsWith(THROTTLED);
      const rule = rules.map((r) => `${r.limit} in ${formatDuration(r.windowMs)}`).join(', ');
      wait.push({
        row,
        changes: { state: 'pending', dueAt: at, error: `${THROTTLED} at most ${rule}`, refundAttempt: true },
        // Said once per message: one that waits again (its turn was taken) adds nothing new.
        logLine: first
          ? `${destinationLabel(row.method)} waits ${formatDuration(at.getTime() - now.getTime())} for its turn: at most ${rule} to one address`
          : undefined,
      });
    }
    return { go, wait };
  }

  /**
   * The sends of a round: each message on its own, except that messages to one person's address whose
   * channel bundles go as one.
   */
  function sendings(rows: readonly NotificationRow[]): NotificationRow[][] {
    const groups = new Map<string, NotificationRow[]>();
    const alone: NotificationRow[][] = [];
    for (const row of rows) {
      if (!bundles(row.method)) {
        alone.push([row]);
        continue;
      }
      const key = bundleKey(row);
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    return [...alone, ...groups.values()];
  }

  /**
   * Who each message is for, with its person's contact method and the rule's step that planned it as they
   * are now: one statement for the round, whatever its size.
   */
  async function recipientsOf(rows: readonly NotificationRow[]): Promise<Map<string, Recipient>> {
    const ids = rows.flatMap((r) => (r.user_id ? [r.id] : []));
    const found =
      ids.length === 0
        ? []
        : await db
            .selectFrom('notifications as n')
            .innerJoin('users as u', 'u.id', 'n.user_id')
            .leftJoin('contact_methods as c', (join) =>
              join.onRef('c.id', '=', 'n.contact_method_id').onRef('c.user_id', '=', 'n.user_id'),
            )
            .leftJoin('notification_rules as r', (join) =>
              join.onRef('r.id', '=', 'n.rule_id').onRef('r.user_id', '=', 'n.user_id'),
            )
            .select([
              'n.id',
              'u.id as user_id',
              'u.full_name',
              'u.username',
              'u.time_zone',
              'u.blocked',
              'c.method as contact_method',
              'c.address as contact_address',
              'c.enabled as contact_enabled',
              'c.verified_at as contact_verified_at',
              'c.problem as contact_problem',
              'r.id as rule_found',
              'r.enabled as rule_enabled',
              PLANNED_STEP_NOW.as('rule_step_now'),
              PLANNED_STEP_REMADE.as('rule_step_remade'),
            ])
            .where('n.id', 'in', ids)
            .execute();
    const byRow = new Map(found.map((f) => [f.id, f]));
    const recipients = new Map<string, Recipient>();
    for (const row of rows) {
      const person = row.user_id ? byRow.get(row.id) : undefined;
      if (person) {
        const contact: ContactNow | undefined =
          person.contact_method !== null && person.contact_address !== null
            ? {
                method: person.contact_method,
                address: person.contact_address,
                enabled: person.contact_enabled ?? false,
                verified_at: person.contact_verified_at,
                problem: person.contact_problem,
              }
            : undefined;
        const rule: RuleNow | undefined =
          person.rule_found !== null
            ? {
                enabled: person.rule_enabled ?? false,
                step: person.rule_step_now,
                stepRemade: person.rule_step_remade ?? false,
              }
            : undefined;
        // A blocked person first: they are paged by no contact. Then the contact's reason: deleting a contact
        // also takes it out of the steps that used it, and "the contact method was deleted" says what happened.
        const unpageable = person.blocked
          ? 'the user is blocked'
          : (whyContactGone(row, contact) ?? whyStepGone(row, rule));
        recipients.set(row.id, {
          userId: person.user_id,
          name: person.full_name || person.username,
          timeZone: person.time_zone,
          ...(unpageable ? { unpageable } : {}),
        });
      } else if (!row.user_id && row.destination_name) {
        recipients.set(row.id, { name: row.destination_name, timeZone: 'UTC' });
      }
    }
    return recipients;
  }

  function bundles(method: string): boolean {
    return channels.get(method)?.sendBundle !== undefined;
  }

  /**
   * Records outcomes as `record` does, trying again for a while when the database fails: the messages
   * were sent, and left unrecorded they would be taken again once their lease ran out, and sent twice.
   */
  async function recordSent(outcomes: readonly Outcome[]): Promise<void> {
    const recorded = await retryingOutcome(() => record(outcomes), {
      clock,
      tries: RECORD_TRIES,
      onRetry: (error, attempt) =>
        log.warn(
          { err: error, attempt },
          'the outcome of sent notifications could not be recorded; trying again',
        ),
    });
    // Counted once committed: a record that failed is tried again, and counted then.
    for (const o of outcomes) {
      if (recorded.has(o.row.id)) options.observer?.recorded(o.row.method, o.changes.state);
    }
  }

  /**
   * Records a round's outcomes as its sendings finish, not when the whole round does: a fast channel's
   * messages are not held, still claimed, with those of a slow one. What finishes while a record is being
   * written goes into the next one, so a round of quick sends still costs a transaction or two, not one
   * each.
   */
  function recordAsDone() {
    let waiting: Outcome[] = [];
    let writing: Promise<void> = Promise.resolve();
    let busy = false;
    const writeWaiting = async (): Promise<void> => {
      busy = true;
      while (waiting.length > 0) {
        const batch = waiting;
        waiting = [];
        await recordSent(batch).catch((error: unknown) => {
          // Unrecorded: the lease runs out and another round takes these again.
          log.error(
            { err: error, notificationIds: batch.map((o) => o.row.id) },
            'the outcome of sent notifications could not be recorded',
          );
        });
      }
      busy = false;
    };
    return {
      add(outcomes: Outcome[]): void {
        waiting.push(...outcomes);
        if (!busy) writing = writeWaiting();
      },
      settled: () => writing,
    };
  }

  /**
   * Keeps the round's claim while it sends, renewing the lease every third of it: a slow channel (an email
   * relay answering each command just within its timeout) must not let another round take the messages
   * still being sent, and send them again. Messages already recorded are no longer renewed.
   */
  function keepClaim(rows: readonly NotificationRow[]): () => void {
    const timer = setInterval(() => {
      repo
        .extendLeases(db, rows, new Date(clock.now().getTime() + leaseMs))
        .catch((error: unknown) => log.warn({ err: error }, 'a notification lease could not be extended'));
    }, leaseMs / 3);
    return () => clearInterval(timer);
  }

  /**
   * What a round reads before it sends: which messages go now and which wait for their throttle (those
   * put back at once), their alerts and their recipients as they are now.
   */
  async function prepareRound(rows: NotificationRow[], now: Date) {
    const { go, wait } = await throttled(rows, now);
    // Taken before the read: the read shows the alerts and recipients as they were no earlier than this.
    const readAt = performance.now();
    const [alertRows, recipients, threads] = await Promise.all([
      alertsRepository.byIds(db, [...new Set(go.map((r) => r.alert_id))]),
      recipientsOf(go),
      emailThreadsRepository.threadsOf(db, [
        ...new Set(go.filter((r) => r.method === 'email').map((r) => r.alert_id)),
      ]),
    ]);
    await record(wait);
    const alertsById = new Map<string, RoundAlert>(
      alertRows.map((a) => [a.id, { ...a, threadMessage: threads.get(a.id) }]),
    );
    return { go, reads: roundReads(alertsById, recipients, readAt) };
  }

  /**
   * A round: claims and sends what is due, but none of a pool-limited type whose lane another round
   * holds (returned as `skipped`, for the round's next due time).
   */
  async function sendRound(now: Date): Promise<{ claimed: number; skipped: string[] }> {
    const lanes = pooled.filter((type) => !lanesTaken.has(type));
    const skipped = pooled.filter((type) => lanesTaken.has(type));
    for (const type of lanes) lanesTaken.add(type);
    for (const type of skipped) lanesWanted.add(type);
    const held = new Set<string>(lanes);
    const freeHeld = (type: string, more = false) => {
      if (held.delete(type)) freeLane(type, more);
    };
    const freeLanes = (keep: ReadonlySet<string> = new Set()) => {
      for (const type of held) if (!keep.has(type)) freeHeld(type);
    };
    const deadline =
      held.size === 0
        ? undefined
        : setTimeout(() => {
            if (held.size === 0) return;
            log.warn(
              { lanes: [...held], afterMs: laneDeadlineMs },
              'a notification round has held its lane too long (a send that does not end?); the next ' +
                'round takes it meanwhile',
            );
            freeLanes();
          }, laneDeadlineMs);
    deadline?.unref();
    try {
      const rows = await repo.claimDue(db, now, new Date(now.getTime() + leaseMs), batchSize, skipped);
      // A lane this round claimed nothing of is another round's at once.
      freeLanes(new Set(rows.map((r) => r.method)));
      if (rows.length === 0) return { claimed: 0, skipped };
      const round = await prepareRound(rows, now).catch(async (error: unknown) => {
        // Nothing was sent: the messages go back at once rather than wait for the lease (best effort: the
        // database may be what failed, and then the lease gives them back).
        await repo.release(db, rows, clock.now()).catch((released: unknown) => {
          log.warn({ err: released }, 'claimed notifications could not be given back; their lease will');
        });
        throw error;
      });
      const sends = sendings(round.go);
      // The sends of each held type still to take their turn on its pool: at none, the lane passes on.
      const turnsLeft = new Map<string, number>();
      for (const sending of sends) {
        const method = sending[0]?.method;
        if (method && held.has(method)) turnsLeft.set(method, (turnsLeft.get(method) ?? 0) + 1);
      }
      // Those put back to wait for their throttle hold no lane.
      freeLanes(new Set(turnsLeft.keys()));
      // Only what goes now: those put back to wait for their throttle are another round's to claim.
      const stopKeeping = keepClaim(round.go);
      try {
        const recorder = recordAsDone();
        await Promise.all(
          sends.map((sending) => {
            const method = sending[0]?.method ?? '';
            let taken = false;
            // Once per send: when it takes its turn, or ends without one.
            const tookTurn = () => {
              if (taken) return;
              taken = true;
              const left = (turnsLeft.get(method) ?? 0) - 1;
              turnsLeft.set(method, left);
              // A full batch likely left more waiting: a sleeping round claims it now, not this one
              // once its last sends end.
              if (left <= 0) freeHeld(method, rows.length >= batchSize);
            };
            return deliver(sending, round.reads, now, tookTurn)
              .then(recorder.add, (error: unknown) => {
                // Unsent: its lease runs out and another round takes it again.
                log.error(
                  { err: error, notificationIds: sending.map((r) => r.id) },
                  'a notification could not be sent',
                );
              })
              .finally(tookTurn);
          }),
        );
        await recorder.settled();
      } finally {
        stopKeeping();
      }
      return { claimed: rows.length, skipped };
    } finally {
      clearTimeout(deadline);
      freeLanes();
    }
  }

  async function sendDue(now: Date): Promise<number> {
    return (await sendRound(now)).claimed;
  }

  return {
    sendDue,
    queue: ({ idleMs } = {}) => ({
      name: QUEUES.notifications,
      // Three rounds side by side: the one holding the email lane, the one that passed it on and waits for
      // its last sends (or records), and one that sends the other types meanwhile (lanes, above). With
      // two, an SMS page due while a slow relay holds both waited for the older round's last turn.
      concurrency: 3,
      idleMs: idleMs ?? 5000,
      async round(now) {
        const { claimed, skipped } = await sendRound(now);
        if (claimed >= batchSize) return { more: true };
        // The types left to the round that holds their lane are its to take (this one is woken when the
        // lane frees): counted here, they would keep this one looking again every few milliseconds while
        // the relay is slow.
        const kept =
          skipped.length === 0 ? undefined : CONTACT_METHOD_TYPES.filter((t) => !skipped.includes(t));
        return { more: false, nextDueAt: await repo.nextDueAt(db, kept) };
      },
      backlog: (now) => repo.backlog(db, now, BACKLOG_COUNT_LIMIT),
    }),
  };
}
