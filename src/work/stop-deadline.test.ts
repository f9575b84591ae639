import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import pg from 'pg';
import { createPool } from '../db/database.js';
import { createLogger } from '../logger.js';
import { createTestDatabase, waitFor } from '../testing/harness.js';
import { ShiftedClock } from './clock.js';
import { STOP_GRACE_MS, createWorkRunner } from './runner.js';

/**
 * A stop while a round waits on a lock another session holds: the runner waits for it until its
 * deadline, then ends it (its transaction rolls back), and the lock's holder goes on untouched.
 */

let url: string;
let observer: pg.Client;
before(async () => {
  url = await createTestDatabase();
  observer = new pg.Client({ connectionString: url });
  await observer.connect();
  await observer.query('CREATE TABLE stop_locked (id int); CREATE TABLE stop_marks (round int)');
});
after(async () => {
  await observer.end();
});

describe('stopping the runner while a round is blocked on a lock', () => {
  it('ends the round after its deadline, rolling it back, and leaves the lock holder alone', async () => {
    const pool = createPool(url, 4);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE stop_locked IN ACCESS EXCLUSIVE MODE');
    const lines: string[] = [];
    const stopDeadlineMs = 300;
    const runner = createWorkRunner({
      pool,
      clock: new ShiftedClock(),
      log: createLogger(
        'warn',
        new Writable({ write: (chunk: Buffer, _enc, done) => done(void lines.push(chunk.toString())) }),
      ),
      stopDeadlineMs,
    });
    let roundPid: number | undefined;
    let roundError: unknown;
    runner.register({
      name: 'test-blocked',
      idleMs: 60_000,
      async round() {
        if (roundPid !== undefined) return { more: false };
        const client = await pool.connect();
        let failure: Error | undefined;
        try {
          const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          roundPid = rows[0]?.pid;
          await client.query('BEGIN');
          await client.query('INSERT INTO stop_marks VALUES (1)');
          await client.query('INSERT INTO stop_locked VALUES (1)');
          await client.query('COMMIT');
        } catch (error) {
          roundError = error;
          failure = error as Error;
          throw error;
        } finally {
          client.release(failure);
        }
        return { more: false };
      },
    });
    let stopping: Promise<void> | undefined;
    try {
      await runner.start();
      await waitFor(
        'the round waiting on the lock',
        async () => {
          if (roundPid === undefined) return false;
          const { rows } = await observer.query<{ waiting: boolean }>(
            `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1`,
            [roundPid],
          );
          return rows[0]?.waiting === true;
        },
        10_000,
      );
      const stopAt = performance.now();
      stopping = runner.stop();
      // Bounds the failure only: without a deadline, stop() waits for as long as the lock is held.
      const stopped = await Promise.race([
        stopping.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000).unref()),
      ]);
      const tookMs = performance.now() - stopAt;
      assert.ok(stopped, 'stop() did not return within 5 s while the lock was held');
      assert.ok(tookMs >= stopDeadlineMs - 20, `stop() waited for the round first (${tookMs} ms)`);
      assert.ok(tookMs < stopDeadlineMs + STOP_GRACE_MS, `stop() took ${tookMs} ms`);
      assert.ok(roundError instanceof Error, 'the round was ended with an error');
      assert.match(lines.join(''), /rounds of test-blocked still run after 0\.3 s; they are ended/);

      // The round's session is gone on the server too (its statement cancelled, not left waiting).
      await waitFor(
        "the round's session to end",
        async () => {
          const { rows } = await observer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [roundPid]);
          return rows.length === 0;
        },
        10_000,
      );
      // The holder still holds its lock and its transaction, and commits.
      await holder.query('INSERT INTO stop_locked VALUES (2)');
      await holder.query('COMMIT');
      const locked = await observer.query<{ id: number }>('SELECT id FROM stop_locked ORDER BY id');
      assert.deepEqual(
        locked.rows.map((r) => r.id),
        [2],
      );
      const marks = await observer.query('SELECT * FROM stop_marks');
      assert.equal(marks.rows.length, 0, "the round's transaction rolled back");
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end();
      await (stopping ?? runner.stop());
      await pool.end();
    }
  });
});
