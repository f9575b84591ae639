import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Queryable } from '../../db/database.js';
import { LogBuffer } from './log-buffer.js';

/** A stand-in database that keeps the lines written, and a savepoint's rollback of them. */
function fakeDb() {
  const written: string[] = [];
  const db = {
    insertInto: () => ({
      values: (rows: { log: string }[]) => ({
        execute: async () => {
          written.push(...rows.map((r) => r.log));
          return [];
        },
      }),
    }),
  } as unknown as Queryable;
  return { db, written };
}

describe('the log buffer', () => {
  it('writes its lines once, in order', async () => {
    const { db, written } = fakeDb();
    const logs = new LogBuffer();
    logs.add('a', 'one');
    await logs.flush(db);
    logs.add('a', 'two');
    await logs.flush(db);
    await logs.flush(db);
    assert.deepEqual(written, ['one', 'two']);
  });

  it('after a rollback to a mark, drops the lines since and writes again what was written since', async () => {
    const { db, written } = fakeDb();
    const logs = new LogBuffer();
    logs.add('a', 'before');
    const mark = logs.mark();
    // A closing step inside the savepoint writes every line so far, then the savepoint is rolled back.
    logs.add('a', 'inside');
    await logs.flush(db);
    written.splice(0);
    logs.add('a', 'after the write');
    logs.dropAfter(mark);
    logs.add('a', 'retried');
    await logs.flush(db);
    assert.deepEqual(written, ['before', 'retried']);
  });

  it('keeps what was written before the mark', async () => {
    const { db, written } = fakeDb();
    const logs = new LogBuffer();
    logs.add('a', 'kept');
    await logs.flush(db);
    const mark = logs.mark();
    logs.add('a', 'dropped');
    logs.dropAfter(mark);
    await logs.flush(db);
    assert.deepEqual(written, ['kept']);
  });
});
