import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { createTestDatabase } from '../testing/harness.js';
import { compileQuery, parseQuery, type QueryNode } from './query.js';
import { alertsRepository, type AlertScope } from './repository.js';

/**
 * alertsRepository.countEach: the conjuncts all its conditions share (the console's search box and saved
 * search, AND-ed to each of its five views) are checked once, in the WHERE, and each count is still what
 * the condition alone counts.
 */

/** The console's views (web/src/pages/alerts/listQueries.ts). */
const VIEWS = [
  'status:open',
  'status:open AND acknowledged:false',
  'status:open AND acknowledged:true',
  'status:closed',
  '',
];

/** Each view AND-ed with the search box, as the console's `combine` (viewQuery.ts) writes them. */
const inViews = (box: string) =>
  VIEWS.map((view) => (view && box ? `${view} AND ${/\bOR\b/.test(box) ? `(${box})` : box}` : view || box));

let pool: ReturnType<typeof createPool>;
let db: Db;
let org = '';
let viewer: AlertScope['viewer'];

before(async () => {
  pool = createPool(await createTestDatabase({ migrated: true }), 2);
  db = createDb(pool);
  const orgs = await sql<{
    id: string;
  }>`INSERT INTO organizations (name) VALUES ('Counted') RETURNING id`.execute(db);
  org = orgs.rows[0]?.id ?? '';
  const users = await sql<{ id: string }>`
    INSERT INTO users (org_id, username, full_name, role) VALUES (${org}, 'viewer', 'Viewer', 'user')
    RETURNING id`.execute(db);
  viewer = { userId: users.rows[0]?.id ?? '', username: 'viewer', teamIds: [], notifiedOfMany: false };
  // 600 alerts whose words, status, acknowledgement, owner, tags and details (missing for most, so that
  // a NOT of details.env meets NULLs) vary with n on different periods.
  await sql`
    INSERT INTO alerts (org_id, tiny_id, alias, message, description, status, acknowledged, owner, tags, details)
    SELECT ${org}::uuid, n, 'a' || n,
           CASE n % 7 WHEN 0 THEN 'host-42 web down' WHEN 1 THEN 'host-42 db slow' WHEN 2 THEN 'web db error'
             WHEN 3 THEN 'host-4 web db' ELSE 'quiet' END,
           CASE WHEN n % 5 = 0 THEN '' WHEN n % 5 = 1 THEN 'about host-42' ELSE 'nothing' END,
           CASE WHEN n % 3 = 0 THEN 'closed' ELSE 'open' END,
           n % 4 = 0,
           CASE WHEN n % 11 = 0 THEN 'viewer' ELSE '' END,
           CASE WHEN n % 2 = 0 THEN ARRAY['db'] ELSE ARRAY[]::text[] END,
           CASE WHEN n % 6 = 0 THEN '{"env": "prod"}'::jsonb ELSE '{}'::jsonb END
    FROM generate_series(1, 600) n`.execute(db);
});
after(async () => {
  await db.destroy();
});

const parsed = (query: string) => (query ? parseQuery(query) : undefined);

/** The conditions as the alerts service makes them: each query AND-ed with the saved search's. */
function wheresOf(queries: readonly string[], saved?: string): (RawBuilder<boolean> | undefined)[] {
  const savedNode = saved ? parsed(saved) : undefined;
  return queries.map((query) => {
    const own = parsed(query);
    const node: QueryNode | undefined =
      savedNode && own ? { kind: 'and', left: savedNode, right: own } : (own ?? savedNode);
    return node ? compileQuery(org, node) : undefined;
  });
}

describe('alertsRepository.countEach', () => {
  it('counts each condition as `count` counts it alone, shared terms hoisted or not', async () => {
    const cases: { queries: string[]; saved?: string }[] = [
      { queries: inViews('host-42 web db') },
      { queries: inViews('web OR db') },
      { queries: inViews('NOT web NOT details.env:prod') },
      { queries: inViews('NOT (web OR db) description:host') },
      { queries: inViews('host-42'), saved: 'web OR tag:db' },
      { queries: inViews(''), saved: 'NOT db' },
      // A top-level OR: nothing is shared, though each side holds the same word.
      { queries: ['status:open OR web', 'web OR status:closed', 'web'] },
      // The same conjunct twice in one condition, and a condition that is only the shared conjuncts.
      { queries: ['web web status:open', 'web', 'db web'] },
      // A condition of every alert: nothing is shared.
      { queries: ['web', 'web db', ''] },
      { queries: ['host-42 web'] },
    ];
    const scopes: AlertScope[] = [{ orgId: org }, { orgId: org, viewer }];
    for (const { queries, saved } of cases) {
      const wheres = wheresOf(queries, saved);
      for (const scope of scopes) {
        const alone = await Promise.all(wheres.map((where) => alertsRepository.count(db, scope, where)));
        const label = `${JSON.stringify(queries)} saved ${saved ?? '-'}${scope.viewer ? ' as viewer' : ''}`;
        assert.deepEqual(await alertsRepository.countEach(db, scope, wheres), alone, label);
        if (!scope.viewer)
          assert.ok(
            alone.some((n) => n > 0 && n < 600),
            `${label}: ${alone.join()}`,
          );
      }
    }
  });

  it('checks the search box the console ANDs to each view once, in the WHERE', async () => {
    const statements: { sql: string; parameters: readonly unknown[] }[] = [];
    const logged = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        statements.push(event.query);
      },
    });
    const counts = await alertsRepository.countEach(
      logged,
      { orgId: org },
      wheresOf(inViews('host-42 web db'), 'NOT tag:none'),
    );
    assert.equal(counts.length, 5);
    assert.equal(statements.length, 1);
    const { sql: text, parameters } = statements[0] ?? { sql: '', parameters: [] };
    // Each free-text word is six ILIKEs of its pattern (message, description, alias, entity, source,
    // tags): once for the five counts, not once in each.
    for (const word of ['host-42', 'web', 'db']) {
      assert.equal(parameters.filter((p) => p === `%${word}%`).length, 6, word);
    }
    assert.equal(parameters.filter((p) => p === 'none').length, 1);
    const where = text.indexOf(' from "alerts" where ');
    assert.doesNotMatch(text.slice(0, where), /ILIKE|@>/, text);
    assert.match(text.slice(where), /ILIKE/, text);
  });
});
