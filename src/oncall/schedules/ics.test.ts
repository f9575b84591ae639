import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduleCalendar } from './ics.js';

describe('a schedule as iCalendar', () => {
  const schedule = { id: 's1', name: 'Ops, primary; EU' };
  const now = new Date('2026-12-02T10:00:00Z');

  it('has one event per shift, in UTC, with CRLF lines and escaped text', () => {
    const ics = scheduleCalendar(
      schedule,
      [
        {
          start: new Date('2026-12-01T09:00:00Z'),
          end: new Date('2026-12-08T09:00:00Z'),
          username: 'ann@example.com',
          fullName: 'Ann',
          override: false,
        },
        {
          start: new Date('2026-12-03T00:00:00Z'),
          end: new Date('2026-12-03T12:00:00Z'),
          username: 'bob@example.com',
          override: true,
        },
      ],
      now,
    );
    assert.ok(ics.endsWith('END:VCALENDAR\r\n'));
    assert.ok(!/[^\r]\n/.test(ics), 'every line ends with CRLF');
    assert.equal(ics.match(/BEGIN:VEVENT/g)?.length, 2);
    assert.match(ics, /DTSTART:20261201T090000Z\r\nDTEND:20261208T090000Z/);
    assert.match(ics, /SUMMARY:Ann \(ann@example.com\) on call\r\n/);
    assert.match(ics, /SUMMARY:bob@example.com on call \(override\)\r\n/);
    assert.match(ics, /X-WR-CALNAME:Ops\\, primary\\; EU on call/);
    assert.match(ics, /UID:s1-20261201T090000Z-ann@example.com@vigil/);
  });

  it('folds lines over 75 octets without splitting a character', () => {
    const long = { id: 's2', name: 'Équipe de garde '.repeat(8) };
    const ics = scheduleCalendar(long, [], now);
    for (const line of ics.split('\r\n')) assert.ok(Buffer.byteLength(line, 'utf8') <= 75, line);
    const unfolded = ics.replace(/\r\n /g, '');
    assert.ok(unfolded.includes(`X-WR-CALNAME:${long.name} on call`));
  });
});
