import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * Opsgenie's Heartbeat API on the real server, its clock moved instead of waited for: a heartbeat made
 * through the API expires after its interval and raises an alert for its owner team through the alert
 * service; a ping closes that alert; a disabled heartbeat does not expire; two worker processes raise
 * one alert per expiry; and what Opsgenie's clients (Go SDK, Terraform, curl) send is understood, while
 * hostile input is refused with a 4xx.
 */

const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const team = `Cron ${run}`;
let teamId: string;
const MINUTE = 60_000;

async function call(method: string, path: string, body?: unknown, key?: string): Promise<Json> {
  return server.callOk(method, path, body, key);
}

async function create(name: string, body: Record<string, unknown> = {}): Promise<Json> {
  const answer = await server.call('POST', '/v2/heartbeats', {
    name,
    interval: 10,
    intervalUnit: 'minutes',
    enabled: true,
    ownerTeam: { name: team },
    ...body,
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body;
}

const heartbeat = async (name: string): Promise<Json> =>
  (await call('GET', `/v2/heartbeats/${encodeURIComponent(name)}`)).data;

/** The alerts a heartbeat's expiries raised, oldest first (from the database: every one, open or not). */
async function alertsOf(name: string): Promise<{ id: string; count: number; status: string }[]> {
  const rows = await db.query(
    `SELECT a.id, a.count, a.status FROM alerts a
       JOIN heartbeats h ON a.org_id = h.org_id AND a.alias = 'heartbeat:' || h.id
      WHERE h.name = $1 ORDER BY a.created_at`,
    [name],
  );
  return rows.rows as { id: string; count: number; status: string }[];
}

const expired = (name: string) =>
  waitFor(`${name} to expire`, async () => {
    const hb = await heartbeat(name);
    return hb.expired === true ? hb : undefined;
  });

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  teamId = (await call('POST', '/v2/teams', { name: team })).data.id;
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('a heartbeat made through the API', () => {
  it('expires after its interval, raising an alert for its owner team, and a ping closes it', async () => {
    const name = `nightly-backup-${run}`;
    const made = await create(name, { alertTags: ['cron', 'backup'], alertPriority: 'P2' });
    assert.equal(made.result, 'Created');
    assert.deepEqual(
      { name: made.data.name, enabled: made.data.enabled, expired: made.data.expired },
      { name, enabled: true, expired: false },
    );
    // A control heartbeat with a shorter interval: once it has expired, a round has run past this time.
    const control = `control-a-${run}`;
    await create(control, { interval: 5 });

    clock.advance(7 * MINUTE);
    await expired(control);
    const before = await heartbeat(name);
    assert.equal(before.expired, false, 'not expired before its interval');
    assert.deepEqual(await alertsOf(name), [], 'no alert before its interval');

    clock.advance(4 * MINUTE);
    await expired(name);
    const [raised, ...more] = await alertsOf(name);
    assert.ok(raised, 'an alert was raised');
    assert.deepEqual(more, []);
    const alert = (await call('GET', `/v2/alerts/${raised.id}`)).data;
    assert.equal(alert.message, `${name} is expired`);
    assert.equal(alert.source, 'Heartbeat');
    assert.equal(alert.priority, 'P2');
    assert.deepEqual([...alert.tags].sort(), ['backup', 'cron']);
    assert.deepEqual(alert.responders, [{ type: 'team', id: teamId }]);
    assert.equal(alert.status, 'open');
    assert.equal(alert.details.heartbeat, name);
    // The team sees it among its alerts, as any alert.
    const listed = await call(
      'GET',
      `/v2/alerts?query=${encodeURIComponent(`teams:"${team}" source:Heartbeat`)}`,
    );
    assert.ok(listed.data.some((a: Json) => a.id === raised.id));

    const pong = await server.call('GET', `/v2/heartbeats/${name}/ping`);
    assert.equal(pong.status, 202);
    assert.equal(pong.body.result, 'PONG - Heartbeat received');
    const after = await heartbeat(name);
    assert.equal(after.expired, false);
    assert.ok(Math.abs(Date.parse(after.lastPingTime) - clock.now().getTime()) < 60_000);
    const closed = (await call('GET', `/v2/alerts/${raised.id}`)).data;
    assert.equal(closed.status, 'closed');
    assert.equal(closed.report.closedBy, 'Heartbeat');
    const notes = (await call('GET', `/v2/alerts/${raised.id}/notes`)).data as Json[];
    assert.ok(
      notes.some((n) => String(n.note).startsWith(`Heartbeat ${name} was pinged`)),
      JSON.stringify(notes),
    );

    // The wait starts again from the ping: a second expiry raises a second alert, a custom message this time.
    await call('PATCH', `/v2/heartbeats/${name}`, { alertMessage: `Backups stopped (${run})` });
    clock.advance(11 * MINUTE);
    await expired(name);
    const alerts = await alertsOf(name);
    assert.equal(alerts.length, 2);
    const second = (await call('GET', `/v2/alerts/${alerts[1]?.id}`)).data;
    assert.equal(second.message, `Backups stopped (${run})`);
    await call('POST', `/v2/heartbeats/${name}/ping`);
  });

  it('does not expire while disabled, and waits a whole interval again once enabled', async () => {
    const name = `disabled-${run}`;
    await create(name, { interval: 5 });
    const disabled = await call('POST', `/v2/heartbeats/${name}/disable`);
    assert.equal(disabled.result, 'Disabled');
    assert.deepEqual(disabled.data, { name, enabled: false, expired: false });
    const control = `control-b-${run}`;
    await create(control, { interval: 5 });

    clock.advance(6 * MINUTE);
    await expired(control);
    assert.equal((await heartbeat(name)).expired, false);
    assert.deepEqual(await alertsOf(name), []);

    const enabled = await call('POST', `/v2/heartbeats/${name}/enable`);
    assert.deepEqual(enabled.data, { name, enabled: true, expired: false });
    clock.advance(6 * MINUTE);
    await expired(name);
    assert.equal((await alertsOf(name)).length, 1);
    await call('POST', `/v2/heartbeats/${name}/ping`);
    await call('POST', `/v2/heartbeats/${control}/ping`);
  });

  it('is pinged with an API integration key, which may do nothing else to heartbeats', async () => {
    const name = `integration-ping-${run}`;
    await create(name);
    const integration = await call('POST', '/v2/integrations', {
      type: 'API',
      name: `Cron jobs ${run}`,
      ownerTeam: { name: team },
    });
    const key = integration.data.apiKey as string;
    for (const method of ['GET', 'POST', 'PUT', 'PATCH']) {
      const pong = await server.call(method, `/v2/heartbeats/${name}/ping`, undefined, key);
      assert.equal(pong.status, 202, `${method}: ${JSON.stringify(pong.body)}`);
    }
    assert.ok((await heartbeat(name)).lastPingTime);
    assert.equal((await server.call('GET', '/v2/heartbeats', undefined, key)).status, 403);
    assert.equal((await server.call('DELETE', `/v2/heartbeats/${name}`, undefined, key)).status, 403);
  });
});

describe("what Opsgenie's clients send", () => {
  it('answers the Go SDK and Terraform: {} for no owner team, enabled left out, a partial update', async () => {
    const name = `terraform_${run}`;
    // The Go SDK sends ownerTeam as {} when none is set and leaves enabled out when it is false.
    const made = await server.call('POST', '/v2/heartbeats/', {
      name,
      interval: 2,
      intervalUnit: 'hours',
      ownerTeam: {},
      alertTags: [],
      somethingNew: 'ignored',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.data.enabled, false);
    assert.equal(made.body.data.ownerTeam, undefined);

    const updated = await call('PATCH', `/v2/heartbeats/${name}`, {
      name,
      interval: 3,
      intervalUnit: 'hours',
      enabled: true,
      ownerTeam: { id: teamId },
      alertPriority: 'P1',
    });
    assert.equal(updated.result, 'Updated');
    assert.equal(updated.data.interval, 3);
    assert.equal(updated.data.enabled, true);
    assert.deepEqual(updated.data.ownerTeam, { id: teamId, name: team });
    assert.equal(updated.data.alertPriority, 'P1');
    // The Go SDK's UpdateRequest sends enabled as a pointer: false to disable (Terraform always sets it),
    // left out to keep it as it is, so an update of the interval alone never stops the watch.
    const sdkUpdate = (enabled?: boolean) =>
      call('PATCH', `/v2/heartbeats/${name}`, {
        name,
        interval: 3,
        intervalUnit: 'hours',
        ...(enabled === undefined ? {} : { enabled }),
        ownerTeam: {},
      });
    assert.equal((await sdkUpdate()).data.enabled, true, 'left out, kept');
    assert.equal((await sdkUpdate(false)).data.enabled, false, 'false, disabled');
    assert.equal((await sdkUpdate()).data.enabled, false, 'left out, kept disabled');
    assert.equal((await sdkUpdate(true)).data.enabled, true);

    const got = await heartbeat(name);
    assert.deepEqual(
      {
        name: got.name,
        description: got.description,
        interval: got.interval,
        intervalUnit: got.intervalUnit,
        enabled: got.enabled,
        expired: got.expired,
        alertMessage: got.alertMessage,
        alertTags: got.alertTags,
      },
      {
        name,
        description: '',
        interval: 3,
        intervalUnit: 'hours',
        enabled: true,
        expired: false,
        alertMessage: '',
        alertTags: [],
      },
    );
    const list = await call('GET', '/v2/heartbeats');
    assert.ok(Array.isArray(list.data.heartbeats));
    assert.ok(list.data.heartbeats.some((h: Json) => h.name === name));

    const deleted = await call('DELETE', `/v2/heartbeats/${name}`);
    assert.equal(deleted.result, 'Deleted');
    assert.equal((await server.call('GET', `/v2/heartbeats/${name}`)).status, 404);
  });

  it('answers 404 for an unknown heartbeat and 409 for a name taken', async () => {
    const ping = await server.call('GET', `/v2/heartbeats/no-such-${run}/ping`);
    assert.equal(ping.status, 404);
    assert.equal(ping.body.message, `Heartbeat with name [no-such-${run}] does not exist.`);
    for (const [method, path] of [
      ['GET', `/v2/heartbeats/no-such-${run}`],
      ['PATCH', `/v2/heartbeats/no-such-${run}`],
      ['DELETE', `/v2/heartbeats/no-such-${run}`],
      ['POST', `/v2/heartbeats/no-such-${run}/enable`],
    ] as const) {
      assert.equal((await server.call(method, path, method === 'PATCH' ? {} : undefined)).status, 404, path);
    }

    const name = `taken-${run}`;
    await create(name, { enabled: false });
    const again = await server.call('POST', '/v2/heartbeats', {
      name,
      interval: 1,
      intervalUnit: 'days',
      enabled: false,
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.message, `Heartbeat with name [${name}] already exists.`);
  });

  it('refuses hostile input with a 4xx and stores nothing of it', async () => {
    const base = { interval: 5, intervalUnit: 'minutes', enabled: true };
    const cases: [string, Record<string, unknown>][] = [
      ['interval 0', { name: `zero-${run}`, ...base, interval: 0 }],
      ['a negative interval', { name: `negative-${run}`, ...base, interval: -5 }],
      ['a huge interval', { name: `huge-${run}`, ...base, interval: 1e15 }],
      ['over 365 days', { name: `long-${run}`, ...base, interval: 366, intervalUnit: 'days' }],
      ['a fractional interval', { name: `half-${run}`, ...base, interval: 1.5 }],
      ['an interval that is text', { name: `text-${run}`, ...base, interval: 'ten' }],
      ['an unknown unit', { name: `weeks-${run}`, ...base, intervalUnit: 'weeks' }],
      ['no interval', { name: `none-${run}`, intervalUnit: 'minutes' }],
      ['a NUL in the name', { name: `nul\u0000${run}`, ...base }],
      ['a control character in the name', { name: `bell\u0007${run}`, ...base }],
      ['a name over 100 characters', { name: 'x'.repeat(101), ...base }],
      ['an empty name', { name: '', ...base }],
      ['a name with spaces around it', { name: ` padded-${run} `, ...base }],
      ['21 tags', { name: `tags-${run}`, ...base, alertTags: Array.from({ length: 21 }, (_, i) => `t${i}`) }],
      ['an unknown priority', { name: `p9-${run}`, ...base, alertPriority: 'P9' }],
      ['an unknown owner team', { name: `orphan-${run}`, ...base, ownerTeam: { name: `nobody-${run}` } }],
    ];
    for (const [what, body] of cases) {
      const answer = await server.call('POST', '/v2/heartbeats', body);
      assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.status}`);
      assert.equal(answer.status, 422, `${what}: ${JSON.stringify(answer.body)}`);
    }
    const names = (await call('GET', '/v2/heartbeats')).data.heartbeats.map((h: Json) => h.name as string);
    for (const [what, body] of cases) assert.ok(!names.includes(body.name as string), what);

    const name = `patched-${run}`;
    await create(name, { enabled: false });
    for (const body of [
      { interval: 0 },
      { interval: 400, intervalUnit: 'days' },
      { intervalUnit: 'years' },
    ]) {
      assert.equal(
        (await server.call('PATCH', `/v2/heartbeats/${name}`, body)).status,
        422,
        JSON.stringify(body),
      );
    }
    assert.equal((await heartbeat(name)).interval, 10);
    assert.equal((await server.call('POST', '/v2/heartbeats', '{"name": "broken"')).status, 400);
    const longest = `longest-${run}-`.padEnd(100, 'z');
    await create(longest, { enabled: false });
    assert.equal((await server.call('GET', `/v2/heartbeats/${longest}/ping`)).status, 202);
    const long = await server.call('GET', `/v2/heartbeats/${'y'.repeat(5000)}/ping`);
    assert.ok(long.status >= 400 && long.status < 500, String(long.status));
    assert.equal((await server.call('GET', `/v2/heartbeats/nul%00${run}/ping`)).status, 404);
  });
});

describe('two worker processes', () => {
  it('raise one alert per expiry', async () => {
    const second = await startTestServer({
      databaseUrl: server.databaseUrl,
      apiKey: server.key,
      role: 'worker',
      clock,
      engineIntervalMs: 100,
    });
    try {
      const names = Array.from({ length: 30 }, (_, i) => `fleet-${i}-${run}`);
      for (const name of names) await create(name, { interval: 1 });
      clock.advance(2 * MINUTE);
      for (const name of names) await expired(name);
      // Time goes on without pings: an expired heartbeat does not raise again (the control shows a
      // round has run since).
      const control = `fleet-control-${run}`;
      await create(control, { interval: 3 });
      clock.advance(5 * MINUTE);
      await expired(control);
      await server.idle();
      for (const name of names) {
        const alerts = await alertsOf(name);
        assert.equal(alerts.length, 1, name);
        assert.equal(alerts[0]?.count, 1, `${name} was raised once, not counted twice`);
      }
    } finally {
      await second.stop();
    }
  });
});
