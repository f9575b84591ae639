import { sql } from 'kysely';
import type { Queryable } from '../../db/database.js';

/** The SQL of the keys' request rate limit (key_rate_limits, migration 0075). Rules: limiter.ts. */
export const keyRateLimitsRepository = {
  /**
   * Takes the next request of `bucket` if it is within the limit at `nowMs`, in one statement under the
   * bucket's row lock (processes side by side count against the same row): GCRA, where the bucket holds
   * the time its next request would be on time at the steady rate (`intervalMs` apart), and a request is
   * taken while that stays within `burst` intervals of now. Undefined when it is not taken.
   */
  async take(
    q: Queryable,
    bucket: string,
    nowMs: number,
    intervalMs: number,
    burst: number,
  ): Promise<number | undefined> {
    const { rows } = await sql<{ tat_ms: number }>`
      INSERT INTO key_rate_limits AS b (bucket, tat_ms)
      VALUES (${bucket}, ${nowMs}::float8 + ${intervalMs}::float8)
      ON CONFLICT (bucket) DO UPDATE
        SET tat_ms = greatest(b.tat_ms, ${nowMs}::float8) + ${intervalMs}::float8
        WHERE greatest(b.tat_ms, ${nowMs}::float8) + ${intervalMs}::float8
          <= ${nowMs}::float8 + ${burst}::float8 * ${intervalMs}::float8
      RETURNING tat_ms
    `.execute(q);
    return rows[0]?.tat_ms;
  },

  /** When the bucket's next request would be on time at the steady rate. */
  async theoreticalArrival(q: Queryable, bucket: string): Promise<number | undefined> {
    const row = await q
      .selectFrom('key_rate_limits')
      .select('tat_ms')
      .where('bucket', '=', bucket)
      .executeTakeFirst();
    return row?.tat_ms;
  },
};
