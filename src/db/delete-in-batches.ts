import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type RawBuilder } from 'kysely';
import type { Queryable } from './database.js';
import type { Database } from './schema.js';

/** How many rows a retention purge deletes in one statement. */
export const PURGE_BATCH_ROWS = 5_000;

/** What a purge started in {@link stoppingAt} stops at. */
const stopSignal = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `work` (purges, with their callers' own arguments) so that every deleteInBatches in it ends after
 * the batch under way once `signal` is aborted: a purge after a flood deletes batch after batch for long,
 * and a stopping process must not wait for all of them. What is left goes at the next purge.
 */
export function stoppingAt<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return stopSignal.run(signal, work);
}

/**
 * Deletes the rows of `table` that `condition` picks, `batchRows` at a time, each batch a statement of its
 * own (its own transaction on a pool): after a flood a retention purge would otherwise delete millions of
 * rows in one statement, holding their locks and its snapshot (which keeps vacuum from reclaiming any
 * table's dead rows) for as long as it runs. A row changed by another transaction between a batch's
 * choice and its delete has moved (another ctid) and is left for the next purge. Inside
 * {@link stoppingAt}, it also ends between batches once its signal is aborted. Returns how many went.
 */
export async function deleteInBatches(
  db: Queryable,
  table: keyof Database & string,
  condition: RawBuilder<unknown>,
  batchRows = PURGE_BATCH_ROWS,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await sql`
      DELETE FROM ${sql.table(table)} WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM ${sql.table(table)} WHERE ${condition} LIMIT ${batchRows}))`.execute(db);
    const batch = Number(result.numAffectedRows ?? 0);
    deleted += batch;
    if (batch < batchRows || stopSignal.getStore()?.aborted) return deleted;
  }
}
