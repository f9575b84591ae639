/**
 * Alert lists and counts at scale, for each kind of scope a request can have: what the console's alert
 * list asks (GET /v2/alerts and GET /v2/alerts/counts) costs in the database, through the product's own
 * repository functions (alertsRepository.list, count and countEach), its query language (parseQuery,
 * compileQuery) and the scopes alertScopeOf makes from a principal. No HTTP: the database's part alone.
 * Not a test: prints numbers.
 *
 *   npm run bench:scopes [-- --alerts 100000 --runs 7]
 *
 * A fresh embedded PostgreSQL in a temporary folder (or, with DATABASE_URL, a database of its own made on
 * that server and dropped at the end), migrated by migrate(), then seeded in bulk with SQL
 * (generate_series): `--alerts` alerts in one organization, 2% of them open (the newest), a third of
 * those acknowledged; 20 teams, one of which has 30% of the alerts as responder (some through its
 * escalation); an API integration that made 10% of them; one notification for each alert to one of 300
 * other users; 5 alerts with a rare tag. Then VACUUM ANALYZE, as autovacuum would have done on a table
 * that size, and each operation for each scope: one run to warm up, then `--runs` timed, the median
 * reported.
 *
 * Scopes: an admin (the whole organization); a user who sees ~15 alerts (owner of 10, responder to 5);
 * a member of the team with 30% of the alerts, notified of 5,000 others (more than FEW_NOTIFIED: the
 * notified alerts as a subquery); the same kind of member notified of 50 (as a list of ids); an API
 * integration's key (its team's alerts and those it made).
 *
 * The baseline: the admin's count of open alerts (an index-only scan of alerts_open_alias, the partial
 * index of open alerts), timed once before each operation, the median of all those.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import type { Principal } from '../src/accounts/service.js';
import { checkCountedCost, compileQuery, parseQuery, type QueryNode } from '../src/alerts/query.js';
import { alertsRepository as repo, FEW_NOTIFIED, type AlertScope } from '../src/alerts/repository.js';
import { alertScopeOf } from '../src/alerts/visibility.js';
import { createDb, createPool, type Db } from '../src/db/database.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { arg } from './lib/bench-app.js';
import { stopLeftoverPostgresOnExit } from './lib/leftover-postgres.js';
import { percentile, reportBench, significant, type BenchRow } from './lib/report.js';
import { makeWorkDir } from './lib/work-dir.js';

const alertCount = arg('alerts', 100_000);
const runs = arg('runs', 7);
if (!Number.isInteger(alertCount) || alertCount < 1000) throw new Error('--alerts is a whole number ≥ 1000');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs is a whole number ≥ 1');

/** The console's views (web/src/pages/alerts/listQueries.ts VIEWS), in its order. */
const VIEWS = [
  'status:open',
  'status:open AND acknowledged:false',
  'status:open AND acknowledged:true',
  'status:closed',
  '',
];
/** A search box of three words, AND-ed into each view as the console does (viewQuery.ts `combine`). */
const SEARCH_BOX = 'disk high web-42';
const RARE_TAG = 'rare-tag';
const NOTIFIED_MANY = 5_000;
const NOTIFIED_FEW = 50;
const BACKGROUND_USERS = 300;
const TEAMS = 20;
const log = createLogger('warn');
const started = performance.now();
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const thousands = (n: number) => n.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------------
// Seeding.

interface Seeded {
  orgId: string;
  teamIds: string[];
  integration: { id: string; teamId: string };
  users: Record<'admin' | 'few' | 'many' | 'fewNotified', { id: string; username: string }>;
  summary: string;
}

/** `count` spread evenly over 1..alertCount, distinct for a distinct `offset` (below the step). */
const spread = (count: number, offset: number) =>
  Array.from({ length: count }, (_, k) => Math.floor((alertCount * k) / count) + 1 + offset);

async function seed(db: Db): Promise<Seeded> {
  const one = async <T>(query: RawBuilder<T>): Promise<T> => {
    const { rows } = await query.execute(db);
    if (!rows[0]) throw new Error('the seeding statement returned no row');
    return rows[0];
  };
  const { id: orgId } = await one(sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Bench') RETURNING id`);
  const { ids: teamIds } = await one(sql<{ ids: string[] }>`
    WITH made AS (
      INSERT INTO teams (org_id, name) SELECT ${orgId}::uuid, 'team-' || n FROM generate_series(1, ${TEAMS}) n
      RETURNING id, name)
    SELECT array_agg(id ORDER BY substr(name, 6)::int) AS ids FROM made`);
  const { ids: escalationIds } = await one(sql<{ ids: string[] }>`
    WITH made AS (
      INSERT INTO escalations (org_id, name, owner_team_id, rules)
      SELECT ${orgId}::uuid, 'escalation-' || n, (${teamIds}::uuid[])[n], '[]' FROM generate_series(1, ${TEAMS}) n
      RETURNING id, name)
    SELECT array_agg(id ORDER BY substr(name, 12)::int) AS ids FROM made`);
  const user = (username: string, role: 'admin' | 'user') =>
    one(sql<{ id: string; username: string }>`
      INSERT INTO users (org_id, username, full_name, role) VALUES (${orgId}, ${username}, ${username}, ${role})
      RETURNING id, username`);
  const users = {
    admin: await user('admin@bench.example', 'admin'),
    few: await user('few@bench.example', 'user'),
    many: await user('notified-5000@bench.example', 'user'),
    fewNotified: await user('notified-50@bench.example', 'user'),
  };
  const { ids: backgroundIds } = await one(sql<{ ids: string[] }>`
    WITH made AS (
      INSERT INTO users (org_id, username, full_name, role)
      SELECT ${orgId}::uuid, 'user-' || n || '@bench.example', 'User ' || n, 'user'
      FROM generate_series(1, ${BACKGROUND_USERS}) n
      RETURNING id, username)
    SELECT array_agg(id ORDER BY substr(split_part(username, '@', 1), 6)::int) AS ids FROM made`);
  // The two notified members in the team with 30% of the alerts; each other user in one team.
  await sql`
    INSERT INTO team_members (team_id, user_id, role, position)
    SELECT ${teamIds[0]}::uuid, u, 'user', k FROM unnest(${[users.many.id, users.fewNotified.id]}::uuid[]) WITH ORDINALITY AS m(u, k)
    UNION ALL
    SELECT (${teamIds}::uuid[])[1 + k % ${TEAMS}], u, 'user', 10 + k
    FROM unnest(${backgroundIds}::uuid[]) WITH ORDINALITY AS m(u, k)`.execute(db);
  const integrationTeam = teamIds[1] ?? '';
  const { id: integrationId } = await one(sql<{ id: string }>`
    INSERT INTO integrations (org_id, type, name, owner_team_id, api_key_lookup, api_key_hash, external_id)
    VALUES (${orgId}, 'API', 'Bench monitor', ${integrationTeam}, 'bench', '\\x00', 'bench')
    RETURNING id`);

  // Alert g (1..N): the team of 30% has g % 10 < 3, the other 19 share the rest; g % 20 in (1, 7) go
  // to the team's escalation instead of the team (team_ids then empty, as the intake makes them).
  const fewOwned = spread(10, 3);
  const fewResponding = spread(5, 5);
  // The rare tag on one alert of each kind of scope, spread over time: the team of 30%'s (one through
  // its escalation), the integration's, the few-alerts user's, and one of another team.
  const fifth = Math.floor(alertCount / 5);
  const near = (at: number, modulo: number, residue: number) => at - (at % modulo) + residue;
  const rare = [
    near(20, 20, 0),
    near(fifth + 20, 20, 1),
    near(2 * fifth + 10, 10, 9),
    fewOwned[6] ?? 0,
    near(4 * fifth - 10, 10, 4),
  ];
  const open = Math.floor(alertCount / 50);
  const chunk = 20_000;
  let since = performance.now();
  for (let from = 1; from <= alertCount; from += chunk) {
    const to = Math.min(alertCount, from + chunk - 1);
    await sql`
      INSERT INTO alerts (org_id, alias, message, description, status, acknowledged, created_at, updated_at,
        last_occurred_at, priority, source, entity, tags, details, responders, team_ids, visible_to, owner,
        integration_id, integration_name, integration_type)
      SELECT ${orgId}::uuid, 'alias-' || g,
        (ARRAY['Disk usage high', 'CPU load high', 'Latency above SLO', 'Memory pressure', 'Queue backlog growing'])[1 + g % 5]
          || ' on web-' || g % 500,
        'Host web-' || g % 500 || ' in region-' || g % 7 || ' reported it; see the runbook for what to check first.',
        CASE WHEN g > ${alertCount - open} THEN 'open' ELSE 'closed' END, g % 3 = 0,
        now() - (${alertCount} - g) * interval '30 seconds', now() - (${alertCount} - g) * interval '29 seconds',
        now() - (${alertCount} - g) * interval '29 seconds', 'P' || (1 + g % 5), 'prometheus', 'web-' || g % 500,
        ARRAY['env:prod', 'svc-' || g % 40] || CASE WHEN g = ANY(${rare}::int[]) THEN ARRAY[${RARE_TAG}::text] ELSE '{}' END,
        jsonb_build_object('host', 'web-' || g % 500, 'region', 'region-' || g % 7),
        CASE WHEN g % 20 IN (1, 7) THEN jsonb_build_array(jsonb_build_object('type', 'escalation', 'id', (${escalationIds}::uuid[])[t]))
             ELSE jsonb_build_array(jsonb_build_object('type', 'team', 'id', (${teamIds}::uuid[])[t])) END
          || CASE WHEN g = ANY(${fewResponding}::int[]) THEN jsonb_build_array(jsonb_build_object('type', 'user', 'id', ${users.few.id}::text))
                  ELSE '[]' END,
        CASE WHEN g % 20 IN (1, 7) THEN '{}' ELSE ARRAY[(${teamIds}::uuid[])[t]] END,
        CASE WHEN g % 100 = 42 THEN jsonb_build_array(jsonb_build_object('type', 'team', 'id', (${teamIds}::uuid[])[1 + (g / 100) % ${TEAMS}]))
             ELSE '[]' END,
        CASE WHEN g = ANY(${fewOwned}::int[]) THEN ${users.few.username}::text
             WHEN g % 50 = 5 THEN 'user-' || 1 + g % ${BACKGROUND_USERS} || '@bench.example' ELSE '' END,
        CASE WHEN g % 10 = 9 THEN ${integrationId}::uuid END,
        CASE WHEN g % 10 = 9 THEN 'Bench monitor' END,
        CASE WHEN g % 10 = 9 THEN 'API' END
      FROM generate_series(${from}::int, ${to}::int) g,
        LATERAL (SELECT CASE WHEN g % 10 < 3 THEN 1 ELSE 2 + g % ${TEAMS - 1} END AS t) team`.execute(db);
    console.log(`  alerts ${thousands(to)} / ${thousands(alertCount)} (${seconds(since)})`);
  }

  since = performance.now();
  // One page for each alert, to one of the other users: the notifications a real org has.
  await sql`
    INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, method, address, kind, state, due_at, sent_at)
    SELECT 'bench-' || a.id, ${orgId}::uuid, a.id, (${backgroundIds}::uuid[])[1 + substr(a.alias, 7)::int % ${BACKGROUND_USERS}],
      'email', 'user@bench.example', 'create-alert', 'sent', a.created_at, a.created_at
    FROM alerts a WHERE a.org_id = ${orgId}`.execute(db);
  // The two members' notified alerts: none of their team's (g % 10 = 5), spread over the whole range,
  // each paged twice (a page and its repeat) as the engine would; the few-alerts user, of the 5 they respond to.
  const notify = async (userId: string, wanted: number) => {
    const { n } = await one(sql<{ n: number }>`
      WITH candidates AS (
        SELECT a.id, a.created_at, row_number() OVER (ORDER BY a.created_at) AS k
        FROM alerts a WHERE a.org_id = ${orgId} AND substr(a.alias, 7)::int % 10 = 5),
      picked AS (
        SELECT id, created_at FROM candidates
        WHERE k % greatest(1, (SELECT count(*) FROM candidates) / ${wanted}) = 0 LIMIT ${wanted}),
      made AS (
        INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, method, address, kind, state, due_at, sent_at)
        SELECT 'bench-' || ${userId}::text || '-' || p.id || '-' || r, ${orgId}::uuid, p.id, ${userId}::uuid, 'email',
          'member@bench.example', 'create-alert', 'sent', p.created_at, p.created_at
        FROM picked p CROSS JOIN generate_series(1, 2) r
        RETURNING alert_id)
      SELECT count(DISTINCT alert_id)::int AS n FROM made`);
    return n;
  };
  const notifiedMany = await notify(users.many.id, NOTIFIED_MANY);
  const notifiedFew = await notify(users.fewNotified.id, NOTIFIED_FEW);
  await sql`
    INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, method, address, kind, state, due_at, sent_at)
    SELECT 'bench-few-' || a.id, ${orgId}::uuid, a.id, ${users.few.id}::uuid, 'email', 'few@bench.example', 'create-alert',
      'sent', a.created_at, a.created_at
    FROM alerts a WHERE a.org_id = ${orgId} AND a.alias = ANY(${fewResponding.map((g) => `alias-${g}`)})`.execute(
    db,
  );
  const { n: notifications } = await one(sql<{ n: number }>`SELECT count(*)::int AS n FROM notifications`);
  console.log(
    `  notifications ${thousands(notifications)} (${thousands(notifiedMany)} and ${thousands(notifiedFew)} distinct alerts for the two members; ${seconds(since)})`,
  );
  return {
    orgId,
    teamIds,
    integration: { id: integrationId, teamId: integrationTeam },
    users,
    summary: `${thousands(alertCount)} alerts (${thousands(open)} open), ${thousands(notifications)} notifications, ${TEAMS} teams, ${BACKGROUND_USERS + 4} users`,
  };
}

// ---------------------------------------------------------------------------------------------------
// The scopes, as alertScopeOf makes them for each principal.

interface Scope {
  label: string;
  scope: AlertScope;
}

async function scopesOf(db: Db, seeded: Seeded): Promise<Scope[]> {
  const person = (who: { id: string; username: string }, role: 'admin' | 'user'): Principal => ({
    orgId: seeded.orgId,
    apiKeyId: randomUUID(),
    userId: who.id,
    username: who.username,
    fullName: who.username,
    role,
    customRoleId: null,
  });
  const key: Principal = {
    orgId: seeded.orgId,
    apiKeyId: randomUUID(),
    userId: undefined,
    username: undefined,
    fullName: undefined,
    role: undefined,
    integration: {
      id: seeded.integration.id,
      name: 'Bench monitor',
      type: 'API',
      teamId: seeded.integration.teamId,
      ownerTeamId: seeded.integration.teamId,
      access: {
        allowReadAccess: true,
        allowWriteAccess: true,
        allowDeleteAccess: false,
        allowConfigurationAccess: false,
      },
    },
  };
  const { users } = seeded;
  const scopes: Scope[] = [
    { label: 'admin (whole org)', scope: await alertScopeOf(db, person(users.admin, 'admin')) },
    { label: 'user, owner/responder of 15', scope: await alertScopeOf(db, person(users.few, 'user')) },
    {
      label: `team of 30%, notified of ${thousands(NOTIFIED_MANY)}`,
      scope: await alertScopeOf(db, person(users.many, 'user')),
    },
    {
      label: `team of 30%, notified of ${NOTIFIED_FEW}`,
      scope: await alertScopeOf(db, person(users.fewNotified, 'user')),
    },
    { label: 'integration key', scope: await alertScopeOf(db, key) },
  ];
  // The two members must take the two ways isTheirs tests notified alerts, or the bench measures one twice.
  if (!scopes[2]?.scope.viewer?.notifiedOfMany || scopes[3]?.scope.viewer?.notifiedOfMany !== false)
    throw new Error(`the members' notified alerts do not straddle FEW_NOTIFIED (${FEW_NOTIFIED})`);
  return scopes;
}

// ---------------------------------------------------------------------------------------------------
// Measuring.

interface Row {
  scope: string;
  operation: string;
  median: number;
  min: number;
  max: number;
  answer: string;
}

async function measure(db: Db, orgId: string, scopes: Scope[]) {
  const node = (query: string): QueryNode | undefined => parseQuery(query);
  const where = (query: string) => {
    const parsed = node(query);
    return parsed ? compileQuery(orgId, parsed) : undefined;
  };
  // As the service builds them: each query parsed, checked as a request of them all is, compiled.
  const counted = (queries: string[]) => {
    checkCountedCost(queries.map(node));
    return queries.map(where);
  };
  const combine = (view: string) => (view ? `${view} AND ${SEARCH_BOX}` : SEARCH_BOX);
  const views = counted(VIEWS);
  const searched = counted(VIEWS.map(combine));
  const page = { offset: 0, limit: 50, sort: 'createdAt', order: 'desc' } as const;
  const closed = where('status:closed');
  const rare = where(`tag:${RARE_TAG}`);
  const open = where('status:open');
  const admin: AlertScope = { orgId };

  const operations: { label: string; run: (scope: AlertScope) => Promise<number | number[] | unknown[]> }[] =
    [
      { label: 'count (all)', run: (s) => repo.count(db, s, undefined) },
      { label: 'countEach, the 5 views', run: (s) => repo.countEach(db, s, views) },
      { label: `countEach, the 5 views AND "${SEARCH_BOX}"`, run: (s) => repo.countEach(db, s, searched) },
      { label: 'first page of status:closed', run: (s) => repo.list(db, s, closed, page) },
      { label: 'first page of all', run: (s) => repo.list(db, s, undefined, page) },
      { label: `first page of tag:${RARE_TAG}`, run: (s) => repo.list(db, s, rare, page) },
    ];
  const timed = async <T>(run: () => Promise<T>) => {
    const t = performance.now();
    const out = await run();
    return { ms: performance.now() - t, out };
  };
  const baselineRun = () => repo.count(db, admin, open);
  const baselineMs: number[] = [];
  await baselineRun();
  for (let i = 0; i < runs; i++) baselineMs.push((await timed(baselineRun)).ms);

  const rows: Row[] = [];
  for (const { label, scope } of scopes) {
    for (const operation of operations) {
      baselineMs.push((await timed(baselineRun)).ms);
      const warm = await timed(() => operation.run(scope));
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) ms.push((await timed(() => operation.run(scope))).ms);
      const out = warm.out;
      const answer =
        typeof out === 'number'
          ? thousands(out)
          : out.length > 0 && out.every((x) => typeof x === 'number')
            ? (out as number[]).map(thousands).join(' / ')
            : `${out.length} ${out.length === 1 ? 'row' : 'rows'}`;
      const row = {
        scope: label,
        operation: operation.label,
        median: percentile(ms, 50),
        min: Math.min(...ms),
        max: Math.max(...ms),
        answer,
      };
      rows.push(row);
      console.log(`  ${label}: ${operation.label}: ${row.median.toFixed(1)} ms (${answer})`);
    }
  }
  return { rows, baseline: { median: percentile(baselineMs, 50), samples: baselineMs.length } };
}

function printTable(rows: Row[], baseline: { median: number; samples: number }): void {
  const ms = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : thousands(Math.round(n)));
  const lines = [
    ['scope', 'operation', `median of ${runs}`, 'min-max', 'answer', 'ratio'],
    ...rows.map((r) => [
      r.scope,
      r.operation,
      `${ms(r.median)} ms`,
      `${ms(r.min)}-${ms(r.max)} ms`,
      r.answer,
      thousands(significant(r.median / baseline.median)),
    ]),
  ];
  const widths = lines[0]?.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length))) ?? [];
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...body] = lines;
  console.log(
    `Machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} (1 / 5 / 15 min)`,
  );
  console.log(
    `Baseline: the admin's count of status:open (index-only), ${ms(baseline.median)} ms (median of ${baseline.samples}, timed before each operation); ratio = median / baseline\n`,
  );
  console.log(line(head ?? []));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const cells of body) console.log(line(cells));
}

// ---------------------------------------------------------------------------------------------------
// The database: a fresh embedded PostgreSQL, or a database of its own on DATABASE_URL's server.

const work = await makeWorkDir('bench-scopes');
stopLeftoverPostgresOnExit(work);
let server: EmbeddedPostgresHandle | undefined;
let droppable: { adminUrl: string; name: string } | undefined;
let db: Db | undefined;

let cleaning: Promise<void> | undefined;
/** Stops PostgreSQL (or drops the bench's database) and removes the temporary folder; once. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    if (droppable) {
      // WITH (FORCE) ends this process's own sessions too, even one a Ctrl-C left mid-statement.
      const admin = new pg.Client({ connectionString: droppable.adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${droppable.name}" WITH (FORCE)`);
      await admin.end();
    }
    await server?.stop();
    await fs.rm(work, { recursive: true, force: true });
  })();
  return cleaning;
}
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    console.log(`\n  ${signal}: stopping`);
    stopping = true;
    void cleanUp()
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(130));
  });

try {
  let url: string;
  if (process.env.DATABASE_URL) {
    const name = `vigil_bench_scopes_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    droppable = { adminUrl: process.env.DATABASE_URL, name };
    const own = new URL(process.env.DATABASE_URL);
    own.pathname = `/${name}`;
    url = own.toString();
    console.log(`database ${name} on DATABASE_URL's server`);
  } else {
    console.log(`starting the embedded PostgreSQL in ${work} ...`);
    // fsync off: for the seeding's sake; it changes nothing in the reads measured.
    server = await startEmbeddedPostgres({ dataDir: work, log, settings: { fsync: 'off' } });
    url = server.connectionString;
  }
  const pool = createPool(url, 2);
  db = createDb(pool);
  let since = performance.now();
  await migrate(db, pool, log);
  console.log(`migrated (${seconds(since)})`);

  const seeding = performance.now();
  const seeded = await seed(db);
  await sql`VACUUM ANALYZE`.execute(db);
  console.log(`seeded ${seeded.summary} in ${seconds(seeding)} (with VACUUM ANALYZE)`);

  const scopes = await scopesOf(db, seeded);
  since = performance.now();
  const { rows, baseline } = await measure(db, seeded.orgId, scopes);
  console.log(`measured in ${seconds(since)}; the whole run ${seconds(started)}\n`);
  printTable(rows, baseline);
  reportBench(
    'scopes',
    rows.map((r): BenchRow => ({
      measure: `${r.scope}: ${r.operation}, median of ${runs} (${thousands(alertCount)} alerts)`,
      value: significant(r.median),
      unit: 'ms',
      baseline: {
        label: `the admin's count of status:open (index-only), median of ${baseline.samples}`,
        value: significant(baseline.median),
        unit: 'ms',
      },
      note: r.answer,
    })),
  );
  await db.destroy();
  db = undefined;
} catch (error) {
  // Stopped by a signal: its handler cleans up and exits; the failed statement is no error of ours.
  if (!stopping) throw error;
  await new Promise(() => {});
} finally {
  if (!stopping) {
    await db?.destroy();
    await cleanUp();
  }
}
