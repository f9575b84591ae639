import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * The Schedule API over HTTP. Every expected instant was worked out by hand (2026):
 * - Europe/Berlin: CET (+01:00) until 2026-03-29 01:00Z, CEST (+02:00) until 2026-10-25 01:00Z, then CET.
 * - America/New_York: EST (-05:00) until 2026-03-08 07:00Z, EDT (-04:00) until 2026-11-01 06:00Z, then EST.
 * Mondays: 2026-03-02, 03-09, 03-23, 03-30, 10-19, 10-26. Sundays: 03-08, 03-29, 10-25, 11-01.
 */

let server: TestServer;
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';
const ERIN = 'erin@example.com';
let erinKey: string;
let daveKey: string;

async function ok(method: string, path: string, body?: unknown, key?: string): Promise<Json> {
  const answer = await server.call(method, path, body, key);
  assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function createSchedule(body: Record<string, unknown>): Promise<string> {
  const created = await server.call('POST', '/v2/schedules', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.data.id;
}

/** Usernames on call at `date` (flat). */
async function onCall(scheduleId: string, date: string): Promise<string[]> {
  const body = await ok(
    'GET',
    `/v2/schedules/${scheduleId}/on-calls?flat=true&date=${encodeURIComponent(date)}`,
  );
  return body.data.onCallRecipients;
}

async function keyFor(username: string): Promise<string> {
  const body = await ok('POST', '/v2/api-keys', { name: `${username} key`, user: { username } });
  return body.data.key;
}

before(async () => {
  server = await startTestServer();
  for (const [username, fullName] of [
    [ALICE, 'Alice'],
    [BOB, 'Bob'],
    [CAROL, 'Carol'],
    [DAVE, 'Dave'],
    [ERIN, 'Erin'],
  ] as const) {
    await ok('POST', '/v2/users', { username, fullName, role: { name: 'User' } });
  }
  await ok('POST', '/v2/teams', { name: 'Ops', members: [{ user: { username: DAVE }, role: 'admin' }] });
  erinKey = await keyFor(ERIN);
  daveKey = await keyFor(DAVE);
});
after(async () => {
  await server.stop();
});

describe('schedules over HTTP', () => {
  describe('weekly Monday 09:00 in Europe/Berlin', () => {
    let id: string;
    before(async () => {
      id = await createSchedule({
        name: 'Berlin weekly',
        description: 'Platform on call',
        timezone: 'Europe/Berlin',
        ownerTeam: { name: 'Ops' },
        rotations: [
          {
            name: 'Primary',
            startDate: '2026-03-23T09:00:00+01:00',
            type: 'weekly',
            participants: [
              { type: 'user', username: ALICE },
              { type: 'user', username: BOB },
              { type: 'user', username: CAROL },
            ],
          },
        ],
      });
    });

    it('is stored and shown in Opsgenie’s shape', async () => {
      const got = await ok('GET', `/v2/schedules/${id}`);
      const { data } = got;
      assert.equal(data.name, 'Berlin weekly');
      assert.equal(data.timezone, 'Europe/Berlin');
      assert.equal(data.enabled, true);
      assert.equal(data.ownerTeam.name, 'Ops');
      assert.equal(data.rotations.length, 1);
      const [rotation] = data.rotations;
      assert.equal(rotation.startDate, '2026-03-23T08:00:00Z');
      assert.equal(rotation.type, 'weekly');
      assert.equal(rotation.length, 1);
      assert.deepEqual(
        rotation.participants.map((p: Json) => [p.type, p.username]),
        [
          ['user', ALICE],
          ['user', BOB],
          ['user', CAROL],
        ],
      );
      const byName = await ok('GET', '/v2/schedules/berlin%20weekly?identifierType=name');
      assert.equal(byName.data.id, id);
      const rotations = await ok('GET', `/v2/schedules/${id}/rotations`);
      assert.equal(rotations.data[0].id, rotation.id);
      const one = await ok('GET', `/v2/schedules/${id}/rotations/${rotation.id}`);
      assert.equal(one.data.name, 'Primary');
    });

    it('hands off at 09:00 local across the March change (alice’s shift is 167 h)', async () => {
      assert.deepEqual(await onCall(id, '2026-03-23T07:59:59Z'), []);
      assert.deepEqual(await onCall(id, '2026-03-23T08:00:00Z'), [ALICE]);
      assert.deepEqual(await onCall(id, '2026-03-29T12:00:00+02:00'), [ALICE]);
      assert.deepEqual(await onCall(id, '2026-03-30T06:59:59Z'), [ALICE]);
      assert.deepEqual(await onCall(id, '2026-03-30T07:00:00Z'), [BOB]);
    });

    it('hands off at 09:00 local across the October change (shift 30 alice is 169 h, 31 bob)', async () => {
      assert.deepEqual(await onCall(id, '2026-10-19T06:59:59Z'), [CAROL]);
      assert.deepEqual(await onCall(id, '2026-10-19T07:00:00Z'), [ALICE]);
      assert.deepEqual(await onCall(id, '2026-10-25T12:00:00Z'), [ALICE]);
      assert.deepEqual(await onCall(id, '2026-10-26T07:30:00Z'), [ALICE]); // 08:30 CET
      assert.deepEqual(await onCall(id, '2026-10-26T08:00:00Z'), [BOB]);
    });

    it('answers on-calls with participants, and reads an unescaped "+" in date as the offset', async () => {
      const full = await ok('GET', `/v2/schedules/${id}/on-calls?date=2026-03-30T08:59:59%2B02:00`);
      assert.deepEqual(full.data._parent, { id, name: 'Berlin weekly', enabled: true });
      assert.equal(full.data.onCallParticipants.length, 1);
      assert.equal(full.data.onCallParticipants[0].name, ALICE);
      assert.equal(full.data.onCallParticipants[0].type, 'user');
      // A "+" left unescaped arrives as a space.
      const raw = await ok('GET', `/v2/schedules/${id}/on-calls?flat=true&date=2026-03-30T09:00:00+02:00`);
      assert.deepEqual(raw.data.onCallRecipients, [BOB]);
      const bad = await server.call('GET', `/v2/schedules/${id}/on-calls?date=yesterday`);
      assert.equal(bad.status, 422);
      assert.ok(bad.body.errors.date);
      // A bare date ends like an offset ("-30"), and would be midnight wherever Vigil runs.
      for (const date of ['2026-03-30', '2026-03']) {
        const bare = await server.call('GET', `/v2/schedules/${id}/on-calls?date=${date}`);
        assert.equal(bare.status, 422, date);
        assert.match(
          bare.body.errors.date,
          /without a time; give an instant such as "2026-03[-\d]*T00:00:00Z"/,
        );
      }
    });

    it('next-on-calls names the next person and their whole shift', async () => {
      const next = await ok('GET', `/v2/schedules/${id}/next-on-calls?date=2026-10-20T00:00:00Z`);
      assert.equal(next.data.nextOnCallRecipients[0].name, BOB);
      assert.equal(next.data.exactNextOnCallRecipients[0].name, BOB);
      assert.deepEqual(next.data.nextShift, {
        user: next.data.nextOnCallRecipients[0],
        startDate: '2026-10-26T08:00:00Z',
        endDate: '2026-11-02T08:00:00Z',
      });
      // Flat, the usernames go under …Participants, as Opsgenie (and its Go SDK, which decodes …Recipients
      // as objects) has them; …Recipients are left out, as on-calls leaves onCallParticipants out.
      const flat = await ok('GET', `/v2/schedules/${id}/next-on-calls?flat=true&date=2026-10-20T00:00:00Z`);
      assert.deepEqual(flat.data.nextOnCallParticipants, [BOB]);
      assert.deepEqual(flat.data.exactNextOnCallParticipants, [BOB]);
      assert.ok(!('nextOnCallRecipients' in flat.data) && !('exactNextOnCallRecipients' in flat.data));
      assert.ok(!('nextOnCallParticipants' in next.data) && !('exactNextOnCallParticipants' in next.data));
      for (const body of [next.data, flat.data]) {
        for (const recipient of [
          ...(body.nextOnCallRecipients ?? []),
          ...(body.exactNextOnCallRecipients ?? []),
        ]) {
          assert.deepEqual(Object.keys(recipient).sort(), ['id', 'name', 'type'], JSON.stringify(recipient));
        }
      }
      assert.deepEqual(
        Object.keys(next.data.nextOnCallRecipients[0]).sort(),
        ['id', 'name', 'type'],
        'the objects are there to check',
      );
    });

    it('timeline: two weeks from a Monday 01:00 CET end on a Monday 01:00 CEST', async () => {
      const t = await ok(
        'GET',
        `/v2/schedules/${id}/timeline?date=2026-03-23T00:00:00Z&interval=2&intervalUnit=weeks`,
      );
      assert.equal(t.data.startDate, '2026-03-23T00:00:00Z');
      assert.equal(t.data.endDate, '2026-04-05T23:00:00Z');
      const periods = (entry: Json) =>
        entry.periods.map((p: Json) => [p.recipient.name, p.startDate, p.endDate, p.type]);
      const expected = [
        [ALICE, '2026-03-23T08:00:00Z', '2026-03-30T07:00:00Z', 'default'],
        [BOB, '2026-03-30T07:00:00Z', '2026-04-05T23:00:00Z', 'default'],
      ];
      assert.equal(t.data.finalTimeline.rotations.length, 1);
      assert.equal(t.data.finalTimeline.rotations[0].name, 'Primary');
      assert.equal(t.data.finalTimeline.rotations[0].order, 0);
      assert.deepEqual(periods(t.data.finalTimeline.rotations[0]), expected);
      assert.deepEqual(periods(t.data.baseTimeline.rotations[0]), expected);

      const tooLong = await server.call('GET', `/v2/schedules/${id}/timeline?interval=4&intervalUnit=months`);
      assert.equal(tooLong.status, 422);
      assert.match(tooLong.body.errors.interval, /at most 3 months/);
      const days = await server.call('GET', `/v2/schedules/${id}/timeline?interval=93&intervalUnit=days`);
      assert.equal(days.status, 200);
    });
  });

  describe('daily 09:00 in America/New_York, with an override', () => {
    let id: string;
    before(async () => {
      id = await createSchedule({
        name: 'NY daily',
        timezone: 'America/New_York',
        rotations: [
          {
            name: 'Days',
            startDate: '2026-03-06T09:00:00-05:00',
            type: 'daily',
            participants: [
              { type: 'user', username: ALICE },
              { type: 'user', username: BOB },
            ],
          },
        ],
      });
    });

    it('keeps 09:00 local across 2026-03-08 (23 h) and 2026-11-01 (25 h)', async () => {
      assert.deepEqual(await onCall(id, '2026-03-06T14:00:00Z'), [ALICE]);
      assert.deepEqual(await onCall(id, '2026-03-08T12:59:59Z'), [BOB]); // 08:59:59 EDT
      assert.deepEqual(await onCall(id, '2026-03-08T13:00:00Z'), [ALICE]); // 09:00 EDT
      // Day 239 (2026-10-31, bob) lasts until 2026-11-01 09:00 EST.
      assert.deepEqual(await onCall(id, '2026-11-01T13:30:00Z'), [BOB]); // 08:30 EST
      assert.deepEqual(await onCall(id, '2026-11-01T14:00:00Z'), [ALICE]);
    });

    it('next-on-calls across the spring change', async () => {
      const next = await ok('GET', `/v2/schedules/${id}/next-on-calls?date=2026-03-07T20:00:00Z`);
      assert.deepEqual(next.data.nextShift, {
        user: next.data.nextOnCallRecipients[0],
        startDate: '2026-03-08T13:00:00Z',
        endDate: '2026-03-09T13:00:00Z',
      });
      assert.equal(next.data.nextShift.user.name, ALICE);
    });

    it('an override spanning a handoff, in the API and the timeline', async () => {
      const created = await server.call('POST', `/v2/schedules/${id}/overrides`, {
        alias: 'carol-covers',
        user: { type: 'user', username: CAROL },
        startDate: '2026-03-07T07:00:00-05:00',
        endDate: '2026-03-07T11:00:00-05:00',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.data, { alias: 'carol-covers' });
      assert.equal(
        (
          await server.call('POST', `/v2/schedules/${id}/overrides`, {
            alias: 'carol-covers',
            user: { type: 'user', username: CAROL },
            startDate: '2026-04-07T07:00:00Z',
            endDate: '2026-04-07T11:00:00Z',
          })
        ).status,
        409,
      );

      const got = await ok('GET', `/v2/schedules/${id}/overrides/carol-covers`);
      assert.deepEqual(got.data._parent, { id, name: 'NY daily', enabled: true });
      assert.equal(got.data.user.username, CAROL);
      assert.equal(got.data.startDate, '2026-03-07T12:00:00Z');
      assert.equal(got.data.endDate, '2026-03-07T16:00:00Z');
      assert.deepEqual(got.data.rotations, []);
      assert.equal((await ok('GET', `/v2/schedules/${id}/overrides`)).data.length, 1);

      assert.deepEqual(await onCall(id, '2026-03-07T11:59:59Z'), [ALICE]);
      assert.deepEqual(await onCall(id, '2026-03-07T13:00:00Z'), [CAROL]); // alice's shift
      assert.deepEqual(await onCall(id, '2026-03-07T15:00:00Z'), [CAROL]); // bob's shift
      assert.deepEqual(await onCall(id, '2026-03-07T16:00:00Z'), [BOB]);

      const next = await ok('GET', `/v2/schedules/${id}/next-on-calls?date=2026-03-07T10:00:00Z`);
      assert.equal(next.data.nextShift.user.name, CAROL);
      assert.equal(next.data.nextShift.startDate, '2026-03-07T12:00:00Z');
      assert.equal(next.data.nextShift.endDate, '2026-03-07T16:00:00Z');

      // One day from midnight EST: the override goes to the entry of no single rotation.
      const t = await ok(
        'GET',
        `/v2/schedules/${id}/timeline?date=2026-03-07T00:00:00-05:00&interval=1&intervalUnit=days`,
      );
      assert.equal(t.data.endDate, '2026-03-08T05:00:00Z');
      const [days, others] = t.data.finalTimeline.rotations;
      assert.equal(days.name, 'Days');
      assert.deepEqual(
        days.periods.map((p: Json) => [p.recipient.name, p.startDate, p.endDate, p.type]),
        [
          [ALICE, '2026-03-07T05:00:00Z', '2026-03-07T12:00:00Z', 'default'],
          [BOB, '2026-03-07T16:00:00Z', '2026-03-08T05:00:00Z', 'default'],
        ],
      );
      assert.equal(others.id, null);
      assert.equal(others.name, 'Overrides and merged');
      assert.deepEqual(
        others.periods.map((p: Json) => [p.recipient.name, p.startDate, p.endDate, p.type]),
        [[CAROL, '2026-03-07T12:00:00Z', '2026-03-07T16:00:00Z', 'override']],
      );
      assert.deepEqual(
        t.data.baseTimeline.rotations[0].periods.map((p: Json) => [p.recipient.name, p.startDate, p.endDate]),
        [
          [ALICE, '2026-03-07T05:00:00Z', '2026-03-07T14:00:00Z'],
          [BOB, '2026-03-07T14:00:00Z', '2026-03-08T05:00:00Z'],
        ],
      );

      // PUT replaces the override: now dave, one hour only.
      await ok('PUT', `/v2/schedules/${id}/overrides/carol-covers`, {
        user: { type: 'user', username: DAVE },
        startDate: '2026-03-07T12:00:00Z',
        endDate: '2026-03-07T13:00:00Z',
      });
      assert.deepEqual(await onCall(id, '2026-03-07T12:30:00Z'), [DAVE]);
      assert.deepEqual(await onCall(id, '2026-03-07T13:00:00Z'), [ALICE]);
      await ok('DELETE', `/v2/schedules/${id}/overrides/carol-covers`);
      assert.deepEqual(await onCall(id, '2026-03-07T12:30:00Z'), [ALICE]);
      assert.equal((await server.call('GET', `/v2/schedules/${id}/overrides/carol-covers`)).status, 404);
    });

    it('a disabled schedule has nobody on call', async () => {
      await ok('PATCH', `/v2/schedules/${id}`, { enabled: false });
      assert.deepEqual(await onCall(id, '2026-03-06T14:00:00Z'), []);
      const next = await ok('GET', `/v2/schedules/${id}/next-on-calls?date=2026-03-06T14:00:00Z`);
      assert.deepEqual(next.data.nextOnCallRecipients, []);
      assert.equal(next.data.nextShift, null);
      await ok('PATCH', `/v2/schedules/${id}`, { enabled: true });
      assert.deepEqual(await onCall(id, '2026-03-06T14:00:00Z'), [ALICE]);
    });
  });

  describe('layers and time restrictions in America/New_York', () => {
    let id: string;
    let business: string;
    before(async () => {
      const weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({
        startDay: day,
        startHour: 9,
        startMin: 0,
        endDay: day,
        endHour: 17,
        endMin: 0,
      }));
      id = await createSchedule({
        name: 'Layered',
        timezone: 'America/New_York',
        // Vigil's layers (the tests below are about them), not Opsgenie's "all".
        rotationsCombine: 'layers',
        rotations: [
          {
            name: 'Around the clock',
            startDate: '2026-03-02T09:00:00-05:00',
            type: 'weekly',
            participants: [
              { type: 'user', username: ALICE },
              { type: 'user', username: BOB },
            ],
          },
          {
            name: 'Business hours',
            startDate: '2026-03-02T09:00:00-05:00',
            type: 'weekly',
            participants: [{ type: 'user', username: CAROL }],
            timeRestriction: { type: 'weekday-and-time-of-day', restrictions: weekdays },
          },
        ],
      });
      const late = await server.call('POST', `/v2/schedules/${id}/rotations`, {
        name: 'Late night',
        startDate: '2026-03-02T00:00:00-05:00',
        type: 'daily',
        participants: [{ type: 'user', username: DAVE }],
        timeRestriction: {
          type: 'time-of-day',
          restriction: { startHour: 22, startMin: 0, endHour: 6, endMin: 0 },
        },
      });
      assert.equal(late.status, 201, JSON.stringify(late.body));
      const rotations = (await ok('GET', `/v2/schedules/${id}/rotations`)).data;
      business = rotations[1].id;
    });

    it('shows the rotations in layer order with their restrictions in Opsgenie’s forms', async () => {
      const { data } = await ok('GET', `/v2/schedules/${id}`);
      assert.deepEqual(
        data.rotations.map((r: Json) => [r.name, r.order]),
        [
          ['Around the clock', 0],
          ['Business hours', 1],
          ['Late night', 2],
        ],
      );
      assert.equal(data.rotations[1].timeRestriction.restrictions.length, 5);
      assert.deepEqual(data.rotations[2].timeRestriction, {
        type: 'time-of-day',
        restriction: { startHour: 22, startMin: 0, endHour: 6, endMin: 0 },
      });
      const list = await ok('GET', '/v2/schedules?expand=rotation');
      const layered = list.data.find((s: Json) => s.id === id);
      assert.equal(layered.rotations.length, 3);
      const plain = await ok('GET', '/v2/schedules');
      assert.deepEqual(plain.data.find((s: Json) => s.id === id).rotations, []);
    });

    it('the highest layer with someone wins', async () => {
      assert.deepEqual(await onCall(id, '2026-03-04T15:00:00Z'), [CAROL]); // Wed 10:00 EST
      assert.deepEqual(await onCall(id, '2026-03-04T23:00:00Z'), [ALICE]); // Wed 18:00 EST
      assert.deepEqual(await onCall(id, '2026-03-05T02:59:00Z'), [ALICE]); // Wed 21:59 EST
      assert.deepEqual(await onCall(id, '2026-03-05T03:00:00Z'), [DAVE]); // Wed 22:00 EST
      assert.deepEqual(await onCall(id, '2026-03-07T04:00:00Z'), [DAVE]); // Fri 23:00 EST
      assert.deepEqual(await onCall(id, '2026-03-07T11:00:00Z'), [ALICE]); // Sat 06:00 EST
      assert.deepEqual(await onCall(id, '2026-03-09T12:30:00Z'), [ALICE]); // Mon 08:30 EDT
      assert.deepEqual(await onCall(id, '2026-03-09T13:30:00Z'), [CAROL]); // Mon 09:30 EDT
      assert.deepEqual(await onCall(id, '2026-03-09T22:00:00Z'), [BOB]); // Mon 18:00 EDT
      // Late night after the change: 22:00 EDT = 02:00Z.
      assert.deepEqual(await onCall(id, '2026-03-10T02:00:00Z'), [DAVE]);
    });

    it('next-on-calls follows the layers', async () => {
      // Friday 21:00Z = 16:00 EST: carol, then alice from 17:00 EST, then dave from 22:00 EST.
      const next = await ok('GET', `/v2/schedules/${id}/next-on-calls?date=2026-03-06T21:00:00Z`);
      assert.deepEqual(next.data.nextShift, {
        user: next.data.nextOnCallRecipients[0],
        startDate: '2026-03-06T22:00:00Z',
        endDate: '2026-03-07T03:00:00Z',
      });
      assert.equal(next.data.nextShift.user.name, ALICE);
    });

    it('an override of one rotation replaces only its person, and goes when the rotation does', async () => {
      const created = await server.call('POST', `/v2/schedules/${id}/overrides`, {
        alias: 'dave-for-carol',
        user: { type: 'user', username: DAVE },
        startDate: '2026-03-10T14:00:00Z',
        endDate: '2026-03-11T02:00:00Z',
        rotations: [{ name: 'business hours' }],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const got = await ok('GET', `/v2/schedules/${id}/overrides/dave-for-carol`);
      assert.deepEqual(got.data.rotations, [{ id: business, name: 'Business hours' }]);
      assert.deepEqual(await onCall(id, '2026-03-10T15:00:00Z'), [DAVE]); // Tue 11:00 EDT, carol's hours
      assert.deepEqual(await onCall(id, '2026-03-10T23:00:00Z'), [BOB]); // Tue 19:00 EDT: not carol's hours

      await ok('DELETE', `/v2/schedules/${id}/rotations/${business}`);
      assert.equal((await server.call('GET', `/v2/schedules/${id}/overrides/dave-for-carol`)).status, 404);
      assert.deepEqual(await onCall(id, '2026-03-10T15:00:00Z'), [BOB]);
      assert.deepEqual(await onCall(id, '2026-03-04T15:00:00Z'), [ALICE]);
    });

    it('PATCH of a rotation changes only what it names; null clears a restriction', async () => {
      const rotations = (await ok('GET', `/v2/schedules/${id}/rotations`)).data;
      const late = rotations.find((r: Json) => r.name === 'Late night');
      await ok('PATCH', `/v2/schedules/${id}/rotations/${late.id}`, {
        participants: [{ type: 'user', username: CAROL }],
      });
      assert.deepEqual(await onCall(id, '2026-03-05T03:00:00Z'), [CAROL]);
      assert.deepEqual(await onCall(id, '2026-03-04T23:00:00Z'), [ALICE]);
      await ok('PATCH', `/v2/schedules/${id}/rotations/${late.id}`, { timeRestriction: null });
      assert.deepEqual(await onCall(id, '2026-03-04T23:00:00Z'), [CAROL]);
      const after = (await ok('GET', `/v2/schedules/${id}/rotations/${late.id}`)).data;
      assert.equal(after.timeRestriction, undefined);
      assert.equal(after.startDate, '2026-03-02T05:00:00Z');
      assert.equal(after.name, 'Late night');
    });
  });

  describe('validation', () => {
    const rotation = (fields: Record<string, unknown> = {}) => ({
      startDate: '2026-03-23T09:00:00+01:00',
      type: 'weekly',
      participants: [{ type: 'user', username: ALICE }],
      ...fields,
    });

    async function errorsOf(method: string, path: string, body: unknown): Promise<Record<string, string>> {
      const answer = await server.call(method, path, body);
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
      return answer.body.errors;
    }

    it('names the fields of a schedule and its rotations at fault', async () => {
      const zone = await errorsOf('POST', '/v2/schedules', { name: 'Bad zone', timezone: 'Mars/Olympus' });
      assert.match(zone.timezone ?? '', /not a known IANA time zone/);

      const errors = await errorsOf('POST', '/v2/schedules', {
        name: 'Bad rotations',
        timezone: 'Europe/Berlin',
        rotations: [
          rotation({ startDate: '2026-03-23T09:00:00' }),
          rotation({ endDate: '2026-03-01T00:00:00Z', length: 0 }),
          rotation({
            participants: [
              { type: 'user', username: ALICE },
              { type: 'user', username: 'ghost@example.com' },
            ],
            timeRestriction: {
              type: 'time-of-day',
              restriction: { startHour: 25, startMin: 0, endHour: 6, endMin: 0 },
            },
          }),
          rotation({
            timeRestriction: {
              type: 'weekday-and-time-of-day',
              restrictions: [{ startHour: 9, startMin: 0, endDay: 'friday', endHour: 17, endMin: 0 }],
            },
          }),
        ],
      });
      assert.match(errors['rotations[0].startDate'] ?? '', /no UTC offset/);
      assert.match(errors['rotations[1].endDate'] ?? '', /must be after startDate/);
      assert.match(errors['rotations[1].length'] ?? '', /at least 1/);
      assert.match(errors['rotations[2].participants[1]'] ?? '', /ghost@example.com/);
      assert.match(errors['rotations[2].timeRestriction.restriction.startHour'] ?? '', /0 to 23/);
      assert.match(errors['rotations[3].timeRestriction.restrictions[0].startDay'] ?? '', /monday/);
      // Nothing was created.
      assert.equal(
        (await server.call('GET', '/v2/schedules/Bad%20rotations?identifierType=name')).status,
        404,
      );

      const type = await errorsOf('POST', '/v2/schedules', {
        name: 'Bad type',
        timezone: 'UTC',
        rotations: [rotation({ type: 'monthly' })],
      });
      assert.ok(type['rotations[0].type']);
      const both = await errorsOf('POST', '/v2/schedules', {
        name: 'Both forms',
        timezone: 'UTC',
        rotations: [
          rotation({
            timeRestriction: {
              type: 'time-of-day',
              restriction: { startHour: 1, startMin: 0, endHour: 2, endMin: 0 },
              restrictions: [],
            },
          }),
        ],
      });
      assert.ok(both['rotations[0].timeRestriction']);
      const team = await errorsOf('POST', '/v2/schedules', {
        name: 'No team',
        timezone: 'UTC',
        ownerTeam: { name: 'Nobody' },
      });
      assert.ok(team.ownerTeam);
    });

    it('names the fields of rotations and overrides posted alone', async () => {
      const id = await createSchedule({ name: 'Validation', timezone: 'UTC', rotations: [rotation()] });
      const errors = await errorsOf('POST', `/v2/schedules/${id}/rotations`, rotation({ startDate: 'soon' }));
      assert.match(errors.startDate ?? '', /not a valid ISO 8601/);
      const override = await errorsOf('POST', `/v2/schedules/${id}/overrides`, {
        user: { type: 'user', username: 'ghost@example.com' },
        startDate: '2026-03-24T00:00:00Z',
        endDate: '2026-03-23T00:00:00Z',
        rotations: [{ name: 'No such rotation' }],
      });
      assert.ok(override.user);
      assert.match(override.endDate ?? '', /must be after startDate/);
      assert.ok(override['rotations[0]']);
      const far = await errorsOf('POST', `/v2/schedules/${id}/overrides`, {
        user: { type: 'user', username: ALICE },
        startDate: '1960-03-24T00:00:00Z',
        endDate: '2026-03-24T00:00:00Z',
      });
      assert.match(far.startDate ?? '', /out of range/);
    });

    it('404s unknown schedules, rotations and overrides; 409s a taken name', async () => {
      const missing = await server.call('GET', '/v2/schedules/4b1e2d0c-0000-4000-8000-000000000000');
      assert.equal(missing.status, 404);
      assert.equal(
        missing.body.message,
        'Schedule with id [4b1e2d0c-0000-4000-8000-000000000000] does not exist.',
      );
      const byName = await server.call('GET', '/v2/schedules/Nope?identifierType=name');
      assert.equal(byName.body.message, 'Schedule with name [Nope] does not exist.');
      assert.equal((await server.call('GET', '/v2/schedules/not-a-uuid/on-calls')).status, 404);
      const id = await createSchedule({ name: 'Lookups', timezone: 'UTC' });
      assert.equal((await server.call('GET', `/v2/schedules/${id}/rotations/nope`)).status, 404);
      assert.equal((await server.call('DELETE', `/v2/schedules/${id}/overrides/nope`)).status, 404);
      assert.equal(
        (await server.call('POST', '/v2/schedules', { name: 'LOOKUPS', timezone: 'UTC' })).status,
        409,
      );
      await ok('DELETE', `/v2/schedules/${id}`);
      assert.equal((await server.call('GET', `/v2/schedules/${id}`)).status, 404);
    });

    it('refuses to delete a schedule an escalation or a routing rule uses, and says which', async () => {
      const id = await createSchedule({ name: 'In use', timezone: 'UTC' });
      await ok('POST', '/v2/teams', { name: 'Users of schedules' });
      await ok('POST', '/v2/escalations', {
        name: 'Uses the schedule',
        rules: [
          {
            condition: 'if-not-acked',
            notifyType: 'default',
            delay: { timeAmount: 0 },
            recipient: { type: 'schedule', id },
          },
        ],
      });
      await ok('PUT', '/v2/teams/Users%20of%20schedules/routing-rules/default?teamIdentifierType=name', {
        notify: { type: 'schedule', id },
      });
      const refused = await server.call('DELETE', `/v2/schedules/${id}`);
      assert.equal(refused.status, 409);
      assert.match(refused.body.message, /escalation \[Uses the schedule\]/);
      assert.match(refused.body.message, /the default rule of team \[Users of schedules\]/);
      assert.equal((await server.call('GET', `/v2/schedules/${id}`)).status, 200);
    });
  });

  describe('updating a schedule', () => {
    it('PATCH with rotations replaces them (and the overrides of only the old ones); a new zone moves handoffs', async () => {
      const id = await createSchedule({
        name: 'Movable',
        timezone: 'Europe/Berlin',
        rotations: [
          {
            name: 'Old',
            startDate: '2026-03-23T09:00:00+01:00',
            type: 'weekly',
            participants: [{ type: 'user', username: ALICE }],
          },
        ],
      });
      const old = (await ok('GET', `/v2/schedules/${id}/rotations`)).data[0].id;
      const window = { startDate: '2026-05-01T00:00:00Z', endDate: '2026-05-02T00:00:00Z' };
      await ok('POST', `/v2/schedules/${id}/overrides`, {
        alias: 'scoped',
        user: { type: 'user', username: BOB },
        rotations: [{ id: old }],
        ...window,
      });
      await ok('POST', `/v2/schedules/${id}/overrides`, {
        alias: 'whole',
        user: { type: 'user', username: DAVE },
        ...window,
      });

      // Daily at 09:00 Berlin time: carol 03-23, dave 03-24, ... carol 03-29 (07:00Z, CEST), dave 03-30 07:00Z.
      await ok('PATCH', `/v2/schedules/${id}`, {
        name: 'Moved',
        rotations: [
          {
            name: 'New',
            startDate: '2026-03-23T09:00:00+01:00',
            type: 'daily',
            participants: [
              { type: 'user', username: CAROL },
              { type: 'user', username: DAVE },
            ],
          },
        ],
      });
      const { data } = await ok('GET', '/v2/schedules/moved?identifierType=name');
      assert.deepEqual(
        data.rotations.map((r: Json) => r.name),
        ['New'],
      );
      assert.deepEqual(
        (await ok('GET', `/v2/schedules/${id}/overrides`)).data.map((o: Json) => o.alias),
        ['whole'],
      );
      assert.deepEqual(await onCall(id, '2026-03-30T07:30:00Z'), [DAVE]);

      // In New York the same instant starts the rotation at 04:00 EDT, so every handoff is at 08:00Z.
      await ok('PATCH', `/v2/schedules/${id}`, { timezone: 'America/New_York' });
      assert.deepEqual(await onCall(id, '2026-03-30T07:30:00Z'), [CAROL]);
      assert.deepEqual(await onCall(id, '2026-03-30T08:00:00Z'), [DAVE]);
      assert.deepEqual(await onCall(id, '2026-05-01T12:00:00Z'), [DAVE]);

      const zone = await server.call('PATCH', `/v2/schedules/${id}`, { timezone: 'Europe/Atlantis' });
      assert.equal(zone.status, 422);
      assert.ok(zone.body.errors.timezone);
      await createSchedule({ name: 'Taken', timezone: 'UTC' });
      assert.equal((await server.call('PATCH', `/v2/schedules/${id}`, { name: 'taken' })).status, 409);
    });

    it('a deleted user drops out of rotations; the rest of the rotation goes on', async () => {
      const frank = (
        await ok('POST', '/v2/users', {
          username: 'frank@example.com',
          fullName: 'Frank',
          role: { name: 'User' },
        })
      ).data.id;
      const id = await createSchedule({
        name: 'With Frank',
        timezone: 'UTC',
        rotations: [
          {
            startDate: '2026-01-01T00:00:00Z',
            type: 'daily',
            participants: [
              { type: 'user', id: frank },
              { type: 'user', username: ALICE },
            ],
          },
        ],
      });
      assert.deepEqual(await onCall(id, '2026-01-01T12:00:00Z'), ['frank@example.com']);
      await ok('DELETE', `/v2/users/${frank}`);
      assert.deepEqual(await onCall(id, '2026-01-01T12:00:00Z'), [ALICE]);
      const [rotation] = (await ok('GET', `/v2/schedules/${id}/rotations`)).data;
      assert.deepEqual(
        rotation.participants.map((p: Json) => p.username),
        [ALICE],
      );
      await ok('PATCH', `/v2/schedules/${id}/rotations/${rotation.id}`, { name: 'Renamed' });
    });
  });

  describe('permissions', () => {
    it('a plain user reads but does not write', async () => {
      const id = await createSchedule({
        name: 'Read only for erin',
        timezone: 'UTC',
        rotations: [
          {
            startDate: '2026-01-01T00:00:00Z',
            type: 'daily',
            participants: [{ type: 'user', username: ERIN }],
          },
        ],
      });
      assert.equal((await server.call('GET', '/v2/schedules', undefined, erinKey)).status, 200);
      assert.equal((await server.call('GET', `/v2/schedules/${id}`, undefined, erinKey)).status, 200);
      const onCalls = await server.call(
        'GET',
        `/v2/schedules/${id}/on-calls?flat=true&date=2026-02-01T00:00:00Z`,
        undefined,
        erinKey,
      );
      assert.deepEqual(onCalls.body.data.onCallRecipients, [ERIN]);
      assert.equal(
        (await server.call('GET', `/v2/schedules/${id}/timeline`, undefined, erinKey)).status,
        200,
      );

      const writes: [string, string, unknown][] = [
        ['POST', '/v2/schedules', { name: 'Erin’s', timezone: 'UTC' }],
        ['PATCH', `/v2/schedules/${id}`, { enabled: false }],
        ['DELETE', `/v2/schedules/${id}`, undefined],
        [
          'POST',
          `/v2/schedules/${id}/rotations`,
          { startDate: '2026-01-01T00:00:00Z', type: 'daily', participants: [] },
        ],
        [
          'POST',
          `/v2/schedules/${id}/overrides`,
          {
            user: { type: 'user', username: ERIN },
            startDate: '2026-01-01T00:00:00Z',
            endDate: '2026-01-02T00:00:00Z',
          },
        ],
      ];
      for (const [method, path, body] of writes) {
        const answer = await server.call(method, path, body, erinKey);
        assert.equal(answer.status, 403, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      }
      assert.equal((await ok('GET', `/v2/schedules/${id}`)).data.enabled, true);
    });

    it("a team's admin manages the team's schedules and no others", async () => {
      const created = await server.call(
        'POST',
        '/v2/schedules',
        { name: 'Ops nights', timezone: 'Europe/Berlin', ownerTeam: { name: 'Ops' } },
        daveKey,
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.data.id;
      const rotation = await server.call(
        'POST',
        `/v2/schedules/${id}/rotations`,
        {
          startDate: '2026-01-01T00:00:00Z',
          type: 'weekly',
          participants: [{ type: 'user', username: DAVE }],
        },
        daveKey,
      );
      assert.equal(rotation.status, 201, JSON.stringify(rotation.body));
      assert.equal(rotation.body.data.name, 'Rotation 1');

      const noTeam = await server.call(
        'POST',
        '/v2/schedules',
        { name: 'Dave global', timezone: 'UTC' },
        daveKey,
      );
      assert.equal(noTeam.status, 403);
      const other = await createSchedule({ name: 'Not Ops', timezone: 'UTC' });
      assert.equal(
        (await server.call('PATCH', `/v2/schedules/${other}`, { enabled: false }, daveKey)).status,
        403,
      );
      assert.equal(
        (await server.call('PATCH', `/v2/schedules/${id}`, { ownerTeam: null }, daveKey)).status,
        403,
      );
      assert.equal((await server.call('DELETE', `/v2/schedules/${id}`, undefined, daveKey)).status, 200);
    });
  });

  describe('across schedules and as a calendar', () => {
    let id: string;
    before(async () => {
      id = await createSchedule({
        name: 'Export weekly',
        timezone: 'UTC',
        rotations: [
          {
            name: 'All week',
            startDate: '2026-01-05T09:00:00Z',
            type: 'weekly',
            participants: [
              { type: 'user', username: CAROL },
              { type: 'user', username: DAVE },
            ],
          },
        ],
      });
    });

    it('GET /v2/schedules/on-calls answers who is on call in every schedule', async () => {
      const date = encodeURIComponent('2026-03-10T12:00:00Z');
      const flat = await ok('GET', `/v2/schedules/on-calls?flat=true&date=${date}`);
      const mine = flat.data.find((d: Json) => d._parent.id === id);
      // 2026-03-09 is week 9 from 2026-01-05: odd weeks are Dave's.
      assert.deepEqual(mine, {
        _parent: { id, name: 'Export weekly', enabled: true },
        onCallRecipients: [DAVE],
      });
      assert.ok(flat.data.length >= 2, 'the other schedules are there too');
      const full = await ok('GET', `/v2/schedules/on-calls?date=${date}`);
      const participants = full.data.find((d: Json) => d._parent.id === id).onCallParticipants;
      assert.deepEqual(
        participants.map((u: Json) => [u.type, u.name]),
        [['user', DAVE]],
      );
      assert.equal((await server.call('GET', '/v2/schedules/on-calls?date=yesterday')).status, 422);
    });

    it("GET /v2/users/{identifier}/schedules lists the schedules a user's rotations put them in", async () => {
      const carol = await ok('GET', `/v2/users/${encodeURIComponent(CAROL)}/schedules`);
      const names = carol.data.map((d: Json) => d.name);
      assert.ok(names.includes('Export weekly') && names.includes('Berlin weekly'), names.join(', '));
      assert.ok(!names.includes('NY daily'), 'Carol is not in the New York rotation');
      const erin = await ok('GET', `/v2/users/${encodeURIComponent(ERIN)}/schedules`);
      assert.ok(!erin.data.some((d: Json) => d.name === 'Export weekly'));
      assert.equal((await server.call('GET', '/v2/users/nobody@example.com/schedules')).status, 404);
    });

    it('GET /v2/schedules/{identifier}.ics exports the shifts as iCalendar', async () => {
      const response = await fetch(
        `${server.url}/v2/schedules/${encodeURIComponent('Export weekly')}.ics?identifierType=name`,
        {
          headers: { authorization: `GenieKey ${server.key}` },
        },
      );
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/calendar/);
      const ics = await response.text();
      assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
      const events = ics.match(/BEGIN:VEVENT/g)?.length ?? 0;
      assert.ok(events >= 14 && events <= 16, `about 14 weekly shifts in 14 weeks, got ${events}`);
      assert.match(ics, /SUMMARY:Carol \(carol@example.com\) on call/);
      assert.match(ics, /DTSTART:\d{8}T090000Z/);
      // Every shift starts on a Monday at 09:00, the first too: the one under way when the feed's window
      // opens (a week ago) keeps its real start, which its UID also names, rather than that instant.
      const starts = [...ics.matchAll(/DTSTART:(\d{4})(\d{2})(\d{2})T(\d{6})Z/g)].map(
        ([, y, m, d, time]) => ({ date: new Date(`${y}-${m}-${d}T00:00:00Z`), time }),
      );
      for (const start of starts) {
        assert.equal(start.date.getUTCDay(), 1, start.date.toISOString());
        assert.equal(start.time, '090000');
      }
      const weekAgo = Date.now() - 7 * 24 * 3_600_000;
      assert.ok((starts[0]?.date.getTime() ?? Infinity) <= weekAgo, 'the first shift began over a week ago');
      const uid = /UID:([^\r]*)/.exec(ics)?.[1] ?? '';
      const first = /DTSTART:(\w*)/.exec(ics)?.[1] ?? '';
      assert.ok(uid.startsWith(`${id}-${first}-`), `${uid} names ${first}`);
      const byId = await server.call('GET', `/v2/schedules/${id}.ics`);
      assert.equal(byId.status, 200);
      assert.equal((await server.call('GET', '/v2/schedules/nope.ics?identifierType=name')).status, 404);
    });

    it("GET /v2/schedules/on-calls/{user}.ics exports the user's own shifts in every schedule", async () => {
      const FIONA = 'fiona@example.com';
      const GUS = 'gus@example.com';
      for (const [username, fullName] of [
        [FIONA, 'Fiona'],
        [GUS, 'Gus'],
      ] as const) {
        await ok('POST', '/v2/users', { username, fullName, role: { name: 'User' } });
      }
      const rotation = (type: string) => ({
        startDate: '2026-01-05T09:00:00Z',
        type,
        participants: [
          { type: 'user', username: FIONA },
          { type: 'user', username: GUS },
        ],
      });
      const weekly = await createSchedule({
        name: 'Fiona weekly',
        timezone: 'UTC',
        rotations: [rotation('weekly')],
      });
      const daily = await createSchedule({
        name: 'Fiona daily',
        timezone: 'UTC',
        rotations: [rotation('daily')],
      });
      const calendar = async (path: string) => {
        const response = await fetch(`${server.url}${path}`, {
          headers: { authorization: `GenieKey ${server.key}` },
        });
        assert.equal(response.status, 200, path);
        assert.match(response.headers.get('content-type') ?? '', /^text\/calendar/);
        const text = await response.text();
        return { text, events: text.split('BEGIN:VEVENT').slice(1) };
      };
      const uids = (events: string[]) => events.map((e) => /UID:([^\r]*)/.exec(e)?.[1] ?? '').sort();
      const { text, events } = await calendar(`/v2/schedules/on-calls/${encodeURIComponent(FIONA)}.ics`);
      assert.match(
        text,
        /^BEGIN:VCALENDAR\r\n[\s\S]*X-WR-CALNAME:Fiona on call\r\n[\s\S]*END:VCALENDAR\r\n$/,
      );
      assert.equal(text.match(/BEGIN:VCALENDAR/g)?.length, 1, 'one calendar');
      for (const event of events) assert.match(event, /SUMMARY:Fiona \(fiona@example.com\) on call/);
      // Exactly Fiona's events of each schedule's own feed: both schedules', and Gus's of neither.
      const own = [
        ...(await calendar(`/v2/schedules/${weekly}.ics`)).events,
        ...(await calendar(`/v2/schedules/${daily}.ics`)).events,
      ].filter((e) => e.includes(`(${FIONA})`));
      assert.deepEqual(uids(events), uids(own));
      for (const id of [weekly, daily]) {
        assert.ok(
          events.some((e) => e.includes(`UID:${id}-`)),
          `a shift of schedule ${id}`,
        );
      }
      const byId = await ok('GET', `/v2/users/${encodeURIComponent(FIONA)}`);
      assert.deepEqual(
        uids((await calendar(`/v2/schedules/on-calls/${byId.data.id}.ics`)).events),
        uids(events),
      );

      const unknown = await server.call('GET', '/v2/schedules/on-calls/nobody@example.com.ics');
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.message, /User \[nobody@example.com\] does not exist/);
      // The routes it sits between still answer: the across-schedules list, a schedule's feed by id and
      // by name, and the on-calls of a schedule named like the list.
      assert.equal((await server.call('GET', '/v2/schedules/on-calls?flat=true')).status, 200);
      assert.equal((await server.call('GET', `/v2/schedules/${weekly}.ics`)).status, 200);
      const named = await createSchedule({
        name: 'on-calls',
        timezone: 'UTC',
        rotations: [rotation('weekly')],
      });
      const byName = await calendar('/v2/schedules/on-calls.ics?identifierType=name');
      assert.ok(byName.events.every((e) => e.includes(`UID:${named}-`)) && byName.events.length > 0);
      const onCalls = await ok('GET', '/v2/schedules/on-calls/on-calls?identifierType=name');
      assert.equal(onCalls.data._parent.id, named);
    });
  });

  describe('Opsgenie clients, far dates and limits', () => {
    const daily = (name: string, username: string) => ({
      name,
      startDate: '2026-01-01T00:00:00Z',
      type: 'daily',
      participants: [{ type: 'user', username }],
    });

    it("takes an override's rotation by name when its id comes empty, as the Go SDK sends it", async () => {
      const id = await createSchedule({
        name: 'Go SDK overrides',
        timezone: 'UTC',
        rotations: [daily('Primary', ALICE), daily('Secondary', BOB)],
      });
      const rotations: Json[] = (await ok('GET', `/v2/schedules/${id}/rotations`)).data;
      const idOf = (name: string) => rotations.find((r) => r.name === name)?.id;
      const window = { startDate: '2026-02-01T00:00:00Z', endDate: '2026-02-02T00:00:00Z' };
      const user = { type: 'user', username: CAROL };
      // The Go SDK's RotationIdentifier has no omitempty: a rotation named by name comes with "id": "".
      const created = await server.call('POST', `/v2/schedules/${id}/overrides`, {
        alias: 'go-sdk',
        user,
        rotations: [{ id: '', name: 'Primary' }],
        ...window,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const rotationsOf = async () =>
        (await ok('GET', `/v2/schedules/${id}/overrides/go-sdk`)).data.rotations;
      assert.deepEqual(await rotationsOf(), [{ id: idOf('Primary'), name: 'Primary' }]);
      await ok('PUT', `/v2/schedules/${id}/overrides/go-sdk`, {
        user,
        rotations: [{ id: '', name: 'secondary' }],
        ...window,
      });
      assert.deepEqual(await rotationsOf(), [{ id: idOf('Secondary'), name: 'Secondary' }]);
      // By id, with the name empty.
      await ok('PUT', `/v2/schedules/${id}/overrides/go-sdk`, {
        user,
        rotations: [{ id: idOf('Primary'), name: '' }],
        ...window,
      });
      assert.deepEqual(await rotationsOf(), [{ id: idOf('Primary'), name: 'Primary' }]);
      const neither = await server.call('PUT', `/v2/schedules/${id}/overrides/go-sdk`, {
        user,
        rotations: [{ id: '', name: '' }],
        ...window,
      });
      assert.equal(neither.status, 422, JSON.stringify(neither.body));
      assert.match(neither.body.errors['rotations[0]'] ?? '', /Give the rotation as/);
    });

    it('refuses a date query outside the years 1970-9999 with a 422, not a 500', async () => {
      const id = await createSchedule({
        name: 'Far dates',
        timezone: 'UTC',
        rotations: [
          {
            ...daily('Hourly', ALICE),
            type: 'hourly',
            participants: [
              { type: 'user', username: ALICE },
              { type: 'user', username: BOB },
            ],
          },
        ],
      });
      // The last instant JavaScript dates reach, and one before the first stored one.
      for (const date of ['+275760-09-10T00:00:00Z', '1969-12-31T23:59:59Z']) {
        for (const path of [
          `/v2/schedules/${id}/timeline`,
          `/v2/schedules/${id}/next-on-calls`,
          `/v2/schedules/${id}/on-calls`,
          '/v2/schedules/on-calls',
        ]) {
          const answer = await server.call('GET', `${path}?date=${encodeURIComponent(date)}`);
          assert.equal(answer.status, 422, `${path} ${date}: ${JSON.stringify(answer.body)}`);
          assert.match(
            answer.body.errors.date ?? '',
            /out of range: give a date between the years 1970 and 9999/,
          );
        }
      }
      // The last year stored dates reach still answers.
      const late = await ok(
        'GET',
        `/v2/schedules/${id}/next-on-calls?date=${encodeURIComponent('9999-12-31T12:00:00Z')}`,
      );
      assert.equal(late.data.nextShift.startDate, '9999-12-31T13:00:00Z');
    });

    it('refuses a 51st rotation added alone, as it does in a whole schedule', async () => {
      const fifty = Array.from({ length: 50 }, (_, i) => daily(`R${i + 1}`, ALICE));
      const id = await createSchedule({ name: 'Fifty rotations', timezone: 'UTC', rotations: fifty });
      const refused = await server.call('POST', `/v2/schedules/${id}/rotations`, daily('R51', ALICE));
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.match(refused.body.message, /already has 50 rotations, the most one schedule may have \(50\)/);
      assert.equal((await ok('GET', `/v2/schedules/${id}/rotations`)).data.length, 50);
      const whole = await server.call('POST', '/v2/schedules', {
        name: 'Fifty-one rotations',
        timezone: 'UTC',
        rotations: [...fifty, daily('R51', ALICE)],
      });
      assert.equal(whole.status, 422, JSON.stringify(whole.body));
      // With one gone there is room again.
      const [first] = (await ok('GET', `/v2/schedules/${id}/rotations`)).data;
      await ok('DELETE', `/v2/schedules/${id}/rotations/${first.id}`);
      await ok('POST', `/v2/schedules/${id}/rotations`, daily('R51', ALICE));
    });

    it('refuses an override past 1,000 that have not ended; ended ones do not count', async () => {
      const id = await createSchedule({ name: 'Many overrides', timezone: 'UTC' });
      const alice = (await ok('GET', `/v2/users/${encodeURIComponent(ALICE)}`)).data.id;
      const open = { startDate: '2030-01-01T00:00:00Z', endDate: '2030-01-02T00:00:00Z' };
      const ended = { startDate: '2020-01-01T00:00:00Z', endDate: '2020-01-02T00:00:00Z' };
      // 999 open ones and 5 ended ones, written straight to the table (a request each would be slow).
      await server.app.context.db
        .insertInto('schedule_overrides')
        .values(
          [
            ...Array.from({ length: 999 }, (_, i) => ({ alias: `open-${i}`, ...open })),
            ...Array.from({ length: 5 }, (_, i) => ({ alias: `ended-${i}`, ...ended })),
          ].map((o) => ({
            schedule_id: id,
            alias: o.alias,
            user_id: alice,
            start_date: new Date(o.startDate),
            end_date: new Date(o.endDate),
            rotation_ids: null,
          })),
        )
        .execute();
      const post = (alias: string, window: typeof open) =>
        server.call('POST', `/v2/schedules/${id}/overrides`, {
          alias,
          user: { type: 'user', username: BOB },
          ...window,
        });
      assert.equal((await post('open-999', open)).status, 201);
      const refused = await post('open-1000', open);
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.match(
        refused.body.message,
        /already has 1000 overrides that have not ended, the most one schedule may have \(1000\)/,
      );
      // An ended override adds nothing to what is computed: it is taken.
      assert.equal((await post('ended-5', ended)).status, 201);
      // Moving an ended one into the future is refused as a new one would be; within the past it is not.
      const moved = await server.call('PUT', `/v2/schedules/${id}/overrides/ended-5`, {
        user: { type: 'user', username: BOB },
        ...open,
      });
      assert.equal(moved.status, 422, JSON.stringify(moved.body));
      await ok('PUT', `/v2/schedules/${id}/overrides/ended-5`, {
        user: { type: 'user', username: CAROL },
        ...ended,
      });
      // An open one may change within its place.
      await ok('PUT', `/v2/schedules/${id}/overrides/open-0`, {
        user: { type: 'user', username: CAROL },
        ...open,
      });
      await ok('DELETE', `/v2/schedules/${id}/overrides/open-0`);
      assert.equal((await post('open-1000', open)).status, 201);
    });

    it('leaves blocked users out of flat on-calls: a team on call, and a team an escalation on call notifies', async () => {
      for (const username of ['gina@example.com', 'hank@example.com']) {
        await ok('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
      }
      await ok('POST', '/v2/teams', {
        name: 'Partly blocked',
        members: [
          { user: { username: 'gina@example.com' }, role: 'user' },
          { user: { username: 'hank@example.com' }, role: 'user' },
        ],
      });
      await ok('PATCH', '/v2/users/gina@example.com', { blocked: true });
      await ok('POST', '/v2/escalations', {
        name: 'To the partly blocked team',
        rules: [
          {
            condition: 'if-not-acked',
            notifyType: 'default',
            delay: { timeAmount: 0 },
            recipient: { type: 'team', name: 'Partly blocked' },
          },
        ],
      });
      for (const [name, participant] of [
        ['Team on call', { type: 'team', name: 'Partly blocked' }],
        ['Escalation on call', { type: 'escalation', name: 'To the partly blocked team' }],
      ] as const) {
        const id = await createSchedule({
          name,
          timezone: 'UTC',
          rotations: [{ startDate: '2026-01-01T00:00:00Z', type: 'weekly', participants: [participant] }],
        });
        assert.deepEqual(await onCall(id, '2026-02-01T00:00:00Z'), ['hank@example.com'], name);
        const next = await ok('GET', `/v2/schedules/${id}/next-on-calls?flat=true&date=2025-12-31T00:00:00Z`);
        assert.deepEqual(next.data.nextOnCallParticipants, ['hank@example.com'], name);
        assert.deepEqual(next.data.exactNextOnCallParticipants, ['hank@example.com'], name);
      }
    });
  });
});
