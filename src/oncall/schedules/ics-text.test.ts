import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onCallCalendar } from './ics.js';

/**
 * TEXT values may hold no control characters but HTAB (RFC 5545 §3.3.11): a bare CR in a schedule's name
 * ended the calendar's description line and started a property of its own.
 */
describe('text in a calendar', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('writes every line break as \\n and drops other control characters', () => {
    const ics = onCallCalendar('U\u0000 on call', [], now, [
      'Schedule [Ops\rX-INJECTED:1;a,b\nc\r\nd\u0007e\u007ff\tg] is left out',
    ]);
    const lines = ics.split('\r\n');
    assert.ok(!lines.some((l) => l.startsWith('X-INJECTED')), ics);
    // Nothing but CRLF ends a line, and no control character but HTAB is left.
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(ics.replace(/\r\n/g, '')), JSON.stringify(ics));
    assert.ok(lines.includes('X-WR-CALNAME:U on call'), ics);
    const desc = ics.slice(ics.indexOf('X-WR-CALDESC:'), ics.indexOf('END:VCALENDAR')).replace(/\r\n /g, '');
    assert.equal(
      desc,
      'X-WR-CALDESC:Schedule [Ops\\nX-INJECTED:1\\;a\\,b\\nc\\nde' + 'f\tg] is left out\r\n',
    );
  });

  it('names a clipped shift without its start, which moves from one fetch to the next', () => {
    const uids = ['2026-05-25T10:00:00Z', '2026-05-25T10:05:00Z'].map((start) => {
      const shift = {
        start: new Date(start),
        end: new Date('2026-06-03T00:00:00Z'),
        username: 'pat',
        override: false,
      };
      const clipped = onCallCalendar(
        'Ops',
        [{ schedule: { id: 's1', name: 'Ops' }, shifts: [{ ...shift, clipped: true }] }],
        now,
      );
      const whole = onCallCalendar('Ops', [{ schedule: { id: 's1', name: 'Ops' }, shifts: [shift] }], now);
      const uid = (ics: string) => ics.split('\r\n').find((l) => l.startsWith('UID:'));
      return { clipped: uid(clipped), whole: uid(whole) };
    });
    assert.equal(uids[0]!.clipped, 'UID:s1-before-pat@vigil');
    assert.equal(uids[1]!.clipped, uids[0]!.clipped, 'the same event on every fetch');
    assert.notEqual(uids[1]!.whole, uids[0]!.whole, 'a whole shift is named by its start');
  });
});
