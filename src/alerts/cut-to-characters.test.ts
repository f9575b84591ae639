import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cutToCharacters } from './limits.js';

/** What cutToCharacters promises, counted the plain way (Array.from: code points, a lone surrogate one). */
function reference(value: string, max: number, marker: string): string {
  const chars = Array.from(value);
  if (chars.length <= max) return value;
  return `${chars.slice(0, Math.max(0, max - Array.from(marker).length)).join('')}${marker}`;
}

/** Text of pairs, lone halves and plain characters: where counting by units and by characters differ. */
const tricky = fc
  .array(fc.constantFrom('a', 'é', '😀', '\ud83d', '\ude00', '…', '\u0000'), { maxLength: 40 })
  .map((parts) => parts.join(''));

describe('cutToCharacters', () => {
  it('cuts as counting characters with Array.from does, never inside a surrogate pair', () => {
    fc.assert(
      fc.property(
        tricky,
        fc.integer({ min: 1, max: 45 }),
        fc.constantFrom('…', '', '...'),
        (value, max, marker) => {
          assert.equal(cutToCharacters(value, max, marker), reference(value, max, marker));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
