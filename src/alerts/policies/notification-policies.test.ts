import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Settings } from 'luxon';
import pg from 'pg';
import type { AlertEvent } from '../events.js';
import type { AlertEventConsumer } from '../../engine/consumers.js';
import { ShiftedClock } from '../../work/clock.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { nextUntil } from './timing.js';

/**
 * Opsgenie's notification policies on the real server, with a clock the test moves: managed through
 * `/v2/policies` (a team's, refused without one, ordered apart from alert policies, what Vigil does not run
 * refused by name); an alert of the team matching an enabled policy is not paged (suppress), paged only
 * after the delay and not at all if acknowledged meanwhile (delayAction), or closed after the duration
 * (autoCloseAction). Another team's policy, or a disabled one, changes nothing.
 *
 * The set-up: team Ops (ops-user) and team Web (web-user), neither with routing rules, so every member of
 * the alert's team is paged at once by email.
 */

const MINUTE = 60_000;
let server: TestServer;
let db: pg.Client;
const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
let ops: string;
let web: string;
/** The teams' API integrations: a team's policies apply to its integration's alerts, whoever they page. */
let opsKey: string;
let webKey: string;

const call = (method: string, path: string, body?: unknown) => server.callOk(method, path, body);

const about = (token: string) => ({
  type: 'match-all-conditions',
  conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
});

async function notificationPolicy(teamId: string, body: Json): Promise<string> {
  const made = await call('POST', `/v2/policies?teamId=${teamId}`, { type: 'notification', ...body });
  assert.equal(made.data.type, 'notification');
  return made.data.id;
}

/** An alert for the team, with the bootstrap key (a global one) or `key` (an integration's). */
async function alert(message: string, teamId: string, key?: string): Promise<string> {
  const res = await server.callOk(
    'POST',
    '/v2/alerts',
    { message, responders: [{ type: 'team', id: teamId }] },
    key,
  );
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

/** The messages planned for the alert (to anyone, by any channel). */
async function messages(alertId: string): Promise<number> {
  const { rows } = await db.query('SELECT count(*)::int AS n FROM notifications WHERE alert_id = $1', [
    alertId,
  ]);
  return rows[0].n;
}

async function logs(alertId: string): Promise<string[]> {
  const { rows } = await db.query<{ log: string }>(
    'SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id',
    [alertId],
  );
  return rows.map((r) => r.log);
}

const paged = (alertId: string) =>
  waitFor('the alert to be paged', async () => (await messages(alertId)) > 0);

const received: AlertEvent[] = [];
const recorder: AlertEventConsumer = {
  name: 'test-recorder',
  label: 'A test consumer',
  types: ['closed'],
  handles: (event) => event.type === 'closed',
  async handle(event) {
    received.push(event);
  },
};

/** The engine's own hold events: emitted only for alerts a policy holds. */
const holdEvents: AlertEvent[] = [];
const holdRecorder: AlertEventConsumer = {
  name: 'test-hold-recorder',
  label: 'A test consumer',
  types: ['hold_occurrence', 'hold_released'],
  handles: (event) => event.type === 'hold_occurrence' || event.type === 'hold_released',
  async handle(event) {
    holdEvents.push(event);
  },
};

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100, consumers: [recorder, holdRecorder] });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  for (const name of ['ops', 'web']) {
    await call('POST', '/v2/users', {
      username: `${name}-${run}@example.com`,
      fullName: name,
      role: { name: 'User' },
    });
  }
  ops = (
    await call('POST', '/v2/teams', {
      name: `Ops ${run}`,
      members: [{ user: { username: `ops-${run}@example.com` }, role: 'user' }],
    })
  ).data.id;
  web = (
    await call('POST', '/v2/teams', {
      name: `Web ${run}`,
      members: [{ user: { username: `web-${run}@example.com` }, role: 'user' }],
    })
  ).data.id;
  const key = async (name: string, teamId: string) =>
    (await call('POST', '/v2/integrations', { type: 'API', name, ownerTeam: { id: teamId } })).data
      .apiKey as string;
  opsKey = await key(`Ops API ${run}`, ops);
  webKey = await key(`Web API ${run}`, web);
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('notification policies: managing them', () => {
  it('creates a team’s policy, reads it back in Opsgenie’s shape, lists, updates, reorders, disables and deletes it', async () => {
    const first = await notificationPolicy(ops, {
      name: `Quiet builds ${run}`,
      policyDescription: 'CI noise',
      filter: about('build'),
      suppress: true,
    });
    const second = await notificationPolicy(ops, {
      name: `Later ${run}`,
      filter: about('later-crud'),
      delayAction: { delayOption: 'for-duration', duration: { timeAmount: 2, timeUnit: 'hours' } },
      autoCloseAction: { duration: { timeAmount: 1, timeUnit: 'days' } },
    });
    const got = await call('GET', `/v2/policies/${second}?teamId=${ops}`);
    assert.deepEqual(
      got.data.filter.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
      [['message', 'contains', 'later-crud']],
    );
    assert.deepEqual(
      { ...got.data, filter: undefined },
      {
        id: second,
        type: 'notification',
        name: `Later ${run}`,
        policyDescription: '',
        teamId: ops,
        enabled: true,
        order: 1,
        filter: undefined,
        suppress: false,
        delayAction: { delayOption: 'for-duration', duration: { timeAmount: 2, timeUnit: 'hours' } },
        autoCloseAction: { duration: { timeAmount: 1, timeUnit: 'days' } },
      },
    );
    const { rows } = await db.query('SELECT type, team_id FROM alert_policies WHERE id = $1', [second]);
    assert.deepEqual(rows[0], { type: 'notification', team_id: ops });

    // Listed apart from the team's alert policies, each kind in its own order.
    const alertPolicy = (
      await call('POST', `/v2/policies?teamId=${ops}`, { type: 'alert', name: `Tagger ${run}`, tags: ['x'] })
    ).data.id;
    const listed = await call('GET', `/v2/policies/notification?teamId=${ops}`);
    assert.deepEqual(
      listed.data.map((p: Json) => [p.id, p.order]),
      [
        [first, 0],
        [second, 1],
      ],
    );
    const alertList = await call('GET', `/v2/policies/alert?teamId=${ops}`);
    assert.deepEqual(
      alertList.data.map((p: Json) => [p.id, p.order]),
      [[alertPolicy, 0]],
    );

    await call('POST', `/v2/policies/${second}/change-order?teamId=${ops}`, { targetIndex: 0 });
    const reordered = await call('GET', `/v2/policies/notification?teamId=${ops}`);
    assert.deepEqual(
      reordered.data.map((p: Json) => p.id),
      [second, first],
    );

    const updated = await call('PUT', `/v2/policies/${second}?teamId=${ops}`, {
      type: 'notification',
      name: `Later ${run}`,
      filter: about('later-crud'),
      suppress: true,
    });
    assert.equal(updated.data.suppress, true);
    assert.equal(updated.data.delayAction, undefined);
    assert.equal(updated.data.order, 0);

    await call('POST', `/v2/policies/${second}/disable?teamId=${ops}`);
    assert.equal((await call('GET', `/v2/policies/${second}?teamId=${ops}`)).data.enabled, false);
    await call('POST', `/v2/policies/${second}/enable?teamId=${ops}`);
    assert.equal((await call('GET', `/v2/policies/${second}?teamId=${ops}`)).data.enabled, true);

    // Names are unique per team and kind: an alert policy's name is free for a notification policy.
    const namesake = await notificationPolicy(ops, {
      name: `Tagger ${run}`,
      filter: about('never'),
      suppress: true,
    });
    const twice = await server.call('POST', `/v2/policies?teamId=${ops}`, {
      type: 'notification',
      name: `Tagger ${run}`,
      suppress: true,
    });
    assert.equal(twice.status, 409, JSON.stringify(twice.body));

    for (const id of [first, second, alertPolicy, namesake])
      await call('DELETE', `/v2/policies/${id}?teamId=${ops}`);
    assert.equal((await server.call('GET', `/v2/policies/${second}?teamId=${ops}`)).status, 404);
    const left = await db.query('SELECT count(*)::int AS n FROM alert_policies WHERE id = ANY($1)', [
      [first, second, alertPolicy, namesake],
    ]);
    assert.equal(left.rows[0].n, 0);
  });

  it('refuses what Vigil does not run, by name, and a notification policy without a team', async () => {
    const refused = async (path: string, body: Json, field: string) => {
      const answer = await server.call('POST', path, body);
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
      assert.ok(
        JSON.stringify(answer.body).includes(field),
        `${field} named in ${JSON.stringify(answer.body)}`,
      );
    };
    const base = { type: 'notification', name: `Refused ${run}`, suppress: true };
    const team = `/v2/policies?teamId=${ops}`;
    await refused('/v2/policies', base, 'teamId');
    // Absurd values of the actions Vigil runs: each refused, naming the field and what to give.
    const cases: [Json, string, RegExp][] = [
      [
        { autoRestartAction: { duration: { timeAmount: 5 }, maxRepeatCount: -1 } },
        'autoRestartAction.maxRepeatCount',
        /from 1 to 100/,
      ],
      [
        { autoRestartAction: { duration: { timeAmount: 5 }, maxRepeatCount: 1e12 } },
        'autoRestartAction.maxRepeatCount',
        /from 1 to 100/,
      ],
      [
        { autoRestartAction: { duration: { timeAmount: 400, timeUnit: 'days' }, maxRepeatCount: 2 } },
        'autoRestartAction.duration',
        /at most 366 days/,
      ],
      [{ autoRestartAction: { maxRepeatCount: 2 } }, 'autoRestartAction.duration', /required/],
      [
        { deduplicationAction: { deduplicationActionType: 'value-based', count: 0 } },
        'deduplicationAction.count',
        /from 2 to 100000/,
      ],
      [
        { deduplicationAction: { deduplicationActionType: 'value-based', count: 1e12 } },
        'deduplicationAction.count',
        /from 2 to 100000/,
      ],
      [
        { deduplicationAction: { deduplicationActionType: 'frequency-based', count: 3 } },
        'deduplicationAction.duration',
        /required with frequency-based/,
      ],
      [
        {
          deduplicationAction: {
            deduplicationActionType: 'value-based',
            count: 3,
            duration: { timeAmount: 5 },
          },
        },
        'deduplicationAction.duration',
        /frequency-based only/,
      ],
      [
        { delayAction: { delayOption: 'next-weekday', untilMinute: 0 } },
        'delayAction.untilHour',
        /required with next-weekday/,
      ],
      [{ delayAction: { delayOption: 'next-time', untilHour: 24, untilMinute: 0 } }, 'untilHour', /23/],
      [
        {
          timeRestrictions: {
            type: 'time-of-day',
            restriction: { startHour: 9, startMin: 75, endHour: 17, endMin: 0 },
          },
        },
        'timeRestrictions.restriction.startMin',
        /./,
      ],
    ];
    for (const [extra, field, message] of cases) {
      const answer = await server.call('POST', team, { ...base, ...extra });
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
      const text = JSON.stringify(answer.body);
      assert.ok(text.includes(field), `${field} named in ${text}`);
      assert.match(text, message);
    }
    await refused(team, { ...base, message: '{{message}} muted' }, 'message');
    await refused(team, { type: 'notification', name: `Refused ${run}` }, 'suppress');
    await refused(
      team,
      { ...base, autoCloseAction: { duration: { timeAmount: 400, timeUnit: 'days' } } },
      'autoCloseAction',
    );
    await refused(team, { type: 'alert', name: `Refused ${run}`, suppress: true }, 'suppress');
    // A NUL byte is no 500 (Vigil replaces it, as everywhere).
    const hostile = await server.call('POST', team, {
      ...base,
      name: `a\u0000b ${run}`,
      filter: about('never'),
    });
    assert.ok(hostile.status < 500, JSON.stringify(hostile.body));
    if (hostile.status === 201) await call('DELETE', `/v2/policies/${hostile.body.data.id}?teamId=${ops}`);
    const huge = await server.call('POST', team, {
      ...base,
      delayAction: { delayOption: 'for-duration', duration: { timeAmount: 1e300 } },
    });
    assert.equal(huge.status, 422, JSON.stringify(huge.body));
    assert.match(JSON.stringify(huge.body), /timeAmount/);
    assert.equal((await server.call('POST', '/v2/policies?teamId=not-a-team', base)).status, 404);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM alert_policies WHERE name = $1', [
      `Refused ${run}`,
    ]);
    assert.equal(rows[0].n, 0);

    // Its type cannot change.
    const id = await notificationPolicy(ops, {
      name: `Fixed type ${run}`,
      filter: about('never'),
      suppress: true,
    });
    const changed = await server.call('PUT', `/v2/policies/${id}?teamId=${ops}`, {
      type: 'alert',
      name: 'x',
    });
    assert.equal(changed.status, 422, JSON.stringify(changed.body));
    await call('DELETE', `/v2/policies/${id}?teamId=${ops}`);
  });
});

describe('notification policies: what they do', () => {
  it('suppress: a matching alert of the team pages nobody; another alert, another team’s, and a disabled policy page as usual', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Mute ${run}`,
      filter: about(`mute-${run}`),
      suppress: true,
    });
    const muted = await alert(`disk full mute-${run}`, ops);
    const plain = await alert(`disk full plain-${run}`, ops);
    const otherTeam = await alert(`disk full mute-${run} on web`, web);
    await paged(plain);
    await paged(otherTeam);
    await server.idle();
    assert.equal(await messages(muted), 0);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM alert_escalations WHERE alert_id = $1', [
      muted,
    ]);
    assert.equal(rows[0].n, 0, 'no escalation started');
    assert.ok(
      (await logs(muted)).some((l) => l.startsWith(`Notifications suppressed by policy 'Mute ${run}'`)),
      (await logs(muted)).join('\n'),
    );
    assert.ok(!(await logs(plain)).some((l) => l.includes('suppressed')));

    await call('POST', `/v2/policies/${policy}/disable?teamId=${ops}`);
    const whileDisabled = await alert(`disk full mute-${run} again`, ops);
    await paged(whileDisabled);
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('a maintenance that disables the policy keeps it from applying while active', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Maintained ${run}`,
      filter: about(`maintained-${run}`),
      suppress: true,
    });
    const made = await call('POST', '/v1/maintenance', {
      description: `notification policy ${run}`,
      time: { type: 'indefinitely' },
      rules: [{ state: 'disabled', entity: { id: policy, type: 'policy' } }],
    });
    const during = await alert(`backup late maintained-${run}`, ops);
    await paged(during);
    await call('DELETE', `/v1/maintenance/${made.data.id}`);
    const afterwards = await alert(`backup late maintained-${run} again`, ops);
    await server.idle();
    assert.equal(await messages(afterwards), 0);
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('delayAction: the team is paged only once the delay is over, and not at all if the alert is acknowledged meanwhile', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Wait ${run}`,
      filter: about(`wait-${run}`),
      delayAction: { delayOption: 'for-duration', duration: { timeAmount: 10, timeUnit: 'minutes' } },
    });
    const delayed = await alert(`latency wait-${run}`, ops);
    const acked = await alert(`latency wait-${run} acked`, ops);
    await server.idle();
    assert.equal(await messages(delayed), 0);
    assert.equal(await messages(acked), 0);
    assert.ok(
      (await logs(delayed)).some((l) => /^Notifications delayed until \S+ by policy 'Wait /.test(l)),
      (await logs(delayed)).join('\n'),
    );
    await call('POST', `/v2/alerts/${acked}/acknowledge`, { user: `ops-${run}@example.com` });
    await waitFor('the acknowledgement', async () => (await logs(acked)).some((l) => l.includes('paused')));

    clock.advance(9 * MINUTE);
    await server.idle();
    assert.equal(await messages(delayed), 0, 'not before the delay is over');

    clock.advance(2 * MINUTE);
    await paged(delayed);
    await server.idle();
    assert.equal(await messages(acked), 0, 'acknowledged during the delay: nobody paged');
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('autoCloseAction: the alert is closed once the duration is over if still open, as any close', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Expire ${run}`,
      filter: about(`expire-${run}`),
      autoCloseAction: { duration: { timeAmount: 30, timeUnit: 'minutes' } },
    });
    const expiring = await alert(`cert renewal expire-${run}`, ops);
    const closedEarly = await alert(`cert renewal expire-${run} early`, ops);
    await paged(expiring);
    await server.idle();
    const status = async (id: string) =>
      (await db.query('SELECT status FROM alerts WHERE id = $1', [id])).rows[0].status;
    assert.equal(await status(expiring), 'open');
    await call('POST', `/v2/alerts/${closedEarly}/close`, { user: `ops-${run}@example.com` });
    await waitFor('the early close', async () => (await status(closedEarly)) === 'closed');

    clock.advance(29 * MINUTE);
    await server.idle();
    assert.equal(await status(expiring), 'open', 'not before its time');

    clock.advance(2 * MINUTE);
    await waitFor('the auto-close', async () => (await status(expiring)) === 'closed');
    await server.idle();
    const lines = await logs(expiring);
    assert.ok(
      lines.some((l) => l.includes(`Closed by policy 'Expire ${run}'`)),
      lines.join('\n'),
    );
    // Its closed event went out to the consumers, as any close's does.
    const event = await waitFor('the closed event', async () =>
      received.find((e) => e.alertId === expiring && e.type === 'closed'),
    );
    assert.equal(event.actor.kind, 'system');
    const events = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM alert_logs WHERE alert_id = $1 AND log LIKE '%Closed by policy%'`,
      [closedEarly],
    );
    assert.equal(events.rows[0]?.n, 0, 'an alert closed before its time is left alone');
    const left = await db.query('SELECT count(*)::int AS n FROM alert_auto_closes WHERE alert_id = ANY($1)', [
      [expiring, closedEarly],
    ]);
    assert.equal(left.rows[0].n, 0, 'nothing left to close');
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('autoCloseAction of a team added later: the close still counts from the alert’s creation', async () => {
    const policy = await notificationPolicy(web, {
      name: `Expire later ${run}`,
      filter: about(`later-${run}`),
      autoCloseAction: { duration: { timeAmount: 30, timeUnit: 'minutes' } },
    });
    const status = async (id: string) =>
      (await db.query('SELECT status FROM alerts WHERE id = $1', [id])).rows[0].status;
    // Through Web's integration, for Ops: Web's policies apply once Web is a responder.
    const made = await alert(`queue stuck later-${run}`, ops, webKey);
    await paged(made);
    // Some time passes before the team is added (real time: the test's clock cannot say when, on its
    // own scale, a row stamped by the database was made once it has jumped since).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await call('POST', `/v2/alerts/${made}/responders`, { responder: { type: 'team', id: web } });
    const scheduled = await waitFor('the close to be scheduled', async () => {
      const { rows } = await db.query<{ close_at: Date; created_at: Date }>(
        `SELECT c.close_at, a.created_at FROM alert_auto_closes c JOIN alerts a ON a.id = c.alert_id
          WHERE a.id = $1`,
        [made],
      );
      return rows[0];
    });
    assert.equal(
      scheduled.close_at.getTime(),
      clock.fromSystemTime(scheduled.created_at).getTime() + 30 * MINUTE,
      'thirty minutes after the alert was created, not after the team was added',
    );
    clock.advance(31 * MINUTE);
    await waitFor('the auto-close', async () => (await status(made)) === 'closed');
    await call('DELETE', `/v2/policies/${policy}?teamId=${web}`);
  });
});

describe('notification policies: the rest of Opsgenie’s options', () => {
  /** Creates (or, with an alias already open, de-duplicates) an alert; its id once the request is done. */
  async function alertWith(body: Json, key?: string): Promise<string> {
    const res = await server.callOk('POST', '/v2/alerts', body, key);
    return waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
  }

  const holds = async (alertId: string) =>
    (await db.query('SELECT count(*)::int AS n FROM alert_notification_holds WHERE alert_id = $1', [alertId]))
      .rows[0].n;

  it('reads back every option as written (what Terraform compares)', async () => {
    const body = {
      name: `Everything ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [{ field: 'teams', operation: 'contains', expectedValue: `Ops ${run}` }],
      },
      timeRestrictions: {
        type: 'weekday-and-time-of-day',
        restrictions: [
          { startDay: 'monday', startHour: 8, startMin: 0, endDay: 'friday', endHour: 18, endMin: 30 },
        ],
      },
      timezone: 'Europe/Berlin',
      delayAction: { delayOption: 'next-weekday', untilHour: 9, untilMinute: 15 },
      deduplicationAction: {
        deduplicationActionType: 'frequency-based',
        count: 5,
        duration: { timeAmount: 2, timeUnit: 'hours' },
      },
      autoRestartAction: { duration: { timeAmount: 20, timeUnit: 'minutes' }, maxRepeatCount: 3 },
    };
    const id = await notificationPolicy(ops, body);
    const got = (await call('GET', `/v2/policies/${id}?teamId=${ops}`)).data;
    assert.deepEqual(
      {
        timeRestrictions: got.timeRestrictions,
        timezone: got.timezone,
        delayAction: got.delayAction,
        deduplicationAction: got.deduplicationAction,
        autoRestartAction: got.autoRestartAction,
        conditions: got.filter.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
      },
      {
        timeRestrictions: body.timeRestrictions,
        timezone: body.timezone,
        delayAction: body.delayAction,
        deduplicationAction: body.deduplicationAction,
        autoRestartAction: body.autoRestartAction,
        conditions: [['teams', 'contains', `Ops ${run}`]],
      },
    );
    await call('DELETE', `/v2/policies/${id}?teamId=${ops}`);
  });

  it("keeps a delay's time zone through GET then PUT when the policy has no time restriction", async () => {
    const id = await notificationPolicy(ops, {
      name: `Mornings in Berlin ${run}`,
      filter: about(`berlin-${run}`),
      timezone: 'Europe/Berlin',
      delayAction: { delayOption: 'next-weekday', untilHour: 9, untilMinute: 15 },
    });
    const read = (await call('GET', `/v2/policies/${id}?teamId=${ops}`)).data;
    assert.equal(read.timezone, 'Europe/Berlin');
    assert.equal(read.timeRestrictions, undefined);
    // What a client that edits by reading and writing back (the console, Terraform) sends.
    const { id: _id, type: _type, ...rest } = read;
    await call('PUT', `/v2/policies/${id}?teamId=${ops}`, {
      ...rest,
      type: 'notification',
      name: `Renamed ${run}`,
    });
    const after = (await call('GET', `/v2/policies/${id}?teamId=${ops}`)).data;
    assert.equal(after.name, `Renamed ${run}`);
    assert.equal(after.timezone, 'Europe/Berlin');
    assert.deepEqual(after.delayAction, read.delayAction);
    await call('DELETE', `/v2/policies/${id}?teamId=${ops}`);
  });

  it('timeRestrictions: a policy applies only to alerts created inside them', async () => {
    const hour = clock.now().getUTCHours();
    const restriction = (from: number, to: number) => ({
      type: 'time-of-day',
      restriction: { startHour: (hour + from + 24) % 24, startMin: 0, endHour: (hour + to) % 24, endMin: 0 },
    });
    const inside = await notificationPolicy(ops, {
      name: `Mute now ${run}`,
      filter: about(`restricted-now-${run}`),
      timeRestrictions: restriction(-1, 1),
      suppress: true,
    });
    const outside = await notificationPolicy(ops, {
      name: `Mute later ${run}`,
      filter: about(`restricted-later-${run}`),
      timeRestrictions: restriction(3, 5),
      suppress: true,
    });
    const muted = await alertWith({
      message: `restricted-now-${run}`,
      responders: [{ type: 'team', id: ops }],
    });
    const notMuted = await alertWith({
      message: `restricted-later-${run}`,
      responders: [{ type: 'team', id: ops }],
    });
    await paged(notMuted);
    await server.idle();
    assert.equal(await messages(muted), 0);
    assert.ok((await logs(muted)).some((l) => l.startsWith(`Notifications suppressed by policy 'Mute now`)));
    assert.ok(!(await logs(notMuted)).some((l) => l.includes('suppressed')));
    for (const id of [inside, outside]) await call('DELETE', `/v2/policies/${id}?teamId=${ops}`);
  });

  it('delayAction next-time: the team is paged at the next untilHour:untilMinute, not before', async () => {
    // Two hours ahead on the engine's clock, to the minute (UTC: the policy's zone when left out).
    const target = new Date(clock.now().getTime() + 120 * MINUTE);
    const until = new Date(target);
    until.setUTCSeconds(0, 0);
    const policy = await notificationPolicy(ops, {
      name: `Morning ${run}`,
      filter: about(`morning-${run}`),
      delayAction: {
        delayOption: 'next-time',
        untilHour: target.getUTCHours(),
        untilMinute: target.getUTCMinutes(),
      },
    });
    const delayed = await alertWith({ message: `morning-${run}`, responders: [{ type: 'team', id: ops }] });
    await waitFor('the escalation', async () => {
      const { rows } = await db.query('SELECT base_at FROM alert_escalations WHERE alert_id = $1', [delayed]);
      return rows[0];
    });
    const { rows } = await db.query<{ base_at: Date }>(
      'SELECT base_at FROM alert_escalations WHERE alert_id = $1',
      [delayed],
    );
    assert.equal(rows[0]?.base_at.getTime(), until.getTime(), 'starts at that time of day');
    clock.advance(until.getTime() - clock.now().getTime() - 2 * MINUTE);
    await server.idle();
    assert.equal(await messages(delayed), 0, 'not before that time');
    clock.advance(3 * MINUTE);
    await paged(delayed);
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('deduplicationAction value-based: the team is paged only once the alert occurred count times', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Third time ${run}`,
      filter: about(`thrice-${run}`),
      deduplicationAction: { deduplicationActionType: 'value-based', count: 3 },
    });
    const body = {
      message: `thrice-${run}`,
      alias: `thrice-${run}`,
      responders: [{ type: 'team', id: ops }],
    };
    const id = await alertWith(body);
    await server.idle();
    assert.equal(await messages(id), 0);
    assert.equal(await holds(id), 1);
    assert.ok(
      (await logs(id)).some((l) => l.startsWith('Notifications held until the alert occurs 3 times')),
      (await logs(id)).join('\n'),
    );
    assert.equal(await alertWith(body), id);
    await server.idle();
    assert.equal(await messages(id), 0, 'twice is not enough');
    assert.equal(await alertWith(body), id);
    await paged(id);
    assert.equal(await holds(id), 0);
    // Later occurrences start nothing more: the team's escalation runs once.
    assert.equal(await alertWith(body), id);
    await server.idle();
    const runs = await db.query('SELECT count(*)::int AS n FROM alert_escalations WHERE alert_id = $1', [id]);
    assert.equal(runs.rows[0].n, 1);
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('deduplicationAction frequency-based: only count occurrences within the duration page the team', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Flapping ${run}`,
      filter: about(`flap-${run}`),
      deduplicationAction: {
        deduplicationActionType: 'frequency-based',
        count: 2,
        duration: { timeAmount: 10, timeUnit: 'minutes' },
      },
    });
    const body = { message: `flap-${run}`, alias: `flap-${run}`, responders: [{ type: 'team', id: ops }] };
    const id = await alertWith(body);
    await server.idle();
    clock.advance(11 * MINUTE);
    assert.equal(await alertWith(body), id);
    await server.idle();
    assert.equal(await messages(id), 0, 'two occurrences eleven minutes apart are not two within ten');
    clock.advance(MINUTE);
    assert.equal(await alertWith(body), id);
    await paged(id);
    assert.equal(await holds(id), 0);
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('deduplicationAction: deleting, disabling or editing away the policy lets the alerts it holds go at once', async () => {
    const held = async (token: string) => {
      const policy = await notificationPolicy(ops, {
        name: `Hold ${token} ${run}`,
        filter: about(`${token}-${run}`),
        deduplicationAction: { deduplicationActionType: 'value-based', count: 3 },
      });
      const id = await alertWith({
        message: `${token}-${run}`,
        alias: `${token}-${run}`,
        responders: [{ type: 'team', id: ops }],
      });
      await waitFor('the hold', async () => (await holds(id)) === 1);
      return { policy, id };
    };
    const deleted = await held('hold-deleted');
    const disabled = await held('hold-disabled');
    const edited = await held('hold-edited');
    const kept = await held('hold-kept');
    await server.idle();
    for (const { id } of [deleted, disabled, edited, kept]) assert.equal(await messages(id), 0);

    await call('DELETE', `/v2/policies/${deleted.policy}?teamId=${ops}`);
    await call('POST', `/v2/policies/${disabled.policy}/disable?teamId=${ops}`);
    const read = (await call('GET', `/v2/policies/${edited.policy}?teamId=${ops}`)).data;
    const { id: _id, type: _type, deduplicationAction: _dedupe, ...rest } = read;
    await call('PUT', `/v2/policies/${edited.policy}?teamId=${ops}`, {
      ...rest,
      type: 'notification',
      autoCloseAction: { duration: { timeAmount: 1, timeUnit: 'days' } },
    });
    // No further occurrence: the change alone pages the team.
    for (const { id } of [deleted, disabled, edited]) {
      await paged(id);
      assert.equal(await holds(id), 0);
      assert.ok(
        (await logs(id)).some((l) =>
          l.includes('go out: the policy is deleted, disabled or no longer de-duplicates'),
        ),
        (await logs(id)).join('\n'),
      );
    }
    await server.idle();
    assert.equal(await messages(kept.id), 0, 'another policy’s hold stays');
    assert.equal(await holds(kept.id), 1);
    for (const { policy } of [disabled, edited, kept])
      await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('deduplicationAction: a disabled policy lets its alerts go at the engine clock’s time, not the wall clock’s', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Hold clock ${run}`,
      filter: about(`hold-clock-${run}`),
      deduplicationAction: { deduplicationActionType: 'value-based', count: 3 },
    });
    const id = await alertWith({
      message: `hold-clock-${run}`,
      alias: `hold-clock-${run}`,
      responders: [{ type: 'team', id: ops }],
    });
    await waitFor('the hold', async () => (await holds(id)) === 1);
    // Stopped, the engine's clock stays at `heldAt` while the wall clock moves on through the request.
    const release = clock.hold();
    try {
      const heldAt = clock.now();
      await call('POST', `/v2/policies/${policy}/disable?teamId=${ops}`);
      const event = await waitFor('the release', async () =>
        holdEvents.find((e) => e.type === 'hold_released' && e.alertId === id),
      );
      assert.equal(clock.fromSystemTime(new Date(event.at)).toISOString(), heldAt.toISOString());
      await paged(id);
      const { rows } = await db.query<{ base_at: Date }>(
        'SELECT base_at FROM alert_escalations WHERE alert_id = $1',
        [id],
      );
      assert.deepEqual(
        rows.map((r) => r.base_at.toISOString()),
        [heldAt.toISOString()],
        'the released escalation counts its steps from the clock’s instant',
      );
    } finally {
      release();
    }
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('deduplicationAction: a hold whose policy is gone counts as met at the next occurrence', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Gone ${run}`,
      filter: about(`gone-${run}`),
      deduplicationAction: { deduplicationActionType: 'value-based', count: 3 },
    });
    const body = { message: `gone-${run}`, alias: `gone-${run}`, responders: [{ type: 'team', id: ops }] };
    const id = await alertWith(body);
    await waitFor('the hold', async () => (await holds(id)) === 1);
    // Gone by a way the policy service does not see (as a team's deletion takes its policies).
    await db.query('DELETE FROM alert_policies WHERE id = $1', [policy]);
    assert.equal(await alertWith(body), id);
    await paged(id);
    assert.equal(await holds(id), 0);
  });

  it('a de-duplicated create tells the engine only about alerts a policy holds', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Counted ${run}`,
      filter: about(`counted-${run}`),
      deduplicationAction: { deduplicationActionType: 'value-based', count: 5 },
    });
    const free = { message: `free-${run}`, alias: `free-${run}`, responders: [{ type: 'team', id: ops }] };
    const counted = {
      message: `counted-${run}`,
      alias: `counted-${run}`,
      responders: [{ type: 'team', id: ops }],
    };
    const freeId = await alertWith(free);
    const countedId = await alertWith(counted);
    await waitFor('the hold', async () => (await holds(countedId)) === 1);
    await paged(freeId);
    const flag = async (id: string) =>
      (await db.query('SELECT notification_held FROM alerts WHERE id = $1', [id])).rows[0].notification_held;
    assert.equal(await flag(freeId), false);
    assert.equal(await flag(countedId), true);
    for (let i = 0; i < 2; i++) {
      assert.equal(await alertWith(free), freeId);
      assert.equal(await alertWith(counted), countedId);
    }
    await server.idle();
    const occurrences = (id: string) =>
      holdEvents
        .filter((e) => e.alertId === id && e.type === 'hold_occurrence')
        .map((e) => e.type === 'hold_occurrence' && e.count);
    assert.deepEqual(occurrences(freeId), [], 'an alert nobody holds costs the engine nothing');
    assert.deepEqual(occurrences(countedId), [2, 3]);
    const counts = await db.query('SELECT count FROM alerts WHERE id = $1', [countedId]);
    assert.equal(counts.rows[0].count, 3);
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
    await paged(countedId);
    assert.equal(await flag(countedId), false, 'no hold left: its occurrences are no longer counted');
  });

  it('deduplicationAction of a team added later counts the occurrences before it', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Added later ${run}`,
      filter: about(`added-later-${run}`),
      deduplicationAction: {
        deduplicationActionType: 'frequency-based',
        count: 3,
        duration: { timeAmount: 10, timeUnit: 'minutes' },
      },
    });
    const body = {
      message: `added-later-${run}`,
      alias: `added-later-${run}`,
      responders: [{ type: 'team', id: web }],
    };
    // Through Ops's integration, for Web: Ops's policies apply once Ops is a responder.
    const id = await alertWith(body, opsKey);
    clock.advance(MINUTE);
    assert.equal(await alertWith(body, opsKey), id);
    clock.advance(MINUTE);
    assert.equal(await alertWith(body, opsKey), id);
    await server.idle();
    await call('POST', `/v2/alerts/${id}/responders`, { responder: { type: 'team', id: ops } });
    await waitFor('the team’s escalation', async () => {
      const { rows } = await db.query('SELECT 1 FROM alert_escalations WHERE alert_id = $1 AND source = $2', [
        id,
        `team:${ops}`,
      ]);
      return rows.length > 0;
    });
    assert.equal(await holds(id), 0, 'three occurrences within ten minutes already: nothing to hold');
    // The policy does apply to such an alert: one that occurred once when Ops is added is held.
    const once = await alertWith({ ...body, alias: `added-later-once-${run}` }, opsKey);
    await server.idle();
    await call('POST', `/v2/alerts/${once}/responders`, { responder: { type: 'team', id: ops } });
    await server.idle();
    assert.equal(await holds(once), 1, 'one occurrence: held until three');
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('frequency-based deduplicationAction counts at most 1000; value-based up to 100000', async () => {
    const res = await server.call('POST', `/v2/policies?teamId=${ops}`, {
      type: 'notification',
      name: `Too many ${run}`,
      filter: about(`too-many-${run}`),
      deduplicationAction: {
        deduplicationActionType: 'frequency-based',
        count: 1001,
        duration: { timeAmount: 1, timeUnit: 'hours' },
      },
    });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body), /deduplicationAction\.count.*2 to 1000 with frequency-based/);
    const none = await db.query('SELECT 1 FROM alert_policies WHERE name = $1', [`Too many ${run}`]);
    assert.equal(none.rows.length, 0);
    const atMost = await notificationPolicy(ops, {
      name: `Thousand ${run}`,
      filter: about(`thousand-${run}`),
      deduplicationAction: {
        deduplicationActionType: 'frequency-based',
        count: 1000,
        duration: { timeAmount: 1, timeUnit: 'hours' },
      },
    });
    const valueBased = await notificationPolicy(ops, {
      name: `Many ${run}`,
      filter: about(`many-${run}`),
      deduplicationAction: { deduplicationActionType: 'value-based', count: 50_000 },
    });
    for (const id of [atMost, valueBased]) await call('DELETE', `/v2/policies/${id}?teamId=${ops}`);
  });

  it('autoRestartAction: a policy deleted, disabled or without the action restarts nothing more', async () => {
    const nagging = async (token: string) => {
      const policy = await notificationPolicy(ops, {
        name: `Nag ${token} ${run}`,
        filter: about(`${token}-${run}`),
        autoRestartAction: { duration: { timeAmount: 10, timeUnit: 'minutes' }, maxRepeatCount: 2 },
      });
      const id = await alertWith({ message: `${token}-${run}`, responders: [{ type: 'team', id: ops }] });
      await paged(id);
      return { policy, id };
    };
    const restarts = async (id: string) =>
      (await db.query('SELECT count(*)::int AS n FROM alert_auto_restarts WHERE alert_id = $1', [id])).rows[0]
        .n;
    const deleted = await nagging('nag-deleted');
    const disabled = await nagging('nag-disabled');
    const edited = await nagging('nag-edited');
    const quietly = await nagging('nag-quietly');
    await server.idle();
    for (const { id } of [deleted, disabled, edited, quietly]) assert.equal(await restarts(id), 1);
    const before = new Map<string, number>();
    for (const { id } of [deleted, disabled, edited, quietly]) before.set(id, await messages(id));

    await call('DELETE', `/v2/policies/${deleted.policy}?teamId=${ops}`);
    await call('POST', `/v2/policies/${disabled.policy}/disable?teamId=${ops}`);
    const read = (await call('GET', `/v2/policies/${edited.policy}?teamId=${ops}`)).data;
    const { id: _id, type: _type, autoRestartAction: _restart, ...rest } = read;
    await call('PUT', `/v2/policies/${edited.policy}?teamId=${ops}`, {
      ...rest,
      type: 'notification',
      autoCloseAction: { duration: { timeAmount: 1, timeUnit: 'days' } },
    });
    for (const { id } of [deleted, disabled, edited]) assert.equal(await restarts(id), 0, 'dropped at once');
    // Disabled by a way the policy service does not see: the restart queue finds it.
    await db.query('UPDATE alert_policies SET enabled = false WHERE id = $1', [quietly.policy]);

    clock.advance(11 * MINUTE);
    await server.idle();
    for (const { id } of [deleted, disabled, edited, quietly]) {
      assert.equal(await messages(id), before.get(id), 'not paged again');
      assert.ok(!(await logs(id)).some((l) => l.includes('starts again from its first rule')));
      assert.equal(await restarts(id), 0);
    }
    for (const { policy } of [disabled, edited, quietly])
      await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('autoRestartAction: an alert still unacknowledged pages again after each duration, maxRepeatCount times', async () => {
    const policy = await notificationPolicy(ops, {
      name: `Nag ${run}`,
      filter: about(`nag-${run}`),
      autoRestartAction: { duration: { timeAmount: 10, timeUnit: 'minutes' }, maxRepeatCount: 2 },
    });
    const nagged = await alertWith({ message: `nag-${run}`, responders: [{ type: 'team', id: ops }] });
    const acked = await alertWith({ message: `nag-${run} acked`, responders: [{ type: 'team', id: ops }] });
    await paged(nagged);
    await paged(acked);
    await server.idle();
    const first = await messages(nagged);
    await call('POST', `/v2/alerts/${acked}/acknowledge`, { user: `ops-${run}@example.com` });
    await waitFor(
      'the acknowledgement',
      async () =>
        (await db.query('SELECT acknowledged FROM alerts WHERE id = $1', [acked])).rows[0].acknowledged,
    );
    await server.idle();
    const ackedMessages = await messages(acked);

    clock.advance(9 * MINUTE);
    await server.idle();
    assert.equal(await messages(nagged), first, 'not before the duration');
    const restarted = async (id: string) =>
      (await logs(id)).filter((l) => l.includes(`starts again from its first rule, by policy 'Nag ${run}'`))
        .length;
    for (const round of [1, 2]) {
      clock.advance(2 * MINUTE);
      await waitFor(`restart ${round}`, async () => (await restarted(nagged)) === round);
      await waitFor(`page ${round}`, async () => (await messages(nagged)) >= first * (round + 1));
      clock.advance(8 * MINUTE);
    }
    clock.advance(5 * MINUTE);
    await server.idle();
    assert.equal(await restarted(nagged), 2, 'at most maxRepeatCount restarts');
    assert.equal(await restarted(acked), 0, 'an acknowledged alert is not restarted');
    assert.equal(await messages(acked), ackedMessages);
    const left = await db.query(
      'SELECT count(*)::int AS n FROM alert_auto_restarts WHERE alert_id = ANY($1)',
      [[nagged, acked]],
    );
    assert.equal(left.rows[0].n, 0, 'nothing left to restart');
    await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  /** A maintenance disabling the policies, from `startsIn` on the test's clock (0: open at once) for `lasts`. */
  async function maintenanceOn(policies: string[], startsIn: number, lasts: number): Promise<string> {
    const start = clock.now().getTime() + startsIn;
    const time =
      startsIn === 0
        ? { type: 'indefinitely' }
        : {
            type: 'schedule',
            startDate: new Date(start).toISOString(),
            endDate: new Date(start + lasts).toISOString(),
          };
    const made = await call('POST', '/v1/maintenance', {
      description: `policies ${run}`,
      time,
      rules: policies.map((id) => ({ state: 'disabled', entity: { id, type: 'policy' } })),
    });
    return made.data.id;
  }

  it('deduplicationAction: a maintenance that disables the policy lets its held alerts go when it opens, at once or at its start; one on another policy does not', async () => {
    const held = async (token: string) => {
      const policy = await notificationPolicy(ops, {
        name: `Hold ${token} ${run}`,
        filter: about(`${token}-${run}`),
        deduplicationAction: { deduplicationActionType: 'value-based', count: 3 },
      });
      const id = await alertWith({
        message: `${token}-${run}`,
        alias: `${token}-${run}`,
        responders: [{ type: 'team', id: ops }],
      });
      await waitFor('the hold', async () => (await holds(id)) === 1);
      return { policy, id };
    };
    const openNow = await held('maint-now');
    const later = await held('maint-later');
    const kept = await held('maint-kept');
    const timed = await held('maint-timed');
    const bystander = await notificationPolicy(ops, {
      name: `Bystander ${run}`,
      filter: about(`bystander-${run}`),
      suppress: true,
    });
    await server.idle();
    for (const { id } of [openNow, later, kept, timed]) assert.equal(await messages(id), 0);

    const releasedLog = (id: string, token: string) =>
      waitFor('the release logged', async () =>
        (await logs(id)).includes(
          `Notifications held by policy 'Hold ${token} ${run}' go out: a maintenance disables the policy`,
        ),
      );
    const maintenances = [await maintenanceOn([openNow.policy], 0, 0)];
    // No further occurrence, no change to the policy: the maintenance alone pages the team.
    await paged(openNow.id);
    assert.equal(await holds(openNow.id), 0);
    await releasedLog(openNow.id, 'maint-now');

    maintenances.push(await maintenanceOn([later.policy], 30 * MINUTE, 60 * MINUTE));
    maintenances.push(await maintenanceOn([bystander], 0, 0));
    clock.advance(29 * MINUTE);
    await server.idle();
    assert.equal(await messages(later.id), 0, 'held until the maintenance starts');
    assert.equal(await holds(later.id), 1);
    clock.advance(2 * MINUTE);
    await paged(later.id);
    assert.equal(await holds(later.id), 0);
    await releasedLog(later.id, 'maint-later');

    // Time left to flow on its own (no jump of the clock wakes the queues): the queue's own due time does.
    maintenances.push(await maintenanceOn([timed.policy], 1500, MINUTE));
    await paged(timed.id);
    await releasedLog(timed.id, 'maint-timed');

    await server.idle();
    assert.equal(await messages(kept.id), 0, 'a maintenance on another policy lets nothing go');
    assert.equal(await holds(kept.id), 1);
    for (const id of maintenances) await call('DELETE', `/v1/maintenance/${id}`);
    for (const policy of [openNow.policy, later.policy, kept.policy, timed.policy, bystander])
      await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('autoRestartAction: no restart while a maintenance disables the policy, and, as when it is disabled, none after', async () => {
    const nagging = async (token: string) => {
      const policy = await notificationPolicy(ops, {
        name: `Nag ${token} ${run}`,
        filter: about(`${token}-${run}`),
        autoRestartAction: { duration: { timeAmount: 10, timeUnit: 'minutes' }, maxRepeatCount: 3 },
      });
      const id = await alertWith({ message: `${token}-${run}`, responders: [{ type: 'team', id: ops }] });
      await paged(id);
      return { policy, id };
    };
    const restarted = async (id: string) =>
      (await logs(id)).filter((l) => l.includes('starts again from its first rule')).length;
    const maintained = await nagging('nag-maintained');
    const free = await nagging('nag-free');
    await server.idle();
    const before = await messages(maintained.id);
    const maintenance = await maintenanceOn([maintained.policy], 5 * MINUTE, 30 * MINUTE);

    clock.advance(11 * MINUTE);
    // The other policy's restart is made: the clock did bring a restart due.
    await waitFor('the other policy’s restart', async () => (await restarted(free.id)) === 1);
    await server.idle();
    assert.equal(await restarted(maintained.id), 0, 'not restarted during the maintenance');
    assert.equal(await messages(maintained.id), before);
    const left = async (id: string) =>
      (await db.query('SELECT count(*)::int AS n FROM alert_auto_restarts WHERE alert_id = $1', [id])).rows[0]
        .n;
    assert.equal(await left(maintained.id), 0, 'its chain ended, as a disabled policy’s does');
    assert.equal(await left(free.id), 1);

    // Past the maintenance's end: the policy works again for new alerts, but the chain it ended stays ended.
    clock.advance(30 * MINUTE);
    await server.idle();
    assert.equal(await restarted(maintained.id), 0, 'no restart after the maintenance either');
    assert.equal(await messages(maintained.id), before);
    await call('DELETE', `/v1/maintenance/${maintenance}`);
    for (const { policy } of [maintained, free]) await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  });

  it('autoCloseAction: a policy deleted, disabled, without the action or disabled by a maintenance closes nothing; another team’s close still stands', async () => {
    const closing = (token: string, teamId: string, minutes: number, name = token) =>
      notificationPolicy(teamId, {
        name: `Close ${name} ${run}`,
        filter: about(`${token}-${run}`),
        autoCloseAction: { duration: { timeAmount: minutes, timeUnit: 'minutes' } },
      });
    const closed = async (token: string) => {
      const policy = await closing(token, ops, 30);
      const id = await alertWith({ message: `${token}-${run}`, responders: [{ type: 'team', id: ops }] });
      return { policy, id };
    };
    const closes = async (id: string) =>
      (await db.query('SELECT count(*)::int AS n FROM alert_auto_closes WHERE alert_id = $1', [id])).rows[0]
        .n;
    const status = async (id: string) =>
      (await db.query('SELECT status FROM alerts WHERE id = $1', [id])).rows[0].status;

    const deleted = await closed('close-deleted');
    const disabled = await closed('close-disabled');
    const edited = await closed('close-edited');
    const quietly = await closed('close-quietly');
    const maintainedNow = await closed('close-maint-now');
    const maintainedSoon = await closed('close-maint-soon');
    const kept = await closed('close-kept');
    // Two teams' policies on one alert: Ops closes it at 30 minutes, Web at 40.
    const opsBoth = await closing('close-both', ops, 30);
    const webBoth = await closing('close-both', web, 40, 'close-both-web');
    // The alert of an incident both teams respond to: both teams' policies apply to it.
    const incident = await call('POST', '/v1/incidents/create', {
      message: `close-both-${run}`,
      responders: [
        { type: 'team', id: ops },
        { type: 'team', id: web },
      ],
    });
    const incidentId = await waitFor('the incident', async () => {
      const status = await server.call('GET', `/v1/incidents/requests/${incident.requestId}`);
      return status.body.data?.incidentId as string | undefined;
    });
    const [both = ''] = (await call('GET', `/v1/incidents/${incidentId}/associated-alert-ids`))
      .data as string[];
    // A close scheduled before closes recorded their policy: it still closes the alert.
    const legacy = await alertWith({
      message: `close-legacy-${run}`,
      responders: [{ type: 'team', id: ops }],
    });
    await db.query(
      `INSERT INTO alert_auto_closes (alert_id, org_id, close_at, policy_name)
        SELECT id, org_id, $2, 'Legacy' FROM alerts WHERE id = $1`,
      [legacy, new Date(clock.now().getTime() + 30 * MINUTE)],
    );
    for (const { id } of [deleted, disabled, edited, quietly, maintainedNow, maintainedSoon, kept])
      await waitFor('the close to be scheduled', async () => (await closes(id)) === 1);
    await waitFor('both teams’ closes', async () => (await closes(both)) === 2);

    await call('DELETE', `/v2/policies/${deleted.policy}?teamId=${ops}`);
    await call('POST', `/v2/policies/${disabled.policy}/disable?teamId=${ops}`);
    const read = (await call('GET', `/v2/policies/${edited.policy}?teamId=${ops}`)).data;
    const { id: _id, type: _type, autoCloseAction: _close, ...rest } = read;
    await call('PUT', `/v2/policies/${edited.policy}?teamId=${ops}`, {
      ...rest,
      type: 'notification',
      deduplicationAction: { deduplicationActionType: 'value-based', count: 2 },
    });
    await call('DELETE', `/v2/policies/${opsBoth}?teamId=${ops}`);
    for (const { id } of [deleted, disabled, edited]) assert.equal(await closes(id), 0, 'dropped at once');
    assert.equal(await closes(both), 1, 'the other team’s close stays');
    // Disabled by a way the policy service does not see: the close queue finds it.
    await db.query('UPDATE alert_policies SET enabled = false WHERE id = $1', [quietly.policy]);
    const maintenances = [await maintenanceOn([maintainedNow.policy], 0, 0)];
    await waitFor('the maintenance to drop the close', async () => (await closes(maintainedNow.id)) === 0);
    // Over before the close falls due: dropped at its opening all the same, as a disabled policy's close.
    maintenances.push(await maintenanceOn([maintainedSoon.policy], 5 * MINUTE, 10 * MINUTE));
    clock.advance(6 * MINUTE);
    await waitFor('the maintenance to drop the close', async () => (await closes(maintainedSoon.id)) === 0);

    clock.advance(25 * MINUTE);
    await waitFor('the kept policy’s close', async () => (await status(kept.id)) === 'closed');
    await waitFor('the close without a policy', async () => (await status(legacy)) === 'closed');
    await server.idle();
    for (const { id } of [deleted, disabled, edited, quietly, maintainedNow, maintainedSoon]) {
      assert.equal(await status(id), 'open', 'not closed');
      assert.ok(!(await logs(id)).some((l) => l.includes('Closed by policy')));
      assert.equal(await closes(id), 0);
    }
    assert.equal(await status(both), 'open', 'Ops’s close went with its policy');

    clock.advance(10 * MINUTE);
    await waitFor('Web’s close', async () => (await status(both)) === 'closed');
    assert.ok((await logs(both)).some((l) => l.includes(`Closed by policy 'Close close-both-web ${run}'`)));
    for (const id of maintenances) await call('DELETE', `/v1/maintenance/${id}`);
    for (const { policy } of [disabled, edited, quietly, maintainedNow, maintainedSoon, kept])
      await call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
    await call('DELETE', `/v2/policies/${webBoth}?teamId=${web}`);
  });

  it('filters on the alert’s teams and recipients: a team’s policy about another responder', async () => {
    const byTeam = await notificationPolicy(ops, {
      name: `Web handles it ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [
          { field: 'message', operation: 'contains', expectedValue: `shared-${run}` },
          { field: 'teams', operation: 'contains', expectedValue: `Web ${run}` },
        ],
      },
      suppress: true,
    });
    const byRecipient = await notificationPolicy(ops, {
      name: `Web user handles it ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [
          { field: 'message', operation: 'contains', expectedValue: `direct-${run}` },
          { field: 'recipients', operation: 'contains', expectedValue: `web-${run}@example.com` },
        ],
      },
      suppress: true,
    });
    // Through Ops's integration: Ops's policies apply to it, whoever else it pages.
    const both = await alertWith(
      {
        message: `shared-${run}`,
        responders: [
          { type: 'team', id: ops },
          { type: 'team', id: web },
        ],
      },
      opsKey,
    );
    const opsOnly = await alertWith({
      message: `shared-${run} ops`,
      responders: [{ type: 'team', id: ops }],
    });
    const withUser = await alertWith({
      message: `direct-${run}`,
      responders: [
        { type: 'team', id: ops },
        { type: 'user', username: `web-${run}@example.com` },
      ],
    });
    await paged(opsOnly);
    await paged(both);
    await paged(withUser);
    await server.idle();
    const sources = async (id: string) =>
      (
        await db.query<{ source: string }>(
          'SELECT source FROM alert_escalations WHERE alert_id = $1 ORDER BY source',
          [id],
        )
      ).rows.map((r) => r.source);
    assert.deepEqual(await sources(both), [`team:${web}`], 'Ops is not paged when Web is on it');
    assert.deepEqual(await sources(opsOnly), [`team:${ops}`]);
    assert.equal((await sources(withUser)).includes(`team:${ops}`), false);
    assert.ok(
      (await logs(both)).some((l) => l.startsWith(`Notifications suppressed by policy 'Web handles it`)),
    );
    for (const id of [byTeam, byRecipient]) await call('DELETE', `/v2/policies/${id}?teamId=${ops}`);
  });
});

describe('delayAction until a time of day: when it ends', () => {
  const at = (iso: string) => new Date(iso);
  it('is the first such time after the alert, on a day the option allows, in the policy’s zone', () => {
    // Friday 2026-03-06 18:00 in Berlin (17:00 UTC).
    const friday = at('2026-03-06T17:00:00Z');
    const berlin = 'Europe/Berlin';
    assert.equal(nextUntil('next-time', 9, 0, berlin, friday).toISOString(), '2026-03-07T08:00:00.000Z');
    assert.equal(nextUntil('next-time', 19, 30, berlin, friday).toISOString(), '2026-03-06T18:30:00.000Z');
    assert.equal(nextUntil('next-weekday', 9, 0, berlin, friday).toISOString(), '2026-03-09T08:00:00.000Z');
    assert.equal(nextUntil('next-monday', 9, 0, berlin, friday).toISOString(), '2026-03-09T08:00:00.000Z');
    assert.equal(nextUntil('next-friday', 9, 0, berlin, friday).toISOString(), '2026-03-13T08:00:00.000Z');
    assert.equal(nextUntil('next-friday', 19, 0, berlin, friday).toISOString(), '2026-03-06T18:00:00.000Z');
    // Across the change to summer time (Sunday 2026-03-29 in Berlin): 9:00 is then 7:00 UTC.
    assert.equal(
      nextUntil('next-monday', 9, 0, berlin, at('2026-03-27T12:00:00Z')).toISOString(),
      '2026-03-30T07:00:00.000Z',
    );
    // A time the clocks skip (2:30 that Sunday) moves on by the hour skipped: 3:30 summer time.
    assert.equal(
      nextUntil('next-sunday', 2, 30, berlin, at('2026-03-28T12:00:00Z')).toISOString(),
      '2026-03-29T01:30:00.000Z',
    );
  });

  it('is the first occurrence of a time the clocks repeat, whatever the real date', () => {
    // 1:30 happens twice in New York on Sunday 2026-11-01: 5:30 UTC (summer time), then 6:30 UTC. luxon
    // alone picks by the real date today, so the answer is checked as if today were in July and in January.
    const saved = Settings.now;
    try {
      for (const today of ['2026-07-01T12:00:00Z', '2026-01-15T12:00:00Z']) {
        Settings.now = () => Date.parse(today);
        assert.equal(
          nextUntil('next-time', 1, 30, 'America/New_York', at('2026-11-01T04:00:00Z')).toISOString(),
          '2026-11-01T05:30:00.000Z',
          `with today ${today}`,
        );
      }
    } finally {
      Settings.now = saved;
    }
  });

  it('is the second occurrence of a repeated time when the alert comes between the two', () => {
    // 1:30 in New York on 2026-11-01 is 5:30 UTC (summer time), then again 6:30 UTC (standard time).
    const ny = 'America/New_York';
    for (const from of ['2026-11-01T05:45:00Z', '2026-11-01T06:10:00Z']) {
      assert.equal(
        nextUntil('next-time', 1, 30, ny, at(from)).toISOString(),
        '2026-11-01T06:30:00.000Z',
        `from ${from}`,
      );
      assert.equal(nextUntil('next-sunday', 1, 30, ny, at(from)).toISOString(), '2026-11-01T06:30:00.000Z');
    }
    // Once both are past, the next day's; a time not repeated that day is unchanged (3:30 is 8:30 UTC).
    assert.equal(
      nextUntil('next-time', 1, 30, ny, at('2026-11-01T06:40:00Z')).toISOString(),
      '2026-11-02T06:30:00.000Z',
    );
    assert.equal(
      nextUntil('next-time', 3, 30, ny, at('2026-11-01T06:10:00Z')).toISOString(),
      '2026-11-01T08:30:00.000Z',
    );
    // A skipped time still moves forward (2:30 on 2026-03-08 is 3:30 summer time, 7:30 UTC), from either side
    // of the gap, and is not mistaken for a repeat once past.
    assert.equal(
      nextUntil('next-time', 2, 30, ny, at('2026-03-08T06:30:00Z')).toISOString(),
      '2026-03-08T07:30:00.000Z',
    );
    assert.equal(
      nextUntil('next-time', 2, 30, ny, at('2026-03-08T07:30:00Z')).toISOString(),
      '2026-03-09T06:30:00.000Z',
    );
  });
});
