import { randomUUID } from 'node:crypto';
import { alertsRepository } from '../../../alerts/repository.js';
import type { AlertsService } from '../../../alerts/service.js';
import type { Db } from '../../../db/database.js';
import type { Clock } from '../../../work/clock.js';
import { retryDelayMs } from '../../../work/backoff.js';
import type { Logger } from '../../../logger.js';
import { ALERT_LIMITS, cut } from '../findings.js';
import { describeChange, type ClaimedChange } from './changes.js';
import { UNPROCESSED_RETRY, writebacksRepository, type WritebackStatus } from './repository.js';
import type { RateLimiter } from './rate-limit.js';
import { RETRYABLE_UNPROCESSED, type SendOutcome } from './sender.js';

/**
 * Settles sent changes: done, retried later with backoff, or given up on. Each outcome is told where
 * people look: the alerts' activity logs, the integration's write-back status and, when a change has
 * failed for a day, an alert to the integration's owner team.
 */

/** A change still failing after this long is given up on: the finding has likely moved on by then. */
const GIVE_UP_AFTER_MS = 24 * 3600_000;
/** Attempts counted towards the backoff: by then the delay has long reached its maximum. */
const MAX_BACKOFF_EXPONENT = 20;
const LOG_OWNER = 'Amazon Security Hub';
/** Why changes held back by a throttle all day long were given up: none of them was refused. */
const HELD_FOR_A_DAY =
  "Security Hub throttled the account and region's requests, and held these back (retried for 24 hours)";

/**
 * How many of a request's changes this claim settled, by AWS's answer: marked done, put back to retry (or
 * given up on for age), and given up on as refused. Only those still the claim's: a change another process
 * took over (this one's lease ran out while AWS answered) is that one's to settle and count.
 */
export interface Settled {
  done: number;
  retry: number;
  refused: number;
}

const NONE_SETTLED: Settled = { done: 0, retry: 0, refused: 0 };

/** A day's changes given up on, and the rest, as of `now`. */
function byAge(changes: readonly ClaimedChange[], now: Date) {
  const expired = (c: ClaimedChange) => now.getTime() - c.createdAt.getTime() > GIVE_UP_AFTER_MS;
  return { expired: changes.filter(expired), retries: changes.filter((c) => !expired(c)) };
}

export function createOutcomeRecorder(deps: {
  db: Db;
  log: Logger;
  alerts: AlertsService;
  clock: Clock;
  backoff: { baseMs: number; maxMs: number };
  /** Told of a throttle, to hold the account and region's requests back. */
  rateLimiter: Pick<RateLimiter, 'hold'>;
}) {
  const { db, log, clock } = deps;

  /**
   * Tells the changes' alerts (those not deleted since). The change is settled by then: a log line that
   * cannot be written is reported, not retried.
   */
  async function logOnAlerts(changes: readonly ClaimedChange[], text: string): Promise<void> {
    const alertIds = [...new Set(changes.flatMap((c) => (c.alertId ? [c.alertId] : [])))];
    await alertsRepository
      .addLogsToExisting(
        db,
        alertIds.map((alertId) => ({ alertId, type: 'writeback', log: text, owner: LOG_OWNER })),
      )
      .catch((error: unknown) =>
        log.error({ err: error, alertIds }, 'a write-back outcome could not be written to its alerts'),
      );
  }

  async function setStatus(integrationId: string, status: WritebackStatus): Promise<void> {
    await writebacksRepository.setIntegrationStatus(db, integrationId, status, clock.now());
  }

  /**
   * Retries a request's changes after one backoff, all together (jitter drawn once for the request), so
   * that they go again in as few requests as they went; gives up on those a day old. At least
   * `atLeastMs` from now when AWS said how long to wait. Every outcome lands only on changes still
   * `claimId`'s: one another process took over is its to settle. Returns when they are due again, and
   * how many it settled.
   */
  async function retryLater(
    changes: readonly ClaimedChange[],
    error: string,
    claimId: string,
    atLeastMs = 0,
  ): Promise<{ at: Date; settled: number }> {
    const now = clock.now();
    const { expired, retries } = byAge(changes, now);
    // The request's changes were mostly tried as often as each other; the most tried sets the pace.
    const attempts = Math.max(1, ...retries.map((c) => c.attempts));
    const notBefore = new Date(
      now.getTime() +
        Math.max(
          atLeastMs,
          retryDelayMs(Math.min(attempts, MAX_BACKOFF_EXPONENT), {
            baseMs: deps.backoff.baseMs,
            maxMs: deps.backoff.maxMs,
          }),
        ),
    );
    const rescheduled = await writebacksRepository.reschedule(
      db,
      claimId,
      retries.map((c) => c.id),
      notBefore,
      error,
      now,
    );
    const givenUp =
      expired.length > 0
        ? await giveUp(expired, `${error} (retried for 24 hours)`, claimId, {
            tellOwnerTeam: true,
            sent: true,
          })
        : 0;
    return { at: notBefore, settled: rescheduled.length + givenUp };
  }

  async function giveUp(
    claimed: readonly ClaimedChange[],
    error: string,
    claimId: string,
    /** sent: whether this claim sent them, and `error` is AWS's answer (markFailed). */
    options: { tellOwnerTeam: boolean; sent: boolean },
  ): Promise<number> {
    const failed = new Set(
      await writebacksRepository.markFailed(
        db,
        claimId,
        claimed.map((c) => c.id),
        error,
        clock.now(),
        { sent: options.sent },
      ),
    );
    const changes = claimed.filter((c) => failed.has(c.id));
    const first = changes[0];
    if (!first) return 0;
    await logOnAlerts(
      changes,
      `Could not update the finding in Security Hub (${describeChange(first)}): ${error}`,
    );
    await setStatus(first.integrationId, { ok: false, error });
    if (options.tellOwnerTeam) await alertOwnerTeam(first.integrationId, error);
    return changes.length;
  }

  async function alertOwnerTeam(integrationId: string, error: string): Promise<void> {
    const owner = await writebacksRepository.integrationOwner(db, integrationId);
    if (!owner) return;
    await deps.alerts
      .create(
        {
          orgId: owner.orgId,
          apiKeyId: '',
          userId: undefined,
          username: undefined,
          fullName: undefined,
          role: undefined,
        },
        randomUUID(),
        {
          message: cut(
            `Write-back to Amazon Security Hub is failing for ${owner.integrationName}`,
            ALERT_LIMITS.message,
          ),
          // One open alert per integration, however many changes give up.
          alias: `securityhub-writeback-failing-${owner.integrationId}`,
          description: cut(
            `Updates made in Vigil could not be written to Security Hub for 24 hours. Last error: ${error}\n\nCheck the integration's role ARN, external ID and region, then POST /v2/integrations/${owner.integrationId}/test-writeback.`,
            ALERT_LIMITS.description,
          ),
          tags: ['securityhub', 'writeback'],
          priority: 'P2',
          source: 'Vigil',
        },
        {
          actor: { kind: 'system', name: 'Vigil' },
          resolvedResponders: [{ type: 'team', id: owner.ownerTeamId }],
          // The alias is reserved for Security Hub's alerts (reserved-aliases.ts).
          systemAlias: true,
        },
      )
      .catch((e: unknown) =>
        log.error({ err: e }, 'could not alert the owner team about failing write-back'),
      );
  }

  /**
   * Settles a request's changes as its outcome says. Returns how many of an answered request's changes
   * this claim settled (none for any other outcome).
   */
  async function record(
    batch: readonly ClaimedChange[],
    outcome: SendOutcome,
    claimId: string,
  ): Promise<Settled> {
    const first = batch[0];
    if (!first || outcome.kind === 'taken-over') return NONE_SETTLED;
    if (outcome.kind === 'turned-off') {
      const ended = new Set(
        await writebacksRepository.supersede(
          db,
          batch.map((c) => c.id),
          clock.now(),
          `not sent: ${outcome.reason}`,
          claimId,
        ),
      );
      await logOnAlerts(
        batch.filter((c) => ended.has(c.id)),
        `Not written to Security Hub (${describeChange(first)}): ${outcome.reason}`,
      );
      return NONE_SETTLED;
    }
    if (outcome.kind === 'held') {
      // Not sent: not an attempt, and no answer to tell anyone of. But a throttle that does not let up
      // lets only a round's first request through (it is held again), so the rest would be held round
      // after round, past the day after which retryLater gives up, and nobody told: given up here too.
      const { expired, retries } = byAge(batch, clock.now());
      await writebacksRepository.release(
        db,
        claimId,
        retries.map((c) => c.id),
        outcome.until,
      );
      if (expired.length > 0)
        await giveUp(expired, HELD_FOR_A_DAY, claimId, { tellOwnerTeam: true, sent: false });
      // After the put-back, which matched only those still this claim's: those a turn-off ended while
      // they waited for the throttle are taken back (their request never went).
      await writebacksRepository.takeBackEnded(
        db,
        claimId,
        batch.map((c) => c.id),
        clock.now(),
      );
      return NONE_SETTLED;
    }
    if (outcome.kind === 'request-failed') {
      const context = { integrationId: outcome.integrationId, status: outcome.status, error: outcome.error };
      if (outcome.retryable) {
        log.warn(context, 'write-back will be retried');
        const { throttled } = outcome;
        const { at: retryAt } = await retryLater(
          outcome.sent,
          outcome.error,
          claimId,
          throttled?.retryAfterMs,
        );
        // AWS's limit for the account and region is spent (other callers share it): every request to
        // it waits, this process's and the others', as long as this one (never less than AWS said).
        // Until that very time: the changes held back meanwhile then fall due with this request's, and
        // all go again in as few requests as they went.
        if (throttled) await deps.rateLimiter.hold(throttled.bucket, retryAt);
      } else {
        log.error(context, 'write-back refused');
        await giveUp(outcome.sent, outcome.error, claimId, { tellOwnerTeam: false, sent: true });
      }
      return NONE_SETTLED;
    }
    const done = new Set(
      await writebacksRepository.markDone(
        db,
        claimId,
        outcome.done.map((c) => c.id),
        clock.now(),
      ),
    );
    if (done.size > 0) {
      await logOnAlerts(
        outcome.done.filter((c) => done.has(c.id)),
        `Finding updated in Security Hub: ${describeChange(first)}`,
      );
      await setStatus(first.integrationId, { ok: true });
    }
    const retried =
      outcome.retry.length > 0
        ? await retryLater(
            outcome.retry,
            `${UNPROCESSED_RETRY} (${[...RETRYABLE_UNPROCESSED[first.format]].join(' or ')})`,
            claimId,
          )
        : undefined;
    let refused = 0;
    for (const r of outcome.refused)
      refused += await giveUp([r.change], r.error, claimId, { tellOwnerTeam: false, sent: true });
    return { done: done.size, retry: retried?.settled ?? 0, refused };
  }

  return { record, retryLater };
}

export type OutcomeRecorder = ReturnType<typeof createOutcomeRecorder>;
