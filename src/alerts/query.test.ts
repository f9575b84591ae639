import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuery, tokenize } from './query.js';

describe('alert query parser', () => {
  it('joins side-by-side terms with AND and honours OR, NOT and parentheses', () => {
    assert.deepEqual(parseQuery('status:open priority:P1'), {
      kind: 'and',
      left: { kind: 'term', field: 'status', op: ':', value: 'open' },
      right: { kind: 'term', field: 'priority', op: ':', value: 'P1' },
    });
    const tree = parseQuery('tag:a OR NOT (tag:b AND tag:c)');
    assert.equal(tree?.kind, 'or');
    assert.equal(tree?.kind === 'or' ? tree.right.kind : '', 'not');
  });

  it('reads quoted values, operators and free text', () => {
    assert.deepEqual(tokenize('message:"disk full" count>=3 foo'), [
      { kind: 'term', field: 'message', op: ':', value: 'disk full' },
      { kind: 'term', field: 'count', op: '>=', value: '3' },
      { kind: 'term', op: ':', value: 'foo' },
    ]);
    assert.equal(parseQuery('   '), undefined);
  });

  it('refuses broken queries with a message', () => {
    assert.throws(() => parseQuery('(status:open'), /parenthesis/);
    assert.throws(() => parseQuery('message:"open'), /quoted/);
    assert.throws(() => parseQuery('status:open AND'), /ends/);
    assert.throws(() => parseQuery('status:'), /needs a value/);
  });
});
