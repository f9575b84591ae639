import { randomUUID } from 'node:crypto';
import type { AlertsService } from '../../../alerts/service.js';
import type { Db } from '../../../db/database.js';
import type { Clock } from '../../../work/clock.js';
import { eventDeliveriesRepository } from '../../../engine/events/repository.js';
import { QUEUES } from '../../../work/queue-names.js';
import { BACKLOG_COUNT_LIMIT, type WorkQueueSpec, type WorkSignal } from '../../../work/runner.js';
import type { Logger } from '../../../logger.js';
import { productLocation, type AwsAccess } from './aws.js';
import { GATHER_QUIET_MS, gatherCutoffs, latestPerFindingField, planRequests } from './batching.js';
import { createChangeRecorder, WRITEBACK_CONSUMER } from './change-recorder.js';
import type { ClaimedChange } from './changes.js';
import { createOutcomeRecorder } from './outcomes.js';
import { createRateLimiter } from './rate-limit.js';
import { writebacksRepository } from './repository.js';
import { checkRole, type RoleCheck } from './role-check.js';
import { createSender } from './sender.js';

export { changeFor } from './changes.js';
export { MAX_FINDINGS_PER_REQUEST } from './batching.js';

/**
 * The write-back: what people do to alerts from findings goes back to the findings through
 * BatchUpdateFindings. Changes wait in securityhub_writebacks (durable, written from the alert's event),
 * are grouped by integration and identical change (up to 100 findings a request) after a short gathering
 * window, pass a rate limiter kept in PostgreSQL (shared by every process), and are retried until they
 * succeed, fail for good, or are a day old.
 *
 * Each round of the sender's queue: claim what is due → plan the requests (batching.ts) → send each
 * (sender.ts) → settle its changes (outcomes.ts). The round's claim has an id of its own: a request goes
 * only with the changes still under it, their lease renewed right before (sender.ts), and only it settles
 * them. A round longer than its lease (many requests behind the rate limiter, or a slow AWS) so leaves
 * what it has not reached yet to any process that takes it over.
 */

/** Bounds one round's transaction; what is left is claimed by the next round at once. */
const CLAIM_LIMIT = 1000;
/**
 * How many lanes of a round (an integration's requests to one region) are sent side by side: a few, so
 * that a busy account does not hold up the others, while a round's connections stay few.
 */
const LANES_AT_ONCE = 4;
/** While changes gather, the queue looks again this soon. */
const RECHECK_MS = 50;
/**
 * While every change claimed is held back to fill its batch, the queue looks again no later than this
 * (or when a change is recorded, which wakes it). Nothing wakes it when another integration's changes
 * finish gathering, a retry falls due, or alert events in flight turn out to change no finding (and the
 * held tail stops counting as still arriving): looking again only at the end of the hold (up to
 * FILLING_MAX_WAIT_MS) would delay those by as much. As long as the gathering's pause, it costs a few
 * claims per second of hold instead of one every few milliseconds.
 */
const HELD_RECHECK_MS = GATHER_QUIET_MS;

export interface WritebackOptions {
  /** AWS's limit is 10 requests/s with a burst of 30 per account and region; Vigil keeps under it. */
  ratePerSecond?: number;
  burst?: number;
  /** How long a claimed batch is reserved for its process before another may take it over. */
  leaseSeconds?: number;
  /** Backoff between retries: from baseDelayMs doubling up to maxDelayMs, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** What the metrics hear of the write-back: only requests that reached AWS (or were meant to). */
export interface WritebackObserver {
  /** A BatchUpdateFindings request: AWS answered it, throttled it, or it failed otherwise. */
  requested(outcome: 'answered' | 'throttled' | 'failed'): void;
  /**
   * The findings of an answered request that this process settled: updated, to be tried again, or refused
   * for good (none that another process took over meanwhile: that one counts them).
   */
  changes(counts: { written: number; retry: number; refused: number }): void;
}

export function createWriteback(deps: {
  db: Db;
  log: Logger;
  aws: AwsAccess;
  alerts: AlertsService;
  /** Every time the write-back compares or records is this clock's (tests move it instead of waiting). */
  clock: Clock;
  /** Wakes the sender's queue when changes are recorded. */
  signal: WorkSignal;
  options?: WritebackOptions;
  /** Told of each request's outcome once recorded (the metrics). */
  observer?: WritebackObserver;
}) {
  const { db, log, aws, clock } = deps;
  const leaseMs = (deps.options?.leaseSeconds ?? 30) * 1000;
  const rateLimiter = createRateLimiter({
    db,
    clock,
    limit: { ratePerSecond: deps.options?.ratePerSecond ?? 9, burst: deps.options?.burst ?? 25 },
  });
  const sender = createSender({ db, log, aws, rateLimiter, clock, leaseMs });
  const outcomes = createOutcomeRecorder({
    db,
    log,
    alerts: deps.alerts,
    clock,
    backoff: { baseMs: deps.options?.baseDelayMs ?? 1000, maxMs: deps.options?.maxDelayMs ?? 300_000 },
    rateLimiter,
  });
  const consumer = createChangeRecorder({ db, clock, signal: deps.signal });

  /** Claims what is due, keeping only the latest change of each finding's field. */
  async function claim(now: Date, eventsInFlight: boolean, claimId: string): Promise<ClaimedChange[]> {
    return db.transaction().execute(async (tx) => {
      const claimed = await writebacksRepository.claimDue(tx, {
        now,
        leaseUntil: new Date(now.getTime() + leaseMs),
        ...gatherCutoffs(now),
        eventsInFlight,
        limit: CLAIM_LIMIT,
        claimId,
      });
      const { latest, superseded } = latestPerFindingField(claimed);
      await writebacksRepository.supersede(
        tx,
        superseded.map((c) => c.id),
        now,
      );
      return latest;
    });
  }

  async function sendAndSettle(batch: readonly ClaimedChange[], claimId: string): Promise<void> {
    try {
      const outcome = await sender.send(batch, claimId);
      // What this claim settled, not what AWS's answer named: when the lease ran out while AWS answered,
      // the process that took the changes over settles and counts them (once).
      const settled = await outcomes.record(batch, outcome, claimId);
      if (outcome.kind === 'answered') {
        deps.observer?.requested('answered');
        deps.observer?.changes({ written: settled.done, retry: settled.retry, refused: settled.refused });
      } else if (outcome.kind === 'request-failed') {
        deps.observer?.requested(outcome.throttled ? 'throttled' : 'failed');
      }
    } catch (error) {
      log.error({ err: error }, 'write-back batch failed; it will be retried');
      await outcomes.retryLater(batch, (error as Error).message, claimId).catch(() => {});
    }
  }

  /**
   * Sends a round's requests, one after another in each lane (an integration's requests to one region,
   * which all draw from one account's bucket), the lanes side by side, up to LANES_AT_ONCE at once. One
   * after another for all, another account's request would wait behind every request of the round before
   * it, each waiting its turn at its bucket (9 a second) and then AWS (AssumeRole, then
   * BatchUpdateFindings): an acknowledgement behind a bulk close's tens of seconds. In a lane, a request
   * still follows the one before it: after a throttle, the next ones find the bucket held (rate-limit.ts)
   * rather than go out into it.
   */
  async function sendInLanes(requests: readonly ClaimedChange[][], claimId: string): Promise<void> {
    const lanes = new Map<string, ClaimedChange[][]>();
    for (const batch of requests) {
      const first = batch[0];
      if (!first) continue;
      const key = `${first.integrationId}|${productLocation(first.productArn)}`;
      lanes.set(key, [...(lanes.get(key) ?? []), batch]);
    }
    const waiting = [...lanes.values()];
    const runLanes = async (): Promise<void> => {
      for (let lane = waiting.shift(); lane; lane = waiting.shift()) {
        for (const batch of lane) await sendAndSettle(batch, claimId);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LANES_AT_ONCE, waiting.length) }, runLanes));
  }

  /**
   * One round of the sender. Returns how many changes it sent (or tried to), and, when it held back
   * changes waiting for more of their kind, when the first of them stops waiting.
   */
  async function sendDueChanges(now: Date): Promise<{ sent: number; heldUntil: Date | null }> {
    // Alert events not yet turned into changes: a pause in new rows means nothing while they wait (a
    // busy machine can stall the event pipeline for longer than the gathering pause in mid-burst).
    const eventsInFlight = await eventDeliveriesRepository.inFlight(db, WRITEBACK_CONSUMER, now);
    const claimId = randomUUID();
    const claimed = await claim(now, eventsInFlight, claimId);
    if (claimed.length === 0) return { sent: 0, heldUntil: null };
    const plan = planRequests(claimed, { now, eventsInFlight });
    await writebacksRepository.release(
      db,
      claimId,
      plan.held.map((c) => c.id),
    );
    await sendInLanes(plan.requests, claimId);
    return { sent: claimed.length - plan.held.length, heldUntil: plan.heldUntil };
  }

  const queue = (options: { idleMs?: number } = {}): WorkQueueSpec => ({
    name: QUEUES.writeback,
    idleMs: options.idleMs ?? 5000,
    async round(now) {
      const { sent, heldUntil } = await sendDueChanges(now);
      if (sent > 0) return { more: true };
      // Held changes are due, so another round at once would only claim and release them again (every
      // round rewrites their rows under the global claim lock) until their wait is over.
      if (heldUntil !== null) {
        return {
          more: false,
          nextDueAt: new Date(Math.min(heldUntil.getTime(), now.getTime() + HELD_RECHECK_MS)),
        };
      }
      // Nothing due: sleep until something may be (a backoff or a throttle's hold ends, a lease runs out)
      // rather than look every few ms through an outage's hours of backoff. Changes still gathering are
      // looked at again soon: a pause, which nothing announces, may end their gathering at any moment.
      const next = await writebacksRepository.nextDue(db, now, gatherCutoffs(now).firstCreatedBefore);
      const times = [
        ...(next.at ? [next.at.getTime()] : []),
        ...(next.gathering ? [now.getTime() + RECHECK_MS] : []),
      ];
      return { more: false, nextDueAt: times.length > 0 ? new Date(Math.min(...times)) : null };
    },
    backlog: (now) => writebacksRepository.backlog(db, now, BACKLOG_COUNT_LIMIT),
  });

  return {
    consumer,
    /** The sender as a queue of the work runner. */
    queue,
    /**
     * Assumes the role and makes one harmless call, reporting each step: the role and region saved,
     * whether write-back is on yet or not (the role is tested before people turn it on).
     */
    async test(integrationId: string): Promise<RoleCheck> {
      return checkRole(
        aws,
        (await writebacksRepository.roleToTest(db, integrationId)) ?? { missing: ['roleArn', 'region'] },
      );
    },
  };
}

export type Writeback = ReturnType<typeof createWriteback>;
