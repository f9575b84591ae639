import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DateTime } from 'luxon';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Opsgenie's alert policies on the real server: created, read back, listed in order, updated, reordered,
 * turned off and on and deleted; each alert created that matches a policy is changed by it, in order,
 * stopping at the first unless it says continue; a team's policies change only that team's alerts, after
 * the global ones; an integration's action runs first. The alert's log names what changed it.
 */

let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
let teamA: string;
let teamB: string;
let plainUserKey: string;
let teamAdminKey: string;

const call = (method: string, path: string, body?: unknown, key?: string) =>
  server.callOk(method, path, body, key);

/** A filter matching messages that contain `token`. */
const about = (token: string) => ({
  type: 'match-all-conditions',
  conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
});

async function policy(body: Json, teamId?: string, key?: string): Promise<string> {
  const made = await call(
    'POST',
    `/v2/policies${teamId ? `?teamId=${teamId}` : ''}`,
    { type: 'alert', ...body },
    key,
  );
  return made.data.id;
}

/** Creates an alert (with a user's key unless given) and returns it as stored, with its log. */
async function alert(body: Json, key?: string): Promise<{ row: Json; logs: string[] }> {
  const alias = `a-${randomUUID()}`;
  const answer = await server.call('POST', '/v2/alerts', { alias, ...body }, key);
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  const { rows } = await db.query('SELECT * FROM alerts WHERE alias = $1', [alias]);
  assert.ok(rows[0], 'the alert was made');
  const logs = await db.query<{ log: string }>('SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id', [
    rows[0].id,
  ]);
  return { row: rows[0], logs: logs.rows.map((r) => r.log) };
}

async function userKey(username: string): Promise<{ id: string; key: string }> {
  const user = await call('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
  const key = await call('POST', '/v2/api-keys', { name: `${username} key`, user: { id: user.data.id } });
  return { id: user.data.id, key: key.data.key };
}

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  const admin = await userKey(`lead-${run}@example.com`);
  const plain = await userKey(`dev-${run}@example.com`);
  plainUserKey = plain.key;
  teamAdminKey = admin.key;
  teamA = (
    await call('POST', '/v2/teams', {
      name: `Payments ${run}`,
      members: [{ user: { id: admin.id }, role: 'admin' }],
    })
  ).data.id;
  teamB = (await call('POST', '/v2/teams', { name: `Search ${run}` })).data.id;
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('managing alert policies', () => {
  it('creates, reads back in Opsgenie’s shape, updates and deletes', async () => {
    const made = await server.call('POST', '/v2/policies', {
      type: 'alert',
      name: `Shape ${run}`,
      policyDescription: 'for the docs',
      filter: about('shape-me'),
      message: '{{message}}!',
      tags: ['x'],
      unknownField: 1,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.result, 'Created');
    const id = made.body.data.id;
    assert.equal(made.body.data.name, `Shape ${run}`);

    const got = (await call('GET', `/v2/policies/${id}`)).data;
    assert.equal(got.type, 'alert');
    assert.equal(got.policyDescription, 'for the docs');
    assert.equal(got.enabled, true);
    assert.equal(got.continue, false);
    assert.equal(got.message, '{{message}}!');
    assert.equal(got.alias, '{{alias}}');
    // Not given: answered as not given (it passes the alert's description through all the same).
    assert.equal(got.alertDescription, '');
    assert.deepEqual(got.tags, ['x']);
    assert.equal(got.ignoreOriginalTags, false);
    assert.equal(got.unknownField, undefined);
    assert.deepEqual(got.filter, {
      type: 'match-all-conditions',
      conditions: [
        { field: 'message', not: false, operation: 'contains', expectedValue: 'shape-me', order: 0 },
      ],
    });

    const updated = await call('PUT', `/v2/policies/${id}`, {
      type: 'alert',
      name: `Shape ${run}`,
      filter: about('shape-me'),
      message: '{{message}}?',
      priority: 'P2',
      enabled: true,
    });
    assert.equal(updated.data.message, '{{message}}?');
    assert.deepEqual(updated.data.tags, []);
    const shaped = await alert({ message: 'shape-me now', priority: 'P4' });
    assert.equal(shaped.row.message, 'shape-me now?');
    assert.equal(shaped.row.priority, 'P2');
    assert.match(shaped.logs[0] ?? '', new RegExp(`Modified by policy 'Shape ${run}'`));

    assert.equal((await call('DELETE', `/v2/policies/${id}`)).result, 'Deleted');
    assert.equal((await server.call('GET', `/v2/policies/${id}`)).status, 404);
    const after = await alert({ message: 'shape-me again' });
    assert.equal(after.row.message, 'shape-me again');
  });

  it('refuses bad policies and callers who may not change them', async () => {
    const base = { type: 'alert', name: `Bad ${run}`, filter: about('bad') };
    const cases: [unknown, number, RegExp][] = [
      [{ ...base, type: 'digest' }, 422, /type/],
      // Notification policies are a team's (notification-policies.test.ts).
      [{ ...base, type: 'notification' }, 422, /teamId/],
      [
        {
          ...base,
          filter: {
            type: 'match-all-conditions',
            conditions: [{ field: 'message', operation: 'matches', expectedValue: '(a' }],
          },
        },
        422,
        /filter\.conditions\[0\]\.expectedValue/,
      ],
      [{ ...base, priority: 'urgent' }, 422, /priority/],
      [{ ...base, responders: [{ type: 'team', name: 'Nobody' }] }, 422, /responders\[0\]/],
      [
        { ...base, timeRestrictions: { type: 'time-of-day', restriction: { startHour: 25, endHour: 17 } } },
        422,
        /timeRestrictions\.restriction\.startHour/,
      ],
      [
        {
          ...base,
          timeRestrictions: {
            type: 'weekday-and-time-of-day',
            restrictions: [{ startDay: 'funday', startHour: 9, endDay: 'friday', endHour: 17 }],
          },
        },
        422,
        /timeRestrictions\.restrictions\[0\]\.startDay/,
      ],
      [
        {
          ...base,
          timezone: 'Mars/Olympus',
          timeRestrictions: { type: 'time-of-day', restriction: { startHour: 9, endHour: 17 } },
        },
        422,
        /timezone/,
      ],
      // Only policies filter on who the alert is for; the field is named, with why.
      [
        {
          ...base,
          filter: {
            type: 'match-all-conditions',
            conditions: [{ field: 'owner', operation: 'equals', expectedValue: 'x' }],
          },
        },
        422,
        /filter/,
      ],
    ];
    for (const [body, status, field] of cases) {
      const answer = await server.call('POST', '/v2/policies', body);
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.match(JSON.stringify(answer.body), field);
    }
    assert.equal((await server.call('POST', '/v2/policies', base, plainUserKey)).status, 403);
    assert.equal((await server.call('POST', `/v2/policies?teamId=${teamA}`, base, plainUserKey)).status, 403);
    assert.equal((await server.call('POST', `/v2/policies?teamId=${randomUUID()}`, base)).status, 404);
    await policy({ name: `Twice ${run}`, filter: about('never') });
    assert.equal((await server.call('POST', '/v2/policies', { ...base, name: `Twice ${run}` })).status, 409);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM alert_policies WHERE name = $1', [
      `Bad ${run}`,
    ]);
    assert.equal(rows[0].n, 0);
  });
});

describe('running policies', () => {
  it('runs in order, continuing only past those that say so; order and on/off change it', async () => {
    const token = `chain-${run}`;
    const first = await policy({
      name: `First ${run}`,
      filter: about(token),
      tags: ['first'],
      continue: true,
    });
    const second = await policy({ name: `Second ${run}`, filter: about(token), tags: ['second'] });
    const third = await policy({ name: `Third ${run}`, filter: about(token), tags: ['third'] });

    const listed = (await call('GET', '/v2/policies/alert')).data.filter((p: Json) =>
      [first, second, third].includes(p.id),
    );
    assert.deepEqual(
      listed.map((p: Json) => p.name),
      [`First ${run}`, `Second ${run}`, `Third ${run}`],
    );

    let made = await alert({ message: `${token} one`, tags: ['own'] });
    assert.deepEqual(made.row.tags, ['own', 'first', 'second']);
    assert.match(made.logs[0] ?? '', /Modified by policy 'First .*'\. Modified by policy 'Second .*'$/);

    assert.equal(
      (await call('POST', `/v2/policies/${third}/change-order`, { targetIndex: 0 })).result,
      'Changed',
    );
    made = await alert({ message: `${token} two` });
    assert.deepEqual(made.row.tags, ['third']);

    assert.equal((await call('POST', `/v2/policies/${third}/disable`)).result, 'Disabled');
    assert.equal((await call('GET', `/v2/policies/${third}`)).data.enabled, false);
    made = await alert({ message: `${token} three` });
    assert.deepEqual(made.row.tags, ['first', 'second']);

    await call('POST', `/v2/policies/${third}/enable`);
    made = await alert({ message: `${token} four` });
    assert.deepEqual(made.row.tags, ['third']);
    // Other alerts are untouched.
    made = await alert({ message: 'unrelated', tags: ['own'] });
    assert.deepEqual(made.row.tags, ['own']);
  });

  it('replaces what it is told to ignore, and adds responders', async () => {
    const token = `replace-${run}`;
    await policy({
      name: `Replace ${run}`,
      filter: about(token),
      tags: ['only'],
      ignoreOriginalTags: true,
      details: { region: '{{details.Region}}', fixed: 1 },
      ignoreOriginalDetails: true,
      responders: [{ type: 'team', id: teamB }],
      alertDescription: '{{description}} (from {{source}})',
    });
    const made = await alert({
      message: `${token} x`,
      tags: ['gone'],
      details: { Region: 'eu-west-1', dropped: 'yes' },
      description: 'desc',
      source: 'grafana',
      responders: [{ type: 'team', id: teamA }],
    });
    assert.deepEqual(made.row.tags, ['only']);
    assert.deepEqual(made.row.details, { region: 'eu-west-1', fixed: '1' });
    assert.equal(made.row.description, 'desc (from grafana)');
    assert.deepEqual([...made.row.team_ids].sort(), [teamA, teamB].sort());
  });

  it('keeps a long description of characters outside the BMP whole (its default {{description}})', async () => {
    const token = `emoji-${run}`;
    const id = await policy({ name: `Emoji ${run}`, filter: about(token), tags: ['seen'] });
    // 15,000 characters, the longest description, in 29,999 UTF-16 units.
    const description = `a${'😀'.repeat(14_999)}`;
    const made = await alert({ message: `${token} x`, description });
    assert.deepEqual(made.row.tags, ['seen']);
    assert.equal(made.row.description, description);
    await call('POST', `/v2/policies/${id}/disable`);
  });

  it('still makes the alert when a responder a policy adds was deleted since, without that responder', async () => {
    const token = `gone-${run}`;
    const doomed = (await call('POST', '/v2/teams', { name: `Doomed ${run}` })).data.id;
    const id = await policy({
      name: `Gone ${run}`,
      filter: about(token),
      tags: ['routed'],
      responders: [{ type: 'team', id: doomed }],
    });
    await call('DELETE', `/v2/teams/${doomed}`);
    const made = await alert({ message: `${token} x`, responders: [{ type: 'team', id: teamA }] });
    assert.deepEqual(made.row.tags, ['routed']);
    assert.deepEqual(made.row.team_ids, [teamA]);
    await call('POST', `/v2/policies/${id}/disable`);
  });

  it("runs a team's policies only on that team's alerts, after the global ones and whatever they did", async () => {
    const token = `team-${run}`;
    const global = await policy({
      name: `Global ${run}`,
      filter: about(token),
      tags: ['global'],
      continue: true,
    });
    const mine = await policy(
      { name: `Team A ${run}`, filter: about(token), tags: ['team-a'], message: '{{message}} (A)' },
      teamA,
      teamAdminKey,
    );
    // The team's admin may manage its policies; the policy is found only with its team.
    assert.equal((await server.call('GET', `/v2/policies/${mine}`)).status, 404);
    const got = (await call('GET', `/v2/policies/${mine}?teamId=${teamA}`)).data;
    assert.equal(got.teamId, teamA);
    assert.deepEqual(
      (await call('GET', `/v2/policies/alert?teamId=${teamA}`)).data.map((p: Json) => p.id),
      [mine],
    );
    assert.ok(!(await call('GET', '/v2/policies/alert')).data.some((p: Json) => p.id === mine));

    const ofA = await alert({ message: `${token} a`, responders: [{ type: 'team', id: teamA }] });
    assert.deepEqual(ofA.row.tags, ['global', 'team-a']);
    assert.equal(ofA.row.message, `${token} a (A)`);
    const ofB = await alert({ message: `${token} b`, responders: [{ type: 'team', id: teamB }] });
    assert.deepEqual(ofB.row.tags, ['global']);

    // Each scope is evaluated on its own, as Opsgenie does: a global policy that matches without
    // `continue` ends the global ones, not the team's.
    await call('PUT', `/v2/policies/${global}`, {
      type: 'alert',
      name: `Global ${run}`,
      filter: about(token),
      tags: ['global'],
      continue: false,
    });
    const stillA = await alert({ message: `${token} a2`, responders: [{ type: 'team', id: teamA }] });
    assert.deepEqual(stillA.row.tags, ['global', 'team-a']);
    assert.equal(stillA.row.message, `${token} a2 (A)`);

    await call('POST', `/v2/policies/${global}/disable`);
  });

  it("runs a team's policies only on alerts of that team's integration or routed to it alone, as Opsgenie does", async () => {
    const token = `scope-${run}`;
    const ofA = await policy({ name: `Scope A ${run}`, filter: about(token), tags: ['team-a'] }, teamA);
    const ofB = await policy({ name: `Scope B ${run}`, filter: about(token), tags: ['team-b'] }, teamB);
    // Through a global key, for two teams: neither team's.
    const both = await alert({
      message: `${token} both`,
      responders: [
        { type: 'team', id: teamA },
        { type: 'team', id: teamB },
      ],
    });
    assert.deepEqual(both.row.tags, []);
    // Through team A's integration, whoever the payload names: team A's, not B's.
    const integration = await call('POST', '/v2/integrations', {
      type: 'API',
      name: `Scope ${run}`,
      ownerTeam: { id: teamA },
    });
    const viaA = await alert(
      { message: `${token} via A`, responders: [{ type: 'team', id: teamB }] },
      integration.data.apiKey,
    );
    assert.deepEqual(viaA.row.tags, ['team-a']);
    // Routed to team B alone by a global policy: team B's run after it.
    const router = await policy({
      name: `Route ${run}`,
      filter: about(`${token} route`),
      responders: [{ type: 'team', id: teamB }],
      tags: ['routed'],
    });
    const routed = await alert({ message: `${token} route me` });
    assert.deepEqual(routed.row.tags, ['routed', 'team-b']);
    for (const [id, team] of [
      [ofA, teamA],
      [ofB, teamB],
      [router, undefined],
    ] as const)
      await call('DELETE', `/v2/policies/${id}${team ? `?teamId=${team}` : ''}`);
  });

  it("runs after the integration's action, and the log names both", async () => {
    const token = `both-${run}`;
    const made = await call('POST', '/v2/integrations', {
      type: 'API',
      name: `Grafana ${run}`,
      ownerTeam: { id: teamB },
    });
    await call('PUT', `/v2/integrations/${made.data.id}/actions`, {
      create: [{ name: 'Prefix', message: 'grafana: {{message}}', tags: ['from-action'] }],
    });
    await policy({
      name: `After ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [{ field: 'tags', operation: 'contains', expectedValue: 'from-action' }],
      },
      message: '{{message}} (policy)',
    });
    const shaped = await alert({ message: token }, made.data.apiKey);
    assert.equal(shaped.row.message, `grafana: ${token} (policy)`);
    assert.match(
      shaped.logs[0] ?? '',
      new RegExp(`Shaped by integration action 'Prefix'\\. Modified by policy 'After ${run}'$`),
    );
  });
});

describe('time restrictions and who the alert is for', () => {
  /** A time-of-day window around the hour it is now in `zone` (offset by `from`/`to` hours). */
  const window = (zone: string, from: number, to: number) => {
    const hour = DateTime.now().setZone(zone).hour;
    return {
      type: 'time-of-day',
      restriction: {
        startHour: (hour + from + 24) % 24,
        startMin: 0,
        endHour: (hour + to + 24) % 24,
        endMin: 0,
      },
    };
  };

  it('applies a policy only to alerts created inside its time restriction, read in its time zone, and reads it back', async () => {
    const zone = 'Asia/Kathmandu';
    const inside = await policy({
      name: `Now ${run}`,
      filter: about(`timed-${run}`),
      timezone: zone,
      timeRestrictions: window(zone, -1, 1),
      tags: ['inside'],
      continue: true,
    });
    await policy({
      name: `Later ${run}`,
      filter: about(`timed-${run}`),
      timeRestrictions: window('UTC', 3, 5),
      tags: ['outside'],
      continue: true,
    });
    // The same hours as "now" in Kathmandu are not now in UTC (5:45 apart): zone matters.
    await policy({
      name: `Now in UTC hours ${run}`,
      filter: about(`timed-${run}`),
      timeRestrictions: window(zone, -1, 1),
      tags: ['utc-hours'],
    });
    const made = await alert({ message: `deploy timed-${run}` });
    assert.deepEqual(made.row.tags, ['inside'], made.logs.join('\n'));
    assert.ok(made.logs.some((l) => l.includes(`policy 'Now ${run}'`)));
    assert.ok(!made.logs.some((l) => l.includes(`policy 'Later ${run}'`)));

    const got = (await call('GET', `/v2/policies/${inside}`)).data;
    assert.deepEqual([got.timeRestrictions, got.timezone], [window(zone, -1, 1), zone]);
    // Without restrictions (or with an empty list, as Opsgenie clients send) nothing is shown.
    const put = await call('PUT', `/v2/policies/${inside}`, {
      type: 'alert',
      name: `Now ${run}`,
      filter: about(`timed-${run}`),
      timeRestrictions: { type: 'weekday-and-time-of-day', restrictions: [] },
    });
    assert.equal(put.data.timeRestrictions, undefined);
    const { rows } = await db.query('SELECT time_restriction FROM alert_policies WHERE id = $1', [inside]);
    assert.equal(rows[0].time_restriction, null);
  });

  it('keeps a window from midnight as the Go SDK sends it (hours of 0 left out), and its empty one as none', async () => {
    // Terraform's 00:00–06:00: og.Restriction's fields are all omitempty, so only endHour is sent.
    const night = await policy({
      name: `Small hours ${run}`,
      filter: about(`small-hours-${run}`),
      timeRestrictions: { type: 'time-of-day', restriction: { endHour: 6 } },
    });
    const got = (await call('GET', `/v2/policies/${night}`)).data;
    assert.deepEqual(got.timeRestrictions, {
      type: 'time-of-day',
      restriction: { startHour: 0, startMin: 0, endHour: 6, endMin: 0 },
    });
    const always = await policy({
      name: `Any hour ${run}`,
      filter: about(`any-hour-${run}`),
      timeRestrictions: { type: 'time-of-day', restriction: {} },
    });
    assert.equal((await call('GET', `/v2/policies/${always}`)).data.timeRestrictions, undefined);
  });

  it('filters on the alert’s teams and recipients by name', async () => {
    await policy({
      name: `Payments team ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [
          { field: 'message', operation: 'contains', expectedValue: `who-${run}` },
          { field: 'teams', operation: 'contains', expectedValue: `Payments ${run}` },
        ],
      },
      tags: ['payments'],
      continue: true,
    });
    await policy({
      name: `Lead paged ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [
          { field: 'message', operation: 'contains', expectedValue: `who-${run}` },
          { field: 'recipients', operation: 'contains', expectedValue: `lead-${run}@example.com` },
        ],
      },
      tags: ['lead'],
    });
    const payments = await alert({
      message: `who-${run} one`,
      responders: [{ type: 'team', id: teamA }],
    });
    assert.deepEqual(payments.row.tags, ['payments']);
    const search = await alert({
      message: `who-${run} two`,
      responders: [
        { type: 'team', name: `Search ${run}` },
        { type: 'user', username: `lead-${run}@example.com` },
      ],
    });
    assert.deepEqual(search.row.tags, ['lead']);
    const nobody = await alert({ message: `who-${run} three` });
    assert.deepEqual(nobody.row.tags, []);
    // Read back as written.
    const listed = await call('GET', '/v2/policies/alert');
    const id = listed.data.find((p: Json) => p.name === `Payments team ${run}`).id;
    const got = (await call('GET', `/v2/policies/${id}`)).data;
    assert.deepEqual(
      got.filter.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
      [
        ['message', 'contains', `who-${run}`],
        ['teams', 'contains', `Payments ${run}`],
      ],
    );
    // Elsewhere (a team's routing rules) the fields are refused, saying where they are taken.
    const routing = await server.call('POST', `/v2/teams/${teamA}/routing-rules`, {
      name: 'by team',
      criteria: {
        type: 'match-all-conditions',
        conditions: [{ field: 'teams', operation: 'contains', expectedValue: 'x' }],
      },
      notify: { type: 'none' },
    });
    assert.equal(routing.status, 422, JSON.stringify(routing.body));
    assert.match(JSON.stringify(routing.body), /only policies filter on/);
  });
});
