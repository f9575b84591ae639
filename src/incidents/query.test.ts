import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool } from '../db/database.js';
import { serverUrl } from '../testing/harness.js';
import { incidentQueryWhere } from './query.js';

const ORG = '00000000-0000-0000-0000-000000000001';

describe('incident query text and wildcards in PostgreSQL', () => {
  const pool = createPool(serverUrl(), 1);
  const db = createDb(pool);
  after(() => pool.end());

  // Stand-ins for incidents rows.
  async function ids(query: string): Promise<number[]> {
    const where = incidentQueryWhere(ORG, query);
    assert.ok(where, query);
    const { rows } = await sql<{ n: number }>`
      SELECT n FROM (VALUES
        (1, 'Checkout database down', '', ARRAY['payments', 'db-primary']),
        (2, 'Disk full on web-1', 'the disk of web-1', ARRAY['web']),
        (3, 'Queue backlog', '', ARRAY[]::text[])
      ) AS incidents(n, message, description, tags)
      WHERE ${where} ORDER BY n`.execute(db);
    return rows.map((r) => r.n);
  }

  it('finds with a * all that it finds without, and free text in each tag on its own', async () => {
    assert.deepEqual(await ids('database'), [1]);
    assert.deepEqual(await ids('data*'), [1]);
    assert.deepEqual(await ids('*base'), [1]);
    assert.deepEqual(await ids('message:disk'), [2]);
    assert.deepEqual(await ids('message:disk*'), [2]);
    assert.deepEqual(await ids('description:*web*'), [2]);
    // db begins the second tag of 1; "payments db" is no one tag.
    assert.deepEqual(await ids('db*'), [1]);
    assert.deepEqual(await ids('"payments db"'), []);
    assert.deepEqual(await ids('tag:db*'), [1]);
    for (const word of ['database', 'disk', 'web', 'payments', 'db', 'queue', 'e']) {
      for (const field of ['', 'message:', 'description:', 'tag:']) {
        const found = await ids(`${field}${word}`);
        for (const widened of [`${word}*`, `*${word}`, `*${word}*`]) {
          const more = await ids(`${field}${widened}`);
          assert.ok(
            found.every((n) => more.includes(n)),
            `${field}${widened} finds ${more}, not all of ${field}${word}'s ${found}`,
          );
        }
      }
    }
  });
});
