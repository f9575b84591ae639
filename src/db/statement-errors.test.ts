import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPool, isDatabaseUnavailable } from './database.js';
import { createTestDatabase } from '../testing/harness.js';

/**
 * A statement the server refuses while it answers is this query's fault, not an outage: the API must not
 * answer it with 503 "try again shortly" (which a client would retry for ever).
 */
describe('a statement PostgreSQL refuses while reachable', () => {
  let pool: pg.Pool;
  before(async () => {
    pool = createPool(await createTestDatabase(), 1);
  });
  after(async () => {
    await pool.end();
  });

  it('is not "the database is unavailable" when it binds more parameters than the protocol carries', async () => {
    // 65,535 is the protocol's limit on a statement's parameters (a 16-bit count).
    const ids = Array.from({ length: 70_000 }, (_, i) => i);
    const text = `SELECT 1 WHERE 0 IN (${ids.map((i) => `$${i + 1}`).join(',')})`;
    const error = await pool.query(text, ids).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof Error, 'the statement was refused');
    assert.equal(
      isDatabaseUnavailable(error),
      false,
      `${String(error)} (${(error as { code?: string }).code})`,
    );
    // And the connection still serves.
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1);
  });
});
