import type { Db } from '../../db/database.js';
import type { Clock } from '../../work/clock.js';
import type { RequestDomain } from './domains.js';
import { keyRateLimitsRepository as repo } from './repository.js';

/** At most `perMinute` requests a minute, evened out: `burst` at once, then one every 60/perMinute s. */
export interface KeyRateLimit {
  perMinute: number;
  burst: number;
}

export type KeyRequestVerdict =
  | { allowed: true }
  /** Refused: the next request is within the limit after `retryAfterSeconds` (at least 1). */
  | { allowed: false; retryAfterSeconds: number };

export type KeyRateLimiter = ReturnType<typeof createKeyRateLimiter>;

/**
 * The request rate limit of each API key (a user's, an integration's) in each request domain, counted in
 * PostgreSQL so that every Vigil process serving the API counts against the same limit, as Opsgenie counts
 * an integration's requests wherever they land.
 */
export function createKeyRateLimiter(deps: { db: Db; clock: Clock; limit: KeyRateLimit }) {
  const { db, clock, limit } = deps;
  const intervalMs = 60_000 / limit.perMinute;
  return {
    limit,
    async take(keyId: string, domain: RequestDomain): Promise<KeyRequestVerdict> {
      const bucket = `${keyId}:${domain}`;
      const nowMs = clock.now().getTime();
      const taken = await repo.take(db, bucket, nowMs, intervalMs, limit.burst);
      if (taken !== undefined) return { allowed: true };
      // Read after the refusal, without its lock: another process may have moved it on since, which at
      // worst makes the wait a request's interval longer than it needs to be.
      const tatMs = (await repo.theoreticalArrival(db, bucket)) ?? nowMs;
      const waitMs = tatMs + intervalMs - (nowMs + limit.burst * intervalMs);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
  };
}
