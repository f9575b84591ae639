import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_QUERY_DEPTH, parseQuery, type QueryNode } from '../../src/alerts/query.js';
import { combine } from '../../web/src/pages/alerts/viewQuery.js';

const STATUS_OPEN: QueryNode = { kind: 'term', field: 'status', op: ':', value: 'open' };

/** Down the ANDs on the left: the view, when the search is AND-ed with it and escapes nothing. */
function leftmost(tree: QueryNode | null | undefined): QueryNode | null | undefined {
  let node = tree;
  while (node?.kind === 'and') node = node.left;
  return node;
}

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

  it('reads detailsPair(key:value) as one term, as the server does, whatever its key', () => {
    const kept: [string, string][] = [
      // Its value's quotes hold parentheses whatever its key: the OR is outside any group.
      [
        'detailsPair(a=b:"(x") OR detailsPair(a=b:"y)z")',
        'status:open AND (detailsPair(a=b:"(x") OR detailsPair(a=b:"y)z"))',
      ],
      ['detailsPair(_id:"(") OR tag:x', 'status:open AND (detailsPair(_id:"(") OR tag:x)'],
      ['detailsPair(k8s/ns:")") OR (tag:x)', 'status:open AND (detailsPair(k8s/ns:")") OR (tag:x))'],
      ['detailsPair(@region:"Europe (Ireland)")', 'status:open AND detailsPair(@region:"Europe (Ireland)")'],
      [
        'detailsPair( @timestamp : "a) OR (b" ) x',
        'status:open AND detailsPair( @timestamp : "a) OR (b" ) x',
      ],
      ['detailsPair("a key":v) OR b', 'status:open AND (detailsPair("a key":v) OR b)'],
      // Not the server's detailsPair (its case, a space before the "("): a word and a group.
      ['detailspair(a:b) OR c', 'status:open AND (detailspair(a:b) OR c)'],
      ['detailsPair (a:b)', 'status:open AND detailsPair (a:b)'],
    ];
    for (const [search, combined] of kept) {
      assert.equal(combine('status:open', search), combined, search);
      assert.doesNotThrow(() => parseQuery(search), search);
      assert.deepEqual(leftmost(parseQuery(combined)), STATUS_OPEN, combined);
    }
    // One the server refuses is sent, so that it says why, and refused there as it is alone.
    for (const search of [
      'detailsPair(a=b:"(x) OR b',
      'detailsPair(a:) OR (b',
      'detailsPair(:b)',
      'detailsPair("":b)',
      'detailsPair(a:"")',
      'detailsPair(a:b',
      'x) detailsPair(a b)',
    ]) {
      assert.throws(() => parseQuery(search), /Invalid query/, search);
      const combined = combine('status:open', search);
      assert.ok(combined, search);
      assert.throws(() => parseQuery(combined), /Invalid query/, combined);
    }
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
      // Keys no term starts with, read by the server's detailsPair up to its ":", then a quoted value.
      'detailsPair(a=b:',
      'detailsPair(_id:',
      'detailsPair(@timestamp:',
      'detailsPair(k8s/ns:',
      'detailsPair( "a b" :',
      '"(x")',
      '"y)z")',
      '")',
      '"',
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
    for (let n = 0; n < 10000; n++) {
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
      if (tree) assert.deepEqual(leftmost(tree), STATUS_OPEN, combined);
    }
  });
});
