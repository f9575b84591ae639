import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { freezingProxy } from '../testing/freezing-proxy.js';
import { createLogger } from '../logger.js';
import { createTestDatabase, serverUrl, waitFor } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import { createWorkRunner } from '../work/runner.js';
import {
  DatabaseNotAnsweringError,
  createDb,
  createPool,
  isDatabaseUnavailable,
  isTransientDatabaseError,
  withoutQueryTimeout,
  withQueryAllowance,
} from './database.js';
import { MIGRATION_LOCK_KEY, migrate } from './migrate.js';

/**
 * A pool's client-side bound on a statement (createPool's queryTimeoutMs): a database that stops answering
 * without closing its connections enforces no statement_timeout, and without the bound the statement (and
 * the round or request behind it) waited for good.
 */
describe("a pool's bound on a statement the database does not answer", () => {
  const BOUND_MS = 300;
  let proxy: Awaited<ReturnType<typeof freezingProxy>>;
  before(async () => {
    proxy = await freezingProxy(serverUrl());
  });
  after(async () => {
    await proxy.close();
  });

  // Without the bound the test would wait for good.
  const timeout = 15_000;
  it(
    'fails the statement as the database being unavailable, and the next runs on a fresh connection',
    { timeout },
    async () => {
      const pool = createPool(proxy.url, 1, { queryTimeoutMs: BOUND_MS });
      const db = createDb(pool);
      try {
        await sql`SELECT 1`.execute(db);
        const openedBefore = proxy.opened();
        proxy.freeze();
        const startedAt = Date.now();
        const error = await sql`SELECT 1`.execute(db).then(
          () => assert.fail('a statement on a frozen connection was answered'),
          (e: unknown) => e,
        );
        const tookMs = Date.now() - startedAt;
        assert.ok(error instanceof DatabaseNotAnsweringError, String(error));
        assert.ok(tookMs >= BOUND_MS - 20 && tookMs < BOUND_MS + 2_000, `took ${tookMs} ms`);
        // What the work runner and the API's error handler go by: a round tried again, a 503.
        assert.ok(isDatabaseUnavailable(error));
        assert.ok(isTransientDatabaseError(error));
        // The frozen connection left the pool (its only one): the next statement opens another, after the
        // one that asked the server to cancel the statement.
        const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
        assert.deepEqual(rows, [{ one: 1 }]);
        assert.equal(proxy.opened(), openedBefore + 2);
        // pool.query answers pg-pool by callback (the work runner's wakes go that way).
        proxy.freeze();
        await assert.rejects(pool.query('SELECT 1'), DatabaseNotAnsweringError);
        assert.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
        assert.equal(proxy.opened(), openedBefore + 4);
      } finally {
        await db.destroy();
      }
    },
  );

  it('bounds a slow statement too, but not one run without it (migrations)', { timeout }, async () => {
    const pool = createPool(serverUrl(), 1, { queryTimeoutMs: BOUND_MS });
    const db = createDb(pool);
    try {
      const slow = sql`SELECT pg_sleep(${(2 * BOUND_MS) / 1000})`;
      await assert.rejects(slow.execute(db), DatabaseNotAnsweringError);
      await withoutQueryTimeout(async () => {
        // Kysely's own connection handling in between, as the migrator's statements have.
        await db.transaction().execute(async (tx) => slow.execute(tx));
      });
    } finally {
      await db.destroy();
    }
  });

  it('gives a statement with an allowance that much longer, and no more', { timeout }, async () => {
    const pool = createPool(serverUrl(), 1, { queryTimeoutMs: BOUND_MS });
    const db = createDb(pool);
    try {
      // Past the bound, within bound and allowance: answered.
      await withQueryAllowance(3 * BOUND_MS, () =>
        sql`SELECT pg_sleep(${(2 * BOUND_MS) / 1000})`.execute(db),
      );
      // Past both: still cut off, a database gone silent must not hold it for good.
      const startedAt = Date.now();
      await assert.rejects(
        withQueryAllowance(BOUND_MS, () => sql`SELECT pg_sleep(${(6 * BOUND_MS) / 1000})`.execute(db)),
        DatabaseNotAnsweringError,
      );
      assert.ok(Date.now() - startedAt < 5 * BOUND_MS, `cut off after ${Date.now() - startedAt} ms`);
    } finally {
      await db.destroy();
    }
  });

  it("does not bound the migrations, nor their wait for another process's", { timeout }, async () => {
    const url = await createTestDatabase({ migrated: true });
    const pool = createPool(url, 2, { queryTimeoutMs: BOUND_MS });
    const db = createDb(pool);
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const migrated = migrate(db, pool, createLogger('silent'));
      await sleep(2 * BOUND_MS);
      await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      assert.deepEqual(await migrated, { applied: [] });
    } finally {
      await other.end();
      await db.destroy();
    }
  });

  it('leaves a connection that waits between statements alone (LISTEN)', { timeout }, async () => {
    const pool = createPool(serverUrl(), 1, { queryTimeoutMs: BOUND_MS });
    const notifier = new pg.Client({ connectionString: serverUrl() });
    await notifier.connect();
    const client = await pool.connect();
    try {
      const heard: string[] = [];
      client.on('notification', (message) => heard.push(message.payload ?? ''));
      await client.query('LISTEN vigil_bound_test');
      await sleep(2 * BOUND_MS);
      await notifier.query(`NOTIFY vigil_bound_test, 'still here'`);
      await waitFor('the notification', async () => heard.length > 0, 5_000);
      assert.deepEqual(heard, ['still here']);
      const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
      assert.deepEqual(rows, [{ one: 1 }]);
    } finally {
      client.release(true);
      await notifier.end();
      await pool.end();
    }
  });
});

describe("the bound's edges", () => {
  const BOUND_MS = 300;
  const timeout = 30_000;

  it(
    'stops the statement on the server too: what it would have written is not written',
    { timeout },
    async () => {
      const url = await createTestDatabase();
      const owner = new pg.Client({ connectionString: url });
      await owner.connect();
      const pool = createPool(url, 1, { queryTimeoutMs: BOUND_MS });
      try {
        await owner.query('CREATE TABLE bound_test (n int)');
        await assert.rejects(
          pool.query('INSERT INTO bound_test SELECT 1 FROM pg_sleep(1)'),
          DatabaseNotAnsweringError,
        );
        // Past the bound and the statement's own time: a statement left running would have committed.
        await sleep(1_500);
        const { rows } = await owner.query<{ n: number }>('SELECT count(*)::int AS n FROM bound_test');
        assert.equal(rows[0]?.n, 0, 'the statement ran on after its connection was closed');
      } finally {
        await owner.end();
        await pool.end();
      }
    },
  );

  it(
    "does not pass the migrations' exemption on to the connections they opened (the wake-up listener's)",
    { timeout },
    async () => {
      const url = await createTestDatabase();
      const pool = createPool(url, 3, { queryTimeoutMs: BOUND_MS });
      const db = createDb(pool);
      const notifier = new pg.Client({ connectionString: url });
      await notifier.connect();
      // Migrating a fresh database opens the pool's connections inside withoutQueryTimeout; the runner's
      // listener then takes one of them from the pool, idle.
      assert.ok((await migrate(db, pool, createLogger('silent'))).applied.length > 0);
      const runner = createWorkRunner({ pool, clock: new ShiftedClock(), log: createLogger('silent') });
      const outcomes: { error: unknown; tookMs: number }[] = [];
      runner.listenTo('vigil_bound_leak_test', () => {
        const startedAt = Date.now();
        pool.query('SELECT pg_sleep(1)').then(
          () => outcomes.push({ error: undefined, tookMs: Date.now() - startedAt }),
          (error: unknown) => outcomes.push({ error, tookMs: Date.now() - startedAt }),
        );
      });
      try {
        await runner.start();
        await notifier.query(`NOTIFY vigil_bound_leak_test, 'sleep'`);
        await waitFor("the handler's statement to end", async () => outcomes.length > 0, 5_000);
        const [outcome] = outcomes;
        assert.ok(
          outcome?.error instanceof DatabaseNotAnsweringError,
          `answered after ${outcome?.tookMs} ms`,
        );
      } finally {
        await runner.stop();
        await notifier.end();
        await db.destroy();
      }
    },
  );

  it('bounds the statement of a caller handed a connection an exempt one released', { timeout }, async () => {
    const pool = createPool(serverUrl(), 1, { queryTimeoutMs: BOUND_MS });
    try {
      let release: (() => void) | undefined;
      const held = withoutQueryTimeout(async () => {
        const client = await pool.connect();
        await new Promise<void>((resolve) => (release = resolve));
        client.release();
      });
      await waitFor('the connection to be held', async () => release !== undefined);
      // Waits for the only connection, by callback (pool.query's), and is handed it by the release.
      const waiting = pool.query(`SELECT pg_sleep(${(2 * BOUND_MS) / 1000})`);
      release?.();
      await held;
      await assert.rejects(waiting, DatabaseNotAnsweringError);
    } finally {
      await pool.end();
    }
  });

  it(
    'leaves a statement whose call throws unbounded: no timer closes the connection later',
    { timeout },
    async () => {
      const pool = createPool(serverUrl(), 1, { queryTimeoutMs: BOUND_MS });
      const client = await pool.connect();
      try {
        assert.throws(() => client.query(null as unknown as string), TypeError);
        // Past the bound, on the same connection: a timer left armed by the throw closed it under this.
        const { rows } = await withoutQueryTimeout(() =>
          client.query<{ one: number }>(`SELECT 1 AS one FROM pg_sleep(${(2 * BOUND_MS) / 1000})`),
        );
        assert.deepEqual(rows, [{ one: 1 }]);
      } finally {
        client.release(true);
        await pool.end();
      }
    },
  );

  it("leaves a statement answered by its config's own callback unbounded", { timeout }, async () => {
    const pool = createPool(serverUrl(), 1, { queryTimeoutMs: BOUND_MS });
    const client = await pool.connect();
    try {
      const answer = await new Promise<unknown>((resolve) => {
        const config = {
          text: `SELECT 1 AS one FROM pg_sleep(${(2 * BOUND_MS) / 1000})`,
          callback: (error: Error | null, result?: pg.QueryResult) => resolve(error ?? result?.rows),
        };
        client.query(config as unknown as pg.QueryConfig);
      });
      assert.deepEqual(answer, [{ one: 1 }]);
    } finally {
      client.release(true);
      await pool.end();
    }
  });
});
