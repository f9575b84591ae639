import { sql, type RawBuilder } from 'kysely';
import type { Queryable } from '../../db/database.js';

/**
 * The time a statement counts at, in milliseconds since the epoch: a given one (a test's clock), or
 * PostgreSQL's, the one clock every process shares.
 */
export type CountedAt = number | 'database';

function nowOf(at: CountedAt): RawBuilder<number> {
  return at === 'database'
    ? sql<number>`(extract(epoch FROM statement_timestamp()) * 1000)::float8`
    : sql<number>`${at}::float8`;
}

/** The SQL of the keys' request rate limit (key_rate_limits, migration 0075). Rules: limiter.ts. */
export const keyRateLimitsRepository = {
  /**
   * Takes the next request of `bucket` if it is within the limit at `at`, in one statement under the
   * bucket's row lock (processes side by side count against the same row): GCRA, where the bucket holds
   * the time its next request would be on time at the steady rate (`intervalMs` apart), and a request is
   * taken while that stays within `burst` intervals of now. Also answers that time and now, for the
   * wait of a request not taken: read from the statement's snapshot, so another process's take committed
   * meanwhile is not in it, which at worst makes the wait a request's interval shorter than it is.
   */
  async take(
    q: Queryable,
    bucket: string,
    at: CountedAt,
    intervalMs: number,
    burst: number,
  ): Promise<{ taken: boolean; tatMs: number | undefined; nowMs: number }> {
    const now = nowOf(at);
    const { rows } = await sql<{ taken: boolean; tat_ms: number | null; now_ms: number }>`
      WITH taken AS (
        INSERT INTO key_rate_limits AS b (bucket, tat_ms)
        VALUES (${bucket}, ${now} + ${intervalMs}::float8)
        ON CONFLICT (bucket) DO UPDATE
          SET tat_ms = greatest(b.tat_ms, ${now}) + ${intervalMs}::float8
          WHERE greatest(b.tat_ms, ${now}) + ${intervalMs}::float8
            <= ${now} + ${burst}::float8 * ${intervalMs}::float8
        RETURNING tat_ms
      )
      SELECT EXISTS (SELECT 1 FROM taken) AS taken,
        (SELECT tat_ms FROM key_rate_limits WHERE bucket = ${bucket}) AS tat_ms,
        ${now} AS now_ms
    `.execute(q);
    const row = rows[0];
    return { taken: row?.taken === true, tatMs: row?.tat_ms ?? undefined, nowMs: Number(row?.now_ms) };
  },
};
