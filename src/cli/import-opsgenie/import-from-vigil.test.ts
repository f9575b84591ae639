import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { outcomesOf, runImport } from './test-cli.js';

/**
 * `vigil import opsgenie` with another Vigil as the source (Vigil speaks Opsgenie's API): an account with
 * people, their contacts and rules, a team, a schedule with a rotation and an override, an escalation, a
 * routing rule, a heartbeat, a maintenance, an API and an Email integration with their actions, a custom
 * user role and its holder, and a global and a team alert policy and two notification policies are made again in a second Vigil, object by object; a second run changes nothing, and a dry
 * run reads only.
 */

let source: TestServer;
let target: TestServer;
const DAY = 86_400_000;
const future = (days: number) => new Date(Date.now() + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

const fromSource = (...extra: string[]) =>
  runImport(['--api-url', source.url, '--api-key', source.key, ...extra], {
    VIGIL_URL: target.url,
    VIGIL_API_KEY: target.key,
  });

/** Everything an import may change in the target, read through its API. */
async function snapshot(server: TestServer): Promise<Json> {
  const get = async (path: string) => (await server.callOk('GET', path)).data;
  const users = await get('/v2/users?limit=500');
  const perUser: Json = {};
  for (const u of users) {
    const rules = await get(`/v2/users/${u.id}/notification-rules`);
    perUser[u.username] = {
      user: { ...u, createdAt: undefined },
      contacts: await get(`/v2/users/${u.id}/contacts`),
      rules: await Promise.all(
        rules.map(async (r: Json) => ({
          ...(await get(`/v2/users/${u.id}/notification-rules/${r.id}`)),
          createdAt: undefined,
          updatedAt: undefined,
        })),
      ),
    };
  }
  const teams = await get('/v2/teams');
  const perTeam: Json = {};
  for (const t of teams)
    perTeam[t.name] = {
      team: await get(`/v2/teams/${t.id}`),
      routing: await get(`/v2/teams/${t.id}/routing-rules`),
      roles: await get(`/v2/teams/${t.id}/roles`),
    };
  const schedules = await get('/v2/schedules?expand=rotation');
  const overrides: Json = {};
  for (const s of schedules) overrides[s.name] = await get(`/v2/schedules/${s.id}/overrides`);
  const integrations = (await get('/v2/integrations')).map((i: Json) => ({ ...i, updatedAt: undefined }));
  const maintenance = await get('/v1/maintenance?type=all');
  const actions: Json = {};
  for (const i of integrations) actions[i.name] = await get(`/v2/integrations/${i.id}/actions`);
  const policiesOf = async (query: string, type = 'alert') =>
    Promise.all(
      (await get(`/v2/policies/${type}${query}`)).map((p: Json) => get(`/v2/policies/${p.id}${query}`)),
    );
  const policies: Json = { global: await policiesOf('') };
  for (const t of teams)
    policies[t.name] = {
      alert: await policiesOf(`?teamId=${t.id}`, 'alert'),
      notification: await policiesOf(`?teamId=${t.id}`, 'notification'),
    };
  return {
    roles: await get('/v2/roles'),
    actions,
    policies,
    perUser,
    perTeam,
    schedules,
    overrides,
    escalations: await get('/v2/escalations'),
    integrations,
    heartbeats: (await get('/v2/heartbeats')).heartbeats,
    maintenance: await Promise.all(maintenance.map((m: Json) => get(`/v1/maintenance/${m.id}`))),
  };
}

before(async () => {
  [source, target] = await Promise.all([startTestServer(), startTestServer()]);
  const call = (method: string, path: string, body?: unknown) => source.callOk(method, path, body);
  await call('POST', '/v2/roles', {
    name: 'Incident Lead',
    extendedRole: 'user',
    grantedRights: ['alert-delete', 'maintenance-edit'],
    disallowedRights: ['alert-close-all'],
  });
  await call('POST', '/v2/users', {
    username: 'alice@example.com',
    fullName: 'Alice Lang',
    role: { name: 'Admin' },
    timeZone: 'Europe/Berlin',
    tags: ['platform', 'berlin'],
    skypeUsername: 'alice.lang',
    userAddress: { country: 'DE', city: 'Berlin', line: 'Unter den Linden 1', zipCode: '10117' },
  });
  await call('POST', '/v2/users', {
    username: 'bob@example.com',
    fullName: 'Bob Ng',
    role: { name: 'Incident Lead' },
  });
  await call('POST', '/v2/users/alice@example.com/contacts', { method: 'sms', to: '+4915112345678' });
  await call('POST', '/v2/users/bob@example.com/contacts', { method: 'email', to: 'bob.pager@example.com' });
  const voice = await call('POST', '/v2/users/bob@example.com/contacts', {
    method: 'voice',
    to: '+14155550123',
  });
  await call('POST', `/v2/users/bob@example.com/contacts/${voice.data.id}/disable`);
  await call('POST', '/v2/users/alice@example.com/notification-rules', {
    name: 'P1 pages',
    actionType: 'create-alert',
    criteria: {
      type: 'match-all-conditions',
      conditions: [{ field: 'priority', operation: 'equals', expectedValue: 'P1' }],
    },
    steps: [
      { contact: { method: 'email', to: 'alice@example.com' }, sendAfter: { timeAmount: 0 } },
      { contact: { method: 'sms', to: '+4915112345678' }, sendAfter: { timeAmount: 5 } },
    ],
  });
  await call('POST', '/v2/teams', {
    name: 'Platform',
    description: 'Runs the platform',
    members: [
      { user: { username: 'alice@example.com' }, role: 'admin' },
      { user: { username: 'bob@example.com' }, role: 'user' },
    ],
  });
  await call('POST', '/v2/teams/Platform/roles?teamIdentifierType=name', {
    name: 'Deputy',
    rights: [
      { right: 'manage-members', granted: true },
      { right: 'edit-schedules', granted: true },
    ],
  });
  await call('POST', '/v2/teams/Platform/members?teamIdentifierType=name', {
    user: { username: 'bob@example.com' },
    role: 'Deputy',
  });
  await call('POST', '/v2/schedules', {
    name: 'Platform On Call',
    timezone: 'Europe/Berlin',
    ownerTeam: { name: 'Platform' },
    // Vigil's layering: an import from Vigil keeps it (one from Opsgenie is always "all").
    rotationsCombine: 'layers',
    rotations: [
      {
        name: 'Weekdays',
        startDate: '2026-01-05T08:00:00Z',
        type: 'weekly',
        length: 1,
        participants: [
          { type: 'user', username: 'alice@example.com' },
          { type: 'user', username: 'bob@example.com' },
        ],
        timeRestriction: {
          type: 'weekday-and-time-of-day',
          restrictions: [
            { startDay: 'monday', startHour: 8, startMin: 0, endDay: 'friday', endHour: 18, endMin: 0 },
          ],
        },
      },
    ],
  });
  await call('POST', '/v2/schedules/Platform%20On%20Call/overrides?identifierType=name', {
    alias: 'bob-covers',
    user: { type: 'user', username: 'bob@example.com' },
    startDate: future(2),
    endDate: future(3),
    rotations: [{ name: 'Weekdays' }],
  });
  await call('POST', '/v2/escalations', {
    name: 'Platform Escalation',
    description: 'Who is paged, and when',
    ownerTeam: { name: 'Platform' },
    rules: [
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 0 },
        recipient: { type: 'schedule', name: 'Platform On Call' },
      },
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 10 },
        recipient: { type: 'user', username: 'alice@example.com' },
      },
      {
        condition: 'if-not-closed',
        notifyType: 'all',
        delay: { timeAmount: 1, timeUnit: 'hours' },
        recipient: { type: 'team', name: 'Platform' },
      },
    ],
    repeat: { waitInterval: 15, count: 2, resetRecipientStates: true, closeAlertAfterAll: false },
  });
  // Vigil's rotations take escalations too: the import sets them once it has made the escalations.
  await call('POST', '/v2/schedules/Platform%20On%20Call/rotations?identifierType=name', {
    name: 'Escalation weekends',
    startDate: '2026-01-10T08:00:00Z',
    type: 'weekly',
    length: 1,
    participants: [
      { type: 'user', username: 'bob@example.com' },
      { type: 'escalation', name: 'Platform Escalation' },
    ],
  });
  await call('POST', '/v2/teams/Platform/routing-rules?teamIdentifierType=name', {
    name: 'P1 to the escalation',
    criteria: {
      type: 'match-all-conditions',
      conditions: [{ field: 'priority', operation: 'equals', expectedValue: 'P1' }],
    },
    timezone: 'Europe/Berlin',
    notify: { type: 'escalation', name: 'Platform Escalation' },
  });
  await call('PUT', '/v2/teams/Platform/routing-rules/default?teamIdentifierType=name', {
    notify: { type: 'schedule', name: 'Platform On Call' },
  });
  await call('POST', '/v2/heartbeats', {
    name: 'nightly-backup',
    description: 'The backup job',
    interval: 1,
    intervalUnit: 'days',
    enabled: true,
    ownerTeam: { name: 'Platform' },
    alertMessage: 'The nightly backup did not run',
    alertTags: ['backup'],
    alertPriority: 'P2',
  });
  const integration = await call('POST', '/v2/integrations', {
    type: 'API',
    name: 'Prometheus',
    ownerTeam: { name: 'Platform' },
    allowDeleteAccess: false,
  });
  await call('PUT', `/v2/integrations/${integration.data.id}/actions`, {
    ignore: [
      {
        name: 'Drop heartbeats of staging',
        filter: {
          conditionMatchType: 'match-all-conditions',
          conditions: [{ field: 'source', operation: 'equals', expectedValue: 'staging' }],
        },
      },
    ],
    create: [
      {
        name: 'Critical to Platform',
        filter: {
          conditionMatchType: 'match-any-condition',
          conditions: [{ field: 'tags', operation: 'contains', expectedValue: 'critical' }],
        },
        message: '[Platform] {{message}}',
        priority: 'P1',
        tags: ['platform'],
        responders: [
          { type: 'team', name: 'Platform' },
          { type: 'user', username: 'bob@example.com' },
        ],
        ignoreTagsFromPayload: true,
      },
      { name: 'Everything else' },
    ],
    close: [{ name: 'Close Alert', note: 'Closed by Prometheus' }],
  });
  const mail = await call('POST', '/v2/integrations', {
    type: 'Email',
    name: 'Support Mail',
    ownerTeam: { name: 'Platform' },
    emailUsername: 'support',
    suppressNotifications: true,
  });
  await call('PUT', `/v2/integrations/${mail.data.id}/actions`, {
    create: [{ name: 'Mail to Platform', message: '[mail] {{message}}', tags: ['mail'] }],
  });
  const platform = await call('GET', '/v2/teams/Platform?identifierType=name');
  const databasePolicy = await call('POST', '/v2/policies', {
    type: 'alert',
    name: 'Database to the escalation',
    policyDescription: 'Databases page through the escalation',
    filter: {
      type: 'match-all-conditions',
      conditions: [{ field: 'entity', operation: 'starts-with', expectedValue: 'db-' }],
    },
    continue: true,
    alias: 'db-{{alias}}',
    details: { tier: 'data' },
    responders: [{ type: 'escalation', name: 'Platform Escalation' }],
  });
  await call('POST', `/v2/policies?teamId=${platform.data.id}`, {
    type: 'alert',
    name: 'Tag platform alerts',
    enabled: false,
    priority: 'P2',
    tags: ['platform'],
    responders: [{ type: 'schedule', name: 'Platform On Call' }],
  });
  await call('POST', `/v2/policies?teamId=${platform.data.id}`, {
    type: 'notification',
    name: 'Hold P5 for an hour',
    filter: {
      type: 'match-all-conditions',
      conditions: [{ field: 'priority', operation: 'equals', expectedValue: 'P5' }],
    },
    delayAction: { delayOption: 'for-duration', duration: { timeAmount: 1, timeUnit: 'hours' } },
  });
  // No time restriction: the zone is there only for the delay's 09:00.
  await call('POST', `/v2/policies?teamId=${platform.data.id}`, {
    type: 'notification',
    name: 'Wait for the morning',
    timezone: 'America/Los_Angeles',
    filter: {
      type: 'match-all-conditions',
      conditions: [{ field: 'priority', operation: 'equals', expectedValue: 'P4' }],
    },
    delayAction: { delayOption: 'next-weekday', untilHour: 9, untilMinute: 0 },
  });
  await call('POST', '/v1/maintenance', {
    description: 'Database upgrade',
    time: { type: 'schedule', startDate: future(5), endDate: future(6) },
    rules: [
      { state: 'disabled', entity: { id: integration.data.id, type: 'integration' } },
      { state: 'disabled', entity: { id: databasePolicy.data.id, type: 'policy' } },
    ],
  });
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('vigil import opsgenie, from another Vigil', () => {
  it('a dry run reads both sides, says what it would make, and changes nothing', async () => {
    const before = await snapshot(target);
    const run = await fromSource('--dry-run');
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
    assert.ok(run.out[0]?.startsWith('Dry run'), run.out.join('\n'));
    assert.ok(run.progress.includes('user alice@example.com: would be created'), run.progress.join('\n'));
    assert.ok(run.progress.includes('schedule Platform On Call: would be created'), run.progress.join('\n'));
    assert.ok(
      run.progress.includes('schedule rotation Escalation weekends in Platform On Call: would be updated'),
      run.progress.join('\n'),
    );
    assert.ok(
      run.progress.includes('custom user role Incident Lead: would be created'),
      run.progress.join('\n'),
    );
    assert.ok(
      run.progress.includes(
        "integration Support Mail: would be created (receives mail at support@<Vigil's inbound email domain, VIGIL_INBOUND_EMAIL_DOMAIN>)",
      ),
      run.progress.join('\n'),
    );
    assert.deepEqual(await snapshot(target), before);
  });

  it('makes every object in the target, mapped to the target’s own users, teams and schedules', async () => {
    const run = await fromSource();
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
    const get = async (path: string) => (await target.callOk('GET', path)).data;

    const alice = await get('/v2/users/alice@example.com');
    assert.equal(alice.fullName, 'Alice Lang');
    assert.equal(alice.role.name, 'Admin');
    assert.equal(alice.timeZone, 'Europe/Berlin');
    assert.deepEqual(
      [alice.tags, alice.skypeUsername, alice.userAddress],
      [
        ['platform', 'berlin'],
        'alice.lang',
        { country: 'DE', state: '', city: 'Berlin', line: 'Unter den Linden 1', zipCode: '10117' },
      ],
    );
    // The custom user role came first, and its holder has it by name.
    const [lead, ...otherRoles] = await get('/v2/roles');
    assert.equal(otherRoles.length, 0);
    assert.deepEqual(
      [lead.name, lead.extendedRole, [...lead.grantedRights].sort(), lead.disallowedRights],
      ['Incident Lead', 'user', ['alert-delete', 'maintenance-edit'], ['alert-close-all']],
    );
    const bob = await get('/v2/users/bob@example.com');
    assert.deepEqual([bob.role.name, bob.role.id], ['Incident Lead', lead.id]);
    assert.notEqual(bob.id, (await source.callOk('GET', '/v2/users/bob@example.com')).data.id);

    const bobContacts = await get('/v2/users/bob@example.com/contacts');
    const pager = bobContacts.find((c: Json) => c.to === 'bob.pager@example.com');
    assert.equal(pager?.method, 'email');
    const voice = bobContacts.find((c: Json) => c.method === 'voice');
    assert.equal(voice?.to, '+14155550123');
    assert.equal(voice?.status.enabled, false, 'disabled as in the source');
    const aliceContacts = await get('/v2/users/alice@example.com/contacts');
    assert.ok(aliceContacts.some((c: Json) => c.method === 'sms' && c.to === '+4915112345678'));

    const rules = await get('/v2/users/alice@example.com/notification-rules');
    const p1 = rules.find((r: Json) => r.name === 'P1 pages');
    assert.ok(p1, JSON.stringify(rules));
    const rule = await get(`/v2/users/alice@example.com/notification-rules/${p1.id}`);
    assert.equal(rule.actionType, 'create-alert');
    assert.deepEqual(
      rule.criteria.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
      [['priority', 'equals', 'P1']],
    );
    assert.deepEqual(
      rule.steps.map((s: Json) => [s.contact.method, s.contact.to, s.sendAfter.timeAmount]),
      [
        ['email', 'alice@example.com', 0],
        ['sms', '+4915112345678', 5],
      ],
    );

    const team = await get('/v2/teams/Platform?identifierType=name');
    assert.equal(team.description, 'Runs the platform');
    assert.deepEqual(team.members.map((m: Json) => [m.user.username, m.role]).sort(), [
      ['alice@example.com', 'admin'],
      ['bob@example.com', 'Deputy'],
    ]);
    const [deputy] = await get('/v2/teams/Platform/roles?teamIdentifierType=name');
    assert.deepEqual(
      deputy.rights.filter((r: Json) => r.granted).map((r: Json) => r.right),
      ['manage-members', 'edit-schedules'],
    );
    assert.equal(team.members.find((m: Json) => m.user.username === 'alice@example.com').user.id, alice.id);

    const schedule = await get('/v2/schedules/Platform%20On%20Call?identifierType=name');
    assert.equal(schedule.timezone, 'Europe/Berlin');
    assert.equal(schedule.rotationsCombine, 'layers');
    assert.equal(schedule.ownerTeam.name, 'Platform');
    assert.equal(schedule.ownerTeam.id, team.id);
    assert.equal(schedule.rotations.length, 2);
    const rotation = schedule.rotations[0];
    assert.equal(rotation.name, 'Weekdays');
    assert.equal(rotation.type, 'weekly');
    assert.equal(rotation.startDate, '2026-01-05T08:00:00Z');
    assert.deepEqual(
      rotation.participants.map((p: Json) => p.id),
      [alice.id, bob.id],
    );
    assert.equal(rotation.timeRestriction.type, 'weekday-and-time-of-day');
    assert.deepEqual(rotation.timeRestriction.restrictions, [
      { startDay: 'monday', startHour: 8, startMin: 0, endDay: 'friday', endHour: 18, endMin: 0 },
    ]);
    const overrides = await get(`/v2/schedules/${schedule.id}/overrides`);
    assert.equal(overrides.length, 1);
    assert.equal(overrides[0].alias, 'bob-covers');
    assert.equal(overrides[0].user.id, bob.id);
    assert.deepEqual(
      overrides[0].rotations.map((r: Json) => r.id),
      [rotation.id],
    );

    const escalation = await get('/v2/escalations/Platform%20Escalation?identifierType=name');
    assert.equal(escalation.ownerTeam.id, team.id);
    assert.deepEqual(
      escalation.rules.map((r: Json) => [
        r.condition,
        r.notifyType,
        r.delay.timeAmount,
        r.recipient.type,
        r.recipient.id,
      ]),
      [
        ['if-not-acked', 'default', 0, 'schedule', schedule.id],
        ['if-not-acked', 'default', 10, 'user', alice.id],
        ['if-not-closed', 'all', 60, 'team', team.id],
      ],
    );
    assert.deepEqual(escalation.repeat, {
      waitInterval: 15,
      count: 2,
      resetRecipientStates: true,
      closeAlertAfterAll: false,
    });
    // The rotation naming the escalation, made with the schedule, got it once the escalation was made.
    assert.deepEqual(
      schedule.rotations[1].participants.map((p: Json) => [p.type, p.id]),
      [
        ['user', bob.id],
        ['escalation', escalation.id],
      ],
    );
    assert.ok(
      run.progress.includes('schedule rotation Escalation weekends in Platform On Call: updated'),
      run.progress.join('\n'),
    );

    const routing = await get(`/v2/teams/${team.id}/routing-rules`);
    const p1Rule = routing.find((r: Json) => r.name === 'P1 to the escalation');
    assert.equal(p1Rule.notify.type, 'escalation');
    assert.equal(p1Rule.notify.id, escalation.id);
    assert.equal(p1Rule.timezone, 'Europe/Berlin');
    assert.equal(p1Rule.criteria.conditions[0].expectedValue, 'P1');
    const defaultRule = routing.find((r: Json) => r.isDefault);
    assert.deepEqual([defaultRule.notify.type, defaultRule.notify.id], ['schedule', schedule.id]);

    const heartbeat = await get('/v2/heartbeats/nightly-backup');
    assert.deepEqual(
      [
        heartbeat.interval,
        heartbeat.intervalUnit,
        heartbeat.enabled,
        heartbeat.ownerTeam.name,
        heartbeat.alertPriority,
      ],
      // Made disabled: it would expire while its sender still pings the source (heartbeats.ts).
      [1, 'days', false, 'Platform', 'P2'],
    );
    assert.deepEqual(heartbeat.alertTags, ['backup']);

    const integrations = await get('/v2/integrations');
    const prometheus = integrations.find((i: Json) => i.name === 'Prometheus');
    assert.equal(prometheus.type, 'API');
    assert.equal(prometheus.ownerTeam.id, team.id);
    assert.equal(prometheus.allowDeleteAccess, false);
    assert.equal(prometheus.allowWriteAccess, true);
    // A Vigil source keeps its keys hashed, so the target made a new one and says so.
    assert.ok(
      run.progress.some((l) => l.startsWith('integration Prometheus: created (with a new API key')),
      run.progress.join('\n'),
    );

    const supportMail = await get(
      `/v2/integrations/${integrations.find((i: Json) => i.name === 'Support Mail').id}`,
    );
    assert.deepEqual(
      [
        supportMail.type,
        supportMail.emailUsername,
        supportMail.suppressNotifications,
        supportMail.ownerTeam.id,
      ],
      ['Email', 'support', true, team.id],
    );
    assert.ok(
      run.progress.includes(
        `integration Support Mail: created (receives mail at ${supportMail.emailAddress})`,
      ),
      run.progress.join('\n'),
    );
    const mailActions = await get(`/v2/integrations/${supportMail.id}/actions`);
    assert.deepEqual(
      mailActions.create.map((a: Json) => [a.name, a.message, a.tags]),
      [['Mail to Platform', '[mail] {{message}}', ['mail']]],
    );

    const actions = await get(`/v2/integrations/${prometheus.id}/actions`);
    assert.deepEqual(
      actions.create.map((a: Json) => a.name),
      ['Critical to Platform', 'Everything else'],
    );
    const critical = actions.create[0];
    assert.deepEqual(
      [critical.message, critical.priority, critical.tags, critical.ignoreTagsFromPayload],
      ['[Platform] {{message}}', 'P1', ['platform'], true],
    );
    assert.deepEqual(
      critical.responders.map((r: Json) => [r.type, r.id]),
      [
        ['team', team.id],
        ['user', bob.id],
      ],
    );
    assert.deepEqual(
      actions.ignore.map((a: Json) => [
        a.name,
        a.filter.conditions[0].field,
        a.filter.conditions[0].expectedValue,
      ]),
      [['Drop heartbeats of staging', 'source', 'staging']],
    );
    assert.equal(actions.close[0].note, 'Closed by Prometheus');
    assert.deepEqual(actions.acknowledge, []);

    const [globalSummary, ...otherGlobal] = await get('/v2/policies/alert');
    assert.equal(otherGlobal.length, 0);
    const globalPolicy = await get(`/v2/policies/${globalSummary.id}`);
    assert.deepEqual(
      [
        globalPolicy.name,
        globalPolicy.policyDescription,
        globalPolicy.continue,
        globalPolicy.alias,
        globalPolicy.details,
        globalPolicy.filter.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
        globalPolicy.responders.map((r: Json) => [r.type, r.id]),
      ],
      [
        'Database to the escalation',
        'Databases page through the escalation',
        true,
        'db-{{alias}}',
        { tier: 'data' },
        [['entity', 'starts-with', 'db-']],
        [['escalation', escalation.id]],
      ],
    );
    const [teamSummary] = await get(`/v2/policies/alert?teamId=${team.id}`);
    const teamPolicy = await get(`/v2/policies/${teamSummary.id}?teamId=${team.id}`);
    assert.deepEqual(
      [
        teamPolicy.name,
        teamPolicy.enabled,
        teamPolicy.priority,
        teamPolicy.tags,
        teamPolicy.teamId,
        teamPolicy.responders.map((r: Json) => [r.type, r.id]),
      ],
      ['Tag platform alerts', false, 'P2', ['platform'], team.id, [['schedule', schedule.id]]],
    );

    const [holdSummary, morningSummary] = await get(`/v2/policies/notification?teamId=${team.id}`);
    const hold = await get(`/v2/policies/${holdSummary.id}?teamId=${team.id}`);
    assert.deepEqual(
      [hold.name, hold.suppress, hold.delayAction, hold.autoCloseAction ?? null, hold.timezone],
      [
        'Hold P5 for an hour',
        false,
        { delayOption: 'for-duration', duration: { timeAmount: 1, timeUnit: 'hours' } },
        null,
        undefined,
      ],
    );
    const morning = await get(`/v2/policies/${morningSummary.id}?teamId=${team.id}`);
    assert.deepEqual(
      [morning.name, morning.timeRestrictions, morning.timezone, morning.delayAction],
      [
        'Wait for the morning',
        undefined,
        'America/Los_Angeles',
        { delayOption: 'next-weekday', untilHour: 9, untilMinute: 0 },
      ],
      'its delay ends at 09:00 in the source’s zone, not UTC',
    );

    const maintenance = await get('/v1/maintenance?type=non-expired');
    assert.equal(maintenance.length, 1);
    const window = await get(`/v1/maintenance/${maintenance[0].id}`);
    assert.equal(window.description, 'Database upgrade');
    assert.deepEqual(
      window.rules.map((r: Json) => [r.entity.type, r.entity.id]),
      [
        ['integration', prometheus.id],
        ['policy', globalSummary.id],
      ],
      'the integration and the policy it disables are the target’s',
    );

    assert.ok(
      run.out.some((l) => l.includes('have no password')),
      run.out.join('\n'),
    );
    assert.ok(
      run.out.some((l) => l.startsWith('  users: 2 created')),
      run.out.join('\n'),
    );
    // Keys never reach the output.
    for (const line of [...run.progress, ...run.out]) {
      assert.ok(!line.includes(source.key) && !line.includes(target.key), line);
    }
  });

  it('a second run doubles nothing: every object is unchanged', async () => {
    const before = await snapshot(target);
    const run = await fromSource();
    assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
    const outcomes = run.progress.slice(1).map((l) => l.replace(/^.*: /, ''));
    assert.ok(outcomes.length >= 15, run.progress.join('\n'));
    assert.deepEqual(
      run.progress.slice(1).filter((l) => !l.endsWith(': unchanged')),
      [],
      'everything unchanged',
    );
    assert.deepEqual(await snapshot(target), before);
  });

  it('a dry run after the import has nothing to do, and still changes nothing', async () => {
    const before = await snapshot(target);
    const run = await runImport(['--api-url', source.url, '--api-key', source.key, '--dry-run'], {
      VIGIL_URL: target.url,
      VIGIL_API_KEY: target.key,
    });
    assert.equal(run.code, 0);
    assert.deepEqual(
      run.progress.slice(1).filter((l) => !l.endsWith(': unchanged')),
      [],
    );
    assert.deepEqual(await snapshot(target), before);
  });

  it('a delay-only policy the target has in UTC gets the source’s zone back (not unchanged)', async () => {
    const team = (await target.callOk('GET', '/v2/teams/Platform?identifierType=name')).data;
    const query = `?teamId=${team.id}`;
    const summaries = (await target.callOk('GET', `/v2/policies/notification${query}`)).data;
    const { id } = summaries.find((p: Json) => p.name === 'Wait for the morning');
    const path = `/v2/policies/${id}${query}`;
    const inUtc = (await target.callOk('GET', path)).data;
    // Put without its zone, as the import did before it sent one without a time restriction.
    await target.callOk('PUT', path, {
      type: inUtc.type,
      name: inUtc.name,
      filter: inUtc.filter,
      delayAction: inUtc.delayAction,
    });
    assert.equal((await target.callOk('GET', path)).data.timezone, undefined, 'the target is in UTC now');

    const run = await fromSource();
    assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
    assert.ok(
      run.progress.includes('notification policy "Wait for the morning" of Platform: updated'),
      run.progress.join('\n'),
    );
    assert.equal((await target.callOk('GET', path)).data.timezone, 'America/Los_Angeles');
    const again = await fromSource();
    assert.deepEqual(
      again.progress.slice(1).filter((l) => !l.endsWith(': unchanged')),
      [],
      'corrected once, then unchanged',
    );
  });

  it('a dry run foresees each Email address the target gives another integration (409), as the run then does', async () => {
    const advice = (emailUsername: string) =>
      `another Email integration of Vigil already has the emailUsername ${emailUsername}: give that integration another emailUsername (or delete it), or change this one's in Opsgenie, then run the import again`;
    const inTarget = (name: string, emailUsername: string) =>
      target.callOk('POST', '/v2/integrations', {
        type: 'Email',
        name,
        ownerTeam: { name: 'Platform' },
        emailUsername,
      });
    const inSource = (name: string, emailUsername: string) =>
      source.callOk('POST', '/v2/integrations', {
        type: 'Email',
        name,
        ownerTeam: { name: 'Platform' },
        emailUsername,
      });
    const idOf = async (server: TestServer, name: string): Promise<string> =>
      (await server.callOk('GET', '/v2/integrations')).data.find((i: Json) => i.name === name).id;
    const sourceSupport = await idOf(source, 'Support Mail');
    const targetSupport = await idOf(target, 'Support Mail');
    // The target has integrations of its own at addresses the source's want; the import meets them by name
    // (Alpha, Ops, Pager, Sales, Support, Zed), so Ops Mail frees "ops" before Pager Mail wants it, and Zed
    // Mail frees "zed" only after Alpha Mail wanted it.
    const helpdesk = (await inTarget('Helpdesk Desk', 'helpdesk')).data;
    await inTarget('Ops Mail', 'ops');
    await inTarget('Zed Mail', 'zed');
    await source.callOk('PATCH', `/v2/integrations/${sourceSupport}`, { emailUsername: 'helpdesk' });
    await inSource('Sales Mail', 'support');
    await inSource('Ops Mail', 'ops2');
    await inSource('Pager Mail', 'ops');
    await inSource('Alpha Mail', 'zed');
    await inSource('Zed Mail', 'zed2');
    const supportAddress = (await target.callOk('GET', `/v2/integrations/${targetSupport}`)).data
      .emailAddress;
    try {
      const before = await snapshot(target);
      const dry = await fromSource('--dry-run');
      const dryAll = [...dry.progress, ...dry.out].join('\n');
      assert.equal(dry.code, 0, dryAll);
      for (const line of [
        `integration Alpha Mail: skipped: ${advice('zed')} (Vigil's Zed Mail receives mail at it)`,
        'integration Ops Mail: would be updated',
        'integration Pager Mail: would be created',
        `integration Sales Mail: skipped: ${advice('support')} (Vigil's Support Mail receives mail at it)`,
        `integration Support Mail: skipped: ${advice('helpdesk')}; Vigil's Support Mail is left as it was, receiving mail at ${supportAddress} (Vigil's Helpdesk Desk receives mail at it)`,
        'integration Zed Mail: would be updated',
      ])
        assert.ok(
          dry.progress.some((l) => l === line || l.startsWith(`${line} (`)),
          `${line}\n${dryAll}`,
        );
      assert.deepEqual(await snapshot(target), before, 'a dry run changes nothing');

      const run = await fromSource();
      const all = [...run.progress, ...run.out].join('\n');
      // Skipped with what to do, not failed: the exit code is 0.
      assert.equal(run.code, 0, all);
      assert.deepEqual(outcomesOf(run.progress), outcomesOf(dry.progress), 'as the dry run said');
      for (const [name, emailUsername] of [
        ['Alpha Mail', 'zed'],
        ['Sales Mail', 'support'],
        ['Support Mail', 'helpdesk'],
      ] as const) {
        assert.ok(
          run.progress.some((l) => l.startsWith(`integration ${name}: skipped: ${advice(emailUsername)}`)),
          all,
        );
        assert.ok(
          run.out.includes(`  - Email integration ${name} was skipped: ${advice(emailUsername)}.`),
          all,
        );
      }
      const addresses = async () =>
        Object.fromEntries(
          (await target.callOk('GET', '/v2/integrations')).data
            .filter((i: Json) => i.type === 'Email')
            .map((i: Json) => [i.name, i.emailUsername]),
        );
      assert.deepEqual(await addresses(), {
        'Helpdesk Desk': 'helpdesk',
        'Ops Mail': 'ops2',
        'Pager Mail': 'ops',
        'Support Mail': 'support',
        'Zed Mail': 'zed2',
      });

      // Helpdesk Desk gets another address, as the advice says: Alpha Mail's and Support Mail's are free
      // now, but Sales Mail still meets Support Mail at "support", which moves only after it.
      await target.callOk('PATCH', `/v2/integrations/${helpdesk.id}`, { emailUsername: 'helpdesk.old' });
      const dryAgain = await fromSource('--dry-run');
      for (const line of [
        'integration Alpha Mail: would be created',
        `integration Sales Mail: skipped: ${advice('support')} (Vigil's Support Mail receives mail at it)`,
        'integration Support Mail: would be updated',
      ])
        assert.ok(
          dryAgain.progress.some((l) => l === line || l.startsWith(`${line} (`)),
          `${line}\n${dryAgain.progress.join('\n')}`,
        );
      const again = await fromSource();
      assert.equal(again.code, 0, [...again.progress, ...again.out].join('\n'));
      assert.deepEqual(outcomesOf(again.progress), outcomesOf(dryAgain.progress), 'as the dry run said');
      const third = await fromSource();
      assert.ok(
        third.progress.some((l) => l.startsWith('integration Sales Mail: created')),
        third.progress.join('\n'),
      );
      assert.deepEqual(await addresses(), {
        'Alpha Mail': 'zed',
        'Helpdesk Desk': 'helpdesk.old',
        'Ops Mail': 'ops2',
        'Pager Mail': 'ops',
        'Sales Mail': 'support',
        'Support Mail': 'helpdesk',
        'Zed Mail': 'zed2',
      });
    } finally {
      const made = ['Alpha Mail', 'Helpdesk Desk', 'Ops Mail', 'Pager Mail', 'Sales Mail', 'Zed Mail'];
      for (const server of [source, target])
        for (const i of (await server.callOk('GET', '/v2/integrations')).data)
          if (made.includes(i.name)) await server.callOk('DELETE', `/v2/integrations/${i.id}`);
      await source.callOk('PATCH', `/v2/integrations/${sourceSupport}`, { emailUsername: 'support' });
      await target.callOk('PATCH', `/v2/integrations/${targetSupport}`, { emailUsername: 'support' });
    }
  });

  it('a key the source refuses stops the import with what to do', async () => {
    const run = await runImport(
      ['--api-url', source.url, '--api-key', 'a0000000-0000-4000-8000-000000000000'],
      {
        VIGIL_URL: target.url,
        VIGIL_API_KEY: target.key,
      },
    );
    assert.equal(run.code, 1);
    assert.ok(
      run.out.some((l) =>
        l.includes(
          'the API key was refused: use an Opsgenie API key with read access (Settings > API key management)',
        ),
      ),
      run.out.join('\n'),
    );
  });
});
