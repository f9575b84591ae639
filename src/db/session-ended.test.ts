import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { serverUrl } from '../testing/harness.js';
import { createPool } from './database.js';

/**
 * A connection in use but between statements (the migration lock's, a transaction's while its code
 * awaits) hears the server end its session (a shutdown, pg_terminate_backend) with no query to fail. pg
 * then emits 'error' on the client, which the pool listens for only while the client is idle: unheard,
 * that error ended the whole process (a CI run: SIGINT while migrating stopped the embedded PostgreSQL).
 */
describe('a connection the server ends while it is checked out', () => {
  it('fails its next statement and leaves the pool, without ending the process', async () => {
    const pool = createPool(serverUrl(), 2);
    const admin = new pg.Client({ connectionString: serverUrl() });
    await admin.connect();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // Bounded: unheard, the error is thrown out of pg's socket handler, which then never ends the client.
      const ended = new Promise((resolve) => {
        client.once('end', resolve);
        setTimeout(resolve, 5_000).unref();
      });
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      await assert.rejects(client.query('SELECT 1'));
      client.release();
      assert.deepEqual(uncaught, []);
      // The pool opens a fresh connection for the next user.
      const { rows: again } = await pool.query<{ one: number }>('SELECT 1 AS one');
      assert.equal(again[0]!.one, 1);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      await admin.end();
      await pool.end();
    }
  });
});
