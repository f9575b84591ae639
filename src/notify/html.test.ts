import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oneLine, truncate } from './html.js';

const codePoints = (value: string) => Array.from(value).length;

describe('truncate', () => {
  it('leaves text that fits as it is', () => {
    assert.equal(truncate('Disk full', 9), 'Disk full');
    assert.equal(truncate('🇩🇪🇩🇪', 4), '🇩🇪🇩🇪');
  });

  it('cuts to at most max code points, the ellipsis included', () => {
    assert.equal(truncate('abcdefghij', 5), 'abcd…');
    assert.equal(truncate('abcdefghij', 5, '...'), 'ab...');
  });

  it('never splits a flag, an emoji sequence, a skin tone or an accent', () => {
    const cases: [string, number, string][] = [
      // A flag is two regional indicators: one alone shows as a lone letter box.
      ['Outage 🇩🇪🇫🇷 in Europe', 9, 'Outage …'],
      ['Outage 🇩🇪🇫🇷 in Europe', 10, 'Outage 🇩🇪…'],
      ['Outage 🇩🇪🇫🇷 in Europe', 11, 'Outage 🇩🇪…'],
      // A family: four people joined by zero-width joiners, seven code points.
      ['on call 👨‍👩‍👧‍👦 now', 12, 'on call …'],
      // A thumbs up and its skin tone.
      ['ok 👍🏽 ack', 4, 'ok …'],
      // "e" and a combining acute accent.
      ['cafe\u0301 down', 5, 'caf…'],
    ];
    for (const [text, max, cut] of cases) {
      const result = truncate(text, max);
      assert.equal(result, cut, `${text} at ${max}`);
      assert.ok(codePoints(result) <= max, result);
    }
  });

  it('stays within the code points it allowed before, for limits a provider counts', () => {
    const text = `${'🇩🇪'.repeat(30)}${'é'.repeat(30)}👩🏽‍💻`.repeat(20);
    for (const max of [2, 3, 40, 150, 200]) {
      const result = truncate(text, max);
      assert.ok(codePoints(result) <= max, `${max}: ${codePoints(result)}`);
      assert.ok(text.startsWith(result.slice(0, -1)));
    }
  });
});

describe('oneLine', () => {
  it('drops the bidirectional controls that could reverse the words after them', () => {
    const overrides = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069';
    const text = oneLine(`Disk full${overrides} on\u202e db-1\u2069`);
    assert.equal(text, 'Disk full on db-1');
  });

  it('folds control characters and runs of space into one space', () => {
    assert.equal(oneLine('  a\r\nb\tc\u0085d\u00a0\u00a0e  '), 'a b c d e');
  });
});
