import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * An override may name the rotations it covers by name (Opsgenie's Go SDK sends {"id": "", "name": ...}).
 * Default names were "Rotation <count + 1>", so after a delete a new rotation could take the name of one
 * still there, and an override naming it replaced the person of whichever came first. A default name is
 * now one no rotation of the schedule has, and a name that two rotations share is refused as ambiguous.
 */

let server: TestServer;
const ALICE = 'alice-names@example.com';
const BOB = 'bob-names@example.com';
const CAROL = 'carol-names@example.com';

const weekly = (username: string, name?: string) => ({
  ...(name !== undefined ? { name } : {}),
  startDate: '2026-03-02T00:00:00Z',
  type: 'weekly',
  participants: [{ type: 'user', username }],
});

async function rotationNames(id: string): Promise<string[]> {
  return (await server.callOk('GET', `/v2/schedules/${id}/rotations`)).data.map((r: Json) => r.name);
}

before(async () => {
  server = await startTestServer();
  for (const username of [ALICE, BOB, CAROL]) {
    await server.callOk('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
  }
});

after(async () => {
  await server?.stop();
});

describe('rotation names an override can go by', () => {
  it('a rotation added without a name after a delete gets a name no other rotation has', async () => {
    const id = (
      await server.callOk('POST', '/v2/schedules', {
        name: 'Names after delete',
        timezone: 'UTC',
        rotations: [weekly(ALICE), weekly(BOB)],
      })
    ).data.id;
    const [first] = (await server.callOk('GET', `/v2/schedules/${id}/rotations`)).data;
    await server.callOk('DELETE', `/v2/schedules/${id}/rotations/${first.id}`);
    const added = await server.callOk('POST', `/v2/schedules/${id}/rotations`, weekly(ALICE));
    assert.notEqual(added.data.name, 'Rotation 2');
    assert.deepEqual(await rotationNames(id), ['Rotation 2', added.data.name]);

    // An override of "Rotation 2" replaces bob, the one rotation of that name; alice stays on.
    await server.callOk('POST', `/v2/schedules/${id}/overrides`, {
      user: { type: 'user', username: CAROL },
      startDate: '2026-04-01T00:00:00Z',
      endDate: '2026-04-02T00:00:00Z',
      rotations: [{ id: '', name: 'Rotation 2' }],
    });
    const onCall = await server.callOk(
      'GET',
      `/v2/schedules/${id}/on-calls?flat=true&date=2026-04-01T12:00:00Z`,
    );
    assert.deepEqual([...onCall.data.onCallRecipients].sort(), [ALICE, CAROL]);
  });

  it('rotations given without names beside one named like a default each get a name of their own', async () => {
    const id = (
      await server.callOk('POST', '/v2/schedules', {
        name: 'Names in one body',
        timezone: 'UTC',
        rotations: [weekly(ALICE, 'rotation 2'), weekly(BOB), weekly(CAROL)],
      })
    ).data.id;
    const names = await rotationNames(id);
    assert.equal(new Set(names.map((n) => n.toLowerCase())).size, 3, names.join(', '));
  });

  it('an override naming a rotation two rotations are called is refused, asking for its id', async () => {
    const id = (
      await server.callOk('POST', '/v2/schedules', {
        name: 'Shared names',
        timezone: 'UTC',
        rotations: [weekly(ALICE, 'Primary'), weekly(BOB, 'primary')],
      })
    ).data.id;
    const answer = await server.call('POST', `/v2/schedules/${id}/overrides`, {
      user: { type: 'user', username: CAROL },
      startDate: '2026-04-01T00:00:00Z',
      endDate: '2026-04-02T00:00:00Z',
      rotations: [{ id: '', name: 'Primary' }],
    });
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.match(JSON.stringify(answer.body), /rotation name \\"Primary\\" is ambiguous.*give its id/);
    const overrides = await server.callOk('GET', `/v2/schedules/${id}/overrides`);
    assert.deepEqual(overrides.data, []);

    // By id it is taken.
    const [primary] = (await server.callOk('GET', `/v2/schedules/${id}/rotations`)).data;
    await server.callOk('POST', `/v2/schedules/${id}/overrides`, {
      user: { type: 'user', username: CAROL },
      startDate: '2026-04-01T00:00:00Z',
      endDate: '2026-04-02T00:00:00Z',
      rotations: [{ id: primary.id, name: '' }],
    });
  });
});
