import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { MAX_TIMELINE_PIECES } from './service.js';

/**
 * A timeline or calendar export that would work through more than MAX_TIMELINE_PIECES shifts is refused
 * with a 422 saying what to ask for instead, before the work: one such request held the event loop for
 * seconds. 50 hourly rotations staggered a minute apart make some 110,000 shifts in three months.
 */

let server: TestServer;
let busy: string;
let weekly: string;
const USERS = ['limit-a@example.com', 'limit-b@example.com'];

before(async () => {
  server = await startTestServer();
  for (const username of USERS) {
    await server.callOk('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
  }
  const participants = [
    { type: 'user', username: USERS[0] },
    { type: 'user', username: USERS[1] },
    { type: 'none' },
  ];
  busy = (
    await server.callOk('POST', '/v2/schedules', {
      name: 'Busy',
      timezone: 'UTC',
      rotations: Array.from({ length: 50 }, (_, i) => ({
        name: `r${i}`,
        type: 'hourly',
        length: 1,
        startDate: `2026-01-01T00:${String(i).padStart(2, '0')}:00Z`,
        participants,
      })),
    })
  ).data.id;
  weekly = (
    await server.callOk('POST', '/v2/schedules', {
      name: 'Weekly',
      timezone: 'UTC',
      rotations: [{ name: 'w', type: 'weekly', length: 1, startDate: '2026-01-05T09:00:00Z', participants }],
    })
  ).data.id;
});

after(async () => {
  await server?.stop();
});

describe('the most shifts a timeline or export works through', () => {
  it('refuses three months of 50 hourly rotations with a 422 naming a shorter interval', async () => {
    const answer = await server.call(
      'GET',
      `/v2/schedules/${busy}/timeline?interval=3&intervalUnit=months&date=2026-03-01T00:00:00Z`,
    );
    assert.equal(answer.status, 422);
    const message = JSON.stringify(answer.body);
    assert.match(message, /changes hands too often/);
    assert.match(message, new RegExp(MAX_TIMELINE_PIECES.toLocaleString('en-US')));
    // 92 days of some 2,400 shifts a day (each rotation's and the final ones): about 20 days fit.
    assert.match(message, /about 20 days at most/);
    // In the message itself, which clients show alone, as well as under errors.interval.
    assert.match((answer.body as { message: string }).message, /about 20 days at most, intervalUnit=days/);
  });

  it('gives the shorter interval it names', async () => {
    const answer = await server.callOk(
      'GET',
      `/v2/schedules/${busy}/timeline?interval=20&intervalUnit=days&date=2026-03-01T00:00:00Z`,
    );
    assert.equal(answer.data.endDate, '2026-03-21T00:00:00Z');
  });

  it('refuses the busy schedule’s calendar with a 422; a user’s calendar leaves it out with a note', async () => {
    const ics = await server.call('GET', `/v2/schedules/${busy}.ics`);
    assert.equal(ics.status, 422);
    assert.match(JSON.stringify(ics.body), /Schedule \[Busy\] changes hands too often to export/);
    // See user-calendar-busy.test.ts.
    const mine = await server.call('GET', `/v2/schedules/on-calls/${USERS[0]}.ics`);
    assert.equal(mine.status, 200);
    assert.match(String(mine.body).replace(/\r\n /g, ''), /X-WR-CALDESC:Schedule \[Busy\] changes hands/);
  });

  it('still serves an ordinary schedule: three months of a weekly rotation, and its calendar', async () => {
    const answer = await server.callOk(
      'GET',
      `/v2/schedules/${weekly}/timeline?interval=3&intervalUnit=months&date=2026-03-01T00:00:00Z`,
    );
    assert.ok(answer.data.finalTimeline.rotations.length > 0);
    const ics = await server.call('GET', `/v2/schedules/${weekly}.ics`);
    assert.equal(ics.status, 200);
  });
});
