import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { startLoop, type LoopHandle } from './loop.js';

/**
 * Moves alert events from the outbox to graphile-worker, up to `batchSize` at a time, in one
 * transaction: a row leaves the outbox exactly when its job exists. Any number of relays may run
 * (SKIP LOCKED splits the rows between them). One graphile NOTIFY per batch instead of per event is
 * what lets intake commit thousands of changes a second.
 *
 * Events of a type no consumer takes (every repeat of a finding is a `deduplicated` event) leave the
 * outbox without becoming a job: no queue work for nothing.
 */
const RELAY_BATCH = 1000;

/** The event types some consumer takes, or 'all'. */
export type WantedEventTypes = readonly string[] | 'all';

export async function relayOutbox(
  db: Db,
  wanted: WantedEventTypes = 'all',
  batchSize = RELAY_BATCH,
): Promise<number> {
  const all = wanted === 'all';
  const types = wanted === 'all' ? [] : [...wanted];
  return db.transaction().execute(async (tx) => {
    const result = await sql<{ n: number }>`
      WITH batch AS (
        DELETE FROM outbox_jobs
        WHERE id IN (SELECT id FROM outbox_jobs ORDER BY id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
        RETURNING id, task, payload
      ),
      specs AS (
        SELECT array_agg(
          (task, (payload || jsonb_build_object('seq', id))::json, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec ORDER BY id
        ) AS specs
        FROM batch
        WHERE ${all} OR task <> 'alert-event' OR payload->>'type' = ANY(${types}::text[])
      )
      SELECT (SELECT count(*) FROM batch)::int AS n,
             (SELECT count(*) FROM specs, graphile_worker.add_jobs(specs.specs) WHERE specs.specs IS NOT NULL)::int AS added`.execute(
      tx,
    );
    return result.rows[0]?.n ?? 0;
  });
}

/** Runs the relay every `intervalMs`, at once again while batches come back full. */
export function startRelay(db: Db, log: Logger, wanted: WantedEventTypes, intervalMs = 50): LoopHandle {
  return startLoop(
    'outbox relay',
    async () => (await relayOutbox(db, wanted)) >= RELAY_BATCH,
    intervalMs,
    log,
  );
}
