import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shiftsFrom, type Rotation, type Schedule } from './schedule.js';

/**
 * Many people each on call through busy rotations of their own: following each one's stretch back past a
 * calendar's window shares one budget. Each still gets a share (not the first few all of it), and one whose
 * share runs out before a 28-day grid boundary keeps the window's start marked "since before", rather than
 * reading as a shift that begins there.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GRID = 28 * DAY;

/** `people` persons, each always on call through `each` hourly rotations of their own (a year back and more). */
function busy(people: number, each: number): Schedule {
  const rotations: Rotation[] = [];
  for (let p = 0; p < people; p++) {
    for (let r = 0; r < each; r++) {
      rotations.push({
        id: `p${p}r${r}`,
        name: `p${p}r${r}`,
        type: 'hourly',
        length: 1,
        startDate: '2024-01-01T00:00:00Z',
        participants: [`P${p}`],
      });
    }
  }
  return { timezone: 'UTC', rotationsCombine: 'all', overrides: [], rotations };
}

const grid = Math.ceil(Date.parse('2026-06-01T00:00:00Z') / GRID) * GRID;

describe('stretches of many busy people followed back past a window', () => {
  it('each gets a share of the work, so each starts at a grid boundary, marked clipped', () => {
    // Four of these walks would each take the whole per-walk budget, leaving the others nothing.
    const schedule = busy(6, 3);
    for (const offset of [20 * DAY, 20 * DAY + 300_000]) {
      const from = grid + offset;
      const shifts = shiftsFrom(schedule, new Date(from), new Date(from + HOUR));
      assert.equal(shifts.length, 6);
      for (const s of shifts) {
        const start = Date.parse(s.start);
        assert.equal(s.clipped, true, `${s.user} at ${new Date(from).toISOString()}`);
        assert.ok(start < from && start % GRID === 0, `${s.user} starts at ${s.start}`);
      }
    }
  });

  it('one whose share ends before any grid boundary is on call since before the window, not from it', () => {
    // Thirty shares of the work each reach back some two weeks, short of the boundary 27 days back.
    const from = grid + 27 * DAY;
    const schedule = busy(30, 3);
    // One who really comes on call at the window's start is no stretch from before it.
    schedule.rotations.push({
      id: 'fresh',
      name: 'fresh',
      type: 'weekly',
      length: 1,
      startDate: new Date(from).toISOString(),
      participants: ['FRESH'],
    });
    const shifts = shiftsFrom(schedule, new Date(from), new Date(from + HOUR));
    assert.equal(shifts.length, 31);
    for (const s of shifts) {
      if (s.user === 'FRESH') {
        assert.equal(s.start, new Date(from).toISOString());
        assert.equal(s.clipped, undefined);
        continue;
      }
      const start = Date.parse(s.start);
      assert.equal(s.clipped, true, `${s.user} starts at ${s.start}`);
      assert.ok(start === from || (start < from && start % GRID === 0), `${s.user} starts at ${s.start}`);
    }
  });
});
