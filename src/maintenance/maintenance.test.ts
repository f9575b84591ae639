import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { queryCounter } from '../testing/query-counter.js';
import { createAlertPoliciesService } from '../alerts/policies/service.js';
import { decideForTeam, loadNotificationPolicies } from '../engine/escalation/notification-policies.js';
import { policyActsAt, policyMaintainedAt } from './repository.js';
import { ShiftedClock } from '../work/clock.js';
import { createMaintenanceService } from './service.js';

/**
 * Opsgenie's Maintenance API on the real server, its clock moved instead of waited for: a maintenance's
 * status follows the clock (planned, active, past); while it is active the integrations it disables ignore
 * Security Hub deliveries and refuse their Alert API keys, and they work again the moment it ends, is
 * cancelled or is deleted, their own switch untouched; bad input, other teams' integrations and unknown
 * maintenances are refused; and the intake's question costs no query per delivery.
 */

const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const MINUTE = 60_000;
const here = path.dirname(new URL(import.meta.url).pathname);
const eventFixture = path.resolve(
  here,
  '../../test/fixtures/securityhub/events/source_layer_test_test_json_data_afsbp-ec2.7.json',
);

interface Integration {
  id: string;
  key: string;
}

let teamA: string;
let teamB: string;
let hub: Integration;
let api: Integration;
let otherTeams: Integration;
let teamAdminKey: string;
let plainUserKey: string;

async function call(method: string, path: string, body?: unknown, key?: string): Promise<Json> {
  return server.callOk(method, path, body, key);
}

async function integration(body: Json): Promise<Integration> {
  const made = await call('POST', '/v2/integrations', { name: `${body.type} ${randomUUID()}`, ...body });
  return { id: made.data.id, key: made.data.apiKey };
}

async function userKey(username: string): Promise<{ id: string; key: string }> {
  const user = await call('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
  const key = await call('POST', '/v2/api-keys', { name: `${username} key`, user: { id: user.data.id } });
  return { id: user.data.id, key: key.data.key };
}

const at = (offsetMs: number) => new Date(clock.now().getTime() + offsetMs).toISOString();

async function create(time: Json, integrations: Integration[] = [hub, api], key?: string): Promise<Json> {
  const answer = await server.call(
    'POST',
    '/v1/maintenance',
    {
      description: `deploy ${run}`,
      time,
      rules: integrations.map((i) => ({ state: 'disabled', entity: { id: i.id, type: 'integration' } })),
    },
    key,
  );
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body;
}

const statusOf = async (id: string): Promise<string> =>
  (await call('GET', `/v1/maintenance/${id}`)).data.status;

/** Posts a new finding to a Security Hub integration as an EventBridge API destination does. */
async function deliver(to: Integration): Promise<{ status: number; body: Json }> {
  const event = JSON.parse(await fs.readFile(eventFixture, 'utf8')) as Json;
  event.id = randomUUID();
  event.detail.findings[0].Id += `-${randomUUID()}`;
  const response = await fetch(`${server.url}/v1/json/integrations/webhooks/amazonsecurityhub`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': to.key },
    body: JSON.stringify(event),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

/** Delivers a finding and waits for what the workers made of it. */
async function delivered(to: Integration): Promise<Json> {
  const answer = await deliver(to);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  if (answer.body.verdict !== 'queued') return answer.body;
  return waitFor('the delivery to be processed', async () => {
    const payload = await call('GET', `/v2/integrations/${to.id}/payloads/${answer.body.payloadId}`);
    return payload.data.verdict !== 'queued' ? payload.data : undefined;
  });
}

async function alertCount(integrationId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM alerts WHERE integration_id = $1',
    [integrationId],
  );
  return rows[0]?.n ?? 0;
}

/** Creates an alert with the API integration's key: 202 while it works, 401 while it is disabled. */
const alertVia = (i: Integration) =>
  server.call('POST', '/v2/alerts', { message: `deploy check ${randomUUID()}` }, i.key);

/** Both integrations work: a finding becomes an alert and the key creates one. */
async function assertWorking(): Promise<void> {
  const outcome = await delivered(hub);
  assert.equal(outcome.verdict, 'created', JSON.stringify(outcome));
  const before = await alertCount(api.id);
  const created = await alertVia(api);
  assert.equal(created.status, 202, JSON.stringify(created.body));
  assert.equal(await alertCount(api.id), before + 1);
}

/** Both integrations are disabled by maintenance `id`: nothing is stored, nothing is paged. */
async function assertDisabledBy(id: string): Promise<void> {
  const hubAlerts = await alertCount(hub.id);
  const answer = await deliver(hub);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.verdict, 'ignored');
  assert.match(answer.body.reason, new RegExp(`disabled by maintenance ${id} \\("deploy ${run}"\\)`));
  const logged = await call('GET', `/v2/integrations/${hub.id}/payloads?limit=1`);
  assert.equal(logged.data[0].verdict, 'ignored');
  assert.match(logged.data[0].reason, new RegExp(`maintenance ${id}`));

  const apiAlerts = await alertCount(api.id);
  const refused = await alertVia(api);
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  assert.match(refused.body.message, new RegExp(`is disabled by maintenance ${id}`));
  await server.idle();
  assert.equal(await alertCount(hub.id), hubAlerts);
  assert.equal(await alertCount(api.id), apiAlerts);
  // Their own switches were never touched.
  for (const i of [hub, api])
    assert.equal((await call('GET', `/v2/integrations/${i.id}`)).data.enabled, true);
}

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  const admin = await userKey(`lead-${run}@example.com`);
  const plain = await userKey(`dev-${run}@example.com`);
  teamAdminKey = admin.key;
  plainUserKey = plain.key;
  teamA = (
    await call('POST', '/v2/teams', {
      name: `Payments ${run}`,
      members: [
        { user: { id: admin.id }, role: 'admin' },
        { user: { id: plain.id }, role: 'user' },
      ],
    })
  ).data.id;
  teamB = (await call('POST', '/v2/teams', { name: `Search ${run}` })).data.id;
  hub = await integration({ type: 'AmazonSecurityHub', ownerTeam: { id: teamA }, verifySignatures: false });
  api = await integration({ type: 'API', ownerTeam: { id: teamA } });
  otherTeams = await integration({ type: 'API', ownerTeam: { id: teamB } });
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('a maintenance’s status follows the clock', () => {
  it('answers a create as Opsgenie does, and reads back its rules', async () => {
    const made = await create({ type: 'for-5-minutes' }, [otherTeams]);
    assert.equal(made.result, 'Created');
    assert.equal(typeof made.took, 'number');
    assert.equal(typeof made.requestId, 'string');
    const { id, status, time, description } = made.data;
    assert.equal(status, 'active');
    assert.equal(description, `deploy ${run}`);
    assert.equal(time.type, 'for-5-minutes');
    assert.equal(Date.parse(time.endDate) - Date.parse(time.startDate), 5 * MINUTE);
    assert.ok(Math.abs(Date.parse(time.startDate) - clock.now().getTime()) < MINUTE);

    const got = await call('GET', `/v1/maintenance/${id}`);
    assert.deepEqual(got.data, {
      ...made.data,
      rules: [{ state: 'disabled', entity: { id: otherTeams.id, type: 'integration' } }],
    });
    clock.advance(5 * MINUTE + 1);
    assert.equal(await statusOf(id), 'past');
  });

  it('runs each time type from now, a schedule from its start to its end', async () => {
    const thirty = (await create({ type: 'for-30-minutes' }, [otherTeams])).data;
    const hour = (await create({ type: 'for-1-hour' }, [otherTeams])).data;
    const forever = (await create({ type: 'indefinitely' }, [otherTeams])).data;
    const scheduled = (
      await create({ type: 'schedule', startDate: at(10 * MINUTE), endDate: at(50 * MINUTE) }, [otherTeams])
    ).data;
    assert.equal(Date.parse(thirty.time.endDate) - Date.parse(thirty.time.startDate), 30 * MINUTE);
    assert.equal(Date.parse(hour.time.endDate) - Date.parse(hour.time.startDate), 60 * MINUTE);
    assert.equal(forever.time.endDate, undefined, 'indefinitely has no end');
    assert.deepEqual(
      [thirty.status, hour.status, forever.status, scheduled.status],
      ['active', 'active', 'active', 'planned'],
    );

    clock.advance(20 * MINUTE);
    assert.equal(await statusOf(scheduled.id), 'active');
    clock.advance(11 * MINUTE);
    assert.deepEqual(
      [await statusOf(thirty.id), await statusOf(hour.id), await statusOf(scheduled.id)],
      ['past', 'active', 'active'],
    );
    clock.advance(30 * MINUTE);
    assert.deepEqual([await statusOf(hour.id), await statusOf(scheduled.id)], ['past', 'past']);
    clock.advance(30 * 24 * 60 * MINUTE);
    assert.equal(await statusOf(forever.id), 'active', 'an indefinite maintenance lasts until cancelled');
    assert.equal((await call('POST', `/v1/maintenance/${forever.id}/cancel`)).result, 'Cancelled');
    assert.equal(await statusOf(forever.id), 'cancelled');
  });
});

describe('while a maintenance is active, the integrations it disables', () => {
  it('ignore deliveries and refuse their keys, and work again once it has ended', async () => {
    await assertWorking();
    const { id } = (await create({ type: 'for-30-minutes' })).data;
    await assertDisabledBy(id);
    clock.advance(30 * MINUTE + 1);
    await assertWorking();
  });

  it('work again at once when it is cancelled, or deleted', async () => {
    const cancelled = (await create({ type: 'indefinitely' })).data;
    await assertDisabledBy(cancelled.id);
    await call('POST', `/v1/maintenance/${cancelled.id}/cancel`);
    await assertWorking();

    const deleted = (await create({ type: 'for-1-hour' })).data;
    await assertDisabledBy(deleted.id);
    assert.equal((await call('DELETE', `/v1/maintenance/${deleted.id}`)).result, 'Deleted');
    assert.equal((await server.call('GET', `/v1/maintenance/${deleted.id}`)).status, 404);
    await assertWorking();
  });

  it('work while it is planned, and stop when its start comes', async () => {
    const planned = (await create({ type: 'schedule', startDate: at(10 * MINUTE), endDate: at(20 * MINUTE) }))
      .data;
    await assertWorking();
    clock.advance(10 * MINUTE);
    await assertDisabledBy(planned.id);
    clock.advance(10 * MINUTE);
    await assertWorking();
  });

  it('stay disabled when its end is moved later, until that end', async () => {
    const { id } = (await create({ type: 'for-5-minutes' })).data;
    const later = at(45 * MINUTE);
    const patched = await call('PATCH', `/v1/maintenance/${id}`, { time: { endDate: later } });
    assert.equal(patched.result, 'Updated');
    assert.equal(patched.data.status, 'active');
    assert.equal(patched.data.time.type, 'schedule', 'a moved end makes it a schedule');
    assert.equal(patched.data.time.endDate, later);
    clock.advance(10 * MINUTE);
    await assertDisabledBy(id);

    // Terraform changes an active maintenance's end with change-end-date.
    const sooner = at(20 * MINUTE);
    const changed = await call('POST', `/v1/maintenance/${id}/change-end-date`, { endDate: sooner });
    assert.equal(changed.data.time.endDate, sooner);
    clock.advance(20 * MINUTE);
    assert.equal(await statusOf(id), 'past');
    await assertWorking();
  });
});

/** A policy that appends "(by <name>)" to the message of alerts that mention `token`, and tags them. */
async function policy(name: string, token: string, teamId?: string): Promise<string> {
  const made = await call('POST', `/v2/policies${teamId ? `?teamId=${teamId}` : ''}`, {
    type: 'alert',
    name: `${name} ${run}`,
    filter: {
      type: 'match-all-conditions',
      conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
    },
    message: `{{message}} (by ${name})`,
    tags: ['shaped'],
  });
  return made.data.id;
}

const policyRule = (id: string, state: 'enabled' | 'disabled' = 'disabled') => ({
  state,
  entity: { id, type: 'policy' },
});
const integrationRule = (id: string) => ({ state: 'disabled', entity: { id, type: 'integration' } });

async function maintain(time: Json, rules: Json[], key?: string): Promise<{ status: number; body: Json }> {
  return server.call('POST', '/v1/maintenance', { description: `policies ${run}`, time, rules }, key);
}

/** Creates an alert mentioning `token` (for `teamId` when given) and reads it back as stored, with its log. */
async function alertAbout(
  token: string,
  teamId?: string,
): Promise<{ message: string; tags: string[]; logs: string[] }> {
  const alias = `p-${randomUUID()}`;
  const message = `${token} ${randomUUID().slice(0, 8)}`;
  const answer = await server.call('POST', '/v2/alerts', {
    alias,
    message,
    ...(teamId ? { responders: [{ type: 'team', id: teamId }] } : {}),
  });
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  const { rows } = await db.query<{ id: string; message: string; tags: string[] }>(
    'SELECT id, message, tags FROM alerts WHERE alias = $1',
    [alias],
  );
  const row = rows[0];
  assert.ok(row, 'the alert was made');
  const logs = await db.query<{ log: string }>('SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id', [
    row.id,
  ]);
  return {
    message: row.message.slice(message.length),
    tags: row.tags,
    logs: logs.rows.map((r) => r.log),
  };
}

/** The policy `name` changed the alert, and its log says so. */
async function assertShapedBy(token: string, name: string, teamId?: string): Promise<void> {
  const made = await alertAbout(token, teamId);
  assert.equal(made.message, ` (by ${name})`);
  assert.deepEqual(made.tags, ['shaped']);
  assert.ok(
    made.logs.some((l) => l.includes(`Modified by policy '${name} ${run}'`)),
    JSON.stringify(made.logs),
  );
}

/** No policy changed the alert, and its log names none. */
async function assertNotShaped(token: string, teamId?: string): Promise<void> {
  const made = await alertAbout(token, teamId);
  assert.equal(made.message, '', 'the message is as sent');
  assert.deepEqual(made.tags, []);
  assert.ok(!made.logs.some((l) => /polic/i.test(l)), JSON.stringify(made.logs));
}

describe('while a maintenance is active, the alert policies it disables', () => {
  it('do not run on alerts created during it, and run before and after it', async () => {
    const token = `window-${run}`;
    const id = await policy('Window', token);
    const planned = await maintain(
      { type: 'schedule', startDate: at(10 * MINUTE), endDate: at(40 * MINUTE) },
      [policyRule(id)],
    );
    assert.equal(planned.status, 201, JSON.stringify(planned.body));
    assert.equal(planned.body.data.status, 'planned');
    await assertShapedBy(token, 'Window');

    clock.advance(10 * MINUTE);
    assert.equal(await statusOf(planned.body.data.id), 'active');
    await assertNotShaped(token);
    await assertNotShaped(token);
    // The policy's own switch was never touched.
    assert.equal((await call('GET', `/v2/policies/${id}`)).data.enabled, true);

    clock.advance(30 * MINUTE);
    assert.equal(await statusOf(planned.body.data.id), 'past');
    await assertShapedBy(token, 'Window');
  });

  it('run again at once when it is cancelled, or deleted', async () => {
    const token = `cancel-${run}`;
    const id = await policy('Cancel', token);
    const cancelled = await maintain({ type: 'indefinitely' }, [policyRule(id)]);
    assert.equal(cancelled.status, 201, JSON.stringify(cancelled.body));
    await assertNotShaped(token);
    await call('POST', `/v1/maintenance/${cancelled.body.data.id}/cancel`);
    await assertShapedBy(token, 'Cancel');

    const deleted = await maintain({ type: 'for-1-hour' }, [policyRule(id)]);
    await assertNotShaped(token);
    await call('DELETE', `/v1/maintenance/${deleted.body.data.id}`);
    await assertShapedBy(token, 'Cancel');
  });

  it("disable a team's policy for that team's alerts, and leave the other policies running", async () => {
    const token = `team-${run}`;
    const global = await policy('Global', token);
    await call('PUT', `/v2/policies/${global}`, {
      type: 'alert',
      name: `Global ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
      },
      tags: ['global'],
      continue: true,
    });
    const ofTeam = await policy('Team', token, teamA);
    const { status, body } = await maintain({ type: 'for-30-minutes' }, [policyRule(ofTeam)], teamAdminKey);
    assert.equal(status, 201, JSON.stringify(body));
    const during = await alertAbout(token, teamA);
    assert.deepEqual(during.tags, ['global'], 'the global policy still runs');
    assert.equal(during.message, '', "the team's does not");
    await call('POST', `/v1/maintenance/${body.data.id}/cancel`, undefined, teamAdminKey);
    const after = await alertAbout(token, teamA);
    assert.deepEqual(after.tags, ['global', 'shaped']);
    assert.equal(after.message, ' (by Team)');
    await call('DELETE', `/v2/policies/${global}`);
  });

  it('answers 403 to whoever may not edit every policy it names', async () => {
    const global = await policy('Guarded', `guarded-${run}`);
    const ofTeam = await policy('Ours', `ours-${run}`, teamA);
    const ofOtherTeam = await policy('Theirs', `theirs-${run}`, teamB);
    const time = { type: 'schedule', startDate: at(60 * MINUTE), endDate: at(70 * MINUTE) };
    const count = async () =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM maintenance_policy_rules')).rows[0]?.n;
    const stored = await count();
    for (const rules of [
      [policyRule(global)],
      [policyRule(ofOtherTeam)],
      [policyRule(ofTeam), policyRule(global)],
    ]) {
      const refused = await maintain(time, rules, teamAdminKey);
      assert.equal(refused.status, 403, `${JSON.stringify(rules)}: ${JSON.stringify(refused.body)}`);
    }
    const plain = await maintain(time, [policyRule(ofTeam)], plainUserKey);
    assert.equal(plain.status, 403, JSON.stringify(plain.body));
    assert.equal(await count(), stored, 'nothing refused was stored');

    // An org admin's maintenance on a global policy is out of a team admin's reach, whatever else it names.
    const admins = await maintain(time, [policyRule(ofTeam), policyRule(global)]);
    assert.equal(admins.status, 201);
    for (const [method, suffix, sent] of [
      ['PATCH', '', { description: 'no' }],
      ['POST', '/cancel', undefined],
      ['DELETE', '', undefined],
    ] as const) {
      const answer = await server.call(
        method,
        `/v1/maintenance/${admins.body.data.id}${suffix}`,
        sent,
        teamAdminKey,
      );
      assert.equal(answer.status, 403, `${method} ${suffix}: ${JSON.stringify(answer.body)}`);
    }
    assert.equal(await statusOf(admins.body.data.id), 'planned');
    // Their own may not be widened to a global policy.
    const ours = await maintain(time, [policyRule(ofTeam)], teamAdminKey);
    assert.equal(ours.status, 201, JSON.stringify(ours.body));
    const widened = await server.call(
      'PATCH',
      `/v1/maintenance/${ours.body.data.id}`,
      { rules: [policyRule(ofTeam), policyRule(global)] },
      teamAdminKey,
    );
    assert.equal(widened.status, 403, JSON.stringify(widened.body));
    assert.equal(
      (await server.call('DELETE', `/v1/maintenance/${ours.body.data.id}`, undefined, teamAdminKey)).status,
      200,
    );
    await call('DELETE', `/v1/maintenance/${admins.body.data.id}`);
  });
});

describe('while a maintenance is active, the disabled policies it enables', () => {
  /** A policy as {@link policy} makes it, then switched off. */
  async function disabledPolicy(name: string, token: string): Promise<string> {
    const id = await policy(name, token);
    await call('POST', `/v2/policies/${id}/disable`);
    return id;
  }

  it('run on alerts created during it, not before or after it, and read back as enabled', async () => {
    const token = `enabled-${run}`;
    const id = await disabledPolicy('Enabled', token);
    await assertNotShaped(token);
    const planned = await maintain(
      { type: 'schedule', startDate: at(10 * MINUTE), endDate: at(40 * MINUTE) },
      [policyRule(id, 'enabled'), integrationRule(otherTeams.id)],
    );
    assert.equal(planned.status, 201, JSON.stringify(planned.body));
    const { id: maintenanceId } = planned.body.data;
    // What Terraform reads back to compare with its state: the rule as given.
    assert.deepEqual((await call('GET', `/v1/maintenance/${maintenanceId}`)).data.rules, [
      policyRule(id, 'enabled'),
      integrationRule(otherTeams.id),
    ]);
    await assertNotShaped(token);

    clock.advance(10 * MINUTE);
    assert.equal(await statusOf(maintenanceId), 'active');
    await assertShapedBy(token, 'Enabled');
    // The policy's own switch was never touched.
    assert.equal((await call('GET', `/v2/policies/${id}`)).data.enabled, false);

    clock.advance(30 * MINUTE);
    assert.equal(await statusOf(maintenanceId), 'past');
    await assertNotShaped(token);
  });

  it("take opsgenie-lamp's default (policy, enabled), stop at once when cancelled or deleted, and lose to one that disables them", async () => {
    const token = `lamp-${run}`;
    const id = await disabledPolicy('Lamp', token);
    const lamp = await maintain({ type: 'indefinitely' }, [policyRule(id, 'enabled')]);
    assert.equal(lamp.status, 201, JSON.stringify(lamp.body));
    await assertShapedBy(token, 'Lamp');

    const off = await maintain({ type: 'for-1-hour' }, [policyRule(id)]);
    assert.equal(off.status, 201, JSON.stringify(off.body));
    await assertNotShaped(token);
    await call('DELETE', `/v1/maintenance/${off.body.data.id}`);
    await assertShapedBy(token, 'Lamp');

    await call('POST', `/v1/maintenance/${lamp.body.data.id}/cancel`);
    await assertNotShaped(token);
    const deleted = await maintain({ type: 'for-30-minutes' }, [policyRule(id, 'enabled')]);
    await assertShapedBy(token, 'Lamp');
    await call('DELETE', `/v1/maintenance/${deleted.body.data.id}`);
    await assertNotShaped(token);
  });

  it('can be switched to disabling by PATCH, and refuse one policy given both ways', async () => {
    const token = `patched-${run}`;
    const id = await disabledPolicy('Patched', token);
    const made = await maintain({ type: 'for-1-hour' }, [policyRule(id, 'enabled')]);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await assertShapedBy(token, 'Patched');
    await call('PATCH', `/v1/maintenance/${made.body.data.id}`, { rules: [policyRule(id)] });
    assert.deepEqual((await call('GET', `/v1/maintenance/${made.body.data.id}`)).data.rules, [
      policyRule(id),
    ]);
    await assertNotShaped(token);

    const both = await maintain({ type: 'for-1-hour' }, [policyRule(id, 'enabled'), policyRule(id)]);
    assert.equal(both.status, 422, JSON.stringify(both.body));
    assert.match(both.body.errors?.['rules[1].state'] ?? '', /has a rule with state "enabled" already/);
    await call('DELETE', `/v1/maintenance/${made.body.data.id}`);
  });

  it("apply a team's disabled notification policy while active, and keep what it starts only then", async () => {
    const token = `notify-${run}`;
    const made = await call('POST', `/v2/policies?teamId=${teamA}`, {
      type: 'notification',
      name: `Quiet ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
      },
      suppress: true,
      autoRestartAction: { duration: { timeAmount: 10, timeUnit: 'minutes' }, maxRepeatCount: 2 },
    });
    const id: string = made.data.id;
    await call('POST', `/v2/policies/${id}/disable?teamId=${teamA}`);
    const { rows } = await db.query<{ org_id: string }>('SELECT org_id FROM alert_policies WHERE id = $1', [
      id,
    ]);
    const orgId = rows[0]?.org_id ?? '';
    const apiDb = server.app.context.apiDb;
    const alert = {
      message: `${token} backup late`,
      alias: '',
      description: '',
      source: '',
      entity: '',
      tags: [],
      actions: [],
      details: {},
      priority: 'P3' as const,
      integrationName: null,
    };
    const decision = async () => {
      const now = clock.now();
      return decideForTeam(await loadNotificationPolicies(apiDb, orgId, now), teamA, alert, now, now);
    };
    const engineSays = async () => {
      const now = clock.now();
      const policyId = sql`${id}::uuid`;
      const { rows } = await sql<{ acts: boolean; maintained: boolean }>`
        SELECT ${policyActsAt(policyId, 'autoRestartAction', now)} AS acts,
               ${policyMaintainedAt(policyId, now)} AS maintained`.execute(apiDb);
      return rows[0];
    };
    assert.equal(await decision(), undefined, 'disabled, it does not apply');

    const on = await maintain({ type: 'for-30-minutes' }, [policyRule(id, 'enabled')], teamAdminKey);
    assert.equal(on.status, 201, JSON.stringify(on.body));
    assert.equal((await decision())?.policyId, id, 'the maintenance has it apply');
    assert.equal((await decision())?.suppress, true);
    // Its restarts fall due and its holds stay while the maintenance runs it...
    assert.deepEqual(await engineSays(), { acts: true, maintained: false });

    clock.advance(30 * MINUTE);
    assert.equal(await decision(), undefined, 'not once the maintenance is over');
    // ...and end with it, as when the policy is disabled.
    assert.deepEqual(await engineSays(), { acts: false, maintained: true });
    await call('DELETE', `/v1/maintenance/${on.body.data.id}`);
    await call('DELETE', `/v2/policies/${id}?teamId=${teamA}`);
  });
});

describe('a maintenance’s rules on integrations and policies', () => {
  it('read back in the order given, the two kinds mixed, through create, PUT and PATCH', async () => {
    const first = await policy('First', `first-${run}`);
    const second = await policy('Second', `second-${run}`, teamA);
    const time = { type: 'schedule', startDate: at(60 * MINUTE), endDate: at(70 * MINUTE) };
    const given = [
      policyRule(first),
      integrationRule(otherTeams.id),
      policyRule(second),
      integrationRule(api.id),
    ];
    const made = await maintain(time, given);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const { id } = made.body.data;
    assert.deepEqual((await call('GET', `/v1/maintenance/${id}`)).data.rules, given);
    const listed = (await call('GET', '/v1/maintenance')).data.find((m: Json) => m.id === id);
    assert.equal(listed.status, 'planned', 'the list shows it (Opsgenie lists maintenances without rules)');

    const reordered = [
      integrationRule(api.id),
      policyRule(second),
      integrationRule(otherTeams.id),
      policyRule(first),
    ];
    await call('PUT', `/v1/maintenance/${id}`, { time, rules: reordered });
    assert.deepEqual((await call('GET', `/v1/maintenance/${id}`)).data.rules, reordered);

    // Only policies is a maintenance too; a rule given twice is kept once, where it first came.
    const onlyPolicies = [policyRule(second), policyRule(first), policyRule(second)];
    await call('PATCH', `/v1/maintenance/${id}`, { rules: onlyPolicies });
    assert.deepEqual((await call('GET', `/v1/maintenance/${id}`)).data.rules, onlyPolicies.slice(0, 2));
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM maintenance_rules WHERE maintenance_id = $1',
      [id],
    );
    assert.equal(rows[0].n, 0, 'its integration rules are gone');
    await call('DELETE', `/v1/maintenance/${id}`);
  });

  it("lose a policy's rule when the policy is deleted, and keep the others", async () => {
    const token = `deleted-${run}`;
    const kept = await policy('Kept', token);
    const gone = await policy('Gone', `gone-${run}`);
    const made = await maintain({ type: 'for-30-minutes' }, [
      integrationRule(otherTeams.id),
      policyRule(gone),
      policyRule(kept),
    ]);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const { id } = made.body.data;
    await call('DELETE', `/v2/policies/${gone}`);
    assert.deepEqual((await call('GET', `/v1/maintenance/${id}`)).data.rules, [
      integrationRule(otherTeams.id),
      policyRule(kept),
    ]);
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM maintenance_policy_rules WHERE policy_id = $1',
      [gone],
    );
    assert.equal(rows[0].n, 0);
    await assertNotShaped(token);
    await call('POST', `/v1/maintenance/${id}/cancel`);
    await assertShapedBy(token, 'Kept');
  });
});

describe('changing a maintenance', () => {
  it('changes the description, time and rules given (PATCH), or all of them (PUT)', async () => {
    const planned = (
      await create({ type: 'schedule', startDate: at(60 * MINUTE), endDate: at(90 * MINUTE) }, [otherTeams])
    ).data;
    const described = await call('PATCH', `/v1/maintenance/${planned.id}`, { description: 'db upgrade' });
    assert.equal(described.data.description, 'db upgrade');
    assert.deepEqual(described.data.time, planned.time, 'what is not given stays');

    const put = await call('PUT', `/v1/maintenance/${planned.id}`, {
      description: 'db upgrade, take 2',
      time: { type: 'schedule', startDate: at(120 * MINUTE), endDate: at(180 * MINUTE) },
      rules: [
        { entity: { id: api.id, type: 'integration' } },
        { entity: { id: hub.id, type: 'integration' } },
      ],
    });
    assert.equal(put.result, 'Updated');
    assert.equal(put.data.status, 'planned');
    const got = await call('GET', `/v1/maintenance/${planned.id}`);
    assert.deepEqual(
      got.data.rules.map((r: Json) => r.entity.id),
      [api.id, hub.id],
    );
    assert.equal(got.data.description, 'db upgrade, take 2');

    // A planned maintenance given a duration starts now, as a new one would.
    const now = await call('PATCH', `/v1/maintenance/${planned.id}`, { time: { type: 'for-5-minutes' } });
    assert.equal(now.data.status, 'active');
    await call('POST', `/v1/maintenance/${planned.id}/cancel`);
  });

  it('refuses to change one that is over, or to move the start of one that has begun', async () => {
    const active = (await create({ type: 'for-1-hour' }, [otherTeams])).data;
    const moved = await server.call('PATCH', `/v1/maintenance/${active.id}`, {
      time: { type: 'schedule', startDate: at(5 * MINUTE), endDate: at(70 * MINUTE) },
    });
    assert.equal(moved.status, 422, JSON.stringify(moved.body));
    assert.match(moved.body.errors['time.startDate'], /can no longer change/);

    await call('POST', `/v1/maintenance/${active.id}/cancel`);
    const late = await server.call('PATCH', `/v1/maintenance/${active.id}`, { description: 'too late' });
    assert.equal(late.status, 409);
    assert.match(late.body.message, /is cancelled/);
    // Cancelling what is already over changes nothing and does not fail a pipeline's clean-up.
    assert.equal((await call('POST', `/v1/maintenance/${active.id}/cancel`)).result, 'Cancelled');
    assert.equal(await statusOf(active.id), 'cancelled');
  });
});

describe('listing maintenances', () => {
  it('lists non-expired ones by default, past (and cancelled) ones, or all', async () => {
    const past = (await create({ type: 'for-5-minutes' }, [otherTeams])).data.id;
    clock.advance(6 * MINUTE);
    const cancelled = (await create({ type: 'indefinitely' }, [otherTeams])).data.id;
    await call('POST', `/v1/maintenance/${cancelled}/cancel`);
    const active = (await create({ type: 'for-1-hour' }, [otherTeams])).data.id;
    const planned = (
      await create({ type: 'schedule', startDate: at(10 * MINUTE), endDate: at(20 * MINUTE) }, [otherTeams])
    ).data.id;
    const mine = new Set([past, cancelled, active, planned]);
    const listed = async (query: string) =>
      ((await call('GET', `/v1/maintenance${query}`)).data as Json[])
        .filter((m) => mine.has(m.id))
        .map((m) => [m.id, m.status])
        .sort();

    const expected = (...entries: [string, string][]) => entries.sort();
    assert.deepEqual(await listed(''), expected([active, 'active'], [planned, 'planned']));
    assert.deepEqual(await listed('?type=non-expired'), expected([active, 'active'], [planned, 'planned']));
    assert.deepEqual(await listed('?type=past'), expected([past, 'past'], [cancelled, 'cancelled']));
    assert.deepEqual(
      await listed('?type=all'),
      expected([past, 'past'], [cancelled, 'cancelled'], [active, 'active'], [planned, 'planned']),
    );
    const listedMeta = (await call('GET', '/v1/maintenance')).data.find((m: Json) => m.id === active);
    assert.deepEqual(Object.keys(listedMeta).sort(), ['description', 'id', 'status', 'time']);
    assert.equal((await server.call('GET', '/v1/maintenance?type=expired')).status, 422);
    for (const id of [active, planned]) await call('POST', `/v1/maintenance/${id}/cancel`);
  });
});

describe('what is refused', () => {
  const body = (time: Json, rules: Json = [{ entity: { id: otherTeams.id, type: 'integration' } }]) => ({
    time,
    rules,
  });

  it('answers 422 for bad times, unknown integrations and policies, enabling, and unknown types', async () => {
    const cases: [Json, string, RegExp][] = [
      [
        body({ type: 'schedule', startDate: at(20 * MINUTE), endDate: at(10 * MINUTE) }),
        'time.endDate',
        /must be after time.startDate/,
      ],
      [body({ type: 'schedule', startDate: at(MINUTE) }), 'time.endDate', /is required/],
      [
        body({ type: 'schedule', startDate: at(-20 * MINUTE), endDate: at(-10 * MINUTE) }),
        'time.endDate',
        /not in the future/,
      ],
      [body({ type: 'for-2-hours' }), 'time.type', /must be one of/],
      [body({ type: 'schedule', startDate: 'tomorrow', endDate: at(MINUTE) }), 'time.startDate', /date-time/],
      [
        body({ type: 'for-1-hour' }, [
          { entity: { id: '0c6a1c33-0000-4000-8000-000000000000', type: 'integration' } },
        ]),
        'rules[0].entity.id',
        /Integration \[0c6a1c33-0000-4000-8000-000000000000\] does not exist/,
      ],
      [
        body({ type: 'for-1-hour' }, [
          { entity: { id: otherTeams.id, type: 'integration' } },
          { entity: { id: 'not-an-id', type: 'integration' } },
        ]),
        'rules[1].entity.id',
        /Integration \[not-an-id\] does not exist/,
      ],
      [
        body({ type: 'for-1-hour' }, [
          { entity: { id: otherTeams.id, type: 'integration' } },
          { entity: { id: '0c6a1c33-0000-4000-8000-000000000001', type: 'policy' } },
        ]),
        'rules[1].entity.id',
        /Alert policy \[0c6a1c33-0000-4000-8000-000000000001\] does not exist in this organization/,
      ],
      [
        body({ type: 'for-1-hour' }, [{ entity: { id: 'not-a-policy', type: 'policy' } }]),
        'rules[0].entity.id',
        /Alert policy \[not-a-policy\] does not exist/,
      ],
      [
        // An integration's id is not a policy's.
        body({ type: 'for-1-hour' }, [{ entity: { id: otherTeams.id, type: 'policy' } }]),
        'rules[0].entity.id',
        /Alert policy .* does not exist/,
      ],
      [
        // Enabling a policy is allowed: the policy must still exist.
        body({ type: 'for-1-hour' }, [{ state: 'enabled', entity: { id: randomUUID(), type: 'policy' } }]),
        'rules[0].entity.id',
        /Alert policy .* does not exist/,
      ],
      [
        body({ type: 'for-1-hour' }, [
          { state: 'enabled', entity: { id: otherTeams.id, type: 'integration' } },
        ]),
        'rules[0].state',
        /can only disable an integration: give "disabled" or leave state out \(state "enabled" is for policy rules/,
      ],
      [
        body({ type: 'for-1-hour' }, [{ entity: { id: otherTeams.id, type: 'service' } }]),
        'rules[0].entity.type',
        /must be one of/,
      ],
      [body({ type: 'for-1-hour' }, []), 'rules', /at least 1|fewer than 1|must NOT have fewer/],
      [{ rules: body({ type: 'for-1-hour' }).rules }, 'time', /is required/],
    ];
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM maintenances');
    for (const [sent, field, message] of cases) {
      const answer = await server.call('POST', '/v1/maintenance', sent);
      assert.equal(answer.status, 422, `${JSON.stringify(sent)}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.errors?.[field] ?? '', message, `${field}: ${JSON.stringify(answer.body)}`);
    }
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM maintenances');
    assert.equal(after.rows[0]?.n, before.rows[0]?.n, 'nothing refused was stored');
  });

  it('answers 403 to whoever may not manage every integration it names', async () => {
    const refusedPlain = await server.call(
      'POST',
      '/v1/maintenance',
      body({ type: 'for-1-hour' }, [{ entity: { id: api.id, type: 'integration' } }]),
      plainUserKey,
    );
    assert.equal(refusedPlain.status, 403, JSON.stringify(refusedPlain.body));

    // A team admin may disable their team's integrations, not another team's.
    const theirs = await server.call('POST', '/v1/maintenance', body({ type: 'for-1-hour' }), teamAdminKey);
    assert.equal(theirs.status, 403, JSON.stringify(theirs.body));
    const mixed = await server.call(
      'POST',
      '/v1/maintenance',
      body({ type: 'for-1-hour' }, [
        { entity: { id: api.id, type: 'integration' } },
        { entity: { id: otherTeams.id, type: 'integration' } },
      ]),
      teamAdminKey,
    );
    assert.equal(mixed.status, 403);
    const ours = await create(
      { type: 'schedule', startDate: at(60 * MINUTE), endDate: at(70 * MINUTE) },
      [api],
      teamAdminKey,
    );
    const ourId = ours.data.id;
    assert.equal(
      (await server.call('PATCH', `/v1/maintenance/${ourId}`, { description: 'mine' }, teamAdminKey)).status,
      200,
    );
    // Nor may they give it another team's integration, or touch another team's maintenance.
    const widened = await server.call(
      'PATCH',
      `/v1/maintenance/${ourId}`,
      { rules: [{ entity: { id: otherTeams.id, type: 'integration' } }] },
      teamAdminKey,
    );
    assert.equal(widened.status, 403);
    const othersId = (
      await create({ type: 'schedule', startDate: at(60 * MINUTE), endDate: at(70 * MINUTE) }, [otherTeams])
    ).data.id;
    for (const [method, suffix, sent] of [
      ['PATCH', '', { description: 'no' }],
      ['POST', '/cancel', undefined],
      ['POST', '/change-end-date', { endDate: at(80 * MINUTE) }],
      ['DELETE', '', undefined],
    ] as const) {
      const answer = await server.call(method, `/v1/maintenance/${othersId}${suffix}`, sent, teamAdminKey);
      assert.equal(answer.status, 403, `${method} ${suffix}: ${JSON.stringify(answer.body)}`);
      const plain = await server.call(method, `/v1/maintenance/${ourId}${suffix}`, sent, plainUserKey);
      assert.equal(plain.status, 403, `plain ${method} ${suffix}: ${JSON.stringify(plain.body)}`);
    }
    // Anyone of the organization reads them.
    assert.equal(
      (await server.call('GET', `/v1/maintenance/${othersId}`, undefined, plainUserKey)).status,
      200,
    );
    assert.equal((await server.call('GET', '/v1/maintenance', undefined, plainUserKey)).status, 200);
    assert.equal(
      (await server.call('DELETE', `/v1/maintenance/${ourId}`, undefined, teamAdminKey)).status,
      200,
    );
    await call('DELETE', `/v1/maintenance/${othersId}`);
  });

  it('answers 404 for an unknown maintenance', async () => {
    for (const id of [randomUUID(), 'no-such-maintenance']) {
      for (const [method, suffix, sent] of [
        ['GET', '', undefined],
        ['PATCH', '', { description: 'x' }],
        [
          'PUT',
          '',
          { time: { type: 'for-1-hour' }, rules: [{ entity: { id: api.id, type: 'integration' } }] },
        ],
        ['DELETE', '', undefined],
        ['POST', '/cancel', undefined],
        ['POST', '/change-end-date', { endDate: at(MINUTE) }],
      ] as const) {
        const answer = await server.call(method, `/v1/maintenance/${id}${suffix}`, sent);
        assert.equal(answer.status, 404, `${method} ${suffix}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.message, `Maintenance with id [${id}] does not exist.`);
      }
    }
  });
});

describe('what the intake reads', () => {
  it('asks the database once per integration per few seconds, however many deliveries come', async () => {
    const queries = queryCounter();
    const service = createMaintenanceService({
      db: server.app.context.apiDb.withPlugin(queries.plugin),
      clock,
      integrations: server.app.context.integrations,
      policies: createAlertPoliciesService({ db: server.app.context.apiDb, clock }),
    });
    const release = clock.hold();
    let id: string;
    let reasons: (string | undefined)[];
    try {
      // Started a while ago, it ends 4 seconds from now: within the 5 s the cache trusts what it read.
      ({ id } = (
        await create({ type: 'schedule', startDate: at(-MINUTE), endDate: at(4_000) }, [otherTeams])
      ).data);
      reasons = await Promise.all(Array.from({ length: 200 }, () => service.disabledBy(otherTeams.id)));
    } finally {
      release();
    }
    assert.ok(
      reasons.every((r) => r?.includes(`maintenance ${id}`)),
      reasons[0],
    );
    assert.equal(queries.count, 1);
    // Its end is compared with the clock on every ask: it ends on time without another read.
    clock.advance(4_000);
    assert.equal(await service.disabledBy(otherTeams.id), undefined);
    assert.equal(queries.count, 1);
    // Past the 5 s, the cache reads again.
    clock.advance(1_000);
    await service.disabledBy(otherTeams.id);
    assert.equal(queries.count, 2);
  });

  it('reads the policies’ maintenances with the policies, and ends a window on time without a read', async () => {
    const queries = queryCounter();
    const policies = createAlertPoliciesService({
      db: server.app.context.apiDb.withPlugin(queries.plugin),
      clock,
    });
    const id = await policy('Counted', `counted-${run}`);
    const { rows } = await db.query<{ org_id: string }>('SELECT org_id FROM alert_policies WHERE id = $1', [
      id,
    ]);
    const orgId = rows[0]?.org_id ?? '';
    const label = `policy 'Counted ${run}'`;
    const release = clock.hold();
    let ran: string[][];
    try {
      // Started a while ago, it ends 4 seconds from now: within what the cache trusts.
      const made = await maintain({ type: 'schedule', startDate: at(-MINUTE), endDate: at(4_000) }, [
        policyRule(id),
      ]);
      assert.equal(made.status, 201, JSON.stringify(made.body));
      ran = (
        await Promise.all(Array.from({ length: 200 }, () => policies.source.rulesFor(orgId, [teamA])))
      ).map((rules) => rules.flat().map((r) => r.label));
    } finally {
      release();
    }
    assert.ok(
      ran.every((labels) => !labels.includes(label)),
      'the policy is skipped while the maintenance is active',
    );
    assert.equal(queries.count, 2, 'the policies and their maintenances, once');
    clock.advance(4_000);
    const after = (await policies.source.rulesFor(orgId, [teamA])).flat().map((r) => r.label);
    assert.ok(after.includes(label), JSON.stringify(after));
    assert.equal(queries.count, 2);
  });

  it('sees a maintenance on a policy made through another process within seconds', async () => {
    const token = `elsewhere-${run}`;
    const id = await policy('Elsewhere', token);
    const other = await startTestServer({
      databaseUrl: server.databaseUrl,
      apiKey: server.key,
      clock,
      role: 'api',
    });
    const shapedThere = async () => {
      const alias = `o-${randomUUID()}`;
      const answer = await other.call('POST', '/v2/alerts', { alias, message: `${token} there` });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const { rows } = await db.query<{ message: string }>('SELECT message FROM alerts WHERE alias = $1', [
        alias,
      ]);
      return rows[0]?.message.endsWith('(by Elsewhere)');
    };
    try {
      // The other process has read (and remembers) that the policy runs.
      assert.equal(await shapedThere(), true);
      const made = await maintain({ type: 'for-5-minutes' }, [policyRule(id)]);
      assert.equal(made.status, 201, JSON.stringify(made.body));
      // The other process trusts the policies it read for 5 s of the clock, moved on rather than waited for.
      clock.advance(5_000);
      await waitFor('the other process to see the maintenance', async () => !(await shapedThere()), 10_000);
      await call('DELETE', `/v1/maintenance/${made.body.data.id}`);
      clock.advance(5_000);
      await waitFor('the other process to see it gone', shapedThere, 10_000);
    } finally {
      await other.stop();
    }
  });

  it('sees a maintenance made through another process within seconds', async () => {
    const other = await startTestServer({
      databaseUrl: server.databaseUrl,
      apiKey: server.key,
      clock,
      role: 'api',
    });
    try {
      // The other process has read (and remembers) that no maintenance disables the integration.
      const first = await other.call('POST', '/v2/alerts', { message: `before ${run}` }, api.key);
      assert.equal(first.status, 202);
      const { id } = (await create({ type: 'for-5-minutes' }, [api])).data;
      // The other process trusts what it read for 5 s of the clock (the key and its maintenances).
      clock.advance(5_000);
      const refused = await waitFor(
        'the other process to see the maintenance',
        async () => {
          const answer = await other.call('POST', '/v2/alerts', { message: `during ${run}` }, api.key);
          return answer.status === 401 ? answer : undefined;
        },
        10_000,
      );
      assert.match(refused.body.message, new RegExp(`maintenance ${id}`));
      await call('DELETE', `/v1/maintenance/${id}`);
      clock.advance(5_000);
      await waitFor(
        'the other process to see it gone',
        async () =>
          (await other.call('POST', '/v2/alerts', { message: `after ${run}` }, api.key)).status === 202,
        10_000,
      );
    } finally {
      await other.stop();
    }
  });
});
