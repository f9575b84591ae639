import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../errors.js';
import { createAlert, startTestServer, type TestServer } from '../testing/harness.js';
import { compileQuery, parseQuery, tokenize } from './query.js';

/**
 * Opsgenie writes its search terms with spaces around the operator (`status : open`,
 * `createdAt < 1470394841148`) and applies a field to a group (`message: (lorem OR ipsum)`). Both were
 * read wrongly: the first as free-text words that quietly found nothing, the second refused.
 */

const ORG = '00000000-0000-0000-0000-000000000001';

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

/** The error message of a refused query, to compare two refusals. */
function refusal(query: string): string {
  try {
    compile(query);
  } catch (error) {
    assert.ok(error instanceof DomainError, String(error));
    return error.message;
  }
  assert.fail(`${query} was not refused`);
}

describe('spaces around a term operator', () => {
  it('reads a spaced term as the same term unspaced, for every operator', () => {
    for (const [spaced, tight] of [
      ['status : open', 'status:open'],
      ['priority : P3', 'priority:P3'],
      ['createdAt < 1470394841148', 'createdAt<1470394841148'],
      ['createdAt > 1470394841148', 'createdAt>1470394841148'],
      ['createdAt >= 1470394841148', 'createdAt>=1470394841148'],
      ['createdAt <= 1470394841148', 'createdAt<=1470394841148'],
      ['alias = x', 'alias=x'],
      ['details.env != prod', 'details.env!=prod'],
      ['message : "disk full"', 'message:"disk full"'],
      ['status\t:\topen', 'status:open'],
      ['status   :open', 'status:open'],
      ['NOT status : closed', 'NOT status:closed'],
      ['status : open AND priority : P1 OR tag : x', 'status:open AND priority:P1 OR tag:x'],
    ]) {
      assert.deepEqual(tokenize(spaced ?? ''), tokenize(tight ?? ''), spaced);
      assert.deepEqual(parseQuery(spaced ?? ''), parseQuery(tight ?? ''), spaced);
    }
    assert.deepEqual(parseQuery('NOT status : closed'), {
      kind: 'not',
      inner: { kind: 'term', field: 'status', op: ':', value: 'closed' },
    });
  });

  it('refuses free text followed by a spaced operator as an unknown field, as it refuses it unspaced', () => {
    // A word then an operator is a field term, spaced or not: a 422 naming the known fields, rather
    // than words AND-ed together that find nothing. Quoted, the same text is a free-text phrase.
    refused('disk < 10%', /^Invalid query: unknown field "disk"\. Known fields: status, /);
    assert.equal(refusal('disk < 10%'), refusal('disk<10%'));
    assert.equal(refusal('error : timeout'), refusal('error:timeout'));
    assert.deepEqual(tokenize('"disk < 10%"'), [{ kind: 'term', op: ':', value: 'disk < 10%' }]);
    // An operator after no field-shaped word is still free text, as before.
    assert.deepEqual(tokenize(': x'), [
      { kind: 'term', op: ':', value: ':' },
      { kind: 'term', op: ':', value: 'x' },
    ]);
    assert.deepEqual(tokenize('12 : 30'), [
      { kind: 'term', op: ':', value: '12' },
      { kind: 'term', op: ':', value: ':' },
      { kind: 'term', op: ':', value: '30' },
    ]);
    // AND, OR and NOT are never field names.
    assert.deepEqual(tokenize('NOT : x'), [
      { kind: 'not' },
      { kind: 'term', op: ':', value: ':' },
      { kind: 'term', op: ':', value: 'x' },
    ]);
    refused('status :', 'Invalid query: status: needs a value.');
    refused('status : ', 'Invalid query: status: needs a value.');
  });
});

describe('a field applied to a group', () => {
  const message = (value: string) => ({ kind: 'term', field: 'message', op: ':', value });

  it('gives the field and operator to each bare term of the group', () => {
    assert.deepEqual(parseQuery('message: (lorem OR ipsum)'), {
      kind: 'or',
      left: message('lorem'),
      right: message('ipsum'),
    });
    assert.deepEqual(parseQuery('description: (lorem AND ipsum)'), {
      kind: 'and',
      left: { kind: 'term', field: 'description', op: ':', value: 'lorem' },
      right: { kind: 'term', field: 'description', op: ':', value: 'ipsum' },
    });
    assert.deepEqual(parseQuery('message:(lorem OR ipsum)'), parseQuery('message: (lorem OR ipsum)'));
    assert.deepEqual(parseQuery('message : (lorem OR ipsum)'), parseQuery('message: (lorem OR ipsum)'));
    assert.deepEqual(parseQuery('priority : (P1 OR P2)'), parseQuery('priority:P1 OR priority:P2'));
    assert.deepEqual(parseQuery('count >= (3 4)'), parseQuery('count>=3 count>=4'));
    // Inner groups, NOT and quoted phrases too; a term that names its field keeps it; after the group a
    // word is free text again.
    assert.deepEqual(
      tokenize('message: (a OR (b NOT "c d") OR tag:x OR description: (e f)) g'),
      tokenize('(message:a OR (message:b NOT message:"c d") OR tag:x OR (description:e description:f)) g'),
    );
    assert.deepEqual(tokenize('message:(a) b'), [
      { kind: 'lparen' },
      message('a'),
      { kind: 'rparen' },
      { kind: 'term', op: ':', value: 'b' },
    ]);
  });

  it('refuses an empty group, a != group and an unclosed one', () => {
    refused('message: ()', 'Invalid query: message: needs a value.');
    refused('message:( )', 'Invalid query: message: needs a value.');
    refused('message: ("")', 'Invalid query: message: needs a value.');
    // tag!=a OR tag!=b would find nearly every alert, not the ones with neither tag.
    refused('tag != (a OR b)', /^Invalid query: tag!= can not be applied to a group; use NOT tag:\(\.\.\.\)/);
    refused('message: (lorem OR ipsum', 'Invalid query: a parenthesis is not closed.');
    refused('message: (lorem))', 'Invalid query: unexpected ")".');
    refused('nosuch: (a b)', /unknown field "nosuch"/);
  });

  it('counts each term of the group against the limits, as written out', () => {
    const words = (n: number, make: (i: number) => string) =>
      Array.from({ length: n }, (_, i) => make(i)).join(' ');
    // message: is a substring search, so each word of the group is an unindexed term.
    refused(`message: (${words(11, (i) => `w${i}`)})`, /it has 11 free-text/);
    assert.doesNotThrow(() => compile(`message: (${words(10, (i) => `w${i}`)})`));
    refused(`tag: (${words(31, (i) => `t${i}`)})`, /it has 31 terms; at most 30 are allowed/);
    assert.doesNotThrow(() => compile(`tag: (${words(30, (i) => `t${i}`)})`));
    // A field on an indexed column makes the terms indexed ones, as written out.
    assert.doesNotThrow(() => compile(`alias: (${words(30, (i) => `a${i}`)})`));
    const depth = /Invalid query: parentheses and NOT are nested more than 20 deep/;
    refused(`${'message: ('.repeat(21)}x${')'.repeat(21)}`, depth);
    assert.doesNotThrow(() => compile(`${'message: ('.repeat(20)}x${')'.repeat(20)}`));
    // Hostile input: thousands of groups are refused at once, without running out of stack.
    const started = Date.now();
    refused(`${'message:('.repeat(200)}x${')'.repeat(200)}`, depth);
    refused('message:('.repeat(222), depth);
    refused(`message:(${'a '.repeat(995)})`, /it has 995 terms/);
    assert.ok(Date.now() - started < 2000, 'refused quickly');
  });
});

describe('spaced and grouped terms through GET /v2/alerts/count', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await createAlert(server, { message: 'lorem ipsum' });
    await createAlert(server, { message: 'lorem only' });
    await createAlert(server, { message: 'ipsum only' });
    const closed = await createAlert(server, { message: 'dolor, closed' });
    const res = await server.callOk('POST', `/v2/alerts/${closed}/close`, {});
    const status = await server.callOk('GET', `/v2/alerts/requests/${res.requestId}`);
    assert.equal(status.data.success, true, JSON.stringify(status.data));
  });
  after(() => server.stop());

  async function count(query: string): Promise<number> {
    const res = await server.call('GET', `/v2/alerts/count?query=${encodeURIComponent(query)}`);
    assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
    return res.body.data.count;
  }

  it('counts a spaced term as the term unspaced', async () => {
    const res = await server.call('GET', '/v2/alerts/count?query=status%20%3A%20open');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.count, 3);
    assert.equal(await count('status:open'), 3);
    assert.equal(await count('NOT status : closed'), 3);
    assert.equal(await count('status : closed'), 1);
    assert.equal(await count('createdAt < 9470394841148'), 4);
    assert.equal(await count('createdAt > 9470394841148'), 0);
  });

  it('counts a field applied to a group', async () => {
    assert.equal(await count('message: (lorem OR ipsum)'), 3);
    assert.equal(await count('message: (lorem AND ipsum)'), 1);
    assert.equal(await count('message: (dolor OR ipsum)'), 3);
    assert.equal(await count('message: (dolor OR ipsum) status : open'), 2);
    assert.equal(await count('message: (dolor OR ipsum) status : closed'), 1);
    assert.equal(await count('message: (lorem NOT ipsum)'), 1);
  });

  it('answers 422 for free text with a spaced operator, naming the unknown field', async () => {
    const res = await server.call('GET', `/v2/alerts/count?query=${encodeURIComponent('disk < 10%')}`);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body), /unknown field \\"disk\\"/);
  });
});
