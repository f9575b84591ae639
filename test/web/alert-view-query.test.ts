import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_QUERY_DEPTH, parseQuery, type QueryNode } from '../../src/alerts/query.js';
import { combine } from '../../web/src/pages/alerts/viewQuery.js';

describe("the alert list's view AND-ed with the search box", () => {
  it('sends no query when the search would close the view’s parenthesis', () => {
    for (const search of ['a) OR (b', 'a)', '(a', 'tag:x) OR status:closed OR (tag:y', ')(', '"(" a)']) {
      assert.equal(combine('status:open', search), undefined, search);
      assert.equal(combine('', search), undefined, search);
      // The server refuses each alone too: no search it answers is refused here.
      assert.throws(() => parseQuery(search), /Invalid query/, search);
    }
  });

  it('keeps a search whose parentheses match to the view', () => {
    assert.equal(combine('status:open', 'a OR (b c)'), 'status:open AND (a OR (b c))');
    assert.equal(combine('status:open', ' (a OR b) c '), 'status:open AND (a OR b) c');
    assert.equal(combine('status:open', 'message:(a OR b)'), 'status:open AND message:(a OR b)');
    assert.equal(combine('status:open', ''), 'status:open');
    assert.equal(combine('', 'a OR b'), 'a OR b');
  });

  it('reads parentheses and quotes as the server does', () => {
    const allowed = [
      'message:"a) OR (b"',
      '"a) OR status:closed OR (b"',
      'message: ")"',
      // An escaped quote does not end the phrase: its parenthesis is still text.
      'message:"say \\") OR (\\" here"',
      '"a\\\\" OR b',
    ];
    for (const search of allowed) {
      const combined = combine('status:open', search);
      assert.ok(combined, search);
      assert.doesNotThrow(() => parseQuery(search), search);
      assert.doesNotThrow(() => parseQuery(combined), combined);
    }
    // A quote inside a word is a plain character, its parenthesis not text.
    assert.equal(combine('status:open', 'a"b) OR (c"'), undefined);
    assert.equal(combine('status:open', '"a\\\\") OR ("b'), undefined);
    assert.equal(combine('status:open', 'detailsPair("k)":v) x'), 'status:open AND detailsPair("k)":v) x');
    // An OR in quotes, or in a group, is not one the view must be kept apart from.
    assert.equal(combine('status:open', '"a OR b" c'), 'status:open AND "a OR b" c');
    assert.equal(combine('status:open', 'a or b'), 'status:open AND (a or b)');
  });

  it('keeps a search of the deepest nesting allowed within the limit in every view', () => {
    const deep = `${'('.repeat(MAX_QUERY_DEPTH)}tag:x${')'.repeat(MAX_QUERY_DEPTH)} NOT tag:y`;
    assert.doesNotThrow(() => parseQuery(deep));
    for (const view of ['status:open', 'status:open AND acknowledged:false', '']) {
      assert.doesNotThrow(() => parseQuery(combine(view, deep) ?? ''), view);
    }
  });

  it('agrees with the server on random searches: refuses none it answers, and keeps every other to the view', () => {
    const pieces = [
      '(',
      ')',
      '"',
      '\\',
      ' ',
      'a',
      'b',
      'OR',
      ' OR ',
      ' AND ',
      'NOT ',
      'tag:',
      ' OR a',
      ' b ',
      'detailsPair(',
      'k:',
      ':"',
    ];
    // mulberry32: the same searches on every run.
    let seed = 7;
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
      return (t ^ (t >>> 14)) >>> 0;
    };
    const parses = (q: string) => {
      try {
        return parseQuery(q) ?? null;
      } catch {
        return undefined;
      }
    };
    for (let n = 0; n < 5000; n++) {
      const search = Array.from({ length: 1 + (next() % 12) }, () => pieces[next() % pieces.length]).join('');
      const alone = parses(search);
      const combined = combine('status:open', search);
      if (combined === undefined) {
        assert.equal(alone, undefined, search);
        continue;
      }
      const tree = parses(combined);
      assert.equal(tree === undefined, alone === undefined, `${search} => ${combined}`);
      // Answered, it is the view AND-ed with the rest: ANDs down its left side to status:open.
      let node: QueryNode | null | undefined = tree;
      while (node?.kind === 'and') node = node.left;
      if (tree) assert.deepEqual(node, { kind: 'term', field: 'status', op: ':', value: 'open' }, combined);
    }
  });
});
