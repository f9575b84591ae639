import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { timelineWork } from '../schedule/combine.js';
import { compileWork } from '../schedule/compiled.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';

/**
 * A person's own calendar (/v2/schedules/on-calls/{user}.ics) covers every schedule they may see. One
 * schedule too busy to export (50 hourly rotations) made it a 422 for everyone, even those not in it,
 * and each fetch computed every visible schedule's shifts, theirs or not. Now a schedule that does not
 * name the person is not computed at all, and one that does but is too busy is left out with a note.
 */

let server: TestServer;
let weeklyId = '';
const BUSY_MEMBER = 'cal-busy-a@example.com';
const OUTSIDER = 'cal-busy-b@example.com';

before(async () => {
  server = await startTestServer();
  for (const username of [BUSY_MEMBER, OUTSIDER]) {
    await server.callOk('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
  }
  await server.callOk('POST', '/v2/schedules', {
    name: 'Busy',
    timezone: 'UTC',
    rotations: Array.from({ length: 50 }, (_, i) => ({
      name: `r${i}`,
      type: 'hourly',
      length: 1,
      startDate: `2026-01-01T00:${String(i).padStart(2, '0')}:00Z`,
      participants: [{ type: 'user', username: BUSY_MEMBER }, { type: 'none' }],
    })),
  });
  weeklyId = (
    await server.callOk('POST', '/v2/schedules', {
      name: 'Weekly',
      timezone: 'UTC',
      rotations: [
        {
          name: 'w',
          type: 'weekly',
          length: 1,
          startDate: '2026-01-05T09:00:00Z',
          participants: [
            { type: 'user', username: BUSY_MEMBER },
            { type: 'user', username: OUTSIDER },
          ],
        },
      ],
    })
  ).data.id;
});

after(async () => {
  await server?.stop();
});

describe("a person's calendar beside a schedule too busy to export", () => {
  it('serves one not in the busy schedule, without computing it', async () => {
    const before = timelineWork.pieces;
    const ics = await server.call('GET', `/v2/schedules/on-calls/${OUTSIDER}.ics`);
    assert.equal(ics.status, 200, JSON.stringify(ics.body));
    const text = String(ics.body);
    assert.match(text, /BEGIN:VEVENT/);
    assert.doesNotMatch(text, /X-WR-CALDESC/);
    // The weekly schedule's 14 weeks are a few dozen pieces; the busy one's would be some 230,000.
    const work = timelineWork.pieces - before;
    assert.ok(work < 1_000, `${work} pieces computed`);
  });

  it('leaves the busy schedule out of the calendar of one in it, with a note saying so', async () => {
    const ics = await server.call('GET', `/v2/schedules/on-calls/${BUSY_MEMBER}.ics`);
    assert.equal(ics.status, 200, JSON.stringify(ics.body));
    // Unfolded (RFC 5545 §3.1), the calendar's description says which schedule is left out, and why.
    const text = String(ics.body).replace(/\r\n /g, '');
    assert.match(text, /X-WR-CALDESC:Schedule \[Busy\] changes hands too often to export as a calendar/);
    // Their weekly shifts are still there.
    assert.match(text, /DESCRIPTION:Weekly: /);
    assert.doesNotMatch(text, /DESCRIPTION:Busy: /);
  });
});

describe('a timeline request', () => {
  it('compiles the schedule once, for the estimate and the work alike', async () => {
    const before = compileWork.schedules;
    await server.callOk(
      'GET',
      `/v2/schedules/${weeklyId}/timeline?interval=1&intervalUnit=months&date=2026-03-01T00:00:00Z`,
    );
    assert.equal(compileWork.schedules - before, 1);
  });
});
