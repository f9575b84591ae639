import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';

/**
 * What `step` returns once the rows `fill` writes are in `table`, on one connection whose cached plan of
 * `step`'s statements was made (generic, as PostgreSQL settles on for a named statement run often) while
 * the table was small and its statistics said so.
 */
export async function withPlanMadeSmall<T>(
  databaseUrl: string,
  table: string,
  step: (db: Db) => Promise<T>,
  fill: (db: Db) => Promise<unknown>,
): Promise<T> {
  const db = createDb(createPool(databaseUrl, 1), { prepare: true });
  try {
    await sql`VACUUM ANALYZE ${sql.table(table)}`.execute(db);
    // The plan is made small only if the table is: rows other tests left would make a sensible plan.
    const stats = await sql<{ rows: number }>`
      SELECT reltuples::int AS rows FROM pg_class WHERE oid = ${table}::regclass`.execute(db);
    const rows = stats.rows[0]?.rows ?? Infinity;
    if (rows > 10) throw new Error(`${table} holds ${rows} rows: empty it before making the plan`);
    await sql`SET plan_cache_mode = force_generic_plan`.execute(db);
    await step(db);
    await fill(db);
    return await step(db);
  } finally {
    await db.destroy();
  }
}
