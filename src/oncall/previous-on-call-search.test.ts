import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import {
  onCallsAt,
  previousOnCalls,
  timeline,
  type Override,
  type Rotation,
  type Schedule,
  type TimeRestriction,
  type Weekday,
} from './schedule.js';

/**
 * previousOnCalls (an escalation's "notify previous on-call") searches back past every turning point it
 * needs, not only from the latest: a later one that changes nothing (a short `none` override) must not
 * hide the hand-off before it.
 */
describe('previousOnCalls past a turning point that changes nothing', () => {
  const base: Schedule = {
    timezone: 'UTC',
    rotationsCombine: 'all',
    rotations: [
      {
        id: 'A',
        name: 'old',
        type: 'weekly',
        length: 1,
        participants: ['alice', 'bob'],
        startDate: '2025-09-01T09:00:00Z',
        endDate: '2025-11-03T09:00:00Z',
      },
      {
        id: 'B',
        name: 'new',
        type: 'weekly',
        length: 1,
        participants: ['carol'],
        startDate: '2025-11-03T09:00:00Z',
      },
    ],
    overrides: [],
  };
  const at = new Date('2026-03-02T12:00:00Z');
  // Nine weeks of A from 2025-09-01: the last, from 2025-10-27, is shift 8, alice's.
  const expected = {
    end: '2025-11-03T09:00:00.000Z',
    shifts: [
      { user: 'alice', start: '2025-10-27T09:00:00.000Z', end: '2025-11-03T09:00:00.000Z', rotationId: 'A' },
    ],
  };

  it('finds alice, who handed over to carol, without overrides', () => {
    assert.deepEqual(previousOnCalls(base, at), expected);
  });

  it('still finds alice with a two-day `none` override in December', () => {
    const withFreeze: Schedule = {
      ...base,
      overrides: [{ user: null, startDate: '2025-12-24T00:00:00Z', endDate: '2025-12-26T00:00:00Z' }],
    };
    // Those going off call for the override come back: nobody not on call now left then.
    assert.deepEqual(onCallsAt(withFreeze, at), [{ user: 'carol', rotationId: 'B' }]);
    assert.deepEqual(previousOnCalls(withFreeze, at), expected);
  });

  it('and with several such turning points (a scoped override, a rotation of nobody)', () => {
    const busy: Schedule = {
      ...base,
      rotations: [
        ...base.rotations,
        {
          id: 'C',
          name: 'nobody',
          type: 'daily',
          length: 1,
          participants: [],
          startDate: '2026-01-10T00:00:00Z',
          endDate: '2026-02-10T00:00:00Z',
        },
      ],
      overrides: [
        { user: null, startDate: '2025-12-24T00:00:00Z', endDate: '2025-12-26T00:00:00Z' },
        {
          user: 'carol',
          startDate: '2026-02-01T00:00:00Z',
          endDate: '2026-02-02T00:00:00Z',
          rotationIds: ['B'],
        },
      ],
    };
    assert.deepEqual(previousOnCalls(busy, at), expected);
  });
});

describe('previousOnCalls agrees with a scan of the timeline (seeded random schedules)', () => {
  const ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'UTC'];
  const DAYS: Weekday[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  let state = 4242;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

  const randomSchedule = (): Schedule => {
    const zone = pick(ZONES);
    const rotations: Rotation[] = Array.from({ length: int(1, 3) }, (_, i) => {
      const type = pick(['daily', 'weekly', 'hourly', 'custom'] as const);
      const start = DateTime.fromObject(
        { year: 2025, month: int(1, 12), day: int(1, 28), hour: int(0, 23), minute: pick([0, 30]) },
        { zone },
      );
      const restriction: TimeRestriction | undefined =
        random() < 0.3
          ? {
              type: 'time-of-day',
              restrictions: [{ startHour: int(0, 23), startMin: 0, endHour: int(0, 23), endMin: 30 }],
            }
          : random() < 0.2
            ? {
                type: 'weekday-and-time-of-day',
                restrictions: [
                  {
                    startDay: pick(DAYS),
                    startHour: int(0, 23),
                    startMin: 0,
                    endDay: pick(DAYS),
                    endHour: int(0, 23),
                    endMin: 30,
                  },
                ],
              }
            : undefined;
      return {
        id: `r${i}`,
        name: `r${i}`,
        type,
        length: int(1, type === 'custom' ? 50 : 3),
        participants: Array.from({ length: int(1, 4) }, () => pick(['u1', 'u2', 'u3', 'u4', null])),
        startDate: start.toISO() ?? '',
        ...(random() < 0.3 ? { endDate: start.plus({ days: int(20, 300) }).toISO() ?? '' } : {}),
        ...(restriction ? { timeRestriction: restriction } : {}),
      };
    });
    const overrides: Override[] = Array.from({ length: int(0, 4) }, () => {
      const start = Date.UTC(2025, 0, 1) + Math.floor(random() * 500 * 24) * 3_600_000;
      return {
        user: pick(['u1', 'u5', null]),
        startDate: new Date(start).toISOString(),
        endDate: new Date(start + int(1, 200) * 3_600_000).toISOString(),
        ...(random() < 0.5 ? { rotationIds: [pick(rotations).id] } : {}),
      };
    });
    return { timezone: zone, rotations, overrides, rotationsCombine: pick(['all', 'layers'] as const) };
  };

  it('ends when the last one not on call now went off call, within 200 days back', () => {
    const misses: string[] = [];
    for (let n = 0; n < 150; n++) {
      const s = randomSchedule();
      const at = Date.UTC(2025, 0, 1) + Math.floor(random() * 500 * 24 * 4) * 900_000 + pick([0, 1, 60_000]);
      const now = new Set(onCallsAt(s, new Date(at)).map((o) => o.user));
      const { final } = timeline(s, new Date(at - 200 * 86_400_000), new Date(at + 1));
      const ends = final
        .filter((p) => Date.parse(p.end) <= at && !now.has(p.user))
        .map((p) => Date.parse(p.end));
      if (ends.length === 0) continue;
      const expected = new Date(Math.max(...ends)).toISOString();
      const got = previousOnCalls(s, new Date(at));
      if (got?.end !== expected) {
        misses.push(
          `${new Date(at).toISOString()}: ${got?.end} instead of ${expected} in ${JSON.stringify(s)}`,
        );
      }
    }
    assert.deepEqual(misses, []);
  });
});
