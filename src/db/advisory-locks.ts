import { sql } from 'kysely';
import type { Queryable, Tx } from './database.js';

/**
 * Takes the transaction's advisory lock on each of these names (held until its commit or rollback), in
 * the one order every transaction takes them (`vigil_lock_names`, migration 0042), so two can never wait
 * on each other in a cycle. Taking a lock already held is a no-op.
 */
export async function lockNames(tx: Tx, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await sql`SELECT vigil_lock_names(${names}::text[])`.execute(tx);
}

/**
 * Takes the transaction's advisory lock on `name` shared: it waits for, and keeps out, a transaction that
 * took the name with lockNames (the same key, `hashtextextended(name, 0)`), not others sharing it.
 */
export async function lockNameShared(q: Queryable, name: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock_shared(hashtextextended(${name}, 0))`.execute(q);
}
