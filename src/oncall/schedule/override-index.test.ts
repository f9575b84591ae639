import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexOverrides, winnerAt } from './override-index.js';

/** A small seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('override index', () => {
  it('finds the same winner as checking every override in order, at every instant (seeded)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const overrides = Array.from({ length: Math.floor(next() * 30) }, (_, id) => {
        const startMs = Math.floor(next() * 100);
        return { id, startMs, endMs: startMs + 1 + Math.floor(next() * 40) };
      });
      const index = indexOverrides(overrides);
      for (let ms = -1; ms <= 145; ms++) {
        const linear = overrides.find((o) => o.startMs <= ms && ms < o.endMs);
        assert.equal(winnerAt(index, ms)?.id, linear?.id, `seed ${seed}, instant ${ms}`);
      }
    }
  });
});
