import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import type { Override, Rotation, Schedule, Weekday } from './types.js';
import { compile, type Compiled } from './compiled.js';
import { onCallsOf, timelineCostOf, timelineOf } from './combine.js';
import type { Piece } from './rotations.js';

/**
 * timelineOf sweeps the instants anything changes at and asks again only the rotations changing there.
 * Here it is held to the plain way (everyone asked at every boundary, onCallsOf), piece for piece, order
 * and attributes included; its cost to the number of changes rather than their product with the
 * rotations and people; and timelineCostOf to a bound on the pieces it makes.
 */

/** The plain timeline: at each boundary of anything, onCallsOf, merged into one run per person. */
function plainTimeline(compiled: Compiled, fromMs: number, toMs: number): Piece[] {
  const { rotations } = timelineOf(compiled, fromMs, toMs);
  const bounds = new Set<number>([fromMs, toMs]);
  for (const layer of rotations) for (const p of layer.pieces) bounds.add(p.start).add(p.end);
  for (const index of [compiled.globalOverrides, ...compiled.scopedOverrides.values()]) {
    for (const b of index.bounds) if (b > fromMs && b < toMs) bounds.add(b);
  }
  const points = [...bounds].sort((a, b) => a - b);
  const final: Piece[] = [];
  const runs = new Map<string, Piece>();
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i] ?? 0;
    const end = points[i + 1] ?? 0;
    for (const who of onCallsOf(compiled, start)) {
      const run = runs.get(who.user);
      if (run && run.end === start) {
        run.end = end;
        if (run.rotationId !== who.rotationId) delete run.rotationId;
        if (!who.override) delete run.override;
      } else {
        const piece: Piece = { start, end, ...who };
        final.push(piece);
        runs.set(who.user, piece);
      }
    }
  }
  return final;
}

let state = 777;
const random = () => {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state / 2147483648;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const DAYS: Weekday[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function randomSchedule(year: number): Schedule {
  const zone = pick(['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'UTC']);
  const rotations: Rotation[] = Array.from({ length: int(1, 6) }, (_, i) => {
    const type = pick(['daily', 'weekly', 'hourly', 'custom'] as const);
    const start = DateTime.fromObject(
      { year, month: int(1, 3), day: int(1, 28), hour: int(0, 23), minute: pick([0, 30]) },
      { zone },
    );
    const windows = int(1, 3);
    return {
      id: `r${i}`,
      name: `r${i}`,
      type,
      length: int(1, type === 'custom' ? 50 : 3),
      participants: Array.from({ length: int(0, 4) }, () => pick(['u1', 'u2', 'u3', 'u4', null])),
      startDate: start.toISO() ?? '',
      ...(random() < 0.3 ? { endDate: start.plus({ days: int(1, 60) }).toISO() ?? '' } : {}),
      ...(random() < 0.4
        ? {
            timeRestriction:
              random() < 0.5
                ? {
                    type: 'time-of-day' as const,
                    restrictions: Array.from({ length: windows }, () => ({
                      startHour: int(0, 23),
                      startMin: pick([0, 15, 30]),
                      endHour: int(0, 23),
                      endMin: pick([0, 30]),
                    })),
                  }
                : {
                    type: 'weekday-and-time-of-day' as const,
                    restrictions: Array.from({ length: windows }, () => ({
                      startDay: pick(DAYS),
                      startHour: int(0, 23),
                      startMin: pick([0, 30]),
                      endDay: pick(DAYS),
                      endHour: int(0, 23),
                      endMin: pick([0, 30]),
                    })),
                  },
          }
        : {}),
    };
  });
  const overrides: Override[] = Array.from({ length: int(0, 8) }, () => {
    const start = Date.UTC(year, 0, 1) + Math.floor(random() * 120 * 24) * 3_600_000;
    const scoped = rotations.filter(() => random() < 0.5).map((r) => r.id);
    return {
      user: pick(['u1', 'u2', 'u5', null]),
      startDate: new Date(start).toISOString(),
      endDate: new Date(start + int(1, 200) * 3_600_000).toISOString(),
      ...(scoped.length > 0 && random() < 0.5 ? { rotationIds: scoped } : {}),
    };
  });
  return { timezone: zone, rotations, overrides, rotationsCombine: pick(['all', 'layers'] as const) };
}

describe('timelineOf', () => {
  it('gives the plain timeline, piece for piece, in both modes (seeded random schedules)', () => {
    // 1965: instants before 1970 are negative, which the sweep's packing of instants must keep in order.
    for (const year of [2025, 1965]) {
      for (let n = 0; n < 150; n++) {
        const compiled = compile(randomSchedule(year));
        for (let j = 0; j < 2; j++) {
          const from =
            Date.UTC(year, 0, 1) + Math.floor(random() * 100 * 96) * 900_000 + pick([0, 1, 60_000]);
          const to = from + pick([1, 3_600_000, int(1, 40) * 86_400_000]);
          const label = `${JSON.stringify(compiled.combine)} ${new Date(from).toISOString()}`;
          assert.deepEqual(timelineOf(compiled, from, to).final, plainTimeline(compiled, from, to), label);
        }
      }
    }
  });

  it('costs about the changes it goes through, not them times the rotations and people', () => {
    // 50 hourly rotations of two people each. Staggered a minute apart, they change at 100 instants an
    // hour, each of one rotation; started together, at one instant an hour, each of all 50. Asking every
    // rotation about everyone at each instant made the staggered ones some 50 times slower; the sweep
    // does about the same work for both. Timed in turn, so that a busy machine slows both alike, with room
    // for its noise (the old way was some 28 times slower here).
    const build = (staggered: boolean): Compiled =>
      compile({
        timezone: 'UTC',
        rotationsCombine: 'all',
        overrides: [],
        rotations: Array.from({ length: 50 }, (_, i) => ({
          id: `r${i}`,
          name: `r${i}`,
          type: 'hourly' as const,
          length: 1,
          participants: [`a${i}`, `b${i}`],
          startDate: `2026-01-01T00:${String(staggered ? i : 0).padStart(2, '0')}:00Z`,
        })),
      });
    const staggered = build(true);
    const together = build(false);
    const from = Date.parse('2026-03-01T00:00:00Z');
    const to = from + 7 * 86_400_000;
    let staggeredMs = 0;
    let togetherMs = 0;
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const a = timelineOf(staggered, from, to).final.length;
      const t1 = performance.now();
      const b = timelineOf(together, from, to).final.length;
      staggeredMs += t1 - t0;
      togetherMs += performance.now() - t1;
      // The same shifts but for those the window's edges cut (one more for each staggered rotation).
      assert.equal(a, b + 49);
    }
    assert.ok(
      staggeredMs < 8 * togetherMs + 100,
      `staggered ${Math.round(staggeredMs)} ms, together ${Math.round(togetherMs)} ms`,
    );
  });
});

describe('timelineCostOf', () => {
  it("is at least each rotation's own pieces and the final ones together (seeded random schedules)", () => {
    for (let n = 0; n < 200; n++) {
      const compiled = compile(randomSchedule(2025));
      const from = Date.UTC(2025, 0, 1) + Math.floor(random() * 100 * 96) * 900_000;
      const to = from + int(1, 60) * 86_400_000;
      const { final, rotations } = timelineOf(compiled, from, to);
      const own = rotations.reduce((sum, r) => sum + r.pieces.length, 0);
      const cost = timelineCostOf(compiled, from, to);
      // The bound docs/limits.md states: each rotation's and the final ones together.
      assert.ok(cost >= own + final.length, `${cost} < ${own} rotation and ${final.length} final pieces`);
    }
  });

  it('counts some 220,000 pieces for three months of 50 hourly rotations, a handful for a weekly one', () => {
    const hourly = compile({
      timezone: 'UTC',
      rotationsCombine: 'all',
      overrides: [],
      rotations: Array.from({ length: 50 }, (_, i) => ({
        id: `r${i}`,
        name: `r${i}`,
        type: 'hourly' as const,
        length: 1,
        participants: ['a', 'b', null],
        startDate: `2026-01-01T00:${String(i).padStart(2, '0')}:00Z`,
      })),
    });
    const from = Date.parse('2026-03-01T00:00:00Z');
    const to = Date.parse('2026-06-01T00:00:00Z');
    // Each rotation's own shifts, and at most one final one for each instant one of them begins or ends at
    // (one more: the window's end), and one for each rotation at the window's start.
    assert.equal(timelineCostOf(hourly, from, to), 50 * (92 * 24 + 1) + 50 * (92 * 24 + 2) + 50);
    const weekly = compile({
      timezone: 'Europe/Berlin',
      overrides: [],
      rotations: [
        {
          id: 'w',
          name: 'w',
          type: 'weekly',
          length: 1,
          participants: ['a', 'b'],
          startDate: '2026-01-05T09:00:00+01:00',
        },
      ],
    });
    assert.equal(timelineCostOf(weekly, from, to), 15 + 16 + 1);
  });
});
