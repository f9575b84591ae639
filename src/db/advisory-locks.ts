import { sql } from 'kysely';
import type { Tx } from './database.js';

/**
 * Takes the transaction's advisory lock on each of these names (held until its commit or rollback), in
 * the one order every transaction takes them (`vigil_lock_names`, migration 0042), so two can never wait
 * on each other in a cycle. Taking a lock already held is a no-op.
 */
export async function lockNames(tx: Tx, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await sql`SELECT vigil_lock_names(${names}::text[])`.execute(tx);
}
