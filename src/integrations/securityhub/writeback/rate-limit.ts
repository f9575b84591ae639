import type { Db } from '../../../db/database.js';
import type { Clock } from '../../../work/clock.js';
import { writebacksRepository } from './repository.js';

/**
 * A token bucket per AWS account and region, kept in PostgreSQL so that every Vigil process draws from
 * the same one: AWS counts the requests of all of them together. When AWS throttles all the same (other
 * callers share its limit), the bucket is held empty until then (`hold`): every process's requests to
 * that account and region wait, rather than keep filling AWS's limit with requests it refuses.
 */

export interface TokenBucket {
  tokens: number;
  updatedAt: Date;
}

export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

export type TokenDraw = { taken: true; tokensLeft: number } | { taken: false; waitMs: number };

/** The tokens in the bucket at `now`: refilled for the time since it was last drawn from. */
function available(bucket: TokenBucket, now: Date, limit: RateLimit): number {
  // A clock behind the bucket's (another process's) adds nothing rather than taking tokens away.
  const elapsedSeconds = Math.max(0, (now.getTime() - bucket.updatedAt.getTime()) / 1000);
  return Math.min(limit.burst, bucket.tokens + elapsedSeconds * limit.ratePerSecond);
}

/** Refills the bucket for the time since it was last drawn from, then takes one token if there is one. */
export function drawToken(bucket: TokenBucket, now: Date, limit: RateLimit): TokenDraw {
  const tokens = available(bucket, now, limit);
  if (tokens < 1) return { taken: false, waitMs: ((1 - tokens) / limit.ratePerSecond) * 1000 };
  return { taken: true, tokensLeft: tokens - 1 };
}

/**
 * The bucket held empty until `until`: in debt by as many tokens as the rate brings back by then, so its
 * next token comes at `until` and the rate follows (AWS's own bucket is empty after a throttle, not full).
 * A hold already longer is kept.
 */
export function holdBucket(bucket: TokenBucket, now: Date, until: Date, limit: RateLimit): number {
  const debt = 1 - (Math.max(0, until.getTime() - now.getTime()) / 1000) * limit.ratePerSecond;
  return Math.min(available(bucket, now, limit), debt);
}

/**
 * What `acquire` answers: a token, or, when the bucket is held by a throttle (a wait longer than a
 * token's refill), when the hold ends. A held bucket is not waited out in the round: the hold may last
 * minutes, longer than the round's lease, and the round's other requests (other accounts) would wait
 * behind it.
 */
export type Acquired = { taken: true } | { taken: false; heldUntil: Date };

/** Polling a bucket faster than this would only load the database. */
const MIN_WAIT_MS = 10;

export function createRateLimiter(deps: { db: Db; clock: Clock; limit: RateLimit }) {
  const { db, clock, limit } = deps;
  return {
    /**
     * Takes one token from `key`'s bucket, waiting for it while the bucket merely refills; a bucket
     * held by a throttle is not waited for (see Acquired).
     */
    async acquire(key: string): Promise<Acquired> {
      // Longer than one token takes to come back: only a hold leaves the bucket that far in debt.
      const refillMs = 1000 / limit.ratePerSecond;
      for (;;) {
        const wait = await db.transaction().execute(async (tx) => {
          const now = clock.now();
          const bucket = await writebacksRepository.lockRateBucket(tx, key, limit.burst, now);
          const draw = drawToken(bucket, now, limit);
          if (!draw.taken) return { now, waitMs: draw.waitMs };
          await writebacksRepository.saveRateBucket(tx, key, draw.tokensLeft, now);
          return undefined;
        });
        if (!wait) return { taken: true };
        // Rounded, not ceiled: the wait back out of the bucket's floating-point debt is the hold's end
        // give or take a rounding error, and a ms past it would have the changes held back fall due
        // after the throttled request's, which came due at that end, and go in a request of their own.
        if (wait.waitMs > refillMs + 1)
          return { taken: false, heldUntil: new Date(wait.now.getTime() + Math.round(wait.waitMs)) };
        await sleep(Math.max(MIN_WAIT_MS, wait.waitMs));
      }
    },

    /** Holds `key`'s bucket empty until `until`: AWS throttled a request to its account and region. */
    async hold(key: string, until: Date): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const now = clock.now();
        const bucket = await writebacksRepository.lockRateBucket(tx, key, limit.burst, now);
        await writebacksRepository.saveRateBucket(tx, key, holdBucket(bucket, now, until, limit), now);
      });
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
