import { sql } from 'kysely';
import { withQueryAllowance, type Db } from '../db/database.js';
import { stoppingAt } from '../db/delete-in-batches.js';
import type { Logger } from '../logger.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkQueueSpec } from '../work/runner.js';

/** How much longer than the pool's bound a purge's statement may take: a batch's scan of a big table. */
export const PURGE_ALLOWANCE_MS = 30 * 60_000;

/**
 * Retention, as a queue: once an hour (the `retention` row of work_schedules says when next), one process
 * claims the run and purges what is past its time. Each purge is a module's own (`purges`).
 */

const EVERY_MS = 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
/** How soon a run in which a purge failed comes again. */
const RETRY_MS = 5 * 60_000;

/**
 * The cut-off of a retention of `days`, from the engine's `now`: purges compare with it rather than with the
 * database's now(), so that a test moves its clock on a month instead of waiting one.
 */
export function daysBefore(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

export function retentionQueue(deps: {
  db: Db;
  log: Logger;
  purges: readonly { what: string; purge: (now: Date) => Promise<number> }[];
}): WorkQueueSpec {
  const { db, log } = deps;
  return {
    name: QUEUES.retention,
    idleMs: EVERY_MS,
    async round(now, stop = new AbortController().signal) {
      // The first run a few minutes after the first start; then every hour, whoever claims it.
      await sql`
        INSERT INTO work_schedules (name, next_at) VALUES ('retention', ${new Date(now.getTime() + 5 * 60_000)})
        ON CONFLICT (name) DO NOTHING`.execute(db);
      const claimed = await sql<{ next_at: Date }>`
        UPDATE work_schedules SET next_at = ${new Date(now.getTime() + EVERY_MS)}
        WHERE name = 'retention' AND next_at <= ${now}
        RETURNING next_at`.execute(db);
      if (claimed.rows.length === 0) {
        const next = await db
          .selectFrom('work_schedules')
          .select('next_at')
          .where('name', '=', 'retention')
          .executeTakeFirst();
        return { more: false, nextDueAt: next?.next_at ?? null };
      }
      // One purge that fails (a lock timeout after a backlog) must not skip the others: each is tried, and
      // the run comes again in a few minutes rather than an hour (purges are idempotent).
      let failed = false;
      for (const { what, purge } of deps.purges) {
        if (stop.aborted) break;
        try {
          // Longer than the workers' pool's bound (VIGIL_DATABASE_QUERY_TIMEOUT_SECONDS): a purge scans what
          // it purges, some without an index (the Security Hub findings), and a batch on a big table may
          // rightly take minutes. Still bounded: a database gone silent under one must not hold it for good.
          // A purge deleting in batches ends after the batch under way when the process stops.
          const removed = await withQueryAllowance(PURGE_ALLOWANCE_MS, () =>
            stoppingAt(stop, () => purge(now)),
          );
          if (removed > 0) log.info({ removed, what }, `purged ${what} past retention`);
        } catch (error) {
          failed = true;
          log.error(
            { err: error, what },
            `purging ${what} failed; the others go on, and it is tried again soon`,
          );
        }
      }
      // A stopping process leaves what it did not purge to the next run, soon after (as after a failure).
      if (stop.aborted) failed = true;
      if (!failed) return { more: false, nextDueAt: claimed.rows[0]?.next_at ?? null };
      const retryAt = new Date(now.getTime() + RETRY_MS);
      await sql`UPDATE work_schedules SET next_at = ${retryAt} WHERE name = 'retention'`.execute(db);
      return { more: false, nextDueAt: retryAt };
    },
  };
}
