import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from './database.js';
import { MIGRATION_NAMES, migrate, pendingMigrations, UnknownAndPendingMigrationsError } from './migrate.js';
import { createLogger } from '../logger.js';
import { createTestDatabase } from '../testing/harness.js';

/**
 * Versions side by side on one database during a rolling upgrade: an older Vigil must still start on a
 * database a newer one has migrated, and refuse one it cannot run on, saying what to do.
 */

const LAST = MIGRATION_NAMES[MIGRATION_NAMES.length - 1]!;
const BEFORE_LAST = MIGRATION_NAMES[MIGRATION_NAMES.length - 2]!;
const FUTURE = '0999_future';

const opened: Db[] = [];
after(async () => {
  await Promise.all(opened.map((db) => db.destroy()));
});

/** A database with every migration of this code applied, and a logger whose lines the test reads. */
async function migratedDatabase() {
  // Two connections: migrate() holds one for its lock while the migrations run on the other.
  const pool = createPool(await createTestDatabase({ migrated: true }), 2);
  const db = createDb(pool);
  opened.push(db);
  let logged = '';
  const output = new PassThrough();
  output.on('data', (chunk: Buffer) => (logged += chunk.toString()));
  const log = createLogger('info', output);
  await migrate(db, pool, log);
  logged = '';
  const lines = () =>
    logged
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; unknownMigrations?: string[] });
  return { db, pool, log, lines };
}

/** What a newer Vigil leaves behind: a migration this code does not know. */
async function recordFutureMigration(db: Db): Promise<void> {
  await sql`INSERT INTO kysely_migration (name, timestamp) VALUES (${FUTURE}, now())`.execute(db);
}

async function executed(db: Db): Promise<string[]> {
  const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
  return rows.rows.map((r) => r.name);
}

describe('migrate on a database of another version', () => {
  it('starts, runs nothing and warns once when a newer Vigil has migrated the database', async () => {
    const { db, pool, log, lines } = await migratedDatabase();
    await recordFutureMigration(db);

    assert.deepEqual(await migrate(db, pool, log), { applied: [] });

    const warnings = lines().filter((line) => line.level === 40);
    assert.equal(warnings.length, 1, JSON.stringify(lines()));
    assert.deepEqual(warnings[0]!.unknownMigrations, [FUTURE]);
    assert.match(warnings[0]!.msg, /newer than this Vigil/);
    assert.match(warnings[0]!.msg, /upgrade this process/);
    // Ready: nothing of this code's is pending.
    assert.deepEqual(await pendingMigrations(db), []);
    assert.deepEqual(await executed(db), [...MIGRATION_NAMES, FUTURE].sort());
  });

  it('refuses, saying what to do, when the database has unknown migrations and lacks one of ours', async () => {
    const { db, pool, log } = await migratedDatabase();
    await recordFutureMigration(db);
    await sql`DELETE FROM kysely_migration WHERE name = ${LAST}`.execute(db);

    await assert.rejects(migrate(db, pool, log), (error: unknown) => {
      assert.ok(error instanceof UnknownAndPendingMigrationsError, String(error));
      assert.deepEqual(error.unknown, [FUTURE]);
      assert.deepEqual(error.pending, [LAST]);
      assert.match(error.message, new RegExp(`does not know \\(${FUTURE}\\)`));
      assert.match(error.message, new RegExp(`lacks some it needs \\(${LAST}\\)`));
      assert.match(error.message, /Run the newest Vigil on this database, or restore/);
      return true;
    });
    // Nothing ran: the missing migration stays missing.
    assert.ok(!(await executed(db)).includes(LAST));
  });

  it('with nothing unknown, applies what is pending as before', async () => {
    const { db, pool, log, lines } = await migratedDatabase();
    const migrations: Record<string, Migration> = {};
    for (const name of MIGRATION_NAMES)
      migrations[name] = (await import(`./migrations/${name}.js`)) as Migration;
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    assert.equal((await migrator.migrateTo(BEFORE_LAST)).error, undefined);

    assert.deepEqual(await migrate(db, pool, log), { applied: [LAST] });
    assert.deepEqual(await executed(db), [...MIGRATION_NAMES].sort());
    assert.equal(lines().filter((line) => line.level >= 40).length, 0, JSON.stringify(lines()));
  });

  it('with nothing unknown, still refuses one of ours recorded out of order', async () => {
    const { db, pool, log } = await migratedDatabase();
    await sql`DELETE FROM kysely_migration WHERE name = ${BEFORE_LAST}`.execute(db);

    await assert.rejects(migrate(db, pool, log), /corrupted migrations/);
    assert.ok(!(await executed(db)).includes(BEFORE_LAST));
  });
});
