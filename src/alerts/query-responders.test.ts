import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool } from '../db/database.js';
import { createTestDatabase } from '../testing/harness.js';
import { compileQuery, parseQuery } from './query.js';

describe('recipients: and responders: among many responders', () => {
  let pool: ReturnType<typeof createPool>;
  let db: ReturnType<typeof createDb>;
  let org = '';
  let user1 = '';
  before(async () => {
    pool = createPool(await createTestDatabase({ migrated: true }), 1);
    db = createDb(pool);
    const orgs = await sql<{ id: string }>`
      INSERT INTO organizations (name) VALUES ('Many') RETURNING id`.execute(db);
    org = orgs.rows[0]?.id ?? '';
    await sql`
      INSERT INTO users (org_id, username, full_name, role)
      SELECT ${org}::uuid, 'user' || n, 'User ' || n, 'user' FROM generate_series(1, 2000) n`.execute(db);
    const found = await sql<{ id: string }>`
      SELECT id FROM users WHERE org_id = ${org} AND username = 'user1'`.execute(db);
    user1 = found.rows[0]?.id ?? '';
    // Alert n (1 to 2000) is for users n, n + 1 and n + 2 (from 2000 round to 1).
    await sql`
      WITH u AS (SELECT ARRAY(SELECT id FROM users WHERE org_id = ${org} ORDER BY substr(username, 5)::int) AS ids)
      INSERT INTO alerts (org_id, tiny_id, alias, message, responders)
      SELECT ${org}::uuid, n, 'a' || n, 'm', jsonb_build_array(
               jsonb_build_object('type', 'user', 'id', u.ids[n]),
               jsonb_build_object('type', 'user', 'id', u.ids[n % 2000 + 1]),
               jsonb_build_object('type', 'user', 'id', u.ids[(n + 1) % 2000 + 1]))
      FROM generate_series(1, 2000) n, u`.execute(db);
    // Responders the column allows but nothing writes: an id that is no uuid or no string, elements that
    // are no objects, a column that is no array. The containment the term used to be found in them only
    // user1 of 2006 (an element with more keys), not of 2007 (the id in upper case): so does the lookup,
    // and none of them is an error.
    const upper = user1.toUpperCase();
    await sql`
      INSERT INTO alerts (org_id, tiny_id, alias, message, responders)
      VALUES (${org}, 2001, 'b1', 'm', '[{"type": "user", "id": "not-a-uuid"}, {"type": "user", "id": 7}, {"type": "user"}]'),
             (${org}, 2002, 'b2', 'm', '["user", 7, null, [{"type": "user"}]]'),
             (${org}, 2003, 'b3', 'm', jsonb_build_object('type', 'user', 'id', ${user1}::text)),
             (${org}, 2004, 'b4', 'm', '"user"'),
             (${org}, 2005, 'b5', 'm', jsonb_build_array(jsonb_build_object('type', 'escalation', 'id', ${user1}::text))),
             (${org}, 2006, 'b6', 'm', jsonb_build_array(jsonb_build_object('type', 'user', 'id', ${user1}::text, 'name', 'x'))),
             (${org}, 2007, 'b7', 'm', jsonb_build_array(jsonb_build_object('type', 'user', 'id', ${upper}::text)))`.execute(
      db,
    );
    await sql`ANALYZE users, alerts`.execute(db);
  });
  after(() => pool.end());

  function condition(query: string) {
    const tree = parseQuery(query);
    assert.ok(tree, query);
    return sql<boolean>`alerts.org_id = ${org} AND ${compileQuery(org, tree)}`;
  }

  async function tinyIds(query: string): Promise<number[]> {
    const { rows } = await sql<{ tiny_id: string }>`
      SELECT tiny_id FROM alerts WHERE ${condition(query)} ORDER BY tiny_id`.execute(db);
    return rows.map((r) => Number(r.tiny_id));
  }

  it('looks each element up in the names a * matches, hashed once, not in each name in turn', async () => {
    // Before, the row's array was tested for containing each matching user in turn: 2,000 containments
    // per alert, seconds for `user*` over 10,000 alerts. The lookup is hashed as an uncorrelated IN.
    const { rows } = await sql<{ 'QUERY PLAN': string }>`
      EXPLAIN SELECT count(*) FROM alerts WHERE ${condition('recipients:user*')}`.execute(db);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(plan, /hashed SubPlan/, plan);
    const all = await tinyIds('recipients:user*');
    assert.deepEqual(all, [...Array.from({ length: 2000 }, (_, i) => i + 1), 2006]);
  });

  it('finds the alerts of a user by username or pattern, as the containment did', async () => {
    assert.deepEqual(await tinyIds('recipients:user1'), [1, 1999, 2000, 2006]);
    assert.deepEqual(await tinyIds('responders:USER1'), [1, 1999, 2000, 2006]);
    assert.deepEqual(await tinyIds('recipients:user200*'), [198, 199, 200, 1998, 1999, 2000]);
    assert.deepEqual(await tinyIds('recipients:user1 OR recipients:user2'), [1, 2, 1999, 2000, 2006]);
    assert.equal((await tinyIds('NOT recipients:user*')).length, 6);
    assert.deepEqual(await tinyIds('recipients:not-a-uuid'), []);
  });
});
