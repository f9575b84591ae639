import type { Db } from '../../db/database.js';
import { systemClock, type Clock } from '../../work/clock.js';
import type { RequestDomain } from './domains.js';
import { keyRateLimitsRepository as repo, type CountedAt } from './repository.js';

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

/** Whose clock a limiter on `clock` counts on when given `time` (createKeyRateLimiter's default). */
export function timeOf(clock: Clock, time?: 'database' | 'clock'): 'database' | 'clock' {
  return time ?? (clock === systemClock ? 'database' : 'clock');
}

/**
 * The request rate limit of each API key (a user's, an integration's) in each request domain, counted in
 * PostgreSQL so that every Vigil process serving the API counts against the same limit, as Opsgenie counts
 * an integration's requests wherever they land.
 */
export function createKeyRateLimiter(deps: {
  db: Db;
  clock: Clock;
  limit: KeyRateLimit;
  /**
   * Whose clock counts: PostgreSQL's by default on the system clock, as processes' clocks differ (one 10 s
   * ahead would push a key's standing ahead, and the processes behind it would refuse a key sending at
   * half its limit); the Clock's otherwise (a test's).
   */
  time?: 'database' | 'clock';
}) {
  const { db, clock, limit } = deps;
  const time = timeOf(clock, deps.time);
  const intervalMs = 60_000 / limit.perMinute;
  const countedAt = (): CountedAt => (time === 'database' ? 'database' : clock.now().getTime());
  return {
    limit,
    async take(keyId: string, domain: RequestDomain): Promise<KeyRequestVerdict> {
      const bucket = `${keyId}:${domain}`;
      const at = countedAt();
      const { taken, tatMs, nowMs } = await repo.take(db, bucket, at, intervalMs, limit.burst);
      if (taken) return { allowed: true };
      const waitMs = (tatMs ?? nowMs) + intervalMs - (nowMs + limit.burst * intervalMs);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
  };
}
