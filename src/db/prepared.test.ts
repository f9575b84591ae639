import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { createDb, createPool, type Db } from './database.js';
import { prepared } from './prepared.js';
import { createTestDatabase } from '../testing/harness.js';

/** What a connection has kept: the statements PostgreSQL holds for it, by their text. */
async function keptBy(db: Db): Promise<string[]> {
  const rows = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(db);
  return rows.rows.map((r) => r.statement);
}

/** The server process behind the (single) connection a database handle uses. */
async function backendPid(db: Db): Promise<number> {
  const rows = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
  return rows.rows[0]?.pid ?? 0;
}

/** Another process's change (a migration), on a connection of its own. */
async function otherConnection(statement: string): Promise<void> {
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  try {
    await other.query(statement);
  } finally {
    await other.end();
  }
}

let url: string;
let named: Db;
let unnamed: Db;
before(async () => {
  url = await createTestDatabase();
  // One connection each, so that what one call leaves on its connection the next call sees.
  named = createDb(createPool(url, 1), { prepare: true });
  unnamed = createDb(createPool(url, 1), { prepare: false });
  await sql`CREATE TABLE prepared_probe (a int)`.execute(named);
  await sql`INSERT INTO prepared_probe VALUES (1), (2)`.execute(named);
});
after(async () => {
  await named.destroy();
  await unnamed.destroy();
});

describe('prepared statements', () => {
  it('keeps a statement on its connection, with its parameters bound per call', async () => {
    const count = (min: number) =>
      prepared(sql<{ n: number }>`SELECT count(*)::int AS n FROM prepared_probe WHERE a >= ${min}`);
    assert.equal((await count(1).execute(named)).rows[0]?.n, 2);
    assert.equal((await count(2).execute(named)).rows[0]?.n, 1);
    const kept = await keptBy(named);
    assert.equal(kept.filter((s) => s.includes('FROM prepared_probe WHERE a >= $1')).length, 1);
  });

  it('works in a transaction, and statements not marked stay unnamed', async () => {
    await named.transaction().execute(async (tx) => {
      const made = await prepared(sql<{ a: number }>`SELECT a FROM prepared_probe WHERE a = ${2}`).execute(
        tx,
      );
      assert.deepEqual(made.rows, [{ a: 2 }]);
      await sql`SELECT a FROM prepared_probe WHERE a = ${1} /* not marked */`.execute(tx);
    });
    const kept = await keptBy(named);
    assert.ok(kept.some((s) => s.includes('WHERE a = $1') && !s.includes('not marked')));
    assert.ok(!kept.some((s) => s.includes('not marked')));
  });

  it('sends nothing named when turned off (a pooler that cannot keep statements)', async () => {
    const rows = await prepared(sql<{ n: number }>`SELECT count(*)::int AS n FROM prepared_probe`).execute(
      unnamed,
    );
    assert.equal(rows.rows[0]?.n, 2);
    assert.deepEqual(await keptBy(unnamed), []);
  });

  it('a statement a schema change made stale runs again, unnamed, outside a transaction', async () => {
    const all = () => prepared(sql<Record<string, number>>`SELECT * FROM prepared_probe ORDER BY a`);
    assert.deepEqual((await all().execute(named)).rows, [{ a: 1 }, { a: 2 }]);
    const before = await backendPid(named);
    await otherConnection('ALTER TABLE prepared_probe ADD COLUMN b int DEFAULT 7');
    // The kept plan's columns no longer match the table's: the statement fails, and runs again unnamed.
    assert.deepEqual((await all().execute(named)).rows, [
      { a: 1, b: 7 },
      { a: 2, b: 7 },
    ]);
    // The connection that held the stale statement is gone; the next one keeps the statement afresh.
    assert.notEqual(await backendPid(named), before);
    assert.equal((await all().execute(named)).rows.length, 2);
    assert.ok((await keptBy(named)).some((s) => s.includes('SELECT * FROM prepared_probe')));
  });

  it('in a transaction, a stale statement fails it, and the retry runs on a fresh connection', async () => {
    const all = () => prepared(sql<Record<string, number>>`SELECT * FROM prepared_probe ORDER BY a, b`);
    assert.equal((await all().execute(named)).rows.length, 2);
    const before = await backendPid(named);
    await otherConnection('ALTER TABLE prepared_probe ADD COLUMN c int DEFAULT 8');
    await assert.rejects(
      named.transaction().execute((tx) => all().execute(tx)),
      (error: { code?: string }) => error.code === '0A000',
    );
    assert.notEqual(await backendPid(named), before);
    const retried = await named.transaction().execute((tx) => all().execute(tx));
    assert.deepEqual(retried.rows[0], { a: 1, b: 7, c: 8 });
  });
});
