import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRecipientResolver } from '../../engine/escalation/recipients.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import type { EscalationRule } from '../model.js';

/**
 * The next and previous on call are found however far off they are (up to the years the schedule can
 * need), not only within 90 days: a rotation of 13 weeks hands over every 91 days. The rules behind it are
 * pinned in src/oncall/schedule.test.ts; here, the API and the escalation rules that ask for them.
 */

let server: TestServer;
let orgId: string;
const ids: Record<string, string> = {};
const ALICE = 'alice-far@example.com';
const BOB = 'bob-far@example.com';

async function createSchedule(name: string, usernames: string[]): Promise<string> {
  const created = await server.callOk('POST', '/v2/schedules', {
    name,
    timezone: 'Europe/Berlin',
    rotations: [
      {
        name: 'Quarterly',
        type: 'weekly',
        length: 13,
        startDate: '2026-01-05T09:00:00+01:00',
        participants: usernames.map((username) => ({ type: 'user', username })),
      },
    ],
  });
  return created.data.id;
}

function rule(scheduleId: string, notifyType: 'default' | 'next' | 'previous'): EscalationRule {
  return {
    condition: 'if-not-acked',
    notifyType,
    delayMinutes: 0,
    recipient: { type: 'schedule', id: scheduleId },
  };
}

before(async () => {
  server = await startTestServer();
  for (const username of [ALICE, BOB]) {
    const created = await server.callOk('POST', '/v2/users', {
      username,
      fullName: username,
      role: { name: 'User' },
    });
    ids[username] = created.data.id;
  }
  ids.quarterly = await createSchedule('Quarterly', [ALICE, BOB]);
  ids.solo = await createSchedule('Solo', [ALICE]);
  orgId = (
    await server.app.context.db
      .selectFrom('schedules')
      .select('org_id')
      .where('id', '=', ids.quarterly)
      .executeTakeFirstOrThrow()
  ).org_id;
});

after(async () => {
  await server?.stop();
});

describe('a change of who is on call more than 90 days off', () => {
  it('next-on-calls names alice, who comes 91 days after bob', async () => {
    const next = await server.callOk(
      'GET',
      `/v2/schedules/${ids.quarterly}/next-on-calls?flat=true&date=2026-04-06T12:00:00Z`,
    );
    assert.deepEqual(next.data.nextOnCallParticipants, [ALICE]);
    assert.deepEqual(next.data.nextShift, {
      user: { id: ids[ALICE], name: ALICE, type: 'user' },
      startDate: '2026-07-06T07:00:00Z',
      endDate: '2026-10-05T07:00:00Z',
    });
  });

  it('the escalation rules "next" and "previous" page alice', async () => {
    const resolve = createRecipientResolver(server.app.context.db, orgId);
    const next = await resolve(rule(ids.quarterly ?? '', 'next'), new Date('2026-04-06T12:00:00Z'));
    assert.deepEqual(next.recipients, [{ id: ids[ALICE], why: 'next on call in schedule Quarterly' }]);
    const previous = await resolve(rule(ids.quarterly ?? '', 'previous'), new Date('2026-07-05T12:00:00Z'));
    assert.deepEqual(previous.recipients, [
      { id: ids[ALICE], why: 'previously on call in schedule Quarterly' },
    ]);
  });

  it('where nobody comes next or was on call before, the log says which', async () => {
    const resolve = createRecipientResolver(server.app.context.db, orgId);
    const at = new Date('2026-04-06T12:00:00Z');
    const solo = ids.solo ?? '';
    assert.deepEqual(await resolve(rule(solo, 'next'), at), {
      recipients: [],
      target: 'schedule Solo (nobody comes on call next)',
    });
    assert.deepEqual(await resolve(rule(solo, 'previous'), at), {
      recipients: [],
      target: 'schedule Solo (nobody was on call before)',
    });
    assert.deepEqual(
      (await resolve(rule(solo, 'default'), new Date('2025-12-01T00:00:00Z'))).target,
      'schedule Solo (nobody is on call in it)',
    );
  });
});
