import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import {
  nextOnCall,
  nextOnCalls,
  onCallAt,
  onCallsAt,
  previousOnCall,
  previousOnCalls,
  timeline,
  validateSchedule,
  validateTimeRestriction,
  withinTimeRestriction,
  type Override,
  type Rotation,
  type RotationsCombine,
  type Schedule,
  type Shift,
  type TimeRestriction,
} from './schedule.js';

/**
 * Every expected instant below was worked out by hand from the zone rules (2026):
 * - Europe/Berlin: CET (+01:00) until 2026-03-29 01:00Z, CEST (+02:00) until 2026-10-25 01:00Z, then CET.
 * - America/New_York: EST (-05:00) until 2026-03-08 07:00Z, EDT (-04:00) until 2026-11-01 06:00Z, then EST.
 * - Australia/Lord_Howe: +10:30 until 2026-10-03 15:30Z (02:00 local), then +11:00 (clocks jump to 02:30).
 * Weekdays: 2026-03-02, 03-09, 03-23, 03-30, 10-19, 10-26, 11-02 are Mondays; 03-08, 03-29, 10-25, 11-01
 * are Sundays.
 */

function rotation(fields: Partial<Rotation> & Pick<Rotation, 'type' | 'startDate'>): Rotation {
  return {
    id: 'primary',
    name: 'Primary',
    length: 1,
    participants: ['alice', 'bob'],
    ...fields,
  };
}

/** A "layers" schedule unless told otherwise: the tests before the "all" ones below pin that mode. */
function schedule(
  timezone: string,
  rotations: Rotation[],
  overrides: Override[] = [],
  rotationsCombine: RotationsCombine = 'layers',
): Schedule {
  return { timezone, rotations, overrides, rotationsCombine };
}

function hours(shift: Shift): number {
  return (Date.parse(shift.end) - Date.parse(shift.start)) / 3_600_000;
}

function at(iso: string): Date {
  return new Date(iso);
}

function shiftsOf(s: Schedule, from: string, to: string, index = 0): Shift[] {
  return timeline(s, at(from), at(to)).rotations[index]?.shifts ?? [];
}

function finalOf(s: Schedule, from: string, to: string): Shift[] {
  return timeline(s, at(from), at(to)).final;
}

const WEEKDAYS_9_TO_5: TimeRestriction = {
  type: 'weekday-and-time-of-day',
  restrictions: (['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const).map((day) => ({
    startDay: day,
    startHour: 9,
    startMin: 0,
    endDay: day,
    endHour: 17,
    endMin: 0,
  })),
};

describe('weekly rotation, Monday 09:00 handoff', () => {
  const berlin = schedule('Europe/Berlin', [
    rotation({
      type: 'weekly',
      participants: ['alice', 'bob', 'carol'],
      startDate: '2026-03-23T09:00:00+01:00',
    }),
  ]);
  const newYork = schedule('America/New_York', [
    rotation({ type: 'weekly', startDate: '2026-03-02T09:00:00-05:00' }),
  ]);

  it('Europe/Berlin: the shift over the March change is 167 h, handoffs move from 08:00Z to 07:00Z', () => {
    const shifts = shiftsOf(berlin, '2026-03-23T08:00:00Z', '2026-04-06T07:00:00Z');
    assert.deepEqual(shifts, [
      {
        user: 'alice',
        start: '2026-03-23T08:00:00.000Z',
        end: '2026-03-30T07:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-30T07:00:00.000Z',
        end: '2026-04-06T07:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(shifts.map(hours), [167, 168]);
  });

  it('Europe/Berlin: the shift over the October change is 169 h (shift 30 → alice, 31 → bob)', () => {
    const shifts = shiftsOf(berlin, '2026-10-19T07:00:00Z', '2026-11-02T08:00:00Z');
    assert.deepEqual(shifts, [
      {
        user: 'alice',
        start: '2026-10-19T07:00:00.000Z',
        end: '2026-10-26T08:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-10-26T08:00:00.000Z',
        end: '2026-11-02T08:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(shifts.map(hours), [169, 168]);
  });

  it('Europe/Berlin: onCallAt flips exactly at the local 09:00 handoff', () => {
    assert.equal(onCallAt(berlin, at('2026-03-23T07:59:59Z')), undefined);
    assert.deepEqual(onCallAt(berlin, at('2026-03-23T08:00:00Z')), {
      user: 'alice',
      rotationId: 'primary',
    });
    assert.equal(onCallAt(berlin, at('2026-03-30T06:59:59.999Z'))?.user, 'alice');
    assert.equal(onCallAt(berlin, at('2026-03-30T07:00:00Z'))?.user, 'bob');
    // Monday 2026-10-26 07:30Z is 08:30 CET: still alice until 09:00 CET = 08:00Z.
    assert.equal(onCallAt(berlin, at('2026-10-26T07:30:00Z'))?.user, 'alice');
    assert.equal(onCallAt(berlin, at('2026-10-26T08:00:00Z'))?.user, 'bob');
  });

  it('America/New_York: 167 h over 2026-03-08, 169 h over 2026-11-01 (shift 34 → alice)', () => {
    const march = shiftsOf(newYork, '2026-03-02T14:00:00Z', '2026-03-16T13:00:00Z');
    assert.deepEqual(march, [
      {
        user: 'alice',
        start: '2026-03-02T14:00:00.000Z',
        end: '2026-03-09T13:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-09T13:00:00.000Z',
        end: '2026-03-16T13:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(march.map(hours), [167, 168]);
    const november = shiftsOf(newYork, '2026-10-26T13:00:00Z', '2026-11-09T14:00:00Z');
    assert.deepEqual(november, [
      {
        user: 'alice',
        start: '2026-10-26T13:00:00.000Z',
        end: '2026-11-02T14:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-11-02T14:00:00.000Z',
        end: '2026-11-09T14:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(november.map(hours), [169, 168]);
  });

  it('clips shifts to the requested window', () => {
    assert.deepEqual(shiftsOf(newYork, '2026-03-09T00:00:00Z', '2026-03-10T00:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-09T00:00:00.000Z',
        end: '2026-03-09T13:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-09T13:00:00.000Z',
        end: '2026-03-10T00:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });

  it('length 2 hands off every other Monday', () => {
    const s = schedule('Europe/Berlin', [
      rotation({
        type: 'weekly',
        length: 2,
        startDate: '2026-03-23T09:00:00+01:00',
      }),
    ]);
    assert.deepEqual(shiftsOf(s, '2026-03-23T08:00:00Z', '2026-04-20T07:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-23T08:00:00.000Z',
        end: '2026-04-06T07:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-04-06T07:00:00.000Z',
        end: '2026-04-20T07:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });
});

describe('daily rotation', () => {
  it('00:30 in America/New_York keeps the wall-clock time: 23 h on 2026-03-08, 25 h on 2026-11-01', () => {
    const s = schedule('America/New_York', [
      rotation({ type: 'daily', startDate: '2026-03-06T00:30:00-05:00' }),
    ]);
    assert.deepEqual(shiftsOf(s, '2026-03-07T05:30:00Z', '2026-03-10T04:30:00Z'), [
      {
        user: 'bob',
        start: '2026-03-07T05:30:00.000Z',
        end: '2026-03-08T05:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-03-08T05:30:00.000Z',
        end: '2026-03-09T04:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-09T04:30:00.000Z',
        end: '2026-03-10T04:30:00.000Z',
        rotationId: 'primary',
      },
    ]);
    // 2026-03-06 → 2026-10-31 is 239 days: shift 239 (bob), 240 (alice), 241 (bob).
    const fall = shiftsOf(s, '2026-10-31T04:30:00Z', '2026-11-03T05:30:00Z');
    assert.deepEqual(fall, [
      {
        user: 'bob',
        start: '2026-10-31T04:30:00.000Z',
        end: '2026-11-01T04:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-11-01T04:30:00.000Z',
        end: '2026-11-02T05:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-11-02T05:30:00.000Z',
        end: '2026-11-03T05:30:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(fall.map(hours), [24, 25, 24]);
  });

  it('a nonexistent 02:30 handoff (spring forward) happens at 03:30 EDT, the next day back at 02:30', () => {
    const s = schedule('America/New_York', [
      rotation({ type: 'daily', startDate: '2026-03-06T02:30:00-05:00' }),
    ]);
    const shifts = shiftsOf(s, '2026-03-07T07:30:00Z', '2026-03-10T06:30:00Z');
    assert.deepEqual(shifts, [
      // 2026-03-08 03:30 EDT is 07:30Z.
      {
        user: 'bob',
        start: '2026-03-07T07:30:00.000Z',
        end: '2026-03-08T07:30:00.000Z',
        rotationId: 'primary',
      },
      // 2026-03-09 02:30 EDT is 06:30Z.
      {
        user: 'alice',
        start: '2026-03-08T07:30:00.000Z',
        end: '2026-03-09T06:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-09T06:30:00.000Z',
        end: '2026-03-10T06:30:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(shifts.map(hours), [24, 23, 24]);
    assert.equal(onCallAt(s, at('2026-03-08T07:29:59Z'))?.user, 'bob'); // 03:29:59 EDT
    assert.equal(onCallAt(s, at('2026-03-08T07:30:00Z'))?.user, 'alice'); // 03:30 EDT
  });

  it('an ambiguous 01:30 handoff (fall back) happens at the first occurrence (EDT)', () => {
    const fromSummer = schedule('America/New_York', [
      rotation({ type: 'daily', startDate: '2026-10-30T01:30:00-04:00' }),
    ]);
    assert.deepEqual(shiftsOf(fromSummer, '2026-10-31T05:30:00Z', '2026-11-03T06:30:00Z'), [
      {
        user: 'bob',
        start: '2026-10-31T05:30:00.000Z',
        end: '2026-11-01T05:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-11-01T05:30:00.000Z',
        end: '2026-11-02T06:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-11-02T06:30:00.000Z',
        end: '2026-11-03T06:30:00.000Z',
        rotationId: 'primary',
      },
    ]);
    // Starting in winter (EST) must not pick the second occurrence: 2026-01-05 → 2026-11-01 is 300 days.
    const fromWinter = schedule('America/New_York', [
      rotation({ type: 'daily', startDate: '2026-01-05T01:30:00-05:00' }),
    ]);
    assert.equal(onCallAt(fromWinter, at('2026-11-01T05:29:59Z'))?.user, 'bob');
    assert.equal(onCallAt(fromWinter, at('2026-11-01T05:30:00Z'))?.user, 'alice');
    assert.deepEqual(shiftsOf(fromWinter, '2026-11-01T05:30:00Z', '2026-11-02T12:00:00Z'), [
      {
        user: 'alice',
        start: '2026-11-01T05:30:00.000Z',
        end: '2026-11-02T06:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-11-02T06:30:00.000Z',
        end: '2026-11-02T12:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });

  it('an ambiguous 02:30 handoff in Europe/Berlin (2026-10-25) happens at 02:30 CEST = 00:30Z', () => {
    const s = schedule('Europe/Berlin', [
      rotation({ type: 'daily', startDate: '2026-10-24T02:30:00+02:00' }),
    ]);
    assert.deepEqual(shiftsOf(s, '2026-10-24T00:30:00Z', '2026-10-26T01:30:00Z'), [
      {
        user: 'alice',
        start: '2026-10-24T00:30:00.000Z',
        end: '2026-10-25T00:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-10-25T00:30:00.000Z',
        end: '2026-10-26T01:30:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });

  it('a half-hour DST gap (Australia/Lord_Howe) moves a 02:15 handoff to 02:45', () => {
    const s = schedule('Australia/Lord_Howe', [
      rotation({ type: 'daily', startDate: '2026-10-01T02:15:00+10:30' }),
    ]);
    const shifts = shiftsOf(s, '2026-10-02T15:45:00Z', '2026-10-05T15:15:00Z');
    assert.deepEqual(shifts, [
      // Shift 2 from 2026-10-03 02:15 (+10:30); shift 3 from 2026-10-04 02:45 (+11:00), as 02:15 does not exist.
      {
        user: 'alice',
        start: '2026-10-02T15:45:00.000Z',
        end: '2026-10-03T15:45:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-10-03T15:45:00.000Z',
        end: '2026-10-04T15:15:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-10-04T15:15:00.000Z',
        end: '2026-10-05T15:15:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(shifts.map(hours), [24, 23.5, 24]);
  });

  it('length 3 hands off every third day at the same wall-clock time', () => {
    const s = schedule('America/New_York', [
      rotation({
        type: 'daily',
        length: 3,
        startDate: '2026-03-06T09:00:00-05:00',
      }),
    ]);
    assert.deepEqual(shiftsOf(s, '2026-03-06T14:00:00Z', '2026-03-12T13:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-06T14:00:00.000Z',
        end: '2026-03-09T13:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-09T13:00:00.000Z',
        end: '2026-03-12T13:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });
});

describe('daily and weekly handoffs agree with luxon', () => {
  // An independent check: luxon's own calendar arithmetic (DateTime#plus in the zone, which keeps the wall clock
  // and moves nonexistent times forward), taking the first of the possible instants of an ambiguous time.
  const zones = [
    'Europe/Berlin',
    'America/New_York',
    'Australia/Sydney',
    'Australia/Lord_Howe',
    'America/Santiago',
    'America/Havana',
    'Africa/Casablanca',
    'Pacific/Chatham',
    'Asia/Kolkata',
  ];
  for (const zone of zones) {
    it(`${zone}: 400 daily handoffs at 00:30, 01:30, 02:30 and 09:45 from 2026-01-01`, () => {
      for (const time of ['00:30', '01:30', '02:30', '09:45']) {
        const start = DateTime.fromISO(`2026-01-01T${time}`, { zone });
        const s = schedule(zone, [rotation({ type: 'daily', startDate: start.toISO() ?? '' })]);
        const shifts = shiftsOf(s, '2025-12-30T00:00:00Z', '2027-02-10T00:00:00Z');
        const expected = Array.from({ length: 400 }, (_, k) => {
          const candidates = start.plus({ days: k }).getPossibleOffsets();
          return new Date(Math.min(...candidates.map((c) => c.toMillis()))).toISOString();
        });
        assert.deepEqual(
          shifts.slice(0, 400).map((x) => x.start),
          expected,
          `${zone} ${time}`,
        );
      }
    });
  }

  it('weekly handoffs over two years in America/Santiago (southern hemisphere, midnight changes)', () => {
    const start = DateTime.fromISO('2026-01-04T00:00', {
      zone: 'America/Santiago',
    });
    const s = schedule('America/Santiago', [rotation({ type: 'weekly', startDate: start.toISO() ?? '' })]);
    const shifts = shiftsOf(s, '2026-01-01T00:00:00Z', '2028-01-01T00:00:00Z');
    assert.deepEqual(
      shifts.map((x) => x.start),
      Array.from({ length: shifts.length }, (_, k) => start.plus({ weeks: k }).toUTC().toISO()),
    );
    assert.equal(shifts.length, 104);
  });
});

describe('hourly and custom rotations (elapsed time)', () => {
  const eightHours = schedule('America/New_York', [
    rotation({
      type: 'hourly',
      length: 8,
      participants: ['alice', 'bob', 'carol'],
      startDate: '2026-03-07T00:00:00-05:00',
    }),
  ]);

  it('hourly length 8 hands off every 8 elapsed hours, so the wall clock shifts by an hour after DST', () => {
    // Handoffs at 00:00/08:00/16:00 EST before the change, 01:00/09:00/17:00 EDT after it.
    assert.deepEqual(shiftsOf(eightHours, '2026-03-07T05:00:00Z', '2026-03-08T21:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-07T05:00:00.000Z',
        end: '2026-03-07T13:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-07T13:00:00.000Z',
        end: '2026-03-07T21:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'carol',
        start: '2026-03-07T21:00:00.000Z',
        end: '2026-03-08T05:00:00.000Z',
        rotationId: 'primary',
      },
      // 00:00 EST → 09:00 EDT: 8 elapsed hours, 9 on the wall clock.
      {
        user: 'alice',
        start: '2026-03-08T05:00:00.000Z',
        end: '2026-03-08T13:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-08T13:00:00.000Z',
        end: '2026-03-08T21:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });

  it('jumps straight to a far shift: 2026-07-01T12:00Z is 2791 h in, shift 348 (alice) until 13:00Z', () => {
    assert.equal(onCallAt(eightHours, at('2026-07-01T12:59:59Z'))?.user, 'alice');
    assert.equal(onCallAt(eightHours, at('2026-07-01T13:00:00Z'))?.user, 'bob');
    assert.equal(onCallAt(eightHours, at('2026-03-07T04:59:59Z')), undefined);
  });

  it('custom length is in hours: 36 h shifts', () => {
    const s = schedule('America/New_York', [
      rotation({
        type: 'custom',
        length: 36,
        startDate: '2026-03-07T00:00:00-05:00',
      }),
    ]);
    assert.deepEqual(shiftsOf(s, '2026-03-07T05:00:00Z', '2026-03-11T17:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-07T05:00:00.000Z',
        end: '2026-03-08T17:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-08T17:00:00.000Z',
        end: '2026-03-10T05:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-03-10T05:00:00.000Z',
        end: '2026-03-11T17:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });
});

describe('time restrictions', () => {
  it('weekdays 09:00-17:00 only: nobody at night or at the weekend, DST-correct', () => {
    const s = schedule('America/New_York', [
      rotation({
        type: 'weekly',
        participants: ['alice'],
        startDate: '2026-03-02T09:00:00-05:00',
        timeRestriction: WEEKDAYS_9_TO_5,
      }),
    ]);
    // Friday 2026-03-06 09:00-17:00 EST, then Monday 2026-03-09 09:00-17:00 EDT.
    const expected = [
      {
        user: 'alice',
        start: '2026-03-06T14:00:00.000Z',
        end: '2026-03-06T22:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-03-09T13:00:00.000Z',
        end: '2026-03-09T21:00:00.000Z',
        rotationId: 'primary',
      },
    ];
    assert.deepEqual(shiftsOf(s, '2026-03-06T00:00:00Z', '2026-03-10T00:00:00Z'), expected);
    assert.deepEqual(finalOf(s, '2026-03-06T00:00:00Z', '2026-03-10T00:00:00Z'), expected);
    assert.equal(onCallAt(s, at('2026-03-06T13:59:59Z')), undefined);
    assert.equal(onCallAt(s, at('2026-03-06T14:00:00Z'))?.user, 'alice');
    assert.equal(onCallAt(s, at('2026-03-07T15:00:00Z')), undefined); // Saturday 10:00 EST
    assert.equal(onCallAt(s, at('2026-03-09T12:59:59Z')), undefined); // Monday 08:59:59 EDT
    assert.equal(onCallAt(s, at('2026-03-09T20:59:59Z'))?.user, 'alice');
    assert.equal(onCallAt(s, at('2026-03-09T21:00:00Z')), undefined);
  });

  it('one continuous window Monday 09:00 → Friday 17:00 covers the nights in between', () => {
    const s = schedule('Europe/Berlin', [
      rotation({
        type: 'weekly',
        participants: ['alice'],
        startDate: '2026-03-23T09:00:00+01:00',
        timeRestriction: {
          type: 'weekday-and-time-of-day',
          restrictions: [
            {
              startDay: 'monday',
              startHour: 9,
              startMin: 0,
              endDay: 'friday',
              endHour: 17,
              endMin: 0,
            },
          ],
        },
      }),
    ]);
    assert.deepEqual(finalOf(s, '2026-03-16T00:00:00Z', '2026-04-06T00:00:00Z'), [
      // Monday 2026-03-23 09:00 CET → Friday 03-27 17:00 CET.
      {
        user: 'alice',
        start: '2026-03-23T08:00:00.000Z',
        end: '2026-03-27T16:00:00.000Z',
        rotationId: 'primary',
      },
      // Monday 2026-03-30 09:00 CEST → Friday 04-03 17:00 CEST.
      {
        user: 'alice',
        start: '2026-03-30T07:00:00.000Z',
        end: '2026-04-03T15:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.equal(onCallAt(s, at('2026-03-25T02:00:00Z'))?.user, 'alice'); // Wednesday night
    assert.equal(onCallAt(s, at('2026-03-28T12:00:00Z')), undefined); // Saturday
  });

  describe('a nightly 22:00-06:00 window in Europe/Berlin (crossing midnight and DST)', () => {
    const s = schedule('Europe/Berlin', [
      rotation({
        type: 'daily',
        startDate: '2026-03-27T12:00:00+01:00',
        timeRestriction: {
          type: 'time-of-day',
          restrictions: [{ startHour: 22, startMin: 0, endHour: 6, endMin: 0 }],
        },
      }),
    ]);

    it('is 7 h on the night of 2026-03-28/29', () => {
      const final = finalOf(s, '2026-03-27T11:00:00Z', '2026-03-30T10:00:00Z');
      assert.deepEqual(final, [
        {
          user: 'alice',
          start: '2026-03-27T21:00:00.000Z',
          end: '2026-03-28T05:00:00.000Z',
          rotationId: 'primary',
        },
        {
          user: 'bob',
          start: '2026-03-28T21:00:00.000Z',
          end: '2026-03-29T04:00:00.000Z',
          rotationId: 'primary',
        },
        {
          user: 'alice',
          start: '2026-03-29T20:00:00.000Z',
          end: '2026-03-30T04:00:00.000Z',
          rotationId: 'primary',
        },
      ]);
      assert.deepEqual(final.map(hours), [8, 7, 8]);
    });

    it('is 9 h on the night of 2026-10-24/25 (shift 211 → bob), including both 02:30s', () => {
      const final = finalOf(s, '2026-10-24T06:00:00Z', '2026-10-25T12:00:00Z');
      assert.deepEqual(final, [
        {
          user: 'bob',
          start: '2026-10-24T20:00:00.000Z',
          end: '2026-10-25T05:00:00.000Z',
          rotationId: 'primary',
        },
      ]);
      assert.equal(onCallAt(s, at('2026-10-24T19:59:59Z')), undefined);
      assert.equal(onCallAt(s, at('2026-10-25T00:30:00Z'))?.user, 'bob'); // 02:30 CEST
      assert.equal(onCallAt(s, at('2026-10-25T01:30:00Z'))?.user, 'bob'); // 02:30 CET
      assert.equal(onCallAt(s, at('2026-10-25T04:59:59Z'))?.user, 'bob');
      assert.equal(onCallAt(s, at('2026-10-25T05:00:00Z')), undefined);
    });

    it('splits a night at the handoff when the handoff falls inside the window', () => {
      const late = schedule('Europe/Berlin', [
        rotation({
          type: 'daily',
          startDate: '2026-03-27T00:00:00+01:00',
          timeRestriction: {
            type: 'time-of-day',
            restrictions: [{ startHour: 22, startMin: 0, endHour: 6, endMin: 0 }],
          },
        }),
      ]);
      // Midnight handoffs: 2026-03-28 00:00 CET = 03-27T23:00Z (shift 1, bob).
      assert.deepEqual(finalOf(late, '2026-03-27T20:00:00Z', '2026-03-28T06:00:00Z'), [
        {
          user: 'alice',
          start: '2026-03-27T21:00:00.000Z',
          end: '2026-03-27T23:00:00.000Z',
          rotationId: 'primary',
        },
        {
          user: 'bob',
          start: '2026-03-27T23:00:00.000Z',
          end: '2026-03-28T05:00:00.000Z',
          rotationId: 'primary',
        },
      ]);
    });
  });

  it('a window starting at a nonexistent time starts after the gap (02:30 → 03:30 EDT)', () => {
    const s = schedule('America/New_York', [
      rotation({
        type: 'weekly',
        participants: ['alice'],
        startDate: '2026-03-02T00:00:00-05:00',
        timeRestriction: {
          type: 'time-of-day',
          restrictions: [{ startHour: 2, startMin: 30, endHour: 4, endMin: 0 }],
        },
      }),
    ]);
    assert.deepEqual(finalOf(s, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-07T07:30:00.000Z',
        end: '2026-03-07T09:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-03-08T07:30:00.000Z',
        end: '2026-03-08T08:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-03-09T06:30:00.000Z',
        end: '2026-03-09T08:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });

  it('unites several windows of a daily restriction', () => {
    const s = schedule('UTC', [
      rotation({
        type: 'daily',
        participants: ['alice'],
        startDate: '2026-01-01T00:00:00Z',
        timeRestriction: {
          type: 'time-of-day',
          restrictions: [
            { startHour: 8, startMin: 0, endHour: 12, endMin: 0 },
            { startHour: 11, startMin: 0, endHour: 14, endMin: 30 },
            { startHour: 20, startMin: 0, endHour: 21, endMin: 0 },
          ],
        },
      }),
    ]);
    assert.deepEqual(finalOf(s, '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'), [
      {
        user: 'alice',
        start: '2026-01-02T08:00:00.000Z',
        end: '2026-01-02T14:30:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'alice',
        start: '2026-01-02T20:00:00.000Z',
        end: '2026-01-02T21:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });
});

describe('layers', () => {
  const base = rotation({
    id: 'primary',
    type: 'weekly',
    startDate: '2026-03-02T09:00:00-05:00',
  });
  const business = rotation({
    id: 'business',
    name: 'Business hours',
    type: 'weekly',
    participants: ['carol'],
    startDate: '2026-03-02T09:00:00-05:00',
    timeRestriction: WEEKDAYS_9_TO_5,
  });
  const layered = schedule('America/New_York', [base, business]);

  it('a business-hours layer over a 24/7 layer: the timeline alternates', () => {
    // Thursday 2026-03-05 and Friday 03-06, 09:00-17:00 EST = 14:00Z-22:00Z.
    assert.deepEqual(finalOf(layered, '2026-03-05T00:00:00Z', '2026-03-07T00:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-05T00:00:00.000Z',
        end: '2026-03-05T14:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'carol',
        start: '2026-03-05T14:00:00.000Z',
        end: '2026-03-05T22:00:00.000Z',
        rotationId: 'business',
      },
      {
        user: 'alice',
        start: '2026-03-05T22:00:00.000Z',
        end: '2026-03-06T14:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'carol',
        start: '2026-03-06T14:00:00.000Z',
        end: '2026-03-06T22:00:00.000Z',
        rotationId: 'business',
      },
      {
        user: 'alice',
        start: '2026-03-06T22:00:00.000Z',
        end: '2026-03-07T00:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(onCallAt(layered, at('2026-03-05T15:00:00Z')), {
      user: 'carol',
      rotationId: 'business',
    });
    assert.deepEqual(onCallAt(layered, at('2026-03-05T23:00:00Z')), {
      user: 'alice',
      rotationId: 'primary',
    });
  });

  it('the order of the layers decides: the last rotation with someone wins', () => {
    const reversed = schedule('America/New_York', [business, base]);
    assert.deepEqual(onCallAt(reversed, at('2026-03-05T15:00:00Z')), {
      user: 'alice',
      rotationId: 'primary',
    });
  });

  it('a layer without participants hides nobody', () => {
    const empty = rotation({
      id: 'empty',
      type: 'daily',
      participants: [],
      startDate: '2026-01-01T00:00:00Z',
    });
    const s = schedule('America/New_York', [base, empty]);
    assert.deepEqual(onCallAt(s, at('2026-03-05T15:00:00Z')), {
      user: 'alice',
      rotationId: 'primary',
    });
    const t = timeline(s, at('2026-03-05T00:00:00Z'), at('2026-03-06T00:00:00Z'));
    assert.deepEqual(t.rotations[1], { rotationId: 'empty', shifts: [] });
    assert.equal(t.final.length, 1);
  });

  it("a null participant (Opsgenie's none) is a turn with nobody in that layer: lower layers show through", () => {
    const withGap = rotation({
      id: 'gappy',
      type: 'daily',
      participants: ['carol', null],
      startDate: '2026-03-02T00:00:00Z',
    });
    const alone = schedule('UTC', [withGap]);
    // Day 0 (03-02) carol, day 1 (03-03) nobody, day 2 (03-04) carol.
    assert.deepEqual(onCallAt(alone, at('2026-03-02T12:00:00Z')), { user: 'carol', rotationId: 'gappy' });
    assert.equal(onCallAt(alone, at('2026-03-03T12:00:00Z')), undefined);
    assert.deepEqual(shiftsOf(alone, '2026-03-02T00:00:00Z', '2026-03-05T00:00:00Z'), [
      {
        user: 'carol',
        start: '2026-03-02T00:00:00.000Z',
        end: '2026-03-03T00:00:00.000Z',
        rotationId: 'gappy',
      },
      {
        user: 'carol',
        start: '2026-03-04T00:00:00.000Z',
        end: '2026-03-05T00:00:00.000Z',
        rotationId: 'gappy',
      },
    ]);
    // From the gap, the next one on call is carol again (nobody is on call at the gap).
    assert.deepEqual(nextOnCall(alone, at('2026-03-03T12:00:00Z'), 10), {
      user: 'carol',
      start: '2026-03-04T00:00:00.000Z',
      end: '2026-03-05T00:00:00.000Z',
      rotationId: 'gappy',
    });
    const over = schedule('UTC', [
      rotation({ id: 'base', type: 'weekly', participants: ['alice'], startDate: '2026-03-02T00:00:00Z' }),
      withGap,
    ]);
    assert.deepEqual(onCallAt(over, at('2026-03-03T12:00:00Z')), { user: 'alice', rotationId: 'base' });
    // A scoped override replaces only where its rotation has someone: not in the gap.
    const scoped = schedule(
      'UTC',
      [withGap],
      [
        {
          user: 'dave',
          startDate: '2026-03-02T00:00:00Z',
          endDate: '2026-03-05T00:00:00Z',
          rotationIds: ['gappy'],
        },
      ],
    );
    assert.equal(onCallAt(scoped, at('2026-03-03T12:00:00Z')), undefined);
    assert.deepEqual(onCallAt(scoped, at('2026-03-04T12:00:00Z')), {
      user: 'dave',
      rotationId: 'gappy',
      override: true,
    });
    assert.deepEqual(validateSchedule(alone), []);
  });

  it('adjacent pieces of one user from different layers merge into one shift without a rotationId', () => {
    const s = schedule('America/New_York', [
      rotation({
        id: 'primary',
        type: 'weekly',
        participants: ['alice'],
        startDate: '2026-03-02T09:00:00-05:00',
      }),
      { ...business, participants: ['alice'] },
    ]);
    assert.deepEqual(finalOf(s, '2026-03-05T00:00:00Z', '2026-03-06T00:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-05T00:00:00.000Z',
        end: '2026-03-06T00:00:00.000Z',
      },
    ]);
  });
});

describe('overrides', () => {
  const weekly = rotation({
    type: 'weekly',
    startDate: '2026-03-02T09:00:00-05:00',
  });

  it('an override spanning a handoff: the override user, then the rotation resumes with the right person', () => {
    const s = schedule(
      'America/New_York',
      [weekly],
      [
        {
          user: 'dave',
          startDate: '2026-03-08T12:00:00-04:00',
          endDate: '2026-03-10T12:00:00-04:00',
        },
      ],
    );
    const t = timeline(s, at('2026-03-08T00:00:00Z'), at('2026-03-11T00:00:00Z'));
    assert.deepEqual(t.final, [
      {
        user: 'alice',
        start: '2026-03-08T00:00:00.000Z',
        end: '2026-03-08T16:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'dave',
        start: '2026-03-08T16:00:00.000Z',
        end: '2026-03-10T16:00:00.000Z',
        override: true,
      },
      {
        user: 'bob',
        start: '2026-03-10T16:00:00.000Z',
        end: '2026-03-11T00:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    // The rotation's own shifts are unchanged (handoff Monday 09:00 EDT = 13:00Z).
    assert.deepEqual(t.rotations[0]?.shifts, [
      {
        user: 'alice',
        start: '2026-03-08T00:00:00.000Z',
        end: '2026-03-09T13:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'bob',
        start: '2026-03-09T13:00:00.000Z',
        end: '2026-03-11T00:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(onCallAt(s, at('2026-03-09T13:00:00Z')), {
      user: 'dave',
      override: true,
    });
    assert.deepEqual(onCallAt(s, at('2026-03-10T16:00:00Z')), {
      user: 'bob',
      rotationId: 'primary',
    });
  });

  it('an override without rotationIds puts its user on call even where no rotation has anyone', () => {
    const s = schedule(
      'America/New_York',
      [weekly],
      [
        {
          user: 'dave',
          startDate: '2026-03-01T00:00:00Z',
          endDate: '2026-03-02T16:00:00Z',
        },
      ],
    );
    assert.deepEqual(finalOf(s, '2026-03-01T00:00:00Z', '2026-03-03T00:00:00Z'), [
      {
        user: 'dave',
        start: '2026-03-01T00:00:00.000Z',
        end: '2026-03-02T16:00:00.000Z',
        override: true,
      },
      {
        user: 'alice',
        start: '2026-03-02T16:00:00.000Z',
        end: '2026-03-03T00:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });

  it('with rotationIds an override replaces only that rotation’s person, and only where it is on call', () => {
    const business = rotation({
      id: 'business',
      type: 'weekly',
      participants: ['carol'],
      startDate: '2026-03-02T09:00:00-05:00',
      timeRestriction: WEEKDAYS_9_TO_5,
    });
    const s = schedule(
      'America/New_York',
      [weekly, business],
      [
        // Friday 2026-03-06 07:00-15:00 EST; the business layer covers 09:00-17:00 EST.
        {
          user: 'frank',
          startDate: '2026-03-06T12:00:00Z',
          endDate: '2026-03-06T20:00:00Z',
          rotationIds: ['primary'],
        },
        {
          user: 'erin',
          startDate: '2026-03-06T12:00:00Z',
          endDate: '2026-03-06T20:00:00Z',
          rotationIds: ['business'],
        },
      ],
    );
    assert.deepEqual(finalOf(s, '2026-03-06T00:00:00Z', '2026-03-07T00:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-06T00:00:00.000Z',
        end: '2026-03-06T12:00:00.000Z',
        rotationId: 'primary',
      },
      // frank replaces alice in the primary layer, but the business layer wins from 14:00Z.
      {
        user: 'frank',
        start: '2026-03-06T12:00:00.000Z',
        end: '2026-03-06T14:00:00.000Z',
        rotationId: 'primary',
        override: true,
      },
      {
        user: 'erin',
        start: '2026-03-06T14:00:00.000Z',
        end: '2026-03-06T20:00:00.000Z',
        rotationId: 'business',
        override: true,
      },
      {
        user: 'carol',
        start: '2026-03-06T20:00:00.000Z',
        end: '2026-03-06T22:00:00.000Z',
        rotationId: 'business',
      },
      {
        user: 'alice',
        start: '2026-03-06T22:00:00.000Z',
        end: '2026-03-07T00:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(onCallAt(s, at('2026-03-06T13:00:00Z')), {
      user: 'frank',
      rotationId: 'primary',
      override: true,
    });
    // A scoped override does not create coverage where its rotation has nobody (Saturday, business layer).
    const saturday = schedule(
      'America/New_York',
      [business],
      [
        {
          user: 'erin',
          startDate: '2026-03-07T00:00:00Z',
          endDate: '2026-03-08T00:00:00Z',
          rotationIds: ['business'],
        },
      ],
    );
    assert.deepEqual(finalOf(saturday, '2026-03-07T00:00:00Z', '2026-03-08T00:00:00Z'), []);
  });

  it('overlapping overrides: the later one in the list wins', () => {
    const s = schedule(
      'UTC',
      [rotation({ type: 'daily', startDate: '2026-01-01T00:00:00Z' })],
      [
        {
          user: 'dave',
          startDate: '2026-01-01T06:00:00Z',
          endDate: '2026-01-01T18:00:00Z',
        },
        {
          user: 'erin',
          startDate: '2026-01-01T10:00:00Z',
          endDate: '2026-01-01T12:00:00Z',
        },
      ],
    );
    assert.deepEqual(finalOf(s, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), [
      {
        user: 'alice',
        start: '2026-01-01T00:00:00.000Z',
        end: '2026-01-01T06:00:00.000Z',
        rotationId: 'primary',
      },
      {
        user: 'dave',
        start: '2026-01-01T06:00:00.000Z',
        end: '2026-01-01T10:00:00.000Z',
        override: true,
      },
      {
        user: 'erin',
        start: '2026-01-01T10:00:00.000Z',
        end: '2026-01-01T12:00:00.000Z',
        override: true,
      },
      {
        user: 'dave',
        start: '2026-01-01T12:00:00.000Z',
        end: '2026-01-01T18:00:00.000Z',
        override: true,
      },
      {
        user: 'alice',
        start: '2026-01-01T18:00:00.000Z',
        end: '2026-01-02T00:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });
});

describe('start and end of a rotation', () => {
  it('empty participants: nobody on call, no shifts, no next', () => {
    const s = schedule('Europe/Berlin', [
      rotation({
        type: 'weekly',
        participants: [],
        startDate: '2026-03-23T09:00:00+01:00',
      }),
    ]);
    assert.equal(onCallAt(s, at('2026-04-01T12:00:00Z')), undefined);
    assert.deepEqual(timeline(s, at('2026-03-01T00:00:00Z'), at('2026-05-01T00:00:00Z')), {
      final: [],
      rotations: [{ rotationId: 'primary', shifts: [] }],
    });
    assert.equal(nextOnCall(s, at('2026-03-01T00:00:00Z')), undefined);
  });

  it('a startDate in the future: nobody before it', () => {
    const s = schedule('Europe/Berlin', [
      rotation({ type: 'weekly', startDate: '2026-06-01T09:00:00+02:00' }),
    ]);
    assert.equal(onCallAt(s, at('2026-06-01T06:59:59Z')), undefined);
    assert.equal(onCallAt(s, at('2026-06-01T07:00:00Z'))?.user, 'alice');
    assert.deepEqual(finalOf(s, '2026-05-31T00:00:00Z', '2026-06-01T12:00:00Z'), [
      {
        user: 'alice',
        start: '2026-06-01T07:00:00.000Z',
        end: '2026-06-01T12:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });

  it('an endDate: no shifts from it on, and a lower layer takes over', () => {
    const ending = rotation({
      id: 'temp',
      type: 'weekly',
      startDate: '2026-03-02T09:00:00-05:00',
      endDate: '2026-03-12T00:00:00Z',
    });
    const s = schedule('America/New_York', [ending]);
    assert.equal(onCallAt(s, at('2026-03-11T23:59:59Z'))?.user, 'bob');
    assert.equal(onCallAt(s, at('2026-03-12T00:00:00Z')), undefined);
    assert.deepEqual(shiftsOf(s, '2026-03-09T00:00:00Z', '2026-03-20T00:00:00Z'), [
      {
        user: 'alice',
        start: '2026-03-09T00:00:00.000Z',
        end: '2026-03-09T13:00:00.000Z',
        rotationId: 'temp',
      },
      {
        user: 'bob',
        start: '2026-03-09T13:00:00.000Z',
        end: '2026-03-12T00:00:00.000Z',
        rotationId: 'temp',
      },
    ]);
    const layered = schedule('America/New_York', [
      rotation({
        id: 'base',
        type: 'daily',
        participants: ['zed'],
        startDate: '2026-01-01T00:00:00Z',
      }),
      ending,
    ]);
    assert.deepEqual(finalOf(layered, '2026-03-11T00:00:00Z', '2026-03-13T00:00:00Z'), [
      {
        user: 'bob',
        start: '2026-03-11T00:00:00.000Z',
        end: '2026-03-12T00:00:00.000Z',
        rotationId: 'temp',
      },
      {
        user: 'zed',
        start: '2026-03-12T00:00:00.000Z',
        end: '2026-03-13T00:00:00.000Z',
        rotationId: 'base',
      },
    ]);
  });
});

describe('nextOnCall', () => {
  const weekly = schedule('America/New_York', [
    rotation({ type: 'weekly', startDate: '2026-03-02T09:00:00-05:00' }),
  ]);

  it('returns the next person’s whole shift', () => {
    assert.deepEqual(nextOnCall(weekly, at('2026-03-04T00:00:00Z')), {
      user: 'bob',
      start: '2026-03-09T13:00:00.000Z',
      end: '2026-03-16T13:00:00.000Z',
      rotationId: 'primary',
    });
  });

  it('skips further shifts of the person on call now', () => {
    const s = schedule('America/New_York', [
      rotation({
        type: 'daily',
        participants: ['alice', 'alice', 'bob'],
        startDate: '2026-03-02T09:00:00-05:00',
      }),
    ]);
    assert.deepEqual(nextOnCall(s, at('2026-03-02T15:00:00Z')), {
      user: 'bob',
      start: '2026-03-04T14:00:00.000Z',
      end: '2026-03-05T14:00:00.000Z',
      rotationId: 'primary',
    });
  });

  it('follows layers and gaps', () => {
    const business = rotation({
      id: 'business',
      type: 'weekly',
      participants: ['carol'],
      startDate: '2026-03-02T09:00:00-05:00',
      timeRestriction: WEEKDAYS_9_TO_5,
    });
    const layered = schedule('America/New_York', [
      rotation({ type: 'weekly', startDate: '2026-03-02T09:00:00-05:00' }),
      business,
    ]);
    assert.deepEqual(nextOnCall(layered, at('2026-03-05T15:00:00Z')), {
      user: 'alice',
      start: '2026-03-05T22:00:00.000Z',
      end: '2026-03-06T14:00:00.000Z',
      rotationId: 'primary',
    });
    // Business hours only: from Friday evening the next is Monday 09:00 EDT.
    const only = schedule('America/New_York', [business]);
    assert.deepEqual(nextOnCall(only, at('2026-03-06T23:00:00Z')), {
      user: 'carol',
      start: '2026-03-09T13:00:00.000Z',
      end: '2026-03-09T21:00:00.000Z',
      rotationId: 'business',
    });
  });

  it('before a future start, the first person is next', () => {
    const s = schedule('Europe/Berlin', [
      rotation({ type: 'weekly', startDate: '2026-06-01T09:00:00+02:00' }),
    ]);
    assert.deepEqual(nextOnCall(s, at('2026-05-01T00:00:00Z')), {
      user: 'alice',
      start: '2026-06-01T07:00:00.000Z',
      end: '2026-06-08T07:00:00.000Z',
      rotationId: 'primary',
    });
  });

  it('is undefined when nobody else comes within the horizon', () => {
    const solo = schedule('Europe/Berlin', [
      rotation({
        type: 'weekly',
        participants: ['alice'],
        startDate: '2026-03-23T09:00:00+01:00',
      }),
    ]);
    assert.equal(nextOnCall(solo, at('2026-04-01T00:00:00Z')), undefined);
    assert.equal(nextOnCall(weekly, at('2026-03-04T00:00:00Z'), 3), undefined);
    assert.equal(nextOnCall(weekly, at('2026-03-04T00:00:00Z'), 6)?.user, 'bob');
  });

  it('reports the real end of a shift that outlasts the horizon', () => {
    const long = schedule('America/New_York', [
      rotation({
        type: 'weekly',
        length: 2,
        startDate: '2026-03-02T09:00:00-05:00',
      }),
    ]);
    assert.deepEqual(nextOnCall(long, at('2026-03-15T00:00:00Z'), 2), {
      user: 'bob',
      start: '2026-03-16T13:00:00.000Z',
      end: '2026-03-30T13:00:00.000Z',
      rotationId: 'primary',
    });
  });

  it('rejects a non-positive horizon', () => {
    assert.throws(() => nextOnCall(weekly, at('2026-03-04T00:00:00Z'), 0), RangeError);
  });

  it('looks as far as the schedule needs: a next shift more than 90 days off', () => {
    // 13 weeks (91 days) each, handoffs Monday 09:00 Berlin: bob from 2026-04-06, alice from 2026-07-06.
    const quarterly = schedule('Europe/Berlin', [
      rotation({ type: 'weekly', length: 13, startDate: '2026-01-05T09:00:00+01:00' }),
    ]);
    assert.equal(onCallAt(quarterly, at('2026-04-06T12:00:00Z'))?.user, 'bob');
    assert.deepEqual(nextOnCall(quarterly, at('2026-04-06T12:00:00Z')), {
      user: 'alice',
      start: '2026-07-06T07:00:00.000Z',
      end: '2026-10-05T07:00:00.000Z',
      rotationId: 'primary',
    });
    // A given horizon still bounds it.
    assert.equal(nextOnCall(quarterly, at('2026-04-06T12:00:00Z'), 90), undefined);
  });

  it('before a start more than 90 days off, the first person is next', () => {
    const later = schedule('UTC', [rotation({ type: 'weekly', startDate: '2027-04-05T09:00:00Z' })]);
    assert.deepEqual(nextOnCall(later, at('2026-12-06T12:00:00Z')), {
      user: 'alice',
      start: '2027-04-05T09:00:00.000Z',
      end: '2027-04-12T09:00:00.000Z',
      rotationId: 'primary',
    });
  });

  it('looks at most three years ahead, whatever the rotation', () => {
    const endless = schedule('UTC', [
      rotation({ type: 'hourly', length: 1_000_000, startDate: '2026-01-05T09:00:00Z' }),
    ]);
    // Bob's turn is 1,000,000 hours (114 years) on: past the three years looked at.
    assert.equal(nextOnCall(endless, at('2026-03-01T00:00:00Z')), undefined);
    const twoYears = schedule('UTC', [
      rotation({ type: 'hourly', length: 2 * 365 * 24, startDate: '2026-01-05T09:00:00Z' }),
    ]);
    assert.equal(nextOnCall(twoYears, at('2026-03-01T00:00:00Z'))?.start, '2028-01-05T09:00:00.000Z');
  });
});

describe('previousOnCall', () => {
  const weekly = schedule('America/New_York', [
    rotation({ type: 'weekly', startDate: '2026-03-02T09:00:00-05:00' }),
  ]);

  it('returns the previous person’s whole shift (here across the March change: 167 h)', () => {
    // Bob's shift 1 runs from Monday 2026-03-09 09:00 EDT (13:00Z); alice had 03-02 14:00Z to then.
    const previous = previousOnCall(weekly, at('2026-03-10T00:00:00Z'));
    assert.deepEqual(previous, {
      user: 'alice',
      start: '2026-03-02T14:00:00.000Z',
      end: '2026-03-09T13:00:00.000Z',
      rotationId: 'primary',
    });
    assert.equal(previous && hours(previous), 167);
  });

  it('is undefined during the first shift, and counts a handoff at `at` as already made', () => {
    assert.equal(previousOnCall(weekly, at('2026-03-04T00:00:00Z')), undefined);
    assert.equal(previousOnCall(weekly, at('2026-03-09T13:00:00Z'))?.user, 'alice');
    assert.equal(previousOnCall(weekly, at('2026-03-09T12:59:59Z')), undefined);
  });

  it('skips earlier shifts of the person on call now and merges the previous person’s consecutive shifts', () => {
    // Daily 09:00 local: alice 03-02, bob 03-03 and 03-04, alice 03-05, bob 03-06 and 03-07, alice 03-08.
    const s = schedule('America/New_York', [
      rotation({
        type: 'daily',
        participants: ['alice', 'bob', 'bob'],
        startDate: '2026-03-02T09:00:00-05:00',
      }),
    ]);
    assert.deepEqual(previousOnCall(s, at('2026-03-05T00:00:00Z')), {
      user: 'alice',
      start: '2026-03-02T14:00:00.000Z',
      end: '2026-03-03T14:00:00.000Z',
      rotationId: 'primary',
    });
    assert.deepEqual(previousOnCall(s, at('2026-03-08T12:00:00Z')), {
      user: 'alice',
      start: '2026-03-05T14:00:00.000Z',
      end: '2026-03-06T14:00:00.000Z',
      rotationId: 'primary',
    });
    // Bob's two shifts before 2026-03-08 09:00 EDT (13:00Z): 24 h + 23 h.
    assert.deepEqual(previousOnCall(s, at('2026-03-08T20:00:00Z')), {
      user: 'bob',
      start: '2026-03-06T14:00:00.000Z',
      end: '2026-03-08T13:00:00.000Z',
      rotationId: 'primary',
    });
  });

  it('where nobody is on call, the last person who was', () => {
    const business = schedule('America/New_York', [
      rotation({
        id: 'business',
        type: 'weekly',
        participants: ['carol', 'dave'],
        startDate: '2026-03-02T09:00:00-05:00',
        timeRestriction: WEEKDAYS_9_TO_5,
      }),
    ]);
    const fridayCarol = {
      user: 'carol',
      start: '2026-03-06T14:00:00.000Z',
      end: '2026-03-06T22:00:00.000Z',
      rotationId: 'business',
    };
    assert.deepEqual(previousOnCall(business, at('2026-03-07T15:00:00Z')), fridayCarol); // Saturday
    assert.deepEqual(previousOnCall(business, at('2026-03-09T15:00:00Z')), fridayCarol); // Monday, dave
  });

  it('includes overrides', () => {
    const s = schedule('America/New_York', weekly.rotations, [
      { user: 'carol', startDate: '2026-03-10T00:00:00Z', endDate: '2026-03-11T00:00:00Z' },
    ]);
    assert.deepEqual(previousOnCall(s, at('2026-03-12T00:00:00Z')), {
      user: 'carol',
      start: '2026-03-10T00:00:00.000Z',
      end: '2026-03-11T00:00:00.000Z',
      override: true,
    });
  });

  it('reports the real start of a shift that began before the horizon', () => {
    const long = schedule('America/New_York', [
      rotation({ type: 'weekly', length: 2, startDate: '2026-03-02T09:00:00-05:00' }),
    ]);
    assert.deepEqual(previousOnCall(long, at('2026-03-17T00:00:00Z'), 2), {
      user: 'alice',
      start: '2026-03-02T14:00:00.000Z',
      end: '2026-03-16T13:00:00.000Z',
      rotationId: 'primary',
    });
    // The horizon bounds how long ago the previous shift may have ended.
    assert.equal(previousOnCall(long, at('2026-03-20T00:00:00Z'), 2), undefined);
    assert.equal(previousOnCall(long, at('2026-03-20T00:00:00Z'), 5)?.user, 'alice');
  });

  it('rejects a non-positive horizon', () => {
    assert.throws(() => previousOnCall(weekly, at('2026-03-04T00:00:00Z'), 0), RangeError);
  });

  it('looks as far back as the schedule needs: a previous shift that ended more than 90 days ago', () => {
    const quarterly = schedule('Europe/Berlin', [
      rotation({ type: 'weekly', length: 13, startDate: '2026-01-05T09:00:00+01:00' }),
    ]);
    assert.deepEqual(previousOnCall(quarterly, at('2026-07-05T12:00:00Z')), {
      user: 'alice',
      start: '2026-01-05T08:00:00.000Z',
      end: '2026-04-06T07:00:00.000Z',
      rotationId: 'primary',
    });
    assert.equal(previousOnCall(quarterly, at('2026-07-05T12:00:00Z'), 90), undefined);
  });
});

describe('withinTimeRestriction', () => {
  it('weekdays 09:00-17:00 in America/New_York, before and after the March change', () => {
    const inside = (iso: string) => withinTimeRestriction(WEEKDAYS_9_TO_5, 'America/New_York', at(iso));
    assert.equal(inside('2026-03-06T13:59:59Z'), false); // Friday 08:59:59 EST
    assert.equal(inside('2026-03-06T14:00:00Z'), true);
    assert.equal(inside('2026-03-06T21:59:59Z'), true);
    assert.equal(inside('2026-03-06T22:00:00Z'), false); // Friday 17:00 EST
    assert.equal(inside('2026-03-07T15:00:00Z'), false); // Saturday
    assert.equal(inside('2026-03-09T12:59:59Z'), false); // Monday 08:59:59 EDT
    assert.equal(inside('2026-03-09T13:00:00Z'), true);
  });

  it('a nightly 22:00-06:00 window in Europe/Berlin over the short night of 2026-03-28/29', () => {
    const nightly: TimeRestriction = {
      type: 'time-of-day',
      restrictions: [{ startHour: 22, startMin: 0, endHour: 6, endMin: 0 }],
    };
    const inside = (iso: string) => withinTimeRestriction(nightly, 'Europe/Berlin', at(iso));
    assert.equal(inside('2026-03-28T20:59:59Z'), false); // 21:59:59 CET
    assert.equal(inside('2026-03-28T21:00:00Z'), true); // 22:00 CET
    assert.equal(inside('2026-03-29T03:59:59Z'), true); // 05:59:59 CEST
    assert.equal(inside('2026-03-29T04:00:00Z'), false); // 06:00 CEST
    assert.equal(inside('2026-03-29T12:00:00Z'), false);
  });

  it('a window starting in the spring-forward gap starts after it (02:30 → 03:30 EDT)', () => {
    const early: TimeRestriction = {
      type: 'time-of-day',
      restrictions: [{ startHour: 2, startMin: 30, endHour: 4, endMin: 0 }],
    };
    const inside = (iso: string) => withinTimeRestriction(early, 'America/New_York', at(iso));
    assert.equal(inside('2026-03-08T07:15:00Z'), false); // 03:15 EDT
    assert.equal(inside('2026-03-08T07:30:00Z'), true); // 03:30 EDT
    assert.equal(inside('2026-03-08T07:59:59Z'), true);
    assert.equal(inside('2026-03-08T08:00:00Z'), false); // 04:00 EDT
    assert.equal(inside('2026-03-09T06:30:00Z'), true); // 02:30 EDT the next day
  });

  it('validates the restriction and the zone', () => {
    assert.deepEqual(validateTimeRestriction(WEEKDAYS_9_TO_5, 'Europe/Berlin'), []);
    const bad: TimeRestriction = {
      type: 'time-of-day',
      restrictions: [{ startHour: 24, startMin: 0, endHour: 6, endMin: 0 }],
    };
    assert.equal(validateTimeRestriction(bad, 'Mars/Olympus').length, 2);
    assert.throws(() => withinTimeRestriction(bad, 'UTC', at('2026-03-01T00:00:00Z')), /startHour/);
    assert.throws(
      () => withinTimeRestriction(WEEKDAYS_9_TO_5, 'Mars/Olympus', at('2026-03-01T00:00:00Z')),
      RangeError,
    );
    assert.throws(() => withinTimeRestriction(WEEKDAYS_9_TO_5, 'UTC', new Date(NaN)), RangeError);
  });
});

describe('timeline', () => {
  it('merges adjacent shifts of one user in final, keeps them apart per rotation', () => {
    const s = schedule('America/New_York', [
      rotation({
        type: 'daily',
        participants: ['alice'],
        startDate: '2026-03-06T09:00:00-05:00',
      }),
    ]);
    const t = timeline(s, at('2026-03-06T14:00:00Z'), at('2026-03-09T13:00:00Z'));
    assert.deepEqual(t.final, [
      {
        user: 'alice',
        start: '2026-03-06T14:00:00.000Z',
        end: '2026-03-09T13:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
    assert.deepEqual(t.rotations, [
      {
        rotationId: 'primary',
        shifts: [
          {
            user: 'alice',
            start: '2026-03-06T14:00:00.000Z',
            end: '2026-03-07T14:00:00.000Z',
            rotationId: 'primary',
          },
          {
            user: 'alice',
            start: '2026-03-07T14:00:00.000Z',
            end: '2026-03-08T13:00:00.000Z',
            rotationId: 'primary',
          },
          {
            user: 'alice',
            start: '2026-03-08T13:00:00.000Z',
            end: '2026-03-09T13:00:00.000Z',
            rotationId: 'primary',
          },
        ],
      },
    ]);
  });

  it('an override adjacent to the same user’s shift merges, keeping only what all pieces share', () => {
    const s = schedule(
      'UTC',
      [rotation({ type: 'daily', startDate: '2026-01-01T00:00:00Z' })],
      [
        {
          user: 'alice',
          startDate: '2026-01-02T00:00:00Z',
          endDate: '2026-01-02T06:00:00Z',
        },
      ],
    );
    assert.deepEqual(finalOf(s, '2026-01-01T00:00:00Z', '2026-01-02T12:00:00Z'), [
      {
        user: 'alice',
        start: '2026-01-01T00:00:00.000Z',
        end: '2026-01-02T06:00:00.000Z',
      },
      {
        user: 'bob',
        start: '2026-01-02T06:00:00.000Z',
        end: '2026-01-02T12:00:00.000Z',
        rotationId: 'primary',
      },
    ]);
  });

  it('is empty for an empty or reversed window', () => {
    const s = schedule('UTC', [rotation({ type: 'daily', startDate: '2026-01-01T00:00:00Z' })]);
    assert.deepEqual(timeline(s, at('2026-01-05T00:00:00Z'), at('2026-01-05T00:00:00Z')), {
      final: [],
      rotations: [{ rotationId: 'primary', shifts: [] }],
    });
    assert.deepEqual(finalOf(s, '2026-01-06T00:00:00Z', '2026-01-05T00:00:00Z'), []);
  });

  it('agrees with onCallAt at many instants of a complex schedule', () => {
    const s = schedule(
      'Europe/Berlin',
      [
        rotation({
          id: 'a',
          type: 'weekly',
          participants: ['u1', 'u2', 'u3'],
          startDate: '2025-12-29T09:00:00+01:00',
        }),
        rotation({
          id: 'b',
          type: 'daily',
          participants: ['u4', 'u5'],
          startDate: '2026-01-01T02:30:00+01:00',
          endDate: '2026-11-15T00:00:00Z',
          timeRestriction: {
            type: 'time-of-day',
            restrictions: [{ startHour: 22, startMin: 0, endHour: 6, endMin: 0 }],
          },
        }),
        rotation({
          id: 'c',
          type: 'hourly',
          length: 5,
          participants: ['u6', 'u7'],
          startDate: '2026-01-01T00:00:00Z',
          timeRestriction: {
            type: 'weekday-and-time-of-day',
            restrictions: [
              {
                startDay: 'saturday',
                startHour: 10,
                startMin: 0,
                endDay: 'sunday',
                endHour: 2,
                endMin: 30,
              },
            ],
          },
        }),
      ],
      [
        {
          user: 'o1',
          startDate: '2026-03-28T20:00:00Z',
          endDate: '2026-03-29T03:00:00Z',
          rotationIds: ['b'],
        },
        {
          user: 'o2',
          startDate: '2026-10-24T12:00:00Z',
          endDate: '2026-10-25T12:00:00Z',
        },
      ],
    );
    const from = Date.parse('2026-03-20T00:00:00Z');
    const to = Date.parse('2026-11-10T00:00:00Z');
    const { final } = timeline(s, new Date(from), new Date(to));
    const expectAt = (ms: number) => {
      const hit = final.find((x) => Date.parse(x.start) <= ms && ms < Date.parse(x.end));
      return hit?.user;
    };
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const samples: number[] = [];
    for (let i = 0; i < 400; i++) samples.push(from + Math.floor(random() * (to - from)));
    for (const x of final) samples.push(Date.parse(x.start), Date.parse(x.end) - 1);
    for (const ms of samples) {
      assert.equal(onCallAt(s, new Date(ms))?.user, expectAt(ms), new Date(ms).toISOString());
    }
  });
});

describe('validateSchedule', () => {
  it("refuses a date without a time, which would be read in the server's own zone", () => {
    const s = schedule(
      'Europe/Berlin',
      [rotation({ type: 'daily', startDate: '2026-03-23' })],
      [{ user: 'dave', startDate: '2026-04-01T00:00:00Z', endDate: '20260402' }],
    );
    assert.deepEqual(validateSchedule(s), [
      'rotation 1 "Primary": startDate "2026-03-23" is a date without a time; give an instant such as "2026-03-23T00:00:00Z"',
      'override 1: endDate "20260402" is a date without a time; give an instant such as "20260402T00:00:00Z"',
    ]);
  });

  it('accepts a valid schedule', () => {
    const s = schedule(
      'Europe/Berlin',
      [
        rotation({
          type: 'weekly',
          startDate: '2026-03-23T09:00:00+01:00',
          endDate: '2026-12-31T00:00:00Z',
          timeRestriction: WEEKDAYS_9_TO_5,
        }),
      ],
      [
        {
          user: 'dave',
          startDate: '2026-04-01T00:00:00Z',
          endDate: '2026-04-02T00:00:00Z',
          rotationIds: ['primary'],
        },
      ],
    );
    assert.deepEqual(validateSchedule(s), []);
  });

  it('lists every problem a person can fix', () => {
    const bad = {
      timezone: 'Mars/Olympus_Mons',
      rotations: [
        {
          id: 'r1',
          name: 'Primary',
          type: 'monthly',
          length: 0,
          participants: ['alice', ''],
          startDate: '2026-13-01T00:00:00Z',
        },
        {
          id: 'r1',
          name: 'Secondary',
          type: 'daily',
          length: 1.5,
          participants: [],
          startDate: '2026-03-01T09:00:00',
          timeRestriction: {
            type: 'time-of-day',
            restrictions: [
              {
                startDay: 'monday',
                startHour: 24,
                startMin: 0,
                endHour: 6,
                endMin: 60,
              },
            ],
          },
        },
        {
          id: 'r3',
          name: 'Tertiary',
          type: 'weekly',
          length: 1,
          participants: ['bob'],
          startDate: '2026-03-01T00:00:00Z',
          endDate: '2026-02-01T00:00:00Z',
          timeRestriction: {
            type: 'weekday-and-time-of-day',
            restrictions: [
              {
                startDay: 'funday',
                startHour: 9,
                startMin: 0,
                endHour: 17,
                endMin: 0,
              },
            ],
          },
        },
        {
          id: 'r4',
          name: '',
          type: 'hourly',
          length: 2,
          participants: ['carol'],
          startDate: '2026-03-01T00:00:00Z',
          timeRestriction: { type: 'time-of-day', restrictions: [] },
        },
      ],
      overrides: [
        {
          user: '',
          startDate: '2026-03-02T00:00:00Z',
          endDate: '2026-03-01T00:00:00Z',
        },
        {
          user: 'dave',
          startDate: 'tomorrow',
          endDate: '2026-03-01T00:00:00Z',
          rotationIds: ['nope'],
        },
        {
          user: 'erin',
          startDate: '2026-03-01T00:00:00Z',
          endDate: '2026-03-02T00:00:00Z',
          rotationIds: [],
        },
      ],
    } as unknown as Schedule;
    const problems = validateSchedule(bad);
    assert.deepEqual(problems, [
      'timezone "Mars/Olympus_Mons" is not a known IANA time zone; use a name such as "Europe/Berlin" or "America/New_York"',
      'rotation 1 "Primary": type must be one of hourly, daily, weekly, custom (got "monthly")',
      'rotation 1 "Primary": length must be a whole number of units, at least 1 (got 0)',
      'rotation 1 "Primary": participant 2 has no user id',
      'rotation 1 "Primary": startDate "2026-13-01T00:00:00Z" is not a valid ISO 8601 date-time; use a form such as "2026-03-23T09:00:00+01:00"',
      'rotation 2 "Secondary": id "r1" is used by another rotation; rotation ids must be unique',
      'rotation 2 "Secondary": length must be a whole number of units, at least 1 (got 1.5)',
      'rotation 2 "Secondary": startDate "2026-03-01T09:00:00" has no UTC offset; end it with "Z" or an offset such as "+01:00"',
      'rotation 2 "Secondary": time restriction window 1: startHour must be a whole number from 0 to 23 (got 24)',
      'rotation 2 "Secondary": time restriction window 1: endMin must be a whole number from 0 to 59 (got 60)',
      'rotation 2 "Secondary": time restriction window 1: startDay is not used by a time-of-day restriction; remove it or use the weekday-and-time-of-day type',
      'rotation 3 "Tertiary": endDate 2026-02-01T00:00:00Z must be after startDate 2026-03-01T00:00:00Z',
      'rotation 3 "Tertiary": time restriction window 1: startDay must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday for a weekday-and-time-of-day restriction (got "funday")',
      'rotation 3 "Tertiary": time restriction window 1: endDay must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday for a weekday-and-time-of-day restriction (got nothing)',
      'rotation 4: the time restriction has no windows; add at least one or remove the time restriction',
      'override 1: user is missing',
      'override 1: endDate 2026-03-01T00:00:00Z must be after startDate 2026-03-02T00:00:00Z',
      'override 2: startDate "tomorrow" is not a valid ISO 8601 date-time; use a form such as "2026-03-23T09:00:00+01:00"',
      'override 2: rotation "nope" does not exist in this schedule',
      'override 3: rotationIds is empty; list rotation ids, or leave it out to override every rotation',
    ]);
  });

  it('reports a custom rotation length in hours', () => {
    const s = schedule('UTC', [
      rotation({
        type: 'custom',
        length: -3,
        startDate: '2026-01-01T00:00:00Z',
      }),
    ]);
    assert.deepEqual(validateSchedule(s), [
      'rotation 1 "Primary": length must be a whole number of hours, at least 1 (got -3)',
    ]);
  });

  it('the computing functions refuse an invalid schedule or Date', () => {
    const s = schedule('Nowhere/Atlantis', [rotation({ type: 'daily', startDate: '2026-01-01T00:00:00Z' })]);
    assert.throws(() => onCallAt(s, at('2026-01-02T00:00:00Z')), {
      name: 'RangeError',
      message: /^invalid schedule: timezone "Nowhere\/Atlantis" is not a known IANA time zone/,
    });
    assert.throws(() => timeline(s, at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z')), RangeError);
    const ok = schedule('UTC', [rotation({ type: 'daily', startDate: '2026-01-01T00:00:00Z' })]);
    assert.throws(() => onCallAt(ok, new Date('not a date')), /at is not a valid Date/);
  });
});

describe('performance', () => {
  it('answers onCallAt for rotations started 10 years ago without walking every shift', () => {
    // The same rotations started ten years ago and ten days before the instants asked about.
    const build = (weekStart: string, hourStart: string) =>
      schedule('Europe/Berlin', [
        rotation({
          id: 'w',
          type: 'weekly',
          participants: ['a', 'b', 'c', 'd'],
          startDate: weekStart,
        }),
        rotation({
          id: 'd',
          type: 'daily',
          participants: ['e', 'f', 'g'],
          startDate: weekStart,
          timeRestriction: {
            type: 'time-of-day',
            restrictions: [{ startHour: 22, startMin: 0, endHour: 6, endMin: 0 }],
          },
        }),
        rotation({
          id: 'h',
          type: 'hourly',
          length: 1,
          participants: [],
          startDate: hourStart,
        }),
      ]);
    const s = build('2016-01-04T09:00:00+01:00', '2016-01-01T00:00:00Z');
    const recent = build('2025-12-22T09:00:00+01:00', '2025-12-22T00:00:00Z');
    // 2016-01-04 → 2026-01-05 is 3654 days = 522 weeks; → 2026-03-23 is 11 more: shift 533 (533 % 4 = 1 → b).
    assert.equal(onCallAt(s, at('2026-03-23T07:59:59Z'))?.user, 'a');
    assert.deepEqual(onCallAt(s, at('2026-03-23T08:00:00Z')), {
      user: 'b',
      rotationId: 'w',
    });
    // Timed against the recent rotations, call by call in turn, so that a busy machine slows both alike:
    // walking the 533 shifts since 2016 would make the old ones tens of times slower.
    let oldMs = 0;
    let recentMs = 0;
    const base = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 10_000; i++) {
      const when = new Date(base + i * 3_163_000);
      const t0 = performance.now();
      onCallAt(s, when);
      const t1 = performance.now();
      onCallAt(recent, when);
      oldMs += t1 - t0;
      recentMs += performance.now() - t1;
    }
    assert.ok(
      oldMs < 3 * recentMs + 50,
      `10,000 onCallAt calls took ${Math.round(oldMs)} ms for rotations of 2016, ${Math.round(recentMs)} ms for recent ones`,
    );
  });
});

describe('rotationsCombine "all" (Opsgenie: everyone every rotation has is on call)', () => {
  // Two daily rotations, both handing off at 00:00 UTC: days rotate alice/bob, nights... both all day.
  const first = rotation({
    id: 'first',
    type: 'daily',
    participants: ['alice', 'bob'],
    startDate: '2026-03-02T00:00:00Z',
  });
  // Hands off at 12:00, so the two overlap with different pairs through the day.
  const second = rotation({
    id: 'second',
    type: 'daily',
    participants: ['carol', 'dave'],
    startDate: '2026-03-02T12:00:00Z',
  });
  const all = (overrides: Override[] = [], rotations = [first, second]) =>
    schedule('UTC', rotations, overrides, 'all');

  it('a schedule without the field combines "all"', () => {
    const bare: Schedule = { timezone: 'UTC', rotations: [first, second], overrides: [] };
    assert.deepEqual(onCallsAt(bare, at('2026-03-02T13:00:00Z')), [
      { user: 'alice', rotationId: 'first' },
      { user: 'carol', rotationId: 'second' },
    ]);
  });

  it('everyone each rotation has is on call at once, in rotation order; layers gives only the later', () => {
    assert.deepEqual(onCallsAt(all(), at('2026-03-02T11:00:00Z')), [{ user: 'alice', rotationId: 'first' }]);
    assert.deepEqual(onCallsAt(all(), at('2026-03-02T12:00:00Z')), [
      { user: 'alice', rotationId: 'first' },
      { user: 'carol', rotationId: 'second' },
    ]);
    assert.deepEqual(onCallsAt(all(), at('2026-03-03T06:00:00Z')), [
      { user: 'bob', rotationId: 'first' },
      { user: 'carol', rotationId: 'second' },
    ]);
    const layered = schedule('UTC', [first, second], [], 'layers');
    assert.deepEqual(onCallsAt(layered, at('2026-03-03T06:00:00Z')), [
      { user: 'carol', rotationId: 'second' },
    ]);
    assert.deepEqual(onCallAt(layered, at('2026-03-03T06:00:00Z')), { user: 'carol', rotationId: 'second' });
  });

  it('someone in two rotations at once is on call once, without a single rotationId', () => {
    const again = rotation({
      id: 'again',
      type: 'weekly',
      participants: ['alice'],
      startDate: '2026-03-02T00:00:00Z',
    });
    assert.deepEqual(onCallsAt(all([], [first, second, again]), at('2026-03-02T13:00:00Z')), [
      { user: 'alice' },
      { user: 'carol', rotationId: 'second' },
    ]);
  });

  it('an override without rotations replaces everyone; one with rotations replaces only their person', () => {
    const window = { startDate: '2026-03-02T18:00:00Z', endDate: '2026-03-02T20:00:00Z' };
    assert.deepEqual(onCallsAt(all([{ user: 'erin', ...window }]), at('2026-03-02T19:00:00Z')), [
      { user: 'erin', override: true },
    ]);
    assert.deepEqual(
      onCallsAt(all([{ user: 'erin', ...window, rotationIds: ['first'] }]), at('2026-03-02T19:00:00Z')),
      [
        { user: 'erin', rotationId: 'first', override: true },
        { user: 'carol', rotationId: 'second' },
      ],
    );
    // The override user already on call through another rotation: once, an override only through one way.
    assert.deepEqual(
      onCallsAt(all([{ user: 'carol', ...window, rotationIds: ['first'] }]), at('2026-03-02T19:00:00Z')),
      [{ user: 'carol' }],
    );
    // Outside its window the override changes nothing.
    assert.deepEqual(onCallsAt(all([{ user: 'erin', ...window }]), at('2026-03-02T20:00:00Z')), [
      { user: 'alice', rotationId: 'first' },
      { user: 'carol', rotationId: 'second' },
    ]);
  });

  it('the final timeline holds overlapping shifts, one merged run per person', () => {
    const t = timeline(
      all([{ user: 'erin', startDate: '2026-03-03T02:00:00Z', endDate: '2026-03-03T03:00:00Z' }]),
      at('2026-03-02T00:00:00Z'),
      at('2026-03-03T12:00:00Z'),
    );
    assert.deepEqual(t.final, [
      {
        user: 'alice',
        start: '2026-03-02T00:00:00.000Z',
        end: '2026-03-03T00:00:00.000Z',
        rotationId: 'first',
      },
      {
        user: 'carol',
        start: '2026-03-02T12:00:00.000Z',
        end: '2026-03-03T02:00:00.000Z',
        rotationId: 'second',
      },
      {
        user: 'bob',
        start: '2026-03-03T00:00:00.000Z',
        end: '2026-03-03T02:00:00.000Z',
        rotationId: 'first',
      },
      { user: 'erin', start: '2026-03-03T02:00:00.000Z', end: '2026-03-03T03:00:00.000Z', override: true },
      {
        user: 'bob',
        start: '2026-03-03T03:00:00.000Z',
        end: '2026-03-03T12:00:00.000Z',
        rotationId: 'first',
      },
      {
        user: 'carol',
        start: '2026-03-03T03:00:00.000Z',
        end: '2026-03-03T12:00:00.000Z',
        rotationId: 'second',
      },
    ]);
  });

  it('next on call: the first newcomers with their stretches, and everyone on call then', () => {
    // At 13:00 alice and carol are on call; at 00:00 bob comes (alice goes), carol stays until 12:00.
    assert.deepEqual(nextOnCalls(all(), at('2026-03-02T13:00:00Z'), 10), {
      start: '2026-03-03T00:00:00.000Z',
      shifts: [
        {
          user: 'bob',
          start: '2026-03-03T00:00:00.000Z',
          end: '2026-03-04T00:00:00.000Z',
          rotationId: 'first',
        },
      ],
      onCall: [
        { user: 'bob', rotationId: 'first' },
        { user: 'carol', rotationId: 'second' },
      ],
    });
    assert.deepEqual(nextOnCall(all(), at('2026-03-02T13:00:00Z'), 10)?.user, 'bob');
    // Someone going off call is no change: before 12:00 on day 1, carol coming at 12:00 is the next.
    assert.deepEqual(
      nextOnCalls(all(), at('2026-03-02T06:00:00Z'), 10)?.shifts.map((x) => x.user),
      ['carol'],
    );
    // Two newcomers at once, both listed.
    const together = schedule(
      'UTC',
      [first, { ...second, id: 'same', startDate: '2026-03-02T00:00:00Z' }],
      [],
      'all',
    );
    const next = nextOnCalls(together, at('2026-03-02T06:00:00Z'), 10);
    assert.deepEqual(
      next?.shifts.map((x) => x.user),
      ['bob', 'dave'],
    );
    assert.deepEqual(
      next?.onCall.map((x) => x.user),
      ['bob', 'dave'],
    );
  });

  it('previous on call mirrors it: the last ones to go off call who are not on call now', () => {
    // At 2026-03-03T13:00 bob and dave are on call; carol went off at 12:00, alice at 00:00.
    assert.deepEqual(previousOnCalls(all(), at('2026-03-03T13:00:00Z'), 10), {
      end: '2026-03-03T12:00:00.000Z',
      shifts: [
        {
          user: 'carol',
          start: '2026-03-02T12:00:00.000Z',
          end: '2026-03-03T12:00:00.000Z',
          rotationId: 'second',
        },
      ],
    });
    assert.equal(previousOnCall(all(), at('2026-03-03T13:00:00Z'), 10)?.user, 'carol');
    assert.equal(previousOnCalls(all(), at('2026-03-02T06:00:00Z'), 10), undefined);
  });

  it('refuses an unknown way of combining rotations', () => {
    const bad = { ...all(), rotationsCombine: 'stacked' } as unknown as Schedule;
    assert.deepEqual(validateSchedule(bad), ['rotationsCombine must be "all" or "layers" (got "stacked")']);
  });

  describe('properties over random schedules (seeded)', () => {
    let state = 4242;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const people = ['a', 'b', 'c', 'd', 'e'];
    const base = Date.parse('2026-03-01T00:00:00Z');
    const randomSchedule = (combine: RotationsCombine): Schedule => {
      const count = 1 + Math.floor(random() * 3);
      const rotations = Array.from({ length: count }, (_, i) =>
        rotation({
          id: `r${i}`,
          type: pick(['hourly', 'daily', 'weekly', 'custom'] as const),
          length: 1 + Math.floor(random() * 3),
          participants: Array.from({ length: Math.floor(random() * 4) }, () =>
            random() < 0.15 ? null : pick(people),
          ),
          startDate: new Date(base + Math.floor(random() * 5 * 24) * 3_600_000).toISOString(),
          ...(random() < 0.3
            ? {
                timeRestriction: {
                  type: 'time-of-day' as const,
                  restrictions: [
                    {
                      startHour: Math.floor(random() * 24),
                      startMin: 0,
                      endHour: Math.floor(random() * 24),
                      endMin: 30,
                    },
                  ],
                },
              }
            : {}),
        }),
      );
      const overrides: Override[] = Array.from({ length: Math.floor(random() * 3) }, () => {
        const start = base + Math.floor(random() * 20 * 24) * 3_600_000;
        return {
          user: pick(people),
          startDate: new Date(start).toISOString(),
          endDate: new Date(start + (1 + Math.floor(random() * 48)) * 3_600_000).toISOString(),
          ...(random() < 0.5 ? { rotationIds: [pick(rotations).id] } : {}),
        };
      });
      return schedule(pick(['Europe/Berlin', 'America/New_York', 'UTC']), rotations, overrides, combine);
    };
    const from = base;
    const to = base + 21 * 86_400_000;
    const samplesOf = (final: Shift[]) => {
      const samples: number[] = [];
      for (let i = 0; i < 60; i++) samples.push(from + Math.floor(random() * (to - from)));
      // The bounds of a spread of final shifts, where mistakes would show.
      const step = Math.max(1, Math.floor(final.length / 100));
      for (let i = 0; i < final.length; i += step) {
        const x = final[i];
        if (x) samples.push(Date.parse(x.start), Date.parse(x.end) - 1);
      }
      return samples;
    };

    it('onCallsAt is exactly the set of final shifts covering the instant, each person once', () => {
      for (let n = 0; n < 40; n++) {
        const s = randomSchedule('all');
        const { final } = timeline(s, new Date(from), new Date(to));
        for (const ms of samplesOf(final)) {
          const users = onCallsAt(s, new Date(ms)).map((x) => x.user);
          assert.equal(new Set(users).size, users.length);
          const covering = final.filter((x) => Date.parse(x.start) <= ms && ms < Date.parse(x.end));
          assert.deepEqual([...users].sort(), covering.map((x) => x.user).sort(), new Date(ms).toISOString());
        }
        // One merged run per person: no two shifts of one person touch or overlap.
        for (const user of new Set(final.map((x) => x.user))) {
          const theirs = final.filter((x) => x.user === user);
          for (let i = 1; i < theirs.length; i++) {
            assert.ok(Date.parse(theirs[i - 1]?.end ?? '') < Date.parse(theirs[i]?.start ?? ''), user);
          }
        }
      }
    });

    it('the layered one on call is always among those "all" has on call', () => {
      for (let n = 0; n < 40; n++) {
        const s = randomSchedule('all');
        const layered = { ...s, rotationsCombine: 'layers' as const };
        for (const ms of samplesOf([])) {
          const one = onCallAt(layered, new Date(ms));
          const users = onCallsAt(s, new Date(ms)).map((x) => x.user);
          if (one) assert.ok(users.includes(one.user), new Date(ms).toISOString());
          else assert.deepEqual(users, []);
        }
      }
    });

    it('without overrides, "all" is the union of each rotation on its own', () => {
      for (let n = 0; n < 40; n++) {
        const s = { ...randomSchedule('all'), overrides: [] };
        for (const ms of samplesOf([])) {
          const union = new Set(
            s.rotations.flatMap((r) => onCallsAt({ ...s, rotations: [r] }, new Date(ms)).map((x) => x.user)),
          );
          const users = onCallsAt(s, new Date(ms)).map((x) => x.user);
          assert.deepEqual([...users].sort(), [...union].sort());
        }
      }
    });

    it('nextOnCalls: newcomers are not on call before their start, and nobody new comes earlier', () => {
      for (let n = 0; n < 40; n++) {
        const s = randomSchedule('all');
        const after = from + Math.floor(random() * 7 * 86_400_000);
        const now = new Set(onCallsAt(s, new Date(after)).map((x) => x.user));
        const next = nextOnCalls(s, new Date(after), 14);
        const { final } = timeline(s, new Date(after), new Date(after + 14 * 86_400_000));
        const firstNew = final.find((x) => !now.has(x.user) && Date.parse(x.start) > after);
        if (!next) {
          assert.equal(firstNew, undefined);
          continue;
        }
        assert.equal(next.start, firstNew?.start);
        assert.deepEqual(
          next.onCall.map((x) => x.user),
          onCallsAt(s, new Date(next.start)).map((x) => x.user),
        );
        for (const shift of next.shifts) {
          assert.equal(shift.start, next.start);
          assert.ok(!now.has(shift.user));
          assert.ok(next.onCall.some((x) => x.user === shift.user));
          assert.ok(!onCallsAt(s, new Date(Date.parse(shift.start) - 1)).some((x) => x.user === shift.user));
          // Unless the stretch runs past the 366 days looked at, it ends where they go off call.
          if (Date.parse(shift.end) - Date.parse(shift.start) < 366 * 86_400_000) {
            assert.ok(!onCallsAt(s, new Date(shift.end)).some((x) => x.user === shift.user));
          }
        }
      }
    });
  });
});
