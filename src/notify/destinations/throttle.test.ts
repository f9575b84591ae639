import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bothAllow, nextAllowedAt } from './throttle.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
const now = at(30);

describe('the throttle of one address', () => {
  it('lets a message through at once when nothing was sent', () => {
    assert.deepEqual(nextAllowedAt([{ limit: 1, windowMs: 10_000 }], [], now), now);
  });

  it('lets it through once the last send is a window old', () => {
    assert.deepEqual(nextAllowedAt([{ limit: 1, windowMs: 10_000 }], [at(25)], now), at(35));
    assert.deepEqual(nextAllowedAt([{ limit: 1, windowMs: 10_000 }], [at(20)], now), now);
  });

  it('waits for the limit-th most recent send to age out, whatever order the times come in', () => {
    const rule = [{ limit: 3, windowMs: 60_000 }];
    assert.deepEqual(nextAllowedAt(rule, [at(29), at(5), at(20)], now), at(65));
    assert.deepEqual(nextAllowedAt(rule, [at(29), at(20)], now), now);
  });

  it('takes the strictest of several rules', () => {
    const rules = [
      { limit: 1, windowMs: 10_000 },
      { limit: 2, windowMs: 5 * 60_000 },
    ];
    // The 10 s rule has room (the last send was 15 s ago); the 5-minute one is full until 12:04:45.
    assert.deepEqual(nextAllowedAt(rules, [at(15), at(0) /* 12:00:00 */], at(30)), at(300));
    assert.deepEqual(nextAllowedAt(rules, [at(15)], at(30)), at(30));
  });

  it('ignores sends from before the window', () => {
    assert.deepEqual(nextAllowedAt([{ limit: 1, windowMs: 1000 }], [at(0), at(1), at(2)], now), now);
  });
});

describe('a decision checked against what counted under the lock', () => {
  const a = { id: 'a' };
  const b = { id: 'b' };
  const c = { id: 'c' };
  const d = { id: 'd' };
  const waits = (rows: { id: string }[], until: string) => rows.map((row) => ({ row, until }));

  it('sends what both let through, and nothing the first held back', () => {
    const rows = [a, b, c, d];
    // Another round let a text to b's and d's address through in between.
    const first = { go: [a, b, d], wait: waits([c], 'first') };
    const checked = { go: [a, c], wait: waits([b, d], 'checked') };
    const both = bothAllow(rows, first, checked);
    assert.deepEqual(both.go, [a]);
    assert.deepEqual(
      both.wait.map((w) => [w.row.id, w.until]),
      [
        ['b', 'checked'],
        ['c', 'first'],
        ['d', 'checked'],
      ],
    );
  });

  it('changes nothing when nothing came in between', () => {
    const first = { go: [a, b], wait: waits([c], 'first') };
    const checked = { go: [a, b], wait: waits([c], 'checked') };
    const both = bothAllow([a, b, c], first, checked);
    assert.deepEqual(both.go, [a, b]);
    assert.deepEqual(
      both.wait.map((w) => w.row.id),
      ['c'],
    );
  });
});
