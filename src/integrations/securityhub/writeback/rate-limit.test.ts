import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawToken, type RateLimit, type TokenBucket } from './rate-limit.js';

const T0 = Date.parse('2026-11-27T10:00:00Z');
const LIMIT: RateLimit = { ratePerSecond: 9, burst: 25 };

describe('the token bucket', () => {
  const cases: {
    name: string;
    tokens: number;
    /** How long ago the bucket was last drawn from (negative: by a clock ahead of this one). */
    elapsedMs: number;
    expected: ReturnType<typeof drawToken>;
  }[] = [
    {
      name: 'a full bucket gives a token',
      tokens: 25,
      elapsedMs: 0,
      expected: { taken: true, tokensLeft: 24 },
    },
    {
      name: 'an empty bucket says how long until the next token',
      tokens: 0,
      elapsedMs: 0,
      expected: { taken: false, waitMs: 1000 / 9 },
    },
    {
      name: 'half a token waits for the other half',
      tokens: 0.5,
      elapsedMs: 0,
      expected: { taken: false, waitMs: 500 / 9 },
    },
    {
      name: 'time refills it at the rate',
      tokens: 0,
      elapsedMs: 1000,
      expected: { taken: true, tokensLeft: 8 },
    },
    {
      name: 'it never holds more than the burst',
      tokens: 20,
      elapsedMs: 3_600_000,
      expected: { taken: true, tokensLeft: 24 },
    },
    {
      name: 'a clock behind the bucket neither refills nor drains it',
      tokens: 0.5,
      elapsedMs: -10_000,
      expected: { taken: false, waitMs: 500 / 9 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const bucket: TokenBucket = { tokens: c.tokens, updatedAt: new Date(T0 - c.elapsedMs) };
      const draw = drawToken(bucket, new Date(T0), LIMIT);
      assert.equal(draw.taken, c.expected.taken);
      if (draw.taken && c.expected.taken) assert.ok(Math.abs(draw.tokensLeft - c.expected.tokensLeft) < 1e-9);
      if (!draw.taken && !c.expected.taken) assert.ok(Math.abs(draw.waitMs - c.expected.waitMs) < 1e-9);
    });
  }

  it('lets through at most the burst plus the rate over time, however hard it is drawn from', () => {
    let bucket: TokenBucket = { tokens: LIMIT.burst, updatedAt: new Date(T0) };
    let taken = 0;
    // Someone drawing every 5 ms for 10 s, waiting when told to.
    for (let now = T0; now <= T0 + 10_000; now += 5) {
      const draw = drawToken(bucket, new Date(now), LIMIT);
      if (draw.taken) {
        taken++;
        bucket = { tokens: draw.tokensLeft, updatedAt: new Date(now) };
      }
    }
    assert.ok(taken <= LIMIT.burst + 10 * LIMIT.ratePerSecond, `${taken} requests`);
    assert.ok(taken >= LIMIT.burst + 10 * LIMIT.ratePerSecond - 1, `${taken} requests`);
  });
});
