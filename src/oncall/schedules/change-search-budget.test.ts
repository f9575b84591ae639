import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRecipientResolver } from '../../engine/escalation/recipients.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import type { EscalationRule } from '../model.js';
import {
  ChangeSearchTooCostly,
  MAX_CHANGE_SEARCH_PIECES,
  nextOnCalls,
  previousOnCalls,
  type Rotation,
  type Schedule,
} from '../schedule.js';

/**
 * Looking for the next (or previous) change of who is on call walks the timeline until someone new comes
 * (or went), up to years off. Within the documented limits (50 rotations, 100 restriction windows each) a
 * schedule where the same person stays on call through many busy rotations made that walk millions of
 * shifts, seconds of blocking work: the walk has a budget of work (counted as timelines count it, not
 * timed), past which the API answers a 422 and an escalation rule finds nobody, saying why.
 */

/** 100 five-minute windows a day, five an hour from 00:00 to 19:45. */
const WINDOWS = Array.from({ length: 100 }, (_, i) => ({
  startHour: Math.floor(i / 5),
  startMin: (i % 5) * 10,
  endHour: Math.floor(i / 5),
  endMin: (i % 5) * 10 + 5,
}));

/** One weekly rotation (weekly: `weekly`), and 49 hourly ones of A's, each cut into WINDOWS. */
function busy(weekly: string[], weeklyStart = '2026-01-01T00:00:00Z'): Schedule {
  const rotations: Rotation[] = [
    { id: 'w', name: 'w', type: 'weekly', length: 1000, participants: weekly, startDate: weeklyStart },
  ];
  for (let i = 0; i < 49; i++) {
    rotations.push({
      id: `h${i}`,
      name: `h${i}`,
      type: 'hourly',
      length: 1,
      participants: ['A'],
      startDate: '2026-01-01T00:00:00Z',
      timeRestriction: { type: 'time-of-day', restrictions: WINDOWS },
    });
  }
  return { timezone: 'UTC', rotationsCombine: 'all', overrides: [], rotations };
}

const AT = new Date('2026-06-01T00:00:00Z');

function tooCostly(error: unknown, reached: (ms: number) => boolean): boolean {
  assert.ok(error instanceof ChangeSearchTooCostly, String(error));
  // The work done stayed within the budget, and says how far it got.
  assert.ok(error.pieces > 0 && error.pieces <= MAX_CHANGE_SEARCH_PIECES, `${error.pieces} pieces`);
  assert.ok(reached(Date.parse(error.reached)), error.reached);
  return true;
}

describe('the work a look for the next or previous change may take', () => {
  it('stops a look at A on call for years through 49 busy rotations, saying how far it got', () => {
    const schedule = busy(['A']);
    assert.throws(
      () => nextOnCalls(schedule, AT),
      (error) => tooCostly(error, (ms) => ms > AT.getTime()),
    );
    assert.throws(
      () => previousOnCalls(schedule, AT),
      (error) => tooCostly(error, (ms) => ms < AT.getTime()),
    );
  });

  it('still answers for ordinary schedules, and for that one when the change is near', () => {
    // B takes the weekly rotation two days on: found within the budget, busy as the schedule is.
    const near = busy(['B'], '2026-06-03T00:00:00Z');
    assert.deepEqual(
      nextOnCalls(near, AT)?.shifts.map((s) => [s.user, s.start]),
      [['B', '2026-06-03T00:00:00.000Z']],
    );
    // A change a quarter off, and one where nobody new ever comes: an answer, and none.
    const quarterly: Schedule = {
      timezone: 'Europe/Berlin',
      overrides: [],
      rotations: [
        {
          id: 'q',
          name: 'q',
          type: 'weekly',
          length: 13,
          participants: ['A', 'B'],
          startDate: '2026-01-05T09:00:00+01:00',
        },
        ...Array.from({ length: 10 }, (_, i): Rotation => ({
          id: `h${i}`,
          name: `h${i}`,
          type: 'hourly',
          length: 1,
          participants: [`H${i}`],
          startDate: '2026-01-01T00:00:00Z',
        })),
      ],
    };
    assert.equal(nextOnCalls(quarterly, new Date('2026-04-06T12:00:00Z'))?.start, '2026-07-06T07:00:00.000Z');
    assert.equal(
      previousOnCalls(quarterly, new Date('2026-07-05T12:00:00Z'))?.end,
      '2026-04-06T07:00:00.000Z',
    );
    const solo: Schedule = {
      ...quarterly,
      rotations: quarterly.rotations.slice(0, 1).map((r) => ({ ...r, participants: ['A'] })),
    };
    assert.equal(nextOnCalls(solo, AT), undefined);
  });
});

describe('a look that runs out of work, through the API and the escalation engine', () => {
  let server: TestServer;
  let scheduleId: string;
  let orgId: string;

  before(async () => {
    server = await startTestServer();
    const username = 'a-busy@example.com';
    await server.callOk('POST', '/v2/users', { username, fullName: 'A', role: { name: 'User' } });
    const participants = [{ type: 'user', username }];
    const rotations: unknown[] = [
      { type: 'weekly', length: 1000, startDate: '2026-01-01T00:00:00Z', participants },
    ];
    for (let i = 0; i < 49; i++) {
      rotations.push({
        type: 'hourly',
        startDate: '2026-01-01T00:00:00Z',
        participants,
        timeRestriction: { type: 'time-of-day', restrictions: WINDOWS },
      });
    }
    scheduleId = (await server.callOk('POST', '/v2/schedules', { name: 'Busy', timezone: 'UTC', rotations }))
      .data.id;
    orgId = (
      await server.app.context.db
        .selectFrom('schedules')
        .select('org_id')
        .where('id', '=', scheduleId)
        .executeTakeFirstOrThrow()
    ).org_id;
  });

  after(async () => {
    await server?.stop();
  });

  it('next-on-calls answers a 422 saying how far it looked and what to read instead', async () => {
    const answer = await server.call(
      'GET',
      `/v2/schedules/${scheduleId}/next-on-calls?date=${AT.toISOString()}`,
    );
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    const message = String(answer.body.message);
    assert.match(
      message,
      /^Schedule \[Busy\] has nobody new coming on call from 2026-06-01T00:00:00Z until at least 2026-06-/,
    );
    assert.match(message, /timeline/);
  });

  it('an escalation rule for the next or previous finds nobody, and its log says why', async () => {
    const resolve = createRecipientResolver(server.app.context.db, orgId);
    const rule = (notifyType: 'next' | 'previous'): EscalationRule => ({
      condition: 'if-not-acked',
      notifyType,
      delayMinutes: 0,
      recipient: { type: 'schedule', id: scheduleId },
    });
    assert.deepEqual(await resolve(rule('next'), AT), {
      recipients: [],
      target: 'schedule Busy (the next on call was not found within the work allowed)',
    });
    assert.deepEqual(await resolve(rule('previous'), AT), {
      recipients: [],
      target: 'schedule Busy (the previous on call was not found within the work allowed)',
    });
  });
});
