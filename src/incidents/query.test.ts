import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool } from '../db/database.js';
import { createTestDatabase, serverUrl } from '../testing/harness.js';
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

describe('incident team terms in PostgreSQL', () => {
  let pool: ReturnType<typeof createPool>;
  let db: ReturnType<typeof createDb>;
  let org = '';
  before(async () => {
    pool = createPool(await createTestDatabase({ migrated: true }), 1);
    db = createDb(pool);
    const { rows } = await sql<{ id: string }>`
      INSERT INTO organizations (name) VALUES ('Incident teams') RETURNING id`.execute(db);
    org = rows[0]?.id ?? '';
    // Platform's incident 1, Plates' 2, Data's 3, and 4 of Platform and Data.
    await sql`
      WITH made AS (
        INSERT INTO teams (org_id, name) VALUES (${org}, 'Platform'), (${org}, 'Plates'), (${org}, 'Data')
        RETURNING id, name
      )
      INSERT INTO incidents (org_id, tiny_id, message, team_ids)
      SELECT ${org}, n, 'incident ' || n, ARRAY(
        SELECT made.id FROM made WHERE (made.name, n) IN (('Platform', 1), ('Platform', 4), ('Plates', 2), ('Data', 3), ('Data', 4))
      )
      FROM generate_series(1, 4) AS n`.execute(db);
  });
  after(() => pool.end());

  async function tinyIds(query: string): Promise<number[]> {
    const where = incidentQueryWhere(org, query);
    assert.ok(where, query);
    const { rows } = await sql<{ tiny_id: string }>`
      SELECT tiny_id FROM incidents WHERE incidents.org_id = ${org} AND ${where} ORDER BY tiny_id`.execute(
      db,
    );
    return rows.map((r) => Number(r.tiny_id));
  }

  it('finds by a whole team name its incidents, and by a pattern those of each team it matches', async () => {
    assert.deepEqual(await tinyIds('teams:platform'), [1, 4]);
    assert.deepEqual(await tinyIds('teams:plat'), []);
    assert.deepEqual(await tinyIds('teams:Plat*'), [1, 2, 4]);
    assert.deepEqual(await tinyIds('team:platform*'), [1, 4]);
    assert.deepEqual(await tinyIds('responders:*a'), [3, 4]);
    assert.deepEqual(await tinyIds('teams!=Plat*'), [3]);
    assert.deepEqual(await tinyIds('NOT teams:plat*'), [3]);
    assert.deepEqual(await tinyIds('teams:Plat_s*'), []);
    for (const word of ['platform', 'plates', 'data', 'a']) {
      const found = await tinyIds(`teams:${word}`);
      for (const widened of [`${word}*`, `*${word}`, `*${word}*`, `${word.slice(0, 1)}*${word.slice(1)}`]) {
        const more = await tinyIds(`teams:${widened}`);
        assert.ok(
          found.every((n) => more.includes(n)),
          `teams:${widened} finds ${more}, not all of teams:${word}'s ${found}`,
        );
      }
    }
  });
});

describe('incident details.key, details.value, detailsPair and responders in PostgreSQL', () => {
  let pool: ReturnType<typeof createPool>;
  let db: ReturnType<typeof createDb>;
  let org = '';
  before(async () => {
    pool = createPool(await createTestDatabase({ migrated: true }), 1);
    db = createDb(pool);
    const { rows } = await sql<{ id: string }>`
      INSERT INTO organizations (name) VALUES ('Incident details') RETURNING id`.execute(db);
    org = rows[0]?.id ?? '';
    // Incident 1 is for alice and has impact: high; 2 for the Platform team, with a detail named "key".
    await sql`
      WITH alice AS (
        INSERT INTO users (org_id, username, full_name, role) VALUES (${org}, 'alice@example.com', 'Alice', 'user')
        RETURNING id
      ), platform AS (
        INSERT INTO teams (org_id, name) VALUES (${org}, 'Platform') RETURNING id
      )
      INSERT INTO incidents (org_id, tiny_id, message, details, responders, team_ids)
      SELECT ${org}::uuid, 1, 'one', '{"impact": "high"}'::jsonb,
             jsonb_build_array(jsonb_build_object('type', 'user', 'id', alice.id)), '{}'::uuid[] FROM alice
      UNION ALL
      SELECT ${org}::uuid, 2, 'two', '{"key": "impact"}'::jsonb,
             jsonb_build_array(jsonb_build_object('type', 'team', 'id', platform.id)), ARRAY[platform.id] FROM platform`.execute(
      db,
    );
  });
  after(() => pool.end());

  async function tinyIds(query: string): Promise<number[]> {
    const where = incidentQueryWhere(org, query);
    assert.ok(where, query);
    const { rows } = await sql<{ tiny_id: string }>`
      SELECT tiny_id FROM incidents WHERE incidents.org_id = ${org} AND ${where} ORDER BY tiny_id`.execute(
      db,
    );
    return rows.map((r) => Number(r.tiny_id));
  }

  it('finds by details.key the key, by details.value a value, and by detailsPair a detail named "key"', async () => {
    assert.deepEqual(await tinyIds('details.key:impact'), [1]);
    assert.deepEqual(await tinyIds('details.key:high'), []);
    assert.deepEqual(await tinyIds('NOT details.key:impact'), [2]);
    assert.deepEqual(await tinyIds('details.key:imp*'), [1]);
    assert.deepEqual(await tinyIds('details.value:HIGH'), [1]);
    assert.deepEqual(await tinyIds('details.value!=high'), [2]);
    assert.deepEqual(await tinyIds('detailsPair(key:impact)'), [2]);
  });

  it('finds by responders and recipients a user by username and a team by name', async () => {
    assert.deepEqual(await tinyIds('responders:alice@example.com'), [1]);
    assert.deepEqual(await tinyIds('recipients:alice*'), [1]);
    assert.deepEqual(await tinyIds('responders:platform'), [2]);
    assert.deepEqual(await tinyIds('NOT recipients:alice@example.com'), [2]);
  });
});
