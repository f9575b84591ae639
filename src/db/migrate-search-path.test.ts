import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createDb, createPool, type Db } from './database.js';
import { MIGRATION_NAMES, migrate, pendingMigrations } from './migrate.js';
import { createLogger } from '../logger.js';
import { createTestDatabase } from '../testing/harness.js';

/**
 * PostgreSQL 15's advice for a database shared by roles: each role gets a schema of its own
 * (CREATE SCHEMA vigil AUTHORIZATION vigil), found first by the default search path ("$user", public).
 * Every table Vigil creates lands there, Kysely's migration table too, and Vigil must find it there.
 */

const opened: Db[] = [];
after(async () => {
  await Promise.all(opened.map((db) => db.destroy()));
});

describe('migrate with the tables in a schema other than public', () => {
  it('finds its migrations there: nothing pending once migrated, and a newer one only warns', async () => {
    const url = await createTestDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query('CREATE SCHEMA app');
      await admin.query(`DO $$ BEGIN
        EXECUTE format('ALTER DATABASE %I SET search_path = app, public', current_database());
      END $$`);
    } finally {
      await admin.end();
    }
    // Opened after the change: a database's settings apply to the sessions opened later.
    const pool = createPool(url, 2);
    const db = createDb(pool);
    opened.push(db);
    let logged = '';
    const output = new PassThrough();
    output.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    const log = createLogger('info', output);

    assert.deepEqual((await migrate(db, pool, log)).applied, MIGRATION_NAMES);
    const where = await sql<{ app: boolean; public: boolean }>`
      SELECT to_regclass('app.kysely_migration') IS NOT NULL AS app,
        to_regclass('public.kysely_migration') IS NOT NULL AS public`.execute(db);
    assert.deepEqual(where.rows[0], { app: true, public: false });
    assert.deepEqual(await pendingMigrations(db), []);
    assert.deepEqual(await migrate(db, pool, log), { applied: [] });

    // A newer Vigil's migration: this one starts, warns and stays ready, as on public.
    await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('0999_future', now())`.execute(db);
    logged = '';
    assert.deepEqual(await migrate(db, pool, log), { applied: [] });
    const warnings = logged
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; unknownMigrations?: string[] })
      .filter((line) => line.level === 40);
    assert.equal(warnings.length, 1, logged);
    assert.deepEqual(warnings[0]!.unknownMigrations, ['0999_future']);
    assert.deepEqual(await pendingMigrations(db), []);
  });
});
