import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextOnCalls, previousOnCalls, shiftsFrom, type Rotation, type Schedule } from '../schedule.js';

/**
 * A person's stretch is followed along only the rotations that can change it: busy rotations they are
 * not in cost nothing, so an ordinary schedule's stretches keep their real starts and ends (a calendar
 * names a shift by its start, and a start that moved on every fetch made a new event each time). A
 * stretch that is itself too busy to follow is cut at a 28-day grid boundary, the same on every fetch.
 */

const DAY = 86_400_000;
const GRID = 28 * DAY;

/** `count` hourly rotations; each participant is suffixed with its rotation's index unless `shared`. */
function hourly(count: number, participants: string[], shared = false): Rotation[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `h${i}`,
    name: `h${i}`,
    type: 'hourly' as const,
    length: 1,
    startDate: `2025-01-01T00:${String(i).padStart(2, '0')}:00Z`,
    participants: participants.map((p) => (shared ? p : `${p}${i}`)),
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

/** The calendar export's window at `now` (a week back, 13 weeks on), as the schedules service asks it. */
function exported(schedule: Schedule, now: string) {
  const ms = Date.parse(now);
  return shiftsFrom(schedule, new Date(ms - 7 * DAY), new Date(ms + 91 * DAY));
}

describe('a stretch beside busy rotations', () => {
  for (const n of [2, 5, 10]) {
    it(`keeps its real start on every fetch of a calendar, and its real end (${n} hourly rotations)`, () => {
      const schedule: Schedule = {
        timezone: 'UTC',
        rotationsCombine: 'all',
        overrides: [],
        rotations: [...hourly(n, ['a', 'b']), weekly('lead', 'LEAD', '2025-12-01T00:00:00Z')],
      };
      for (const now of ['2026-06-01T00:00:00Z', '2026-06-01T00:05:00Z', '2026-06-02T00:00:00Z']) {
        const lead = exported(schedule, now).find((s) => s.user === 'LEAD');
        assert.equal(lead?.start, '2025-12-01T00:00:00.000Z', now);
        assert.equal(lead?.clipped, undefined, now);
      }
      const withNewcomer: Schedule = {
        ...schedule,
        rotations: [
          ...hourly(n, ['a', 'b']),
          weekly('nc', 'NEW', '2026-06-10T00:00:00Z', '2026-12-01T00:00:00Z'),
        ],
      };
      const next = nextOnCalls(withNewcomer, new Date('2026-06-09T23:30:00Z'));
      const newcomer = next?.shifts.find((s) => s.user === 'NEW');
      assert.deepEqual(newcomer, {
        user: 'NEW',
        start: '2026-06-10T00:00:00.000Z',
        end: '2026-12-01T00:00:00.000Z',
        rotationId: 'nc',
      });
      const withLeaver: Schedule = {
        ...schedule,
        rotations: [
          ...hourly(n, ['a', 'b']),
          weekly('old', 'OLD', '2025-12-01T00:00:00Z', '2026-06-01T00:00:00Z'),
        ],
      };
      const previous = previousOnCalls(withLeaver, new Date('2026-06-01T00:00:00Z'));
      assert.deepEqual(
        previous?.shifts.find((s) => s.user === 'OLD'),
        {
          user: 'OLD',
          start: '2025-12-01T00:00:00.000Z',
          end: '2026-06-01T00:00:00.000Z',
          rotationId: 'old',
        },
      );
    });
  }

  it('in "layers" mode, still sees the overrides of a stretch’s own layer', () => {
    const schedule: Schedule = {
      timezone: 'UTC',
      rotationsCombine: 'layers',
      overrides: [
        {
          user: 'X',
          startDate: '2026-05-01T00:00:00Z',
          endDate: '2026-05-02T00:00:00Z',
          rotationIds: ['top'],
        },
      ],
      rotations: [...hourly(10, ['a', 'b']), weekly('top', 'TOP', '2025-12-01T00:00:00Z')],
    };
    const top = exported(schedule, '2026-06-01T00:00:00Z').find((s) => s.user === 'TOP');
    // The override of its own layer took it from them for a day: their stretch began when it ended.
    assert.equal(top?.start, '2026-05-02T00:00:00.000Z');
  });
});

describe('a stretch too busy to follow for a year', () => {
  // One person always on call through 16 hourly rotations: a year of them is some 300,000 pieces.
  const schedule: Schedule = { timezone: 'UTC', overrides: [], rotations: hourly(16, ['H'], true) };
  const grid = Math.ceil(Date.parse('2026-06-01T00:00:00Z') / GRID) * GRID;

  it('starts at a grid boundary, the same on every fetch, marked clipped', () => {
    for (const offset of [20 * DAY, 20 * DAY + 300_000, 21 * DAY]) {
      const from = new Date(grid + offset);
      const h = shiftsFrom(schedule, from, new Date(from.getTime() + 3_600_000)).find((s) => s.user === 'H');
      // Walked back as far as the budget goes (some 24 days of these rotations), not only to the last
      // doubling of its steps that fitted (15 days), and cut at the boundary inward of where it stopped.
      assert.deepEqual(
        h,
        {
          user: 'H',
          start: new Date(grid).toISOString(),
          end: new Date(from.getTime() + 3_600_000).toISOString(),
          clipped: true,
        },
        from.toISOString(),
      );
    }
  });
});
