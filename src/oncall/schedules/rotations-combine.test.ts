import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';

/**
 * How a schedule combines its rotations (Vigil's `rotationsCombine`): Opsgenie's way, "all", where every
 * rotation's participant is on call at once, for schedules created without the field; "layers" when asked.
 * Checked through the Who Is On Call API and through paging: an alert with the schedule as responder is
 * planned for everyone on call, read back from the notifications table.
 *
 * Set-up: two daily rotations, both started 12 hours ago, overlapping all day long: "Days" (alice, then
 * erin) and "Nights" (bob, then carol). Now alice and bob are on call; in 12 hours erin and carol come.
 */

const HOUR = 3_600_000;
let server: TestServer;
const run = randomUUID().slice(0, 8);
const ALICE = `alice-${run}@example.com`;
const BOB = `bob-${run}@example.com`;
const CAROL = `carol-${run}@example.com`;
const DAVE = `dave-${run}@example.com`;
const ERIN = `erin-${run}@example.com`;
const started = new Date(Math.floor((Date.now() - 12 * HOUR) / 60_000) * 60_000);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const userIds = new Map<string, string>();

async function ok(method: string, path: string, body?: unknown): Promise<Json> {
  const answer = await server.call(method, path, body);
  assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const rotations = [
  {
    name: 'Days',
    type: 'daily',
    startDate: started.toISOString(),
    participants: [ALICE, ERIN].map((username) => ({ type: 'user', username })),
  },
  {
    name: 'Nights',
    type: 'daily',
    startDate: started.toISOString(),
    participants: [BOB, CAROL].map((username) => ({ type: 'user', username })),
  },
];

async function createSchedule(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await server.call('POST', '/v2/schedules', {
    name,
    timezone: 'Europe/Berlin',
    rotations,
    ...extra,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.data.id;
}

async function onCallNow(id: string): Promise<string[]> {
  return (await ok('GET', `/v2/schedules/${id}/on-calls?flat=true`)).data.onCallRecipients;
}

/** The usernames an alert with the schedule as its responder is planned to page, once the engine is done. */
async function pagedFor(scheduleName: string): Promise<string[]> {
  const message = `Disk full on ${scheduleName} ${randomUUID().slice(0, 6)}`;
  const { requestId } = await ok('POST', '/v2/alerts', {
    message,
    responders: [{ type: 'schedule', name: scheduleName }],
  });
  const alertId = await waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
  const db = server.app.context.db;
  await waitFor('the first notification to be planned', async () => {
    const rows = await db.selectFrom('notifications').select('id').where('alert_id', '=', alertId).execute();
    return rows.length > 0 ? true : undefined;
  });
  await server.idle();
  const rows = await db
    .selectFrom('notifications as n')
    .innerJoin('users as u', 'u.id', 'n.user_id')
    .select('u.username')
    .distinct()
    .where('n.alert_id', '=', alertId)
    .orderBy('u.username')
    .execute();
  return rows.map((r) => r.username);
}

before(async () => {
  server = await startTestServer({ engineIntervalMs: 100 });
  for (const username of [ALICE, BOB, CAROL, DAVE, ERIN]) {
    const created = await ok('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
    userIds.set(username, created.data.id);
  }
});

after(async () => {
  await server?.stop();
});

describe('a schedule created without rotationsCombine: Opsgenie’s "all"', () => {
  const name = `Overlapping ${run}`;
  let id: string;
  before(async () => {
    id = await createSchedule(name);
  });

  it('is stored as "all" and says so', async () => {
    const { data } = await ok('GET', `/v2/schedules/${id}`);
    assert.equal(data.rotationsCombine, 'all');
    const row = await server.app.context.db
      .selectFrom('schedules')
      .select('rotations_combine')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(row.rotations_combine, 'all');
  });

  it('on-calls lists both rotations’ people, in rotation order', async () => {
    assert.deepEqual(await onCallNow(id), [ALICE, BOB]);
    const { data } = await ok('GET', `/v2/schedules/${id}/on-calls`);
    assert.deepEqual(
      data.onCallParticipants.map((p: Json) => [p.type, p.name, p.id]),
      [
        ['user', ALICE, userIds.get(ALICE)],
        ['user', BOB, userIds.get(BOB)],
      ],
    );
    const everywhere = await ok('GET', '/v2/schedules/on-calls?flat=true');
    const ours = everywhere.data.find((s: Json) => s._parent.id === id);
    assert.deepEqual(ours.onCallRecipients, [ALICE, BOB]);
  });

  it('an alert escalated to it pages both', async () => {
    assert.deepEqual(await pagedFor(name), [ALICE, BOB].sort());
  });

  it('next-on-calls lists everyone coming at the next handoff, with their shifts', async () => {
    const handoff = iso(started.getTime() + 24 * HOUR);
    const end = iso(started.getTime() + 48 * HOUR);
    const { data } = await ok('GET', `/v2/schedules/${id}/next-on-calls`);
    assert.deepEqual(
      data.nextOnCallRecipients.map((p: Json) => p.name),
      [ERIN, CAROL],
    );
    assert.deepEqual(
      data.exactNextOnCallRecipients.map((p: Json) => p.name),
      [ERIN, CAROL],
    );
    assert.deepEqual(
      data.nextShifts.map((s: Json) => [s.user.name, s.startDate, s.endDate]),
      [
        [ERIN, handoff, end],
        [CAROL, handoff, end],
      ],
    );
    assert.equal(data.nextShift.user.name, ERIN);
    const flat = await ok('GET', `/v2/schedules/${id}/next-on-calls?flat=true`);
    assert.deepEqual(flat.data.nextOnCallParticipants, [ERIN, CAROL]);
    assert.deepEqual(flat.data.exactNextOnCallParticipants, [ERIN, CAROL]);
    assert.equal(flat.data.nextOnCallRecipients, undefined, 'no usernames where Opsgenie has objects');
  });

  it('the final timeline holds both people at once, each under their rotation', async () => {
    const { data } = await ok(
      'GET',
      `/v2/schedules/${id}/timeline?date=${encodeURIComponent(started.toISOString())}&interval=1&intervalUnit=days`,
    );
    const final = data.finalTimeline.rotations.map((r: Json) => [
      r.name,
      r.periods.map((p: Json) => [p.recipient.name, p.startDate, p.endDate]),
    ]);
    const from = iso(started.getTime());
    const to = iso(started.getTime() + 24 * HOUR);
    assert.deepEqual(final, [
      ['Days', [[ALICE, from, to]]],
      ['Nights', [[BOB, from, to]]],
    ]);
  });

  it('the calendar export has both people’s shifts', async () => {
    const res = await fetch(`${server.url}/v2/schedules/${id}.ics`, {
      headers: { authorization: `GenieKey ${server.key}` },
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace('.000', '');
    for (const who of [ALICE, BOB]) {
      const events = text.split('BEGIN:VEVENT').filter((e) => e.includes(who));
      assert.ok(
        events.some((e) => e.includes(`DTSTART:${stamp(started.getTime())}`)),
        `${who} has a shift from the start in ${text}`,
      );
    }
  });
});

describe('the same schedule with rotationsCombine "layers"', () => {
  const name = `Layered ${run}`;
  let id: string;
  before(async () => {
    id = await createSchedule(name, { rotationsCombine: 'layers' });
  });

  it('has only the later rotation’s person on call, and pages only them', async () => {
    assert.equal((await ok('GET', `/v2/schedules/${id}`)).data.rotationsCombine, 'layers');
    assert.deepEqual(await onCallNow(id), [BOB]);
    assert.deepEqual(await pagedFor(name), [BOB]);
    const { data } = await ok('GET', `/v2/schedules/${id}/next-on-calls`);
    assert.deepEqual(
      data.nextOnCallRecipients.map((p: Json) => p.name),
      [CAROL],
    );
    assert.deepEqual(
      data.exactNextOnCallRecipients.map((p: Json) => p.name),
      [CAROL],
    );
  });

  it('PATCH switches it to "all" and back; an unknown value is a 422 naming the field', async () => {
    await ok('PATCH', `/v2/schedules/${id}`, { rotationsCombine: 'all' });
    assert.deepEqual(await onCallNow(id), [ALICE, BOB]);
    await ok('PATCH', `/v2/schedules/${id}`, { description: 'still all' });
    assert.deepEqual(await onCallNow(id), [ALICE, BOB]);
    await ok('PATCH', `/v2/schedules/${id}`, { rotationsCombine: 'layers' });
    assert.deepEqual(await onCallNow(id), [BOB]);
    const bad = await server.call('PATCH', `/v2/schedules/${id}`, { rotationsCombine: 'stacked' });
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.match(JSON.stringify(bad.body), /rotationsCombine/);
    assert.equal((await ok('GET', `/v2/schedules/${id}`)).data.rotationsCombine, 'layers');
  });
});

describe('overrides in an "all" schedule', () => {
  const window = () => ({
    startDate: new Date(Date.now() - HOUR).toISOString(),
    endDate: new Date(Date.now() + 2 * HOUR).toISOString(),
  });

  it('an override without rotations replaces both', async () => {
    const name = `Global override ${run}`;
    const id = await createSchedule(name);
    await ok('POST', `/v2/schedules/${id}/overrides`, {
      user: { type: 'user', username: DAVE },
      ...window(),
    });
    assert.deepEqual(await onCallNow(id), [DAVE]);
    assert.deepEqual(await pagedFor(name), [DAVE]);
  });

  it('an override of one rotation replaces only its person', async () => {
    const name = `Scoped override ${run}`;
    const id = await createSchedule(name);
    await ok('POST', `/v2/schedules/${id}/overrides`, {
      user: { type: 'user', username: DAVE },
      rotations: [{ name: 'Days' }],
      ...window(),
    });
    assert.deepEqual(await onCallNow(id), [DAVE, BOB]);
    assert.deepEqual(await pagedFor(name), [BOB, DAVE].sort());
  });
});
