import type { Db } from '../../../db/database.js';
import type { Clock } from '../../../work/clock.js';
import { writebacksRepository } from './repository.js';

/**
 * A token bucket per AWS account and region, kept in PostgreSQL so that every Vigil process draws from
 * the same one: AWS counts the requests of all of them together.
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

/** Refills the bucket for the time since it was last drawn from, then takes one token if there is one. */
export function drawToken(bucket: TokenBucket, now: Date, limit: RateLimit): TokenDraw {
  // A clock behind the bucket's (another process's) adds nothing rather than taking tokens away.
  const elapsedSeconds = Math.max(0, (now.getTime() - bucket.updatedAt.getTime()) / 1000);
  const available = Math.min(limit.burst, bucket.tokens + elapsedSeconds * limit.ratePerSecond);
  if (available < 1) return { taken: false, waitMs: ((1 - available) / limit.ratePerSecond) * 1000 };
  return { taken: true, tokensLeft: available - 1 };
}

/** Polling a bucket faster than this would only load the database. */
const MIN_WAIT_MS = 10;

export function createRateLimiter(deps: { db: Db; clock: Clock; limit: RateLimit }) {
  const { db, clock, limit } = deps;
  return {
    /** Takes one token from `key`'s bucket, waiting as long as it takes to get one. */
    async acquire(key: string): Promise<void> {
      for (;;) {
        const waitMs = await db.transaction().execute(async (tx) => {
          const now = clock.now();
          const bucket = await writebacksRepository.lockRateBucket(tx, key, limit.burst, now);
          const draw = drawToken(bucket, now, limit);
          if (!draw.taken) return draw.waitMs;
          await writebacksRepository.saveRateBucket(tx, key, draw.tokensLeft, now);
          return 0;
        });
        if (waitMs <= 0) return;
        await sleep(Math.max(MIN_WAIT_MS, waitMs));
      }
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
