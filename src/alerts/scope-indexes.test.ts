import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { createTestDatabase } from '../testing/harness.js';
import type { Principal } from '../accounts/service.js';
import {
  alertsRepository,
  FEW_NOTIFIED,
  type AlertIntegration,
  type AlertScope,
  type AlertViewer,
} from './repository.js';
import { alertScopeOf } from './visibility.js';

/**
 * The scopes of a restricted user and of an integration's key (repository.ts, `isTheirs` and
 * `isIntegrations`) are tests each served by an index (migration 0072), so a small scope is read through
 * them rather than by checking every alert of the organization; and they hold the very alerts the OR
 * checked on each row did, written here as it was (the oracle). A user notified of many alerts has
 * those tested by a hashed subquery instead of a list of ids (FEW_NOTIFIED), holding the same alerts.
 */

const refs = (type: string, ids: readonly string[]) => ids.map((id) => JSON.stringify([{ type, id }]));

function oldTeams(teams: readonly string[], teamRefs: readonly string[]): RawBuilder<boolean> {
  return sql<boolean>`(alerts.team_ids && ${[...teams]}::uuid[]
    OR alerts.responders @> ANY(${[...teamRefs]}::jsonb[] || ARRAY(
      SELECT jsonb_build_array(jsonb_build_object('type', 'escalation', 'id', e.id))
      FROM escalations e WHERE e.owner_team_id = ANY(${[...teams]}::uuid[])
      UNION ALL
      SELECT jsonb_build_array(jsonb_build_object('type', 'schedule', 'id', s.id))
      FROM schedules s WHERE s.owner_team_id = ANY(${[...teams]}::uuid[]))))`;
}

function oldIsTheirs(viewer: AlertViewer): RawBuilder<boolean> {
  const r = [...refs('user', [viewer.userId]), ...refs('team', viewer.teamIds)];
  const owns = viewer.username ? sql<boolean>`alerts.owner = ${viewer.username}` : sql<boolean>`false`;
  return sql<boolean>`(${owns}
    OR ${oldTeams(viewer.teamIds, r)}
    OR alerts.visible_to @> ANY(${r}::jsonb[])
    OR alerts.id IN (SELECT n.alert_id FROM notifications n WHERE n.user_id = ${viewer.userId}))`;
}

function oldIsIntegrations(integration: AlertIntegration): RawBuilder<boolean> {
  return sql<boolean>`(alerts.integration_id = ${integration.id}
    OR ${oldTeams([integration.teamId], [])}
    OR alerts.visible_to @> ANY(${refs('team', [integration.teamId])}::jsonb[]))`;
}

async function oracle(db: Db, scope: AlertScope, status?: 'open' | 'closed'): Promise<string[]> {
  const where = scope.viewer ? oldIsTheirs(scope.viewer) : oldIsIntegrations(scope.integration!);
  const state = status ? sql`AND alerts.status = ${status}` : sql``;
  const { rows } = await sql<{ id: string }>`
    SELECT alerts.id FROM alerts WHERE alerts.org_id = ${scope.orgId} AND ${where} ${state}`.execute(db);
  return rows.map((r) => r.id).sort();
}

async function insertId(db: Db, query: RawBuilder<{ id: string }>): Promise<string> {
  const { rows } = await query.execute(db);
  const id = rows[0]?.id;
  assert.ok(id);
  return id;
}

describe('restricted scopes hold the alerts the row-by-row OR held', () => {
  let pool: ReturnType<typeof createPool>;
  let db: Db;
  const scopes: [string, AlertScope][] = [];

  before(async () => {
    pool = createPool(await createTestDatabase({ migrated: true }), 2);
    db = createDb(pool);
    const org = (name: string) =>
      insertId(db, sql`INSERT INTO organizations (name) VALUES (${name}) RETURNING id`);
    const [a, b] = [await org('A'), await org('B')];
    const team = (o: string, name: string) =>
      insertId(db, sql`INSERT INTO teams (org_id, name) VALUES (${o}, ${name}) RETURNING id`);
    const user = (o: string, name: string) =>
      insertId(
        db,
        sql`INSERT INTO users (org_id, username, full_name, role) VALUES (${o}, ${name}, ${name}, 'user') RETURNING id`,
      );
    const [t1, t2, t3, gone] = [
      await team(a, 't1'),
      await team(a, 't2'),
      await team(a, 't3'),
      await team(a, 'gone'),
    ];
    const tb = await team(b, 'tb');
    const [u1, u2, u3, u4, u5] = [
      await user(a, 'u1'),
      await user(a, 'u2'),
      await user(a, 'u3'),
      await user(a, 'u4'),
      await user(a, 'u5'),
    ];
    const ub = await user(b, 'ub');
    const escalation = (name: string, owner: string | null) =>
      insertId(
        db,
        sql`INSERT INTO escalations (org_id, name, owner_team_id, rules) VALUES (${a}, ${name}, ${owner}, '[]') RETURNING id`,
      );
    const schedule = (name: string, owner: string | null) =>
      insertId(
        db,
        sql`INSERT INTO schedules (org_id, name, owner_team_id, timezone) VALUES (${a}, ${name}, ${owner}, 'UTC') RETURNING id`,
      );
    const [e1, e2, eGone, eNone] = [
      await escalation('e1', t1),
      await escalation('e2', t2),
      await escalation('e-gone', gone),
      await escalation('e-none', null),
    ];
    const [s1, sGone] = [await schedule('s1', t2), await schedule('s-gone', gone)];
    // A deleted team's escalations and schedules are no one's; a principal may still carry its id.
    await sql`DELETE FROM teams WHERE id = ${gone}`.execute(db);

    const ref = (type: string, id: string, more: object = {}) => ({ type, id, ...more });
    // Responders and visibleTo of every shape the column may hold, odd ones included.
    const shapes: unknown[] = [
      [],
      [ref('user', u1)],
      [ref('user', u2, { username: 'u2' })],
      [ref('team', t1)],
      [ref('team', t2), ref('user', u3)],
      [ref('team', t3)],
      [ref('team', gone)],
      [ref('escalation', e1)],
      [ref('escalation', e2, { name: 'e2' })],
      [ref('escalation', eGone)],
      [ref('escalation', eNone)],
      [ref('schedule', s1)],
      [ref('schedule', sGone)],
      [ref('schedule', e1)],
      [ref('team', tb), ref('user', ub)],
      ref('user', u1),
      ref('escalation', e1),
      [[ref('user', u1)]],
      [[ref('escalation', e1)]],
      [ref('user', u1.toUpperCase())],
      [ref('escalation', e1.toUpperCase())],
      [{ type: 'user' }, 'user', 7, null],
      [{ type: 'escalation', id: [e1] }],
      [{ type: ['escalation'], id: e1 }],
      [{ type: 'user', id: { id: u1 } }],
      'user',
      { x: ref('user', u1) },
    ];
    const teamIds = [[], [t1], [t2], [t1, t3], [gone], [tb]];
    const owners = ['', 'u1', 'u2', 'U1', 'ub', 'u4'];
    const integrations = [
      null,
      '00000000-0000-4000-8000-000000000001',
      '00000000-0000-4000-8000-000000000002',
    ];
    const n = 600;
    await sql`
      INSERT INTO alerts (org_id, alias, message, status, owner, team_ids, responders, visible_to, integration_id)
      SELECT CASE WHEN g % 11 = 0 THEN ${b}::uuid ELSE ${a}::uuid END, 'a' || g, 'm',
             CASE WHEN g % 3 = 0 THEN 'open' ELSE 'closed' END,
             (${owners}::text[])[1 + g % ${owners.length}],
             ARRAY(SELECT jsonb_array_elements_text((${JSON.stringify(teamIds)}::jsonb) -> (g % ${teamIds.length})))::uuid[],
             (${JSON.stringify(shapes)}::jsonb) -> (g % ${shapes.length}),
             (${JSON.stringify(shapes)}::jsonb) -> ((g * 7 + 3) % ${shapes.length}),
             (${integrations}::uuid[])[1 + g % ${integrations.length}]
      FROM generate_series(1, ${n}) g`.execute(db);
    // Notifications: of u1 (some alerts several times), of u2, and of u1 about the other organization's;
    // of u5, more alerts than FEW_NOTIFIED (150, twice each).
    await sql`
      INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, method, address, kind, due_at)
      SELECT 'n' || a.alias || '-' || u.id || '-' || k, a.org_id, a.id, u.id, 'email', 'x', 'create-alert', now()
      FROM alerts a
      JOIN users u ON (u.id = ${u1} AND substr(a.alias, 2)::int % 13 = 1)
                   OR (u.id = ${u2} AND substr(a.alias, 2)::int % 17 = 2)
                   OR (u.id = ${u5} AND substr(a.alias, 2)::int % 4 = 1)
      CROSS JOIN generate_series(1, 2) k`.execute(db);
    await sql`ANALYZE`.execute(db);

    const viewer = async (userId: string, username: string | undefined, teams: string[]) => ({
      orgId: a,
      viewer: {
        userId,
        username,
        teamIds: teams,
        notifiedOfMany: await alertsRepository.notifiedOfMany(db, userId),
      },
    });
    scopes.push(
      ['a user without teams', await viewer(u1, 'u1', [])],
      ['a user of two teams', await viewer(u2, 'u2', [t1, t2])],
      ['a user of a team since deleted', await viewer(u3, 'u3', [t3, gone])],
      ['a user without a username', await viewer(u4, undefined, [t2])],
      ['a user of the other organization seen from this one', await viewer(ub, 'ub', [tb])],
      [`a user notified of more than ${FEW_NOTIFIED} alerts`, await viewer(u5, 'u5', [t1])],
      [`a user notified of more than ${FEW_NOTIFIED} alerts, without teams`, await viewer(u5, 'u5', [])],
      ['an integration of a team', { orgId: a, integration: { id: integrations[1]!, teamId: t1 } }],
      ['an integration of a deleted team', { orgId: a, integration: { id: integrations[2]!, teamId: gone } }],
    );
  });
  after(() => pool.end());

  it('lists and counts, for every scope, what the old predicate held', async () => {
    const page = { offset: 0, limit: 1000, sort: 'createdAt', order: 'desc' } as const;
    const open = sql<boolean>`alerts.status = 'open'`;
    const many = scopes.filter(([, scope]) => scope.viewer?.notifiedOfMany).map(([name]) => name);
    assert.deepEqual(
      many,
      scopes.map(([name]) => name).filter((name) => name.includes(`${FEW_NOTIFIED}`)),
    );
    // Either test of the notified alerts holds the same ones: each viewer is also read the other way.
    const flipped = scopes.flatMap(([name, scope]): [string, AlertScope][] =>
      scope.viewer
        ? [
            [
              `${name} (flipped)`,
              { ...scope, viewer: { ...scope.viewer, notifiedOfMany: !scope.viewer.notifiedOfMany } },
            ],
          ]
        : [],
    );
    let some = 0;
    for (const [name, scope] of [...scopes, ...flipped]) {
      const expected = await oracle(db, scope);
      const listed = (await alertsRepository.list(db, scope, undefined, page)).map((r) => r.id).sort();
      assert.deepEqual(listed, expected, name);
      const openListed = (await alertsRepository.list(db, scope, open, page)).map((r) => r.id).sort();
      assert.deepEqual(openListed, await oracle(db, scope, 'open'), name);
      assert.equal(await alertsRepository.count(db, scope, undefined), expected.length, name);
      const [all, opened] = await alertsRepository.countEach(db, scope, [undefined, open]);
      assert.deepEqual([all, opened], [expected.length, openListed.length], name);
      const everyId = (await sql<{ id: string }>`SELECT id FROM alerts`.execute(db)).rows.map((r) => r.id);
      assert.deepEqual((await alertsRepository.idsInScope(db, scope, everyId)).sort(), expected, name);
      if (expected.length > 0) some++;
    }
    assert.ok(some >= 10, 'most scopes hold some alerts');
  });
});

describe('a restricted scope read through its indexes', () => {
  let pool: ReturnType<typeof createPool>;
  let db: Kysely<Database>;
  const statements: { sql: string; parameters: readonly unknown[] }[] = [];
  let scope: AlertScope;
  let heavy: Principal;

  before(async () => {
    pool = createPool(await createTestDatabase({ migrated: true }), 1);
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query);
      },
    });
    const orgs = await sql<{
      id: string;
    }>`INSERT INTO organizations (name) VALUES ('Big') RETURNING id`.execute(db);
    const org = orgs.rows[0]!.id;
    await sql`INSERT INTO teams (org_id, name) SELECT ${org}::uuid, 'team' || g FROM generate_series(1, 20) g`.execute(
      db,
    );
    await sql`
      INSERT INTO users (org_id, username, full_name, role)
      SELECT ${org}::uuid, 'user' || g, 'User ' || g, 'user' FROM generate_series(1, 50) g`.execute(db);
    const me = await sql<{ id: string }>`
      INSERT INTO users (org_id, username, full_name, role) VALUES (${org}, 'me', 'Me', 'user') RETURNING id`.execute(
      db,
    );
    const myTeam = await sql<{ id: string }>`
      INSERT INTO teams (org_id, name) VALUES (${org}, 'mine') RETURNING id`.execute(db);
    // 4,000 alerts of the other teams and users, mostly closed; 6 of them are mine in one way or another.
    await sql`
      WITH t AS (SELECT array_agg(id ORDER BY name) AS ids FROM teams WHERE name LIKE 'team%'),
           u AS (SELECT array_agg(id ORDER BY username) AS ids FROM users WHERE username LIKE 'user%')
      INSERT INTO alerts (org_id, alias, message, status, owner, team_ids, responders, visible_to, created_at)
      SELECT ${org}::uuid, 'a' || g, 'm', CASE WHEN g > 3900 THEN 'open' ELSE 'closed' END,
             CASE WHEN g % 7 = 0 THEN 'user' || (1 + g % 50) ELSE '' END, ARRAY[t.ids[1 + g % 20]],
             jsonb_build_array(jsonb_build_object('type', 'team', 'id', t.ids[1 + g % 20]),
                               jsonb_build_object('type', 'user', 'id', u.ids[1 + g % 50])),
             CASE WHEN g % 9 = 0 THEN jsonb_build_array(jsonb_build_object('type', 'user', 'id', u.ids[1 + g % 50]))
                  ELSE '[]' END,
             now() - g * interval '1 minute'
      FROM generate_series(1, 4000) g, t, u`.execute(db);
    await sql`UPDATE alerts SET owner = 'me' WHERE alias IN ('a10', 'a2000')`.execute(db);
    await sql`
      UPDATE alerts SET visible_to = jsonb_build_array(jsonb_build_object('type', 'team', 'id', ${myTeam.rows[0]!.id}::uuid))
      WHERE alias = 'a3000'`.execute(db);
    await sql`
      UPDATE alerts SET responders = responders || jsonb_build_array(jsonb_build_object('type', 'user', 'id', ${me.rows[0]!.id}::uuid))
      WHERE alias = 'a3500'`.execute(db);
    await sql`
      INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, method, address, kind, due_at)
      SELECT 'n' || alias, org_id, id, ${me.rows[0]!.id}, 'email', 'x', 'create-alert', now()
      FROM alerts WHERE alias IN ('a100', 'a1000')`.execute(db);
    // Notified of more alerts than FEW_NOTIFIED (each of them twice), and of nothing else.
    const paged = await sql<{ id: string }>`
      INSERT INTO users (org_id, username, full_name, role) VALUES (${org}, 'paged', 'Paged', 'user') RETURNING id`.execute(
      db,
    );
    await sql`
      INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, method, address, kind, due_at)
      SELECT 'p' || alias || '-' || k, org_id, id, ${paged.rows[0]!.id}, 'email', 'x', 'create-alert', now()
      FROM alerts CROSS JOIN generate_series(1, 2) k WHERE substr(alias, 2)::int % 20 = 3`.execute(db);
    // In a team of no alerts: only a team's member is read by walking (visibility.ts); one without teams
    // keeps the list of ids, whatever its length.
    await sql`
      WITH team AS (INSERT INTO teams (org_id, name) VALUES (${org}, 'pagers') RETURNING id)
      INSERT INTO team_members (team_id, user_id, role, position)
      SELECT team.id, ${paged.rows[0]!.id}, 'user', 0 FROM team`.execute(db);
    await sql`VACUUM ANALYZE`.execute(db);
    const userId = me.rows[0]!.id;
    scope = {
      orgId: org,
      viewer: { userId, username: 'me', teamIds: [myTeam.rows[0]!.id], notifiedOfMany: false },
    };
    const principal = {
      orgId: org,
      apiKeyId: 'k',
      fullName: undefined,
      role: 'user',
      customRoleId: null,
    } as const;
    heavy = { ...principal, userId: paged.rows[0]!.id, username: 'paged' };
    assert.equal(
      (await alertScopeOf(db, { ...principal, userId, username: 'me' })).viewer?.notifiedOfMany,
      false,
    );
  });
  after(() => db.destroy());

  /** The plan of the statement `run` makes, its nodes flattened. */
  async function planOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
    statements.length = 0;
    await run();
    const statement = statements.at(-1);
    assert.ok(statement);
    const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(
      `EXPLAIN (FORMAT JSON) ${statement.sql}`,
      [...statement.parameters],
    );
    const nodes: Record<string, unknown>[] = [];
    const walk = (node: Record<string, unknown>) => {
      nodes.push(node);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk(rows[0]!['QUERY PLAN'][0].Plan);
    return nodes;
  }

  /** How the plan reads the alerts table: each scan of it, by node type and index. */
  function alertScans(nodes: Record<string, unknown>[]): string[] {
    return nodes
      .filter((n) => n['Relation Name'] === 'alerts' || String(n['Index Name'] ?? '').startsWith('alerts'))
      .map((n) => `${String(n['Node Type'])}${n['Index Name'] ? ` ${String(n['Index Name'])}` : ''}`);
  }

  it("reads a user's first page of closed alerts through the indexes of their tests, not every alert", async () => {
    const page = { offset: 0, limit: 50, sort: 'createdAt', order: 'desc' } as const;
    const closed = sql<boolean>`alerts.status = 'closed'`;
    const listed = await alertsRepository.list(db, scope, closed, page);
    assert.equal(listed.length, 6);
    for (const where of [closed, undefined]) {
      const scans = alertScans(await planOf(() => alertsRepository.list(db, scope, where, page)));
      assert.ok(scans.includes('Bitmap Heap Scan'), scans.join(', '));
      assert.ok(scans.includes('Bitmap Index Scan alerts_org_owner'), scans.join(', '));
      assert.ok(scans.includes('Bitmap Index Scan alerts_responders'), scans.join(', '));
      assert.ok(scans.includes('Bitmap Index Scan alerts_pkey'), scans.join(', '));
      assert.ok(!scans.some((s) => s.startsWith('Seq Scan') || s.startsWith('Index Scan')), scans.join(', '));
    }
  });

  it(`tests the alerts a user notified of more than ${FEW_NOTIFIED} was notified of with a hashed subquery`, async () => {
    // A list of ids is searched in turn on every row a plan walks (5,000 ids: seconds for 100k alerts).
    const paged = await alertScopeOf(db, heavy);
    assert.equal(paged.viewer?.notifiedOfMany, true);
    assert.equal(await alertsRepository.count(db, paged, undefined), 200);
    const filters = (await planOf(() => alertsRepository.count(db, paged, undefined)))
      .filter((n) => n['Relation Name'] === 'alerts')
      .map((n) => String(n.Filter ?? ''));
    assert.ok(
      filters.some((f) => f.includes('hashed SubPlan')),
      filters.join('; '),
    );
    assert.ok(!filters.some((f) => /= ANY \(\(InitPlan/.test(f)), filters.join('; '));
    // Out of the team, the same alerts as a list of ids: a plan reads them through the primary key.
    await sql`DELETE FROM team_members WHERE user_id = ${heavy.userId ?? ''}`.execute(db);
    try {
      const teamless = await alertScopeOf(db, heavy);
      assert.equal(teamless.viewer?.notifiedOfMany, false);
      assert.equal(await alertsRepository.count(db, teamless, undefined), 200);
    } finally {
      await sql`
        INSERT INTO team_members (team_id, user_id, role, position)
        SELECT id, ${heavy.userId ?? ''}, 'user', 0 FROM teams WHERE org_id = ${heavy.orgId} AND name = 'pagers'`.execute(
        db,
      );
    }
  });

  it("counts a user's alerts without reading every alert", async () => {
    assert.equal(await alertsRepository.count(db, scope, undefined), 6);
    const scans = alertScans(await planOf(() => alertsRepository.count(db, scope, undefined)));
    assert.ok(scans.includes('Bitmap Heap Scan'), scans.join(', '));
    assert.ok(
      !scans.some((s) => s.startsWith('Seq Scan') || s.startsWith('Parallel Seq Scan')),
      scans.join(', '),
    );
  });
});
