import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import { createPool } from '../db/database.js';
import { createTestDatabase } from '../testing/harness.js';
import { compileQuery, parseQuery, tagOrTeamPart } from './query.js';
import { alertsRepository, type AlertScope, type SortField } from './repository.js';

/**
 * alertsRepository.list on a condition only alerts of a rare tag or team meet: PostgreSQL, which guesses
 * such a tag or team holds 0.5-1% of the alerts, walked the created_at (or tiny_id) index for the page
 * and read every alert of the organization to find those few; they are now found through the GIN index,
 * and listed as they were.
 *
 * The walk's estimated cost for a page stays the same as the alerts grow while the GIN index's grows with
 * them: PostgreSQL walks from about 100k alerts on for a page of 20 (the API's default) and a tag, or of 50
 * and a team (300k alerts: 400-700 ms a page). So the plans are read on 100k alerts; the rows are compared
 * on a small organization of their own, where the plain statement is cheap.
 */

const ALERTS = 100_000;
const COMPARED = 3_000;

let pool: ReturnType<typeof createPool>;
let db: Kysely<Database>;
let org = '';
let compared = '';
let comparedCommonTeam = '';
const statements: { sql: string; parameters: readonly unknown[] }[] = [];

async function organization(name: string): Promise<{ id: string; rareTeam: string; commonTeam: string }> {
  const id = (
    await sql<{ id: string }>`INSERT INTO organizations (name) VALUES (${name}) RETURNING id`.execute(db)
  ).rows[0]!.id;
  const teams = await sql<{ id: string; name: string }>`
    INSERT INTO teams (org_id, name) VALUES (${id}, 'rareteam'), (${id}, 'common') RETURNING id, name`.execute(
    db,
  );
  const team = (name: string) => teams.rows.find((t) => t.name === name)!.id;
  return { id, rareTeam: team('rareteam'), commonTeam: team('common') };
}

before(async () => {
  pool = createPool(await createTestDatabase({ migrated: true }), 1);
  db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') statements.push(event.query);
    },
  });
  // The statistics are the ones taken below, whatever autovacuum would take meanwhile.
  await sql`ALTER TABLE alerts SET (autovacuum_enabled = false)`.execute(db);
  const listed = await organization('Listed');
  org = listed.id;
  // Each alert has a tag of its own (a host's, a finding's), so ANALYZE keeps no such tag and PostgreSQL
  // knows no frequency of any; nine in ten have the common tag too. Three alerts share each created_at.
  // The rare team is on the five oldest alerts (the last a walk of created_at or tiny_id meets), half the
  // others on the common team. One in a thousand, with the common tag and team, is a P1.
  await sql`
    INSERT INTO alerts (org_id, tiny_id, alias, message, status, priority, tags, team_ids, created_at)
    SELECT ${org}::uuid, g, 'a' || g, 'message ' || g, CASE WHEN g % 3 = 0 THEN 'closed' ELSE 'open' END,
           CASE WHEN g % 1000 = 2 THEN 'P1' ELSE 'P3' END,
           ARRAY['host-' || g] || CASE WHEN g % 10 <> 0 THEN ARRAY['common'] ELSE ARRAY[]::text[] END,
           CASE WHEN g <= 5 THEN ARRAY[${listed.rareTeam}::uuid] WHEN g % 2 = 0 THEN ARRAY[${listed.commonTeam}::uuid]
                ELSE ARRAY[]::uuid[] END,
           timestamptz '2026-01-01' + (g / 3) * interval '1 second'
    FROM generate_series(1, ${ALERTS}::int) g`.execute(db);
  await sql`VACUUM ANALYZE alerts`.execute(db);
  // A tag first used since the statistics were taken, on those five too.
  await sql`UPDATE alerts SET tags = tags || ARRAY['rare'] WHERE org_id = ${org} AND tiny_id <= 5`.execute(
    db,
  );
  // To compare rows: ties on created_at, message and status for tiny_id to break, a tag and a team on a few
  // and a tag on 150, the rare ones spread.
  const small = await organization('Compared');
  compared = small.id;
  comparedCommonTeam = small.commonTeam;
  await sql`
    INSERT INTO alerts (org_id, tiny_id, alias, message, status, tags, team_ids, created_at)
    SELECT ${compared}::uuid, g, 'a' || g, 'message ' || (g % 100), CASE WHEN g % 3 = 0 THEN 'closed' ELSE 'open' END,
           ARRAY['host-' || g] || CASE WHEN g % 600 = 7 THEN ARRAY['rare'] ELSE ARRAY[]::text[] END
             || CASE WHEN g % 20 = 0 THEN ARRAY['some'] ELSE ARRAY[]::text[] END,
           CASE WHEN g % 500 = 1 THEN ARRAY[${small.rareTeam}::uuid] WHEN g % 2 = 0 THEN ARRAY[${small.commonTeam}::uuid]
                ELSE ARRAY[]::uuid[] END,
           timestamptz '2026-01-01' + (g / 3) * interval '1 second'
    FROM generate_series(1, ${COMPARED}::int) g`.execute(db);
});
after(() => db.destroy());

const whereOf = (query: string, orgId = org) => compileQuery(orgId, parseQuery(query)!);

/** The condition as it was listed before: the same SQL, which tagOrTeamPart does not know. */
const unmarked = (where: RawBuilder<boolean>) => sql<boolean>`${where}`;

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

/** The executed plan of the last statement `run` made, its nodes flattened. */
async function planOf(run: () => Promise<unknown>): Promise<PlanNode[]> {
  statements.length = 0;
  await run();
  const statement = statements.at(-1);
  assert.ok(statement);
  const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (ANALYZE, FORMAT JSON) ${statement.sql}`,
    [...statement.parameters],
  );
  const nodes: PlanNode[] = [];
  const walk = (node: PlanNode) => {
    nodes.push(node);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(rows[0]!['QUERY PLAN'][0].Plan);
  return nodes;
}

describe('a list narrowed by a rare tag or team', () => {
  for (const [query, limit, index] of [
    ['tag:rare', 20, 'alerts_tags'],
    ['tag:nobody-has-it', 20, 'alerts_tags'],
    ['teams:rareteam', 50, 'alerts_team_ids'],
    ['teams:rareteam', 20, 'alerts_team_ids'],
  ] as const) {
    for (const sort of ['createdAt', 'tinyId'] as const) {
      it(`reads ${query}'s first ${limit} by ${sort} through ${index}, not by walking every alert`, async () => {
        const page = { offset: 0, limit, sort, order: 'desc' } as const;
        const nodes = await planOf(() => alertsRepository.list(db, { orgId: org }, whereOf(query), page));
        const scans = nodes.map((n) => `${String(n['Node Type'])} ${String(n['Index Name'] ?? '')}`.trim());
        const removed = nodes.reduce((sum, n) => sum + Number(n['Rows Removed by Filter'] ?? 0), 0);
        assert.ok(removed < 100, `${removed} rows removed by filter: ${scans.join(', ')}`);
        assert.ok(scans.includes(`Bitmap Index Scan ${index}`), scans.join(', '));
        const walks = nodes.filter(
          (n) =>
            n['Relation Name'] === 'alerts' && /^(Seq|Index|Index Only) Scan$/.test(String(n['Node Type'])),
        );
        assert.deepEqual(walks, [], scans.join(', '));
      });
    }
  }

  it('lists the same alerts, in the same order, as the plain statement', async () => {
    const scopes: [string, AlertScope][] = [
      ['the organization', { orgId: compared }],
      [
        'an integration of the common team',
        { orgId: compared, integration: { id: crypto.randomUUID(), teamId: comparedCommonTeam } },
      ],
    ];
    const queries = [
      'tag:rare',
      'teams:rareteam',
      'tag:some',
      'tag:some AND status:open',
      'tag:some OR teams:rareteam',
      'teams:common',
      'tag:nobody-has-it',
    ];
    const sorts: SortField[] = ['createdAt', 'tinyId', 'message'];
    const pages = [
      { offset: 0, limit: 20 },
      { offset: 40, limit: 100 },
    ];
    let rows = 0;
    for (const [name, scope] of scopes) {
      for (const query of queries) {
        const where = whereOf(query, compared);
        assert.ok(tagOrTeamPart(where) !== undefined, query);
        for (const sort of sorts) {
          for (const order of ['asc', 'desc'] as const) {
            for (const { offset, limit } of pages) {
              const page = { offset, limit, sort, order };
              statements.length = 0;
              const listed = await alertsRepository.list(db, scope, where, page);
              assert.match(statements.at(-1)?.sql ?? '', / as materialized /i, query);
              const plain = await alertsRepository.list(db, scope, unmarked(where), page);
              assert.deepEqual(listed, plain, `${name}, ${query}, ${JSON.stringify(page)}`);
              rows += listed.length;
            }
          }
        }
      }
    }
    assert.ok(rows > 1000, `${rows} rows compared`);
  });

  it('walks the order when the tag or team is on many alerts, however few the whole condition holds', async () => {
    // The materialized set would read every alert of the common tag or team (90k, 50k) for 100.
    const walked = [
      'tag:common AND priority:P1',
      'teams:common AND priority:P1',
      'priority:P1 AND (tag:common OR teams:rareteam)',
    ];
    // Few alerts have the tag or team, or both of two: those few are read whole.
    const read = ['tag:rare', 'teams:rareteam AND priority:P3', 'tag:common AND tag:rare'];
    const page = { offset: 0, limit: 20, sort: 'createdAt', order: 'desc' } as const;
    for (const query of [...walked, ...read]) {
      const where = whereOf(query);
      assert.ok(tagOrTeamPart(where) !== undefined, query);
      statements.length = 0;
      const listed = await alertsRepository.list(db, { orgId: org }, where, page);
      assert.equal(/ as materialized /i.test(statements.at(-1)?.sql ?? ''), read.includes(query), query);
      assert.ok(listed.length > 0, query);
      assert.deepEqual(listed, await alertsRepository.list(db, { orgId: org }, unmarked(where), page), query);
    }
  });

  it('knows which conditions only the alerts of a named tag or team meet', () => {
    const narrowed = [
      'tag:x',
      'tags=x',
      'teams:x',
      'team:x*',
      'status:open AND tag:x',
      'tag:x AND NOT status:open',
      'tag:x OR teams:y',
      '(tag:x OR tag:y) AND message:z',
    ];
    const not = ['tag:x*', 'tag!=x', 'NOT tag:x', 'teams!=x', 'tag:x OR status:open', 'status:open', 'x'];
    for (const query of narrowed) assert.equal(tagOrTeamPart(whereOf(query)) !== undefined, true, query);
    for (const query of not) assert.equal(tagOrTeamPart(whereOf(query)) !== undefined, false, query);
    assert.equal(tagOrTeamPart(unmarked(whereOf('tag:x'))) !== undefined, false);
  });
});
