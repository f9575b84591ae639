import { sql, type Kysely } from 'kysely';

/**
 * The request rate limit of API keys (VIGIL_API_RATE_LIMIT_PER_MINUTE; accounts/key-rate-limits): one
 * row per key and request domain, holding when the key's next request would be on time at the limit's
 * steady rate (GCRA's "theoretical arrival time", in milliseconds since the epoch). UNLOGGED: a row is
 * written on every limited request, and writing no WAL for it keeps the request from waiting for a
 * flush of its own; after a crash or on a standby the table is empty, which only forgets how far ahead
 * of the limit each key was.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE UNLOGGED TABLE key_rate_limits (
      bucket text PRIMARY KEY,
      tat_ms double precision NOT NULL
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE key_rate_limits;`.execute(db);
}
