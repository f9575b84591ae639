import assert from 'node:assert/strict';
import { Migrator, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { MIGRATION_NAMES } from '../db/migrate.js';
import { createTestDatabase } from './harness.js';

/**
 * A fresh database migrated up to the migration before `migration`, for a test that fills it as an
 * older Vigil would and then runs `migrator.migrateTo(migration)` (and back down to `previous`).
 */
export async function databaseBefore(
  migration: string,
): Promise<{ db: Db; migrator: Migrator; previous: string }> {
  const db = createDb(createPool(await createTestDatabase(), 2));
  const migrations: Record<string, Migration> = {};
  for (const name of MIGRATION_NAMES)
    migrations[name] = (await import(`../db/migrations/${name}.js`)) as Migration;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const previous = MIGRATION_NAMES[MIGRATION_NAMES.indexOf(migration) - 1];
  assert.ok(previous, `no migration comes before ${migration}`);
  assert.equal((await migrator.migrateTo(previous)).error, undefined);
  return { db, migrator, previous };
}
