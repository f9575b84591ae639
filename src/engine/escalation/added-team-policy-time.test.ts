import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * A team added to an alert after its creation meets its notification policies as things stand when it is
 * added: a policy's time restriction is read then, as its `next-*` delay counts from then, not at the
 * alert's creation. Each alert is created through the team's integration (so of the team's policy scope,
 * as Opsgenie applies a team's policies) for its member alone, the team no responder yet, and backdated
 * three hours (its creation inside one policy's restriction and outside the other's), then the team is
 * added now. The clock is not moved: every restriction is set relative to the engine's hour (UTC).
 */

const HOUR = 3_600_000;
let server: TestServer;
let db: pg.Client;
const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
let team: string;
let teamKey: string;
let member: string;

const call = (method: string, path: string, body?: unknown) => server.callOk(method, path, body);

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  member = (
    await call('POST', '/v2/users', {
      username: `t-${run}@example.com`,
      fullName: 't',
      role: { name: 'User' },
    })
  ).data.id;
  team = (
    await call('POST', '/v2/teams', {
      name: `Night ${run}`,
      members: [{ user: { username: `t-${run}@example.com` }, role: 'user' }],
    })
  ).data.id;
  teamKey = (
    await call('POST', '/v2/integrations', { type: 'API', name: `Night API ${run}`, ownerTeam: { id: team } })
  ).data.apiKey;
});

after(async () => {
  await db?.end();
  await server?.stop();
});

async function logs(alertId: string): Promise<string[]> {
  const { rows } = await db.query<{ log: string }>(
    'SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id',
    [alertId],
  );
  return rows.map((r) => r.log);
}

/**
 * An alert of the team's integration for its member alone, created three hours ago, to which the team is
 * then added.
 */
async function teamAddedLater(message: string, alias?: string): Promise<string> {
  const res = await server.callOk(
    'POST',
    '/v2/alerts',
    { message, responders: [{ type: 'user', id: member }], ...(alias ? { alias } : {}) },
    teamKey,
  );
  const alertId = await waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
  await waitFor('the alert to be handled', async () => {
    const { rows } = await db.query(`SELECT 1 FROM alert_escalations WHERE alert_id = $1 AND source = $2`, [
      alertId,
      `user:${member}`,
    ]);
    return rows.length > 0;
  });
  await db.query(`UPDATE alerts SET created_at = created_at - interval '3 hours' WHERE id = $1`, [alertId]);
  await call('POST', `/v2/alerts/${alertId}/responders`, { responder: { type: 'team', id: team } });
  return alertId;
}

/** When the team's escalation starts (engine clock). */
const baseAt = (alertId: string) =>
  waitFor('the team escalation', async () => {
    const { rows } = await db.query<{ base_at: Date }>(
      `SELECT base_at FROM alert_escalations WHERE alert_id = $1 AND source = $2`,
      [alertId, `team:${team}`],
    );
    return rows[0]?.base_at;
  });

describe('notification policies of a team added to an alert later', () => {
  // Hours relative to the engine's current hour; the windows leave an hour's slack either side.
  const hourStart = Math.floor(clock.now().getTime() / HOUR) * HOUR;
  const hour = new Date(hourStart).getUTCHours();
  const window = (from: number, to: number) => ({
    type: 'time-of-day',
    restriction: {
      startHour: (hour + from + 24) % 24,
      startMin: 0,
      endHour: (hour + to + 24) % 24,
      endMin: 0,
    },
  });
  // Until the next `hour + 5`:00, 4 to 5 hours from now: a "hold night alerts until morning" delay.
  const until = { delayOption: 'next-time', untilHour: (hour + 5) % 24, untilMinute: 0 };
  const morning = new Date(hourStart + 5 * HOUR);
  const policy = async (name: string, token: string, timeRestrictions: Json) =>
    (
      await call('POST', `/v2/policies?teamId=${team}`, {
        type: 'notification',
        name: `${name} ${run}`,
        filter: {
          type: 'match-all-conditions',
          conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
        },
        timeRestrictions,
        delayAction: until,
      })
    ).data.id as string;

  it('a policy whose restriction held only at the creation does not delay it', async () => {
    // Created (3 hours ago) inside the restriction, added now outside it.
    const id = await policy('Then', `then-${run}`, window(-5, -1));
    // After it, one with no restriction that closes the alert: the team's policies do apply to the alert,
    // and this one, not Then, is the first whose restriction holds when the team is added.
    const next = (
      await call('POST', `/v2/policies?teamId=${team}`, {
        type: 'notification',
        name: `Next ${run}`,
        filter: {
          type: 'match-all-conditions',
          conditions: [{ field: 'message', operation: 'contains', expectedValue: `then-${run}` }],
        },
        autoCloseAction: { duration: { timeAmount: 1, timeUnit: 'days' } },
      })
    ).data.id as string;
    const alertId = await teamAddedLater(`then-${run}`);
    const startsAt = await baseAt(alertId);
    assert.ok(
      startsAt.getTime() <= clock.now().getTime(),
      `starts at once, not at ${startsAt.toISOString()}`,
    );
    assert.ok(!(await logs(alertId)).some((l) => l.startsWith('Notifications delayed')));
    assert.ok(
      (await logs(alertId)).some(
        (l) => l.startsWith('The alert will be closed at') && l.includes(`'Next ${run}'`),
      ),
      (await logs(alertId)).join('\n'),
    );
    await call('DELETE', `/v2/policies/${next}?teamId=${team}`);
    await call('DELETE', `/v2/policies/${id}?teamId=${team}`);
  });

  it('a policy whose restriction holds when the team is added delays it, from then', async () => {
    // Created (3 hours ago) outside the restriction, added now inside it.
    const id = await policy('Now', `now-${run}`, window(-1, 2));
    const alertId = await teamAddedLater(`now-${run}`);
    assert.equal((await baseAt(alertId)).toISOString(), morning.toISOString());
    assert.ok(
      (await logs(alertId)).some((l) => l.startsWith('Notifications delayed until')),
      (await logs(alertId)).join('\n'),
    );
    await call('DELETE', `/v2/policies/${id}?teamId=${team}`);
  });

  it('a hold begun when the team was added ends under the same policy, not the one of the creation', async () => {
    // Day holds the alert until it occurs twice; Night, whose restriction held only at the creation,
    // suppresses. Both are reached by the same alert: the release must go by Day, which held it.
    const token = `held-${run}`;
    const filter = {
      type: 'match-all-conditions',
      conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
    };
    const day = (
      await call('POST', `/v2/policies?teamId=${team}`, {
        type: 'notification',
        name: `Day ${run}`,
        filter,
        timeRestrictions: window(-1, 2),
        deduplicationAction: { deduplicationActionType: 'value-based', count: 2 },
      })
    ).data.id as string;
    const night = (
      await call('POST', `/v2/policies?teamId=${team}`, {
        type: 'notification',
        name: `Night ${run}`,
        filter,
        timeRestrictions: window(-5, -1),
        suppress: true,
      })
    ).data.id as string;
    const alertId = await teamAddedLater(token, token);
    await waitFor('the hold', async () =>
      (await logs(alertId)).some((l) => l.startsWith(`Notifications held until the alert occurs 2 times`)),
    );
    await call('POST', '/v2/alerts', { message: token, alias: token });
    await waitFor('the hold to end', async () =>
      (await logs(alertId)).some((l) => l.includes(`held by policy 'Day ${run}' go out`)),
    );
    const after = await logs(alertId);
    assert.ok(!after.some((l) => l.startsWith('Notifications suppressed')), after.join('\n'));
    const { rows } = await db.query(`SELECT 1 FROM alert_escalations WHERE alert_id = $1 AND source = $2`, [
      alertId,
      `team:${team}`,
    ]);
    assert.equal(rows.length, 1, 'the team is paged');
    for (const id of [day, night]) await call('DELETE', `/v2/policies/${id}?teamId=${team}`);
  });
});
