import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from '../../db/schema.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import type { MatchableAlert } from '../conditions.js';
import { routeAlert } from './route.js';

let server: TestServer;
let orgId: string;
let aliceKey: string;
let bobKey: string;
let primaryId: string;
let escalationId: string;

async function keyFor(username: string): Promise<string> {
  const res = await server.call('POST', '/v2/api-keys', { name: `${username} key`, user: { username } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.data.key;
}

async function createTeam(name: string, members: Json[] = []): Promise<string> {
  const res = await server.call('POST', '/v2/teams', { name, members });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.data.id;
}

async function createSchedule(name: string): Promise<string> {
  const row = await server.app.context.db
    .insertInto('schedules')
    .values({ org_id: orgId, name, timezone: 'UTC' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

function rules(teamId: string) {
  return server.call('GET', `/v2/teams/${teamId}/routing-rules`);
}

async function addRule(teamId: string, body: Json, key?: string): Promise<string> {
  const res = await server.call('POST', `/v2/teams/${teamId}/routing-rules`, body, key);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.data.id;
}

async function rejected(method: string, path: string, body: Json): Promise<string[]> {
  const res = await server.call(method, path, body);
  assert.equal(res.status, 422, JSON.stringify(res.body));
  return Object.keys(res.body.errors ?? {});
}

function alert(overrides: Partial<MatchableAlert> = {}): MatchableAlert {
  return {
    message: 'GuardDuty finding',
    alias: 'a1',
    description: '',
    source: 'aws',
    entity: '',
    tags: [],
    actions: [],
    details: {},
    priority: 'P3',
    integrationName: null,
    ...overrides,
  };
}

const messageContains = (text: string) => ({
  type: 'match-all-conditions',
  conditions: [{ field: 'message', operation: 'contains', expectedValue: text }],
});

before(async () => {
  server = await startTestServer();
  orgId = (await server.call('GET', '/v2/organization')).body.data.id;
  for (const username of ['alice@example.com', 'bob@example.com']) {
    const res = await server.call('POST', '/v2/users', {
      username,
      fullName: username,
      role: { name: 'User' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  aliceKey = await keyFor('alice@example.com');
  bobKey = await keyFor('bob@example.com');
  primaryId = await createSchedule('Primary');
  const escalation = await server.call('POST', '/v2/escalations', {
    name: 'Security escalation',
    rules: [
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 0 },
        recipient: { type: 'schedule', id: primaryId },
      },
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 10 },
        recipient: { type: 'user', username: 'alice@example.com' },
      },
    ],
    repeat: { waitInterval: 5, count: 1, resetRecipientStates: true, closeAlertAfterAll: false },
  });
  assert.equal(escalation.status, 201, JSON.stringify(escalation.body));
  escalationId = escalation.body.data.id;
});

after(async () => {
  await server.stop();
});

describe('team routing rules (/v2/teams/{identifier}/routing-rules)', () => {
  it('shows a team without rules a default entry that notifies every member', async () => {
    const teamId = await createTeam('Quiet');
    const res = await rules(teamId);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, [
      {
        id: 'default',
        name: 'Default rule',
        isDefault: true,
        order: 0,
        criteria: { type: 'match-all' },
        timezone: 'UTC',
        notify: { type: 'team-members' },
      },
    ]);
    const single = await server.call('GET', `/v2/teams/Quiet/routing-rules/default?teamIdentifierType=name`);
    assert.equal(single.body.data.notify.type, 'team-members');
  });

  it('adds, orders, reads, updates and deletes rules in Opsgenie shapes', async () => {
    const teamId = await createTeam('Ordering');
    const a = await addRule(teamId, {
      name: 'Business hours',
      timezone: 'Europe/Berlin',
      criteria: messageContains('critical'),
      timeRestriction: {
        type: 'time-of-day',
        restriction: { startHour: 9, startMin: 0, endHour: 17, endMin: 30 },
      },
      notify: { type: 'escalation', name: 'security escalation' },
    });
    const b = await addRule(teamId, {
      name: 'Schedule first',
      order: 0,
      notify: { type: 'schedule', id: primaryId },
    });
    const c = await addRule(teamId, {
      name: 'Weekends',
      timeRestriction: {
        type: 'weekday-and-time-of-day',
        restrictions: [
          { startDay: 'saturday', startHour: 0, startMin: 0, endDay: 'monday', endHour: 0, endMin: 0 },
        ],
      },
      notify: { type: 'none' },
    });

    let list = (await rules(teamId)).body.data;
    assert.deepEqual(
      list.map((r: Json) => [r.id, r.order, r.isDefault]),
      [
        [b, 0, false],
        [a, 1, false],
        [c, 2, false],
        ['default', 3, true],
      ],
    );
    const ruleA = (await server.call('GET', `/v2/teams/Ordering/routing-rules/${a}?teamIdentifierType=name`))
      .body.data;
    assert.deepEqual(ruleA, {
      id: a,
      name: 'Business hours',
      isDefault: false,
      order: 1,
      criteria: {
        type: 'match-all-conditions',
        conditions: [
          { field: 'message', not: false, operation: 'contains', expectedValue: 'critical', order: 0 },
        ],
      },
      timezone: 'Europe/Berlin',
      timeRestriction: {
        type: 'time-of-day',
        restriction: { startHour: 9, startMin: 0, endHour: 17, endMin: 30 },
      },
      notify: { type: 'escalation', id: escalationId, name: 'Security escalation' },
    });
    assert.deepEqual(list[0].notify, { type: 'schedule', id: primaryId, name: 'Primary' });
    assert.deepEqual(list[2].notify, { type: 'none' });
    assert.equal(list[2].timeRestriction.restrictions[0].startDay, 'saturday');

    const moved = await server.call('POST', `/v2/teams/${teamId}/routing-rules/${b}/change-order`, {
      order: 2,
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    list = (await rules(teamId)).body.data;
    assert.deepEqual(
      list.map((r: Json) => r.id),
      [a, c, b, 'default'],
    );
    assert.deepEqual(
      await rejected('POST', `/v2/teams/${teamId}/routing-rules/${b}/change-order`, { order: 3 }),
      ['order'],
    );

    const patched = await server.call('PATCH', `/v2/teams/${teamId}/routing-rules/${a}`, {
      name: 'Any time',
      timeRestriction: null,
      notify: { type: 'none' },
      order: 2,
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const ruleA2 = (await server.call('GET', `/v2/teams/${teamId}/routing-rules/${a}`)).body.data;
    assert.equal(ruleA2.name, 'Any time');
    assert.equal(ruleA2.timeRestriction, undefined);
    assert.deepEqual(ruleA2.notify, { type: 'none' });
    assert.equal(ruleA2.order, 2);
    assert.equal(ruleA2.criteria.type, 'match-all-conditions', 'what a PATCH leaves out stays');

    assert.equal((await server.call('DELETE', `/v2/teams/${teamId}/routing-rules/${c}`)).status, 200);
    list = (await rules(teamId)).body.data;
    assert.deepEqual(
      list.map((r: Json) => [r.id, r.order]),
      [
        [b, 0],
        [a, 1],
        ['default', 2],
      ],
    );
    const positions = await server.app.context.db
      .selectFrom('team_routing_rules')
      .select('position')
      .where('team_id', '=', teamId)
      .orderBy('position')
      .execute();
    assert.deepEqual(
      positions.map((p) => p.position),
      [0, 1],
    );
    assert.equal((await server.call('GET', `/v2/teams/${teamId}/routing-rules/${c}`)).status, 404);
  });

  it('sets the default rule lazily, keeps it last, and never deletes it', async () => {
    const teamId = await createTeam('Defaults');
    const other = await addRule(teamId, { name: 'First', notify: { type: 'none' } });
    const missingNotify = await server.call('PATCH', `/v2/teams/${teamId}/routing-rules/default`, {
      name: 'x',
    });
    assert.equal(missingNotify.status, 422);

    const set = await server.call('PUT', `/v2/teams/${teamId}/routing-rules/default`, {
      notify: { type: 'escalation', id: escalationId },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const defaultId = set.body.data.id;
    assert.notEqual(defaultId, 'default');
    // Setting it again changes the same rule.
    const again = await server.call('PUT', `/v2/teams/${teamId}/routing-rules/default`, {
      notify: { type: 'schedule', name: 'Primary' },
    });
    assert.equal(again.body.data.id, defaultId);

    await addRule(teamId, { name: 'Appended', notify: { type: 'none' } });
    const list = (await rules(teamId)).body.data;
    assert.deepEqual(
      list.map((r: Json) => [r.name, r.isDefault, r.order]),
      [
        ['First', false, 0],
        ['Appended', false, 1],
        ['Default rule', true, 2],
      ],
    );
    assert.deepEqual(list[2].notify, { type: 'schedule', id: primaryId, name: 'Primary' });

    const viaId = await server.call('PATCH', `/v2/teams/${teamId}/routing-rules/${defaultId}`, {
      notify: { type: 'none' },
    });
    assert.equal(viaId.status, 200, JSON.stringify(viaId.body));
    assert.deepEqual(
      (await server.call('GET', `/v2/teams/${teamId}/routing-rules/default`)).body.data.notify,
      {
        type: 'none',
      },
    );
    assert.deepEqual(
      await rejected('PATCH', `/v2/teams/${teamId}/routing-rules/${defaultId}`, {
        criteria: messageContains('x'),
      }),
      ['criteria'],
    );
    assert.deepEqual(
      await rejected('POST', `/v2/teams/${teamId}/routing-rules/${defaultId}/change-order`, { order: 0 }),
      ['order'],
    );
    for (const id of [defaultId, 'default']) {
      const res = await server.call('DELETE', `/v2/teams/${teamId}/routing-rules/${id}`);
      assert.equal(res.status, 422);
      assert.match(res.body.message, /can not be deleted/);
    }
    assert.equal((await server.call('DELETE', `/v2/teams/${teamId}/routing-rules/${other}`)).status, 200);
  });

  it("takes back the default rule's own criteria, restriction and order, and refuses other ones", async () => {
    const teamId = await createTeam('Echoed defaults');
    await addRule(teamId, { name: 'First', notify: { type: 'none' } });
    const path = `/v2/teams/${teamId}/routing-rules`;
    const set = await server.call('PUT', `${path}/default`, { notify: { type: 'none' } });
    const defaultId = set.body.data.id;
    // What the Terraform provider sends for an imported default rule: its values, and a new notify.
    for (const body of [
      { criteria: { type: 'match-all' }, notify: { type: 'schedule', id: primaryId } },
      { criteria: { type: 'match-all', conditions: [] }, timeRestriction: null, order: 1 },
    ]) {
      const res = await server.call('PATCH', `${path}/${defaultId}`, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const moved = await server.call('POST', `${path}/${defaultId}/change-order`, { order: 1 });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const list = (await rules(teamId)).body.data;
    assert.deepEqual(
      list.map((r: Json) => [r.name, r.isDefault, r.order]),
      [
        ['First', false, 0],
        ['Default rule', true, 1],
      ],
    );
    assert.deepEqual(list[1].notify, { type: 'schedule', id: primaryId, name: 'Primary' });
    assert.equal(list[1].criteria.type, 'match-all');
    assert.equal(list[1].timeRestriction, undefined);

    const anHour = {
      type: 'time-of-day',
      restriction: { startHour: 9, startMin: 0, endHour: 10, endMin: 0 },
    };
    const withCondition = { type: 'match-all', conditions: messageContains('x').conditions };
    for (const [body, field] of [
      [{ criteria: withCondition }, 'criteria'],
      [{ timeRestriction: anHour }, 'timeRestriction'],
      [{ order: 0 }, 'order'],
    ] as const) {
      assert.deepEqual(await rejected('PATCH', `${path}/${defaultId}`, body), [field]);
    }
  });

  it('names the field at fault in every validation error', async () => {
    const teamId = await createTeam('Validation');
    const path = `/v2/teams/${teamId}/routing-rules`;
    const none = { type: 'none' };
    assert.deepEqual(await rejected('POST', path, { timezone: 'Mars/Olympus', notify: none }), ['timezone']);
    assert.deepEqual(
      await rejected('POST', path, {
        timeRestriction: {
          type: 'weekday-and-time-of-day',
          restrictions: [{ startHour: 9, startMin: 0, endDay: 'friday', endHour: 17, endMin: 0 }],
        },
        notify: none,
      }),
      ['timeRestriction.restrictions[0].startDay'],
    );
    assert.deepEqual(
      await rejected('POST', path, {
        timeRestriction: {
          type: 'time-of-day',
          restriction: { startDay: 'monday', startHour: 9, startMin: 0, endHour: 17, endMin: 0 },
        },
        notify: none,
      }),
      ['timeRestriction.restriction.startDay'],
    );
    const window = { startHour: 9, startMin: 0, endHour: 17, endMin: 0 };
    assert.deepEqual(
      await rejected('POST', path, {
        timeRestriction: { type: 'time-of-day', restriction: window, restrictions: [window] },
        notify: none,
      }),
      ['timeRestriction'],
    );
    assert.deepEqual(
      await rejected('POST', path, { timeRestriction: { type: 'time-of-day' }, notify: none }),
      ['timeRestriction'],
    );
    assert.deepEqual(
      await rejected('POST', path, {
        timeRestriction: { type: 'time-of-day', restriction: { ...window, endHour: 24 } },
        notify: none,
      }),
      ['timeRestriction.restriction.endHour'],
    );
    assert.deepEqual(await rejected('POST', path, { notify: { type: 'escalation', name: 'Nope' } }), [
      'notify',
    ]);
    assert.deepEqual(await rejected('POST', path, { notify: { type: 'schedule' } }), ['notify']);
    assert.deepEqual(await rejected('POST', path, { notify: { type: 'schedule', id: 'not-a-uuid' } }), [
      'notify',
    ]);
    assert.deepEqual(await rejected('POST', path, { notify: { type: 'team-members' } }), ['notify.type']);
    assert.deepEqual(await rejected('POST', path, { name: 'x' }), ['notify']);
    assert.deepEqual(
      await rejected('POST', path, {
        criteria: { type: 'match-any-condition', conditions: [] },
        notify: none,
      }),
      ['criteria.conditions'],
    );
    assert.deepEqual(await rejected('POST', path, { order: 1, notify: none }), ['order']);
    assert.equal((await rules(teamId)).body.data.length, 1, 'nothing invalid was stored');

    assert.equal(
      (await server.call('GET', '/v2/teams/Nope/routing-rules?teamIdentifierType=name')).status,
      404,
    );
    assert.equal((await server.call('GET', `${path}/00000000-0000-0000-0000-000000000000`)).status, 404);
    assert.equal((await server.call('GET', `${path}/not-an-id`)).status, 404);
  });

  it('takes windows at midnight as the Go SDK sends them, with every 0 left out', async () => {
    const teamId = await createTeam('Midnight');
    const none = { type: 'none' };
    // Terraform's 00:00–08:00: og.Restriction's fields are all omitempty, so only endHour is sent.
    const early = await addRule(teamId, {
      timeRestriction: { type: 'time-of-day', restriction: { endHour: 8 } },
      notify: none,
    });
    // Friday 18:00 to Monday 00:00, beside the struct's empty "restriction".
    const weekend = await addRule(teamId, {
      timeRestriction: {
        type: 'weekday-and-time-of-day',
        restrictions: [{ startDay: 'friday', startHour: 18, endDay: 'monday' }],
        restriction: {},
      },
      notify: none,
    });
    const shown = async (id: string) =>
      (await server.call('GET', `/v2/teams/${teamId}/routing-rules/${id}`)).body.data.timeRestriction;
    assert.deepEqual(await shown(early), {
      type: 'time-of-day',
      restriction: { startHour: 0, startMin: 0, endHour: 8, endMin: 0 },
    });
    assert.deepEqual(await shown(weekend), {
      type: 'weekday-and-time-of-day',
      restrictions: [
        { startDay: 'friday', startHour: 18, startMin: 0, endDay: 'monday', endHour: 0, endMin: 0 },
      ],
    });
    // The struct's zero value alone is no window, as before: a rule that always applies leaves it out.
    assert.deepEqual(
      await rejected('POST', `/v2/teams/${teamId}/routing-rules`, {
        timeRestriction: { type: 'time-of-day', restriction: {} },
        notify: none,
      }),
      ['timeRestriction'],
    );
  });

  it("lets the team's admins and org admins change routing; anyone may read it", async () => {
    const teamId = await createTeam('Permissions', [
      { user: { username: 'alice@example.com' }, role: 'admin' },
      { user: { username: 'bob@example.com' }, role: 'user' },
    ]);
    const otherTeam = await createTeam('Elsewhere', [
      { user: { username: 'bob@example.com' }, role: 'admin' },
    ]);
    const id = await addRule(teamId, { name: 'By Alice', notify: { type: 'none' } }, aliceKey);
    const path = `/v2/teams/${teamId}/routing-rules`;
    assert.equal((await server.call('POST', path, { notify: { type: 'none' } }, bobKey)).status, 403);
    assert.equal((await server.call('PATCH', `${path}/${id}`, { name: 'Bob' }, bobKey)).status, 403);
    assert.equal(
      (await server.call('PUT', `${path}/default`, { notify: { type: 'none' } }, bobKey)).status,
      403,
    );
    assert.equal((await server.call('POST', `${path}/${id}/change-order`, { order: 0 }, bobKey)).status, 403);
    assert.equal((await server.call('DELETE', `${path}/${id}`, undefined, bobKey)).status, 403);
    assert.equal((await server.call('GET', path, undefined, bobKey)).status, 200);
    assert.equal((await server.call('GET', `${path}/${id}`, undefined, bobKey)).status, 200);
    await addRule(otherTeam, { notify: { type: 'none' } }, bobKey);
    assert.equal(
      (await server.call('PUT', `${path}/default`, { notify: { type: 'none' } }, aliceKey)).status,
      200,
    );
    assert.equal((await server.call('DELETE', `${path}/${id}`, undefined, aliceKey)).status, 200);
  });
});

describe('routeAlert', () => {
  it('picks the first rule whose criteria match, the default rule last, team members without one', async () => {
    const db = server.app.context.db;
    const teamId = await createTeam('Security');
    const at = new Date('2026-05-04T12:00:00Z');

    const nothing = await routeAlert(db, teamId, alert(), at);
    assert.deepEqual(nothing, {
      kind: 'team-members',
      plan: {
        name: 'Security team members',
        rules: [
          {
            condition: 'if-not-acked',
            notifyType: 'all',
            delayMinutes: 0,
            recipient: { type: 'team', id: teamId },
          },
        ],
        repeat: null,
      },
      teamName: 'Security',
    });

    const critical = await addRule(teamId, {
      name: 'Critical',
      criteria: messageContains('critical'),
      notify: { type: 'escalation', id: escalationId },
    });
    const noisy = await addRule(teamId, {
      name: 'Noise',
      criteria: {
        type: 'match-any-condition',
        conditions: [{ field: 'tags', operation: 'contains', expectedValue: 'noise' }],
      },
      notify: { type: 'none' },
    });
    await server.call('PUT', `/v2/teams/${teamId}/routing-rules/default`, {
      notify: { type: 'schedule', id: primaryId },
    });

    const stored = await db
      .selectFrom('escalations')
      .select(['rules'])
      .where('id', '=', escalationId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(await routeAlert(db, teamId, alert({ message: 'CRITICAL: root login' }), at), {
      kind: 'escalation',
      ruleId: critical,
      ruleName: 'Critical',
      escalationId,
      plan: {
        name: 'Security escalation',
        rules: stored.rules,
        repeat: { waitIntervalMinutes: 5, count: 1, closeAlertAfterAll: false },
      },
      teamName: 'Security',
    });
    assert.deepEqual(await routeAlert(db, teamId, alert({ tags: ['noise'] }), at), {
      kind: 'none',
      ruleId: noisy,
      ruleName: 'Noise',
      teamName: 'Security',
    });
    // Both match: the first by position decides, until the order changes.
    const both = alert({ message: 'critical', tags: ['noise'] });
    assert.equal((await routeAlert(db, teamId, both, at)).kind, 'escalation');
    await server.call('POST', `/v2/teams/${teamId}/routing-rules/${noisy}/change-order`, { order: 0 });
    assert.equal((await routeAlert(db, teamId, both, at)).kind, 'none');

    const fallback = await routeAlert(db, teamId, alert(), at);
    assert.equal(fallback.kind, 'schedule');
    assert.ok(fallback.kind === 'schedule');
    assert.equal(fallback.scheduleId, primaryId);
    assert.equal(fallback.ruleName, 'Default rule');
    assert.deepEqual(fallback.plan, {
      name: 'On call in schedule Primary',
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delayMinutes: 0,
          recipient: { type: 'schedule', id: primaryId },
        },
      ],
      repeat: null,
    });

    await server.call('PUT', `/v2/teams/${teamId}/routing-rules/default`, { notify: { type: 'none' } });
    assert.equal((await routeAlert(db, teamId, alert(), at)).kind, 'none');
  });

  it('applies time restrictions in the rule’s zone, across a DST change', async () => {
    const db = server.app.context.db;
    const teamId = await createTeam('Platform team');
    const office = await addRule(teamId, {
      name: 'Office hours',
      timezone: 'America/New_York',
      timeRestriction: {
        type: 'time-of-day',
        restriction: { startHour: 9, startMin: 0, endHour: 17, endMin: 0 },
      },
      notify: { type: 'schedule', id: primaryId },
    });
    const nightOwls = await addRule(teamId, {
      name: 'Weekend nights',
      timezone: 'America/New_York',
      timeRestriction: {
        type: 'weekday-and-time-of-day',
        restrictions: [
          { startDay: 'saturday', startHour: 22, startMin: 0, endDay: 'sunday', endHour: 6, endMin: 0 },
        ],
      },
      notify: { type: 'none' },
    });
    const route = (iso: string) => routeAlert(db, teamId, alert(), new Date(iso));

    // 13:30Z is 08:30 EST before 2026-03-08 and 09:30 EDT after it.
    const before = await route('2026-03-06T13:30:00Z');
    assert.equal(before.kind, 'team-members');
    assert.equal(before.kind === 'team-members' && before.plan.name, 'Platform team members');
    assert.equal((await route('2026-03-06T14:30:00Z')).kind, 'schedule');
    const afterChange = await route('2026-03-09T13:30:00Z');
    assert.equal(afterChange.kind, 'schedule');
    assert.equal(afterChange.kind === 'schedule' && afterChange.ruleId, office);
    assert.equal((await route('2026-03-09T21:30:00Z')).kind, 'team-members', '17:30 EDT');
    assert.equal((await route('2026-03-09T20:30:00Z')).kind, 'schedule', '16:30 EDT');

    // Saturday 2026-03-07 23:00 EST = 04:00Z on Sunday; Sunday 06:30 EDT (after the change) = 10:30Z.
    const night = await route('2026-03-08T04:00:00Z');
    assert.equal(night.kind === 'none' && night.ruleId, nightOwls);
    assert.equal((await route('2026-03-08T09:30:00Z')).kind, 'none', '05:30 EDT');
    assert.equal((await route('2026-03-08T10:30:00Z')).kind, 'team-members', '06:30 EDT');
  });

  it('pages the team when the target of the chosen rule is gone, in at most two queries', async () => {
    const teamId = await createTeam('Fragile');
    const doomed = await createSchedule('Doomed');
    await addRule(teamId, { name: 'To a schedule', notify: { type: 'schedule', id: doomed } });
    await server.app.context.db.deleteFrom('schedules').where('id', '=', doomed).execute();
    const decision = await routeAlert(server.app.context.db, teamId, alert(), new Date());
    assert.equal(decision.kind, 'team-members');
    assert.match(
      decision.kind === 'team-members' ? decision.plan.name : '',
      /^Fragile team members \(the schedule/,
    );

    const queries: string[] = [];
    const counting = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: server.app.context.pool }),
      log: (event) => {
        queries.push(event.query.sql);
      },
    });
    const teamWithEscalation = await createTeam('Counted');
    await addRule(teamWithEscalation, {
      name: 'A',
      criteria: messageContains('zzz'),
      notify: { type: 'none' },
    });
    await addRule(teamWithEscalation, { name: 'B', notify: { type: 'escalation', id: escalationId } });
    const counted = await routeAlert(counting, teamWithEscalation, alert(), new Date());
    assert.equal(counted.kind, 'escalation');
    assert.equal(queries.length, 2, queries.join('\n'));

    queries.length = 0;
    assert.equal((await routeAlert(counting, teamId, alert(), new Date())).kind, 'team-members');
    assert.equal(queries.length, 1);
    // The pool belongs to the server: this handle is dropped without destroying it.
  });
});
