import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { AlertEvent } from '../events.js';
import type { AlertEventConsumer } from '../../engine/consumers.js';
import { ShiftedClock } from '../../work/clock.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';

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

async function alert(message: string, teamId: string): Promise<string> {
  const res = await call('POST', '/v2/alerts', { message, responders: [{ type: 'team', id: teamId }] });
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
  types: ['closed'],
  handles: (event) => event.type === 'closed',
  async handle(event) {
    received.push(event);
  },
};

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100, consumers: [recorder] });
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
    await refused(
      team,
      { ...base, autoRestartAction: { duration: { timeAmount: 5 }, maxRepeatCount: 2 } },
      'autoRestartAction',
    );
    await refused(
      team,
      {
        ...base,
        deduplicationAction: {
          deduplicationActionType: 'frequency-based',
          count: 3,
          duration: { timeAmount: 5 },
        },
      },
      'deduplicationAction',
    );
    await refused(
      team,
      { ...base, delayAction: { delayOption: 'next-weekday', untilHour: 9, untilMinute: 0 } },
      'delayOption',
    );
    await refused(
      team,
      {
        ...base,
        timeRestrictions: {
          type: 'time-of-day',
          restriction: { startHour: 9, startMin: 0, endHour: 17, endMin: 0 },
        },
      },
      'timeRestrictions',
    );
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
    const made = await alert(`queue stuck later-${run}`, ops);
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
