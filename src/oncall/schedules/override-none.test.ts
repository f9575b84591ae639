import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { onCallsAt, timeline } from '../schedule.js';

/**
 * Opsgenie's override user may be the reserved word none ({"type": "none"}): nobody is on call in the
 * override's window, in the whole schedule, or in the rotations it names.
 */

let server: TestServer;
let id: string;
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

async function ok(method: string, path: string, body?: unknown): Promise<Json> {
  const answer = await server.call(method, path, body);
  assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function onCall(date: string): Promise<string[]> {
  const body = await ok('GET', `/v2/schedules/${id}/on-calls?flat=true&date=${encodeURIComponent(date)}`);
  return body.data.onCallRecipients;
}

before(async () => {
  server = await startTestServer();
  for (const username of [ALICE, BOB]) {
    await ok('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
  }
  id = (
    await ok('POST', '/v2/schedules', {
      name: 'Quiet nights',
      timezone: 'UTC',
      rotations: [
        {
          name: 'Primary',
          startDate: '2026-03-01T00:00:00Z',
          type: 'daily',
          participants: [{ type: 'user', username: ALICE }],
        },
        {
          name: 'Secondary',
          startDate: '2026-03-01T00:00:00Z',
          type: 'daily',
          participants: [{ type: 'user', username: BOB }],
        },
      ],
    })
  ).data.id;
});

after(async () => {
  await server.stop();
});

describe("overrides of Opsgenie's none", () => {
  it('puts nobody on call (in the whole schedule, or in the rotations named) and reads back as {"type": "none"}', async () => {
    const created = await server.call('POST', `/v2/schedules/${id}/overrides`, {
      alias: 'quiet',
      user: { type: 'none' },
      startDate: '2026-03-10T00:00:00Z',
      endDate: '2026-03-10T06:00:00Z',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await ok('POST', `/v2/schedules/${id}/overrides`, {
      alias: 'no-primary',
      user: { type: 'none' },
      startDate: '2026-03-11T00:00:00Z',
      endDate: '2026-03-11T06:00:00Z',
      rotations: [{ name: 'Primary' }],
    });

    assert.deepEqual(await onCall('2026-03-10T03:00:00Z'), []);
    assert.deepEqual(await onCall('2026-03-10T06:00:00Z'), [ALICE, BOB]);
    assert.deepEqual(await onCall('2026-03-11T03:00:00Z'), [BOB]);
    const next = await ok('GET', `/v2/schedules/${id}/next-on-calls?date=2026-03-10T03:00:00Z`);
    assert.equal(next.data.nextShift.startDate, '2026-03-10T06:00:00Z');
    assert.deepEqual([...next.data.nextOnCallRecipients.map((r: Json) => r.name)].sort(), [ALICE, BOB]);

    const got = await ok('GET', `/v2/schedules/${id}/overrides/quiet`);
    assert.deepEqual(got.data.user, { type: 'none' });
    assert.equal(got.data.startDate, '2026-03-10T00:00:00Z');
    assert.deepEqual(got.data.rotations, []);
    const list = await ok('GET', `/v2/schedules/${id}/overrides`);
    assert.deepEqual(
      list.data.map((o: Json) => [o.alias, o.user, o.rotations.map((r: Json) => r.name)]),
      [
        ['quiet', { type: 'none' }, []],
        ['no-primary', { type: 'none' }, ['Primary']],
      ],
    );

    // PUT to a user and back to none.
    await ok('PUT', `/v2/schedules/${id}/overrides/quiet`, {
      user: { type: 'user', username: BOB },
      startDate: '2026-03-10T00:00:00Z',
      endDate: '2026-03-10T06:00:00Z',
    });
    assert.deepEqual(await onCall('2026-03-10T03:00:00Z'), [BOB]);
    await ok('PUT', `/v2/schedules/${id}/overrides/quiet`, {
      user: { type: 'none' },
      startDate: '2026-03-10T00:00:00Z',
      endDate: '2026-03-10T06:00:00Z',
    });
    assert.deepEqual(await onCall('2026-03-10T03:00:00Z'), []);
  });

  it('in the computation: a later none override wins over an earlier user one, and a none layer shows the lower one through', () => {
    const rotations = ['alice', 'bob'].map((user) => ({
      id: user,
      name: user,
      type: 'daily' as const,
      length: 1,
      participants: [user],
      startDate: '2026-03-01T00:00:00Z',
    }));
    const window = { startDate: '2026-03-10T00:00:00Z', endDate: '2026-03-10T06:00:00Z' };
    const at = new Date('2026-03-10T03:00:00Z');
    const layers = { timezone: 'UTC', rotations, rotationsCombine: 'layers' as const };
    assert.deepEqual(
      onCallsAt(
        {
          ...layers,
          overrides: [
            { user: 'carol', ...window },
            { user: null, ...window },
          ],
        },
        at,
      ),
      [],
    );
    assert.deepEqual(
      onCallsAt(
        {
          ...layers,
          overrides: [
            { user: null, ...window },
            { user: 'carol', ...window },
          ],
        },
        at,
      ),
      [{ user: 'carol', override: true }],
    );
    assert.deepEqual(
      onCallsAt({ ...layers, overrides: [{ user: null, rotationIds: ['bob'], ...window }] }, at),
      [{ user: 'alice', rotationId: 'alice' }],
    );
    const final = timeline(
      { ...layers, overrides: [{ user: null, ...window }] },
      new Date('2026-03-10T00:00:00Z'),
      new Date('2026-03-10T12:00:00Z'),
    ).final;
    assert.deepEqual(final, [
      { user: 'bob', rotationId: 'bob', start: '2026-03-10T06:00:00.000Z', end: '2026-03-10T12:00:00.000Z' },
    ]);
  });
});
