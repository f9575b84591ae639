import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ShiftedClock } from '../../work/clock.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Rotation participants of every Opsgenie type on the real server, with a clock the test moves: a daily
 * rotation [alice, team Night (bob, carol), none, escalation Backstop (dave)] started an hour ago, so
 * turn k is [start + k days, start + k + 1 days). An escalation "Via rota" notifies the rota's on-call at
 * once; each test moves the clock a day on and raises an alert to it.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const clock = new ShiftedClock();
let server: TestServer;
const start = new Date(Math.floor((Date.now() - HOUR) / 60_000) * 60_000);
const ids: Record<string, string> = {};

function atTurn(turn: number): string {
  return new Date(start.getTime() + turn * DAY + 2 * HOUR).toISOString();
}

async function onCalls(turn: number, flat: boolean): Promise<Json> {
  const body = await server.callOk(
    'GET',
    `/v2/schedules/Rota/on-calls?scheduleIdentifierType=name&flat=${flat}&date=${encodeURIComponent(atTurn(turn))}`,
  );
  return flat ? body.data.onCallRecipients : body.data.onCallParticipants;
}

async function raiseAlert(message: string): Promise<string> {
  const res = await server.callOk('POST', '/v2/alerts', {
    message,
    responders: [{ type: 'escalation', name: 'Via rota' }],
  });
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.data as Json[]).map((l) => l.log as string);
}

/** The alert's log once the engine and the sender have done all that is due. */
async function settledLogs(alertId: string, until: RegExp): Promise<string[]> {
  await waitFor(
    `a log line matching ${until}`,
    async () => (await logs(alertId)).some((l) => until.test(l)),
    10_000,
  );
  await server.idle();
  return logs(alertId);
}

/** The people a log says were notified, or found with nothing to notify them by: named with why. */
function paged(lines: string[]): string[] {
  return lines
    .flatMap((l) => [...l.matchAll(/(?:Notifying )?(Alice|Bob|Carol|Dave) \(([^)]*)\)/g)])
    .map((m) => `${m[1]} (${m[2]})`)
    .sort();
}

before(async () => {
  // Queues sleep long when nothing wakes them: every step here must be woken for (an escalation on call
  // in the schedule is started by the alert-event consumer, and must wake the escalations queue).
  server = await startTestServer({ clock, engineIntervalMs: 30_000 });
  for (const [username, fullName] of [
    ['alice@example.com', 'Alice'],
    ['bob@example.com', 'Bob'],
    ['carol@example.com', 'Carol'],
    ['dave@example.com', 'Dave'],
  ] as const) {
    ids[fullName] = (
      await server.callOk('POST', '/v2/users', { username, fullName, role: { name: 'User' } })
    ).data.id;
  }
  ids.Night = (
    await server.callOk('POST', '/v2/teams', {
      name: 'Night',
      members: ['bob@example.com', 'carol@example.com'].map((username) => ({ user: { username } })),
    })
  ).data.id;
  ids.Backstop = (
    await server.callOk('POST', '/v2/escalations', {
      name: 'Backstop',
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'user', username: 'dave@example.com' },
        },
      ],
    })
  ).data.id;
  ids.Rota = (
    await server.callOk('POST', '/v2/schedules', {
      name: 'Rota',
      timezone: 'UTC',
      rotations: [
        {
          name: 'Daily',
          type: 'daily',
          startDate: start.toISOString(),
          participants: [
            { type: 'user', username: 'alice@example.com' },
            { type: 'team', name: 'Night' },
            { type: 'none' },
            { type: 'escalation', id: ids.Backstop },
          ],
        },
      ],
    })
  ).data.id;
  await server.callOk('POST', '/v2/escalations', {
    name: 'Via rota',
    rules: [
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 0 },
        recipient: { type: 'schedule', name: 'Rota' },
      },
    ],
  });
});

after(async () => {
  await server?.stop();
});

describe('rotation participants: users, teams, escalations and none', () => {
  it('are stored and read back with their type, teams and escalations by name', async () => {
    const rotation = (await server.callOk('GET', `/v2/schedules/${ids.Rota}/rotations`)).data[0];
    assert.deepEqual(rotation.participants, [
      { type: 'user', id: ids.Alice, username: 'alice@example.com' },
      { type: 'team', id: ids.Night, name: 'Night' },
      { type: 'none' },
      { type: 'escalation', id: ids.Backstop, name: 'Backstop' },
    ]);
  });

  it('on-calls show the participant of each turn; flat gives the usernames it reaches', async () => {
    assert.deepEqual(await onCalls(0, false), [{ id: ids.Alice, type: 'user', name: 'alice@example.com' }]);
    assert.deepEqual(await onCalls(1, false), [{ id: ids.Night, type: 'team', name: 'Night' }]);
    assert.deepEqual(await onCalls(2, false), []);
    assert.deepEqual(await onCalls(3, false), [
      {
        id: ids.Backstop,
        type: 'escalation',
        name: 'Backstop',
        onCallParticipants: [
          {
            id: ids.Dave,
            type: 'user',
            name: 'dave@example.com',
            escalationTime: 0,
            notifyType: 'default',
          },
        ],
      },
    ]);
    assert.deepEqual(await onCalls(0, true), ['alice@example.com']);
    assert.deepEqual(await onCalls(1, true), ['bob@example.com', 'carol@example.com']);
    assert.deepEqual(await onCalls(2, true), []);
    assert.deepEqual(await onCalls(3, true), ['dave@example.com']);
    // The turn after the escalation's is alice's again (four turns).
    assert.deepEqual(await onCalls(4, true), ['alice@example.com']);
  });

  it('next-on-calls and the timeline name a team or escalation as the recipient', async () => {
    const next = await server.callOk(
      'GET',
      `/v2/schedules/${ids.Rota}/next-on-calls?date=${encodeURIComponent(atTurn(0))}`,
    );
    assert.deepEqual(next.data.nextOnCallRecipients, [{ id: ids.Night, type: 'team', name: 'Night' }]);
    const flat = await server.callOk(
      'GET',
      `/v2/schedules/${ids.Rota}/next-on-calls?flat=true&date=${encodeURIComponent(atTurn(0))}`,
    );
    assert.deepEqual(flat.data.nextOnCallParticipants, ['bob@example.com', 'carol@example.com']);
    assert.equal(flat.data.nextOnCallRecipients, undefined, 'no usernames where Opsgenie has objects');
    const timeline = await server.callOk(
      'GET',
      `/v2/schedules/${ids.Rota}/timeline?interval=4&intervalUnit=days&date=${encodeURIComponent(start.toISOString())}`,
    );
    const periods = timeline.data.finalTimeline.rotations[0].periods as Json[];
    assert.deepEqual(
      periods.map((p) => [p.startDate, p.recipient.type, p.recipient.name]),
      [
        [start.toISOString().replace('.000Z', 'Z'), 'user', 'alice@example.com'],
        [new Date(start.getTime() + DAY).toISOString().replace('.000Z', 'Z'), 'team', 'Night'],
        [new Date(start.getTime() + 3 * DAY).toISOString().replace('.000Z', 'Z'), 'escalation', 'Backstop'],
      ],
    );
  });

  it("an alert escalated to the schedule pages the user on call in the user's turn", async () => {
    const alertId = await raiseAlert('Turn 0');
    const lines = await settledLogs(alertId, /Alice \(/);
    assert.deepEqual(paged(lines), ['Alice (on call in schedule Rota)']);
  });

  it("in the team's turn, every member of the team is paged", async () => {
    clock.advance(DAY);
    const alertId = await raiseAlert('Turn 1');
    const lines = await settledLogs(alertId, /Carol \(/);
    assert.deepEqual(paged(lines), [
      'Bob (member of team Night, on call in schedule Rota)',
      'Carol (member of team Night, on call in schedule Rota)',
    ]);
  });

  it('in the turn of none, nobody is paged, and the log says so', async () => {
    clock.advance(DAY);
    const alertId = await raiseAlert('Turn 2');
    const lines = await settledLogs(alertId, /nobody to notify/);
    assert.deepEqual(paged(lines), []);
    assert.ok(
      lines.some((l) => l.includes('nobody to notify in schedule Rota (nobody is on call in it)')),
      lines.join('\n'),
    );
  });

  it("in the escalation's turn, that escalation runs for the alert", async () => {
    clock.advance(DAY);
    const alertId = await raiseAlert('Turn 3');
    const lines = await settledLogs(alertId, /Dave \(/);
    assert.ok(
      lines.some((l) => l.includes('escalation Backstop is on call in schedule Rota; escalating with it')),
      lines.join('\n'),
    );
    assert.deepEqual(paged(lines), ['Dave (named in the escalation)']);
  });

  it("without a date, who is on call is read at the engine's now, not the system's", async () => {
    // The clock is three days on (the turns above): the escalation's turn, not alice's.
    const now = await server.callOk(
      'GET',
      '/v2/schedules/Rota/on-calls?scheduleIdentifierType=name&flat=true',
    );
    assert.deepEqual(now.data.onCallRecipients, await onCalls(3, true));
    assert.deepEqual(now.data.onCallRecipients, ['dave@example.com']);
  });

  it('an escalation on call in the schedule it notifies runs once: no loop', async () => {
    await server.callOk('POST', '/v2/schedules', { name: 'Loopy', timezone: 'UTC' });
    await server.callOk('POST', '/v2/escalations', {
      name: 'Loop back',
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'schedule', name: 'Loopy' },
        },
      ],
    });
    await server.callOk('POST', '/v2/schedules/Loopy/rotations?scheduleIdentifierType=name', {
      startDate: start.toISOString(),
      type: 'weekly',
      participants: [{ type: 'escalation', name: 'Loop back' }],
    });
    const res = await server.callOk('POST', '/v2/alerts', {
      message: 'Loop',
      responders: [{ type: 'escalation', name: 'Loop back' }],
    });
    const alertId = await waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    const lines = await settledLogs(alertId, /already runs \(or ran\)/);
    assert.deepEqual(
      lines.filter((l) => l.includes('is on call in schedule Loopy')),
      [
        'Loop back rule 1 (at once): escalation Loop back is on call in schedule Loopy, and already runs (or ran) for this alert',
      ],
    );
    const runs = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
    assert.ok(runs.data.length < 20, 'the log does not grow as a loop would');
  });

  it('refuses participants that name nothing in the organization, each at its field', async () => {
    const answer = await server.call('POST', `/v2/schedules/${ids.Rota}/rotations`, {
      startDate: start.toISOString(),
      type: 'weekly',
      participants: [
        { type: 'team', name: 'No such team' },
        { type: 'escalation', name: 'No such escalation' },
        { type: 'escalation' },
        { type: 'group', id: ids.Night },
      ],
    });
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    const rotations = (await server.callOk('GET', `/v2/schedules/${ids.Rota}/rotations`)).data;
    assert.equal(rotations.length, 1);
    const valid = await server.call('POST', `/v2/schedules/${ids.Rota}/rotations`, {
      startDate: start.toISOString(),
      type: 'weekly',
      participants: [
        { type: 'team', name: 'No such team' },
        { type: 'escalation', name: 'No such escalation' },
        { type: 'escalation' },
      ],
    });
    assert.equal(valid.status, 422);
    assert.deepEqual(Object.keys(valid.body.errors).sort(), [
      'participants[0]',
      'participants[1]',
      'participants[2]',
    ]);
    assert.match(valid.body.errors['participants[0]'], /No team "No such team"/);
    assert.match(valid.body.errors['participants[1]'], /No escalation "No such escalation"/);
    for (const hostile of [
      { type: 'team', id: 'not-a-uuid' },
      { type: 'escalation', id: 'not-a-uuid' },
      { type: 'team', name: 'Night\u0000' },
      { type: 'escalation', name: 'x'.repeat(100_000) },
    ]) {
      const answer = await server.call('POST', `/v2/schedules/${ids.Rota}/rotations`, {
        startDate: start.toISOString(),
        type: 'weekly',
        participants: [hostile],
      });
      assert.ok(
        answer.status >= 400 && answer.status < 500,
        `${answer.status}: ${JSON.stringify(answer.body)}`,
      );
    }
    assert.equal((await server.callOk('GET', `/v2/schedules/${ids.Rota}/rotations`)).data.length, 1);
  });
});
