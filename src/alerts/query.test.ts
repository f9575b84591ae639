import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool } from '../db/database.js';
import { DomainError } from '../errors.js';
import { serverUrl } from '../testing/harness.js';
import {
  MAX_QUERY_DEPTH,
  MAX_QUERY_TERMS,
  MAX_UNINDEXED_TERMS,
  compileQuery,
  parseQuery,
  tokenize,
} from './query.js';

const ORG = '00000000-0000-0000-0000-000000000001';

/** Parses and compiles a query as the alert routes do, before any SQL runs. */
function compile(query: string) {
  const tree = parseQuery(query);
  assert.ok(tree, query);
  return compileQuery(ORG, tree);
}

/** Asserts that the query is refused as invalid (a 422 on the API) with a message that matches. */
function refused(query: string, message: RegExp | string) {
  assert.throws(
    () => compile(query),
    (error: unknown) => {
      assert.ok(error instanceof DomainError, String(error));
      assert.equal(error.kind, 'invalid');
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
  );
}

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

describe('alert query numbers', () => {
  it('refuses a number outside the column, naming the field and the range', () => {
    refused(
      'count>2147483648',
      'Invalid query: count takes a whole number from 0 to 2147483647, not "2147483648".',
    );
    refused(
      'tinyId>9223372036854775808',
      'Invalid query: tinyId takes a whole number from 0 to 9223372036854775807, not "9223372036854775808".',
    );
    refused(`tinyId:${'9'.repeat(400)}`, /tinyId takes a whole number from 0 to 9223372036854775807/);
    refused(`count<=${'1'.repeat(400)}`, /count takes a whole number from 0 to 2147483647/);
    refused('count>-1', /count takes a whole number from 0 to 2147483647, not "-1"/);
    refused('tinyId:1.5', /tinyId takes a whole number/);
  });

  it('accepts the largest value of each column', () => {
    assert.doesNotThrow(() => compile('count<=2147483647 tinyId<=9223372036854775807'));
    assert.doesNotThrow(() => compile('count:0002147483647'));
  });

  describe('in PostgreSQL', () => {
    const pool = createPool(serverUrl(), 1);
    const db = createDb(pool);
    after(() => pool.end());

    // Stand-ins for alerts rows; 2^53 + 1 is the first integer a Number can not hold.
    async function ids(query: string): Promise<number[]> {
      const { rows } = await sql<{ id: number }>`
        SELECT id FROM (VALUES
          (1, 7, 9007199254740993::bigint),
          (2, 2147483647, 9223372036854775807::bigint),
          (3, 1, 9007199254740992::bigint)
        ) AS alerts(id, count, tiny_id)
        WHERE ${compile(query)} ORDER BY id`.execute(db);
      return rows.map((r) => r.id);
    }

    it('compares tinyIds beyond 2^53 exactly', async () => {
      assert.deepEqual(await ids('tinyId:9007199254740993'), [1]);
      assert.deepEqual(await ids('tinyId:9007199254740992'), [3]);
      assert.deepEqual(await ids('tinyId>9007199254740992'), [1, 2]);
      assert.deepEqual(await ids('tinyId!=9223372036854775807'), [1, 3]);
    });

    it('runs the bounds of each column', async () => {
      assert.deepEqual(await ids('tinyId>=9223372036854775807'), [2]);
      assert.deepEqual(await ids('count>=2147483647'), [2]);
      assert.deepEqual(await ids('count<2147483647 count>=007'), [1]);
      assert.deepEqual(await ids('count>=0'), [1, 2, 3]);
    });
  });
});

describe('alert query cost', () => {
  const words = (n: number, make: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => make(i)).join(' ');

  it('refuses more terms than allowed, before any SQL', () => {
    assert.equal(MAX_QUERY_TERMS, 30);
    refused(
      words(999, (i) => `word${i}`),
      'Invalid query: it has 999 terms; at most 30 are allowed. Narrow it: fewer free-text words, or field:value terms.',
    );
    refused(
      words(31, (i) => `alias:a${i}`),
      /it has 31 terms; at most 30 are allowed/,
    );
    assert.doesNotThrow(() => compile(words(30, (i) => `alias:a${i}`)));
    // Operators are not terms.
    assert.doesNotThrow(() => compile(words(15, (i) => `(alias:a${i} OR NOT tag:t${i})`)));
  });

  it('refuses more free-text, wildcard or substring terms than allowed', () => {
    assert.equal(MAX_UNINDEXED_TERMS, 10);
    refused(
      words(11, (i) => `word${i}`),
      /it has 11 free-text, wildcard \(\*\) or message\/description terms.*at most 10 are allowed\. Narrow it/,
    );
    refused(
      words(11, (i) => `alias:a${i}*`),
      /it has 11 free-text/,
    );
    refused(
      words(11, (i) => `message:m${i}`),
      /it has 11 free-text/,
    );
    refused(`${words(6, (i) => `"w ${i}"`)} ${words(5, (i) => `tag:t${i}*`)}`, /it has 11 free-text/);
    assert.doesNotThrow(() => compile(`${words(10, (i) => `word${i}`)} ${words(20, (i) => `alias:a${i}`)}`));
    // message= is exact, so not a substring search.
    assert.doesNotThrow(() => compile(words(11, (i) => `message=m${i}`)));
  });

  it('refuses nesting deeper than allowed instead of overflowing the stack', () => {
    assert.equal(MAX_QUERY_DEPTH, 20);
    const depth = /Invalid query: parentheses and NOT are nested more than 20 deep/;
    refused(`${'('.repeat(2000)}status:open${')'.repeat(2000)}`, depth);
    refused('('.repeat(2000), depth);
    refused(`${'NOT '.repeat(2000)}status:open`, depth);
    refused(`${'(NOT '.repeat(11)}status:open${')'.repeat(11)}`, depth);
    assert.doesNotThrow(() => compile(`${'(NOT '.repeat(10)}status:open${')'.repeat(10)}`));
    assert.doesNotThrow(() =>
      compile(`${'('.repeat(20)}status:open${')'.repeat(20)} ${'('.repeat(20)}tag:x${')'.repeat(20)}`),
    );
  });
});
