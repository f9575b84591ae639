import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  nextOnCalls,
  planShiftsFrom,
  planTimeline,
  previousOnCalls,
  shiftsFrom,
  timeline,
  type Rotation,
  type Schedule,
  type Shift,
} from '../schedule.js';
import { timelineWork } from './combine.js';

/**
 * Following stretches past a window (the start of a shift under way when a calendar export begins, the
 * end of a newcomer's stretch, the start of a leaver's): one walk shared by everyone, within a budget of
 * work, rather than a walk of up to a year for each person. Work is counted in pieces the timeline gave
 * (timelineWork), not timed.
 */

const DAY = 86_400_000;

/** The pieces `compute` makes the timeline give. */
function workOf<T>(compute: () => T): { result: T; work: number } {
  const before = timelineWork.pieces;
  const result = compute();
  return { result, work: timelineWork.pieces - before };
}

function hourly(count: number, participants: (string | null)[], start = '2025-01-01'): Rotation[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `h${i}`,
    name: `h${i}`,
    type: 'hourly' as const,
    length: 1,
    startDate: `${start}T00:${String(i).padStart(2, '0')}:00Z`,
    participants: participants.map((p) => (p === null ? null : `${p}${i}`)),
  }));
}

function weekly(id: string, user: string, startDate: string, endDate?: string): Rotation {
  return {
    id,
    name: id,
    type: 'weekly',
    length: 1,
    startDate,
    participants: [user],
    ...(endDate ? { endDate } : {}),
  };
}

let seed = 20261207;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

function randomSchedule(): Schedule {
  const rotations: Rotation[] = Array.from({ length: int(1, 4) }, (_, i) => {
    const type = pick(['daily', 'weekly', 'hourly', 'custom'] as const);
    const startMs = Date.UTC(2025, int(0, 11), int(1, 28), int(0, 23));
    return {
      id: `r${i}`,
      name: `r${i}`,
      type,
      length: int(1, type === 'custom' ? 50 : 3),
      startDate: new Date(startMs).toISOString(),
      participants: Array.from({ length: int(1, 3) }, () => pick(['a', 'b', 'c', null])),
      ...(random() < 0.3
        ? {
            timeRestriction: {
              type: 'time-of-day' as const,
              restrictions: [{ startHour: int(0, 23), startMin: 0, endHour: int(0, 23), endMin: 30 }],
            },
          }
        : {}),
    };
  });
  const overrides = Array.from({ length: int(0, 4) }, () => {
    const start = Date.UTC(2026, 1, int(1, 28), int(0, 23));
    return {
      user: pick(['a', 'd', null]),
      startDate: new Date(start).toISOString(),
      endDate: new Date(start + int(1, 400) * 3_600_000).toISOString(),
      ...(random() < 0.5 ? { rotationIds: ['r0'] } : {}),
    };
  });
  return {
    timezone: pick(['UTC', 'Europe/Berlin']),
    rotations,
    overrides,
    rotationsCombine: pick(['all', 'layers'] as const),
  };
}

const byStart = (shifts: Shift[]) => [...shifts].map((s) => JSON.stringify(s)).sort();

describe('shiftsFrom', () => {
  it('starts a shift under way where its stretch began, as a timeline from a year back has it (random schedules)', () => {
    for (let n = 0; n < 150; n++) {
      const schedule = randomSchedule();
      const from = new Date(Date.UTC(2026, 2, int(1, 28), int(0, 23)));
      const to = new Date(from.getTime() + int(1, 98) * DAY);
      // The reference: the runs of a timeline from 366 days back that reach into [from, to).
      const long = timeline(schedule, new Date(from.getTime() - 366 * DAY), to).final;
      const expected = long.filter((s) => Date.parse(s.end) > from.getTime());
      assert.deepEqual(byStart(shiftsFrom(schedule, from, to)), byStart(expected), JSON.stringify(schedule));
    }
  });

  it('walks back cheaply for everyone under way, to the real start beside busy rotations (10 hourly rotations)', () => {
    // Twenty-one people under way at `from`, one of them (a single-person weekly rotation) for eleven
    // months: each is followed along only the rotations that have them, so the weekly one costs a year of
    // one weekly rotation, not of all eleven, and is followed to its real start.
    const schedule: Schedule = {
      timezone: 'UTC',
      rotations: [...hourly(10, ['a', 'b']), weekly('w', 'always', '2025-01-01T00:00:00Z')],
      overrides: [],
    };
    const from = new Date('2025-12-01T00:00:00Z');
    const to = new Date(from.getTime() + 98 * DAY);
    const plan = planShiftsFrom(schedule, from, to);
    const { result, work } = workOf(() => plan.compute());
    assert.ok(work <= 2 * plan.pieces, `${work} pieces worked through, estimate ${plan.pieces}`);
    const always = result.find((s) => s.user === 'always');
    assert.deepEqual(always, {
      user: 'always',
      start: '2025-01-01T00:00:00.000Z',
      end: to.toISOString(),
      rotationId: 'w',
    });
  });
});

describe('the stretches of those who come and go', () => {
  const busy = hourly(25, ['H']);

  it('follows all newcomers in one walk: ten cost about what one does', () => {
    const withNewcomers = (count: number): Schedule => ({
      timezone: 'UTC',
      rotations: [
        ...busy,
        ...Array.from({ length: count }, (_, i) => weekly(`n${i}`, `N${i}`, '2026-03-02T00:00:00Z')),
      ],
      overrides: [],
    });
    const after = new Date('2026-03-01T00:00:00Z');
    const one = workOf(() => nextOnCalls(withNewcomers(1), after));
    const ten = workOf(() => nextOnCalls(withNewcomers(10), after));
    assert.equal(ten.result?.shifts.length, 10);
    assert.ok(ten.work < 1.5 * one.work, `ten: ${ten.work} pieces, one: ${one.work}`);
    // A year of 25 hourly rotations would be some 440,000 pieces: the walk stops at its budget.
    assert.ok(one.work < 60_000, `${one.work} pieces`);
    assert.ok(Date.parse(one.result?.shifts[0]?.end ?? '') > Date.parse('2026-03-09T00:00:00Z'));
  });

  it('follows all leavers back in one walk: ten cost about what one does', () => {
    const withLeavers = (count: number): Schedule => ({
      timezone: 'UTC',
      rotations: [
        ...busy,
        ...Array.from({ length: count }, (_, i) =>
          weekly(`n${i}`, `N${i}`, '2025-01-01T00:00:00Z', '2026-02-28T00:00:00Z'),
        ),
      ],
      overrides: [],
    });
    const at = new Date('2026-03-01T00:00:00Z');
    const one = workOf(() => previousOnCalls(withLeavers(1), at));
    const ten = workOf(() => previousOnCalls(withLeavers(10), at));
    assert.equal(ten.result?.shifts.length, 10);
    assert.equal(ten.result?.end, '2026-02-28T00:00:00.000Z');
    assert.ok(ten.work < 1.5 * one.work, `ten: ${ten.work} pieces, one: ${one.work}`);
    assert.ok(one.work < 60_000, `${one.work} pieces`);
  });

  it('still follows an ordinary stretch to its real end and start', () => {
    const schedule: Schedule = {
      timezone: 'UTC',
      rotationsCombine: 'layers',
      rotations: [
        weekly('base', 'A', '2025-06-01T00:00:00Z'),
        weekly('top', 'B', '2026-03-02T00:00:00Z', '2026-09-01T00:00:00Z'),
      ],
      overrides: [],
    };
    const next = nextOnCalls(schedule, new Date('2026-03-01T00:00:00Z'));
    assert.deepEqual(next?.shifts, [
      { user: 'B', start: '2026-03-02T00:00:00.000Z', end: '2026-09-01T00:00:00.000Z', rotationId: 'top' },
    ]);
    const previous = previousOnCalls(schedule, new Date('2026-04-01T00:00:00Z'));
    assert.deepEqual(previous?.shifts, [
      { user: 'A', start: '2025-06-01T00:00:00.000Z', end: '2026-03-02T00:00:00.000Z', rotationId: 'base' },
    ]);
  });
});

describe('a planned timeline', () => {
  it('gives what timeline gives, and estimates at least the pieces it gives', () => {
    const schedule: Schedule = { timezone: 'UTC', rotations: hourly(3, ['a', 'b', null]), overrides: [] };
    const from = new Date('2026-03-01T00:00:00Z');
    const to = new Date('2026-03-20T00:00:00Z');
    const plan = planTimeline(schedule, from, to);
    const { result, work } = workOf(() => plan.compute());
    assert.deepEqual(result, timeline(schedule, from, to));
    assert.ok(work <= plan.pieces, `${work} > ${plan.pieces}`);
  });
});
