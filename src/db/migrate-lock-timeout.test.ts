import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import pg from 'pg';
import { createDb, createPool, type Db } from './database.js';
import {
  MIGRATION_LOCK_KEY,
  MIGRATION_NAMES,
  migrate,
  MigrationLockTimeoutError,
  MigrationsStoppedError,
} from './migrate.js';
import { createLogger } from '../logger.js';
import { createTestDatabase } from '../testing/harness.js';

/**
 * An upgrade while an older process holds a transaction open on a table a pending migration changes. The
 * migration under test is 0070, which builds an index on `notifications`: its SHARE lock waits behind the
 * older process's writes, and every write queued after it (paging) waits behind it. Bounded, the write
 * waits at most the lock timeout; the migrations roll back and try again, and apply once the table is free.
 */

const MIGRATION = '0070_notifications_method_due';
const BEFORE = MIGRATION_NAMES[MIGRATION_NAMES.indexOf(MIGRATION) - 1]!;
const LOCK_TIMEOUT_MS = 300;

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  cleanups.push(() => client.end());
  return client;
}

/** A database with every migration before MIGRATION applied, and a logger whose lines the test reads. */
async function databaseBefore() {
  const url = await createTestDatabase({ migrated: true });
  const pool = createPool(url, 2);
  const db = createDb(pool);
  cleanups.push(() => db.destroy());
  const migrations: Record<string, Migration> = {};
  for (const name of MIGRATION_NAMES)
    migrations[name] = (await import(`./migrations/${name}.js`)) as Migration;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  assert.equal((await migrator.migrateTo(BEFORE)).error, undefined);
  let logged = '';
  const output = new PassThrough();
  output.on('data', (chunk: Buffer) => (logged += chunk.toString()));
  const log = createLogger('info', output);
  const lines = () =>
    logged
      .split('\n')
      .filter(Boolean)
      .map(
        (line) => JSON.parse(line) as { level: number; msg: string; openTransactions?: { pid: number }[] },
      );
  // An older process's transaction that has written to notifications and not committed yet.
  const older = await connect(url);
  await older.query('BEGIN');
  await older.query("UPDATE notifications SET state = state WHERE state = 'pending'");
  const olderPid = (await older.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  return { url, db, pool, log, lines, older, olderPid };
}

async function applied(db: Db, name: string): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM kysely_migration WHERE name = ${name}`.execute(db);
  return rows.rows.length > 0;
}

/** Resolves once a session waits for a lock on notifications: the migration, behind the older process. */
async function migrationWaiting(observer: pg.Client): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await observer.query(
      "SELECT 1 FROM pg_locks WHERE relation = 'notifications'::regclass AND NOT granted",
    );
    if (rows.length > 0) return;
    await sleep(10);
  }
  throw new Error('the migration never waited for its lock on notifications');
}

/** Aborts `stop`, then what `running` settled to within 3 s: its error, 'resolved', or `pending`. */
async function settledOnAbort(
  running: Promise<unknown>,
  stop: AbortController,
  pending: string,
): Promise<unknown> {
  stop.abort();
  return Promise.race([
    running.then(
      () => 'resolved',
      (error: unknown) => error,
    ),
    sleep(3_000).then(() => pending),
  ]);
}
describe('migrate behind another session holding a table it changes', () => {
  it(
    'keeps writes to the table waiting no longer than its lock timeout, and applies once the table is free',
    { timeout: 60_000 },
    async () => {
      const { url, db, pool, log, lines, older, olderPid } = await databaseBefore();
      const running = migrate(db, pool, log, {
        lockTimeoutMs: LOCK_TIMEOUT_MS,
        retryDelaysMs: Array<number>(50).fill(100),
      });
      running.catch(() => {}); // awaited below; meanwhile a rejection is not unhandled
      try {
        await migrationWaiting(await connect(url));
        // A write queued behind the migration's waiting lock (paging recording a notification).
        const writer = await connect(url);
        const started = Date.now();
        const write = writer.query("UPDATE notifications SET state = state WHERE state = 'pending'");
        const outcome = await Promise.race([write.then(() => 'written'), sleep(3_000).then(() => 'stuck')]);
        assert.equal(outcome, 'written', 'the write waited behind the migration for 3 s');
        assert.ok(Date.now() - started < LOCK_TIMEOUT_MS + 1_000, `${Date.now() - started} ms`);
        // Still open while the migration says what it waited behind.
        for (let i = 0; i < 300 && !lines().some((line) => line.level === 40); i++) await sleep(10);
      } finally {
        await older.query('COMMIT');
      }
      const { applied: done } = await running;
      assert.ok(done.includes(MIGRATION), JSON.stringify(done));
      const retries = lines().filter((line) => line.level === 40);
      assert.ok(retries.length > 0, JSON.stringify(lines()));
      assert.match(retries[0]!.msg, new RegExp(`migration ${MIGRATION} waited 0.3 s for a lock`));
      assert.match(retries[0]!.msg, /trying again in 0.1 s/);
      assert.ok(
        retries[0]!.openTransactions?.some((t) => t.pid === olderPid),
        JSON.stringify(retries[0]),
      );
    },
  );

  it(
    'gives up after its last try, saying what to do, with nothing applied',
    { timeout: 60_000 },
    async () => {
      const { db, pool, log, lines, older } = await databaseBefore();
      try {
        await assert.rejects(
          migrate(db, pool, log, { lockTimeoutMs: 100, retryDelaysMs: [50, 50] }),
          (error: unknown) => {
            assert.ok(error instanceof MigrationLockTimeoutError, String(error));
            assert.equal(error.migration, MIGRATION);
            assert.equal(error.tries, 3);
            assert.match(error.message, /Stop the Vigil processes of older versions/);
            assert.match(error.message, /run "vigil migrate" while the database is quiet/);
            return true;
          },
        );
        assert.equal(lines().filter((line) => line.level === 40).length, 2, JSON.stringify(lines()));
        assert.equal(lines().filter((line) => line.level === 50).length, 1, JSON.stringify(lines()));
        assert.equal(await applied(db, MIGRATION), false);
      } finally {
        await older.query('COMMIT');
      }
      // Free again: the next start applies it.
      assert.ok((await migrate(db, pool, log)).applied.includes(MIGRATION));
    },
  );

  it(
    'stops at once when asked to during a pause between tries, releasing its lock with nothing applied',
    { timeout: 60_000 },
    async () => {
      const { url, db, pool, log, lines, older } = await databaseBefore();
      const stop = new AbortController();
      try {
        const running = migrate(db, pool, log, {
          lockTimeoutMs: 100,
          retryDelaysMs: [30_000],
          signal: stop.signal,
        });
        running.catch(() => {}); // awaited below; meanwhile a rejection is not unhandled
        // The first try timed out and rolled back: the migration now pauses for 30 s.
        for (let i = 0; i < 500 && !lines().some((line) => line.level === 40); i++) await sleep(10);
        assert.match(lines().find((line) => line.level === 40)?.msg ?? '', /trying again in 30 s/);
        const stoppedAt = Date.now();
        const outcome = await settledOnAbort(running, stop, 'still pausing');
        assert.ok(outcome instanceof MigrationsStoppedError, String(outcome));
        assert.equal(outcome.tries, 1);
        assert.match(outcome.message, /stopped while waiting to retry the migrations/);
        assert.match(outcome.message, /none were applied/);
        assert.ok(Date.now() - stoppedAt < 1_000, `${Date.now() - stoppedAt} ms`);
        assert.equal(await applied(db, MIGRATION), false);
        // The advisory lock is free: another process's migrations need not wait for this one.
        const other = await connect(url);
        const { rows } = await other.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1) AS taken', [
          MIGRATION_LOCK_KEY,
        ]);
        assert.equal(rows[0]?.taken, true);
        await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      } finally {
        await older.query('COMMIT');
      }
      assert.ok((await migrate(db, pool, log)).applied.includes(MIGRATION));
      // Asked to stop before it starts, it runs no try at all.
      await assert.rejects(
        migrate(db, pool, log, { signal: AbortSignal.abort() }),
        (error: unknown) => error instanceof MigrationsStoppedError && error.tries === 0,
      );
    },
  );
});

describe('migrate while another process holds the migration lock', () => {
  it(
    "stops at once when asked to while waiting for the other process's migrations, with nothing applied",
    { timeout: 60_000 },
    async () => {
      const { url, db, pool, log, lines, older } = await databaseBefore();
      await older.query('COMMIT'); // no table is busy here: only the migration lock is
      // Another replica applying the migrations (or pausing between its tries).
      const holder = await connect(url);
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const waiting = (line: { msg: string }) => /another process is applying the migrations/.test(line.msg);
      const stop = new AbortController();
      try {
        const running = migrate(db, pool, log, { signal: stop.signal });
        running.catch(() => {}); // awaited below; meanwhile a rejection is not unhandled
        for (let i = 0; i < 200 && !lines().some(waiting); i++) await sleep(10);
        const stoppedAt = Date.now();
        const outcome = await settledOnAbort(running, stop, 'still waiting for the lock');
        assert.ok(outcome instanceof MigrationsStoppedError, String(outcome));
        assert.equal(outcome.tries, 0);
        assert.equal(
          outcome.message,
          "stopped while waiting for another process's migrations; none were applied",
        );
        assert.ok(Date.now() - stoppedAt < 1_000, `${Date.now() - stoppedAt} ms`);
        const said = lines().filter(waiting);
        assert.equal(said.length, 1, JSON.stringify(lines()));
        assert.equal((said[0] as { holder?: { pid: number } }).holder?.pid, holderPid);
        assert.equal(await applied(db, MIGRATION), false);
        // Its connection went back to the pool, holding nothing.
        assert.equal(pool.idleCount, pool.totalCount);
        const { rows } = await holder.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        assert.equal(rows.length, 0);
        // Without a signal it waits too, and applies them once the other process is done.
        const later = migrate(db, pool, log);
        later.catch(() => {}); // awaited below; meanwhile a rejection is not unhandled
        const early = await Promise.race([later.then(() => 'done'), sleep(600).then(() => 'waiting')]);
        assert.equal(early, 'waiting');
        await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        assert.ok((await later).applied.includes(MIGRATION));
      } finally {
        await holder.query('SELECT pg_advisory_unlock_all()');
      }
      const free = await holder.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1) AS taken', [
        MIGRATION_LOCK_KEY,
      ]);
      assert.equal(free.rows[0]?.taken, true);
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      assert.equal(pool.idleCount, pool.totalCount);
    },
  );
});
