import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { allowedNumbers, fieldName, MAX_NUMBER_DEPTH, nonFiniteNumberAt } from './finite-numbers.js';

/**
 * A number that is not finite is refused at the edge with a 422 naming the field: Ajv coerces "1e309",
 * "-1e309" and "Infinity" to ±Infinity, and its integer, minimum and maximum checks let that through, to a
 * 500 (a timeline's interval), every row (a limit over its maximum) or PostgreSQL's own wording.
 */

describe('nonFiniteNumberAt', () => {
  it('gives the path to the first number that is not finite, and nothing when all are', () => {
    assert.deepEqual(nonFiniteNumberAt({ a: 1, b: [{ c: 'Infinity' }, { c: -Infinity }] }), ['b', 1, 'c']);
    assert.deepEqual(nonFiniteNumberAt({ n: Number.NaN }), ['n']);
    assert.deepEqual(nonFiniteNumberAt(Infinity), []);
    assert.equal(nonFiniteNumberAt({ a: 1, b: ['x', 2.5, null, true], c: { d: -0 } }), undefined);
    assert.equal(nonFiniteNumberAt('Infinity'), undefined);
  });

  it(`stops ${MAX_NUMBER_DEPTH} levels down`, () => {
    const nest = (levels: number): unknown => (levels === 0 ? Infinity : { x: nest(levels - 1) });
    assert.equal(nonFiniteNumberAt(nest(MAX_NUMBER_DEPTH))?.length, MAX_NUMBER_DEPTH);
    assert.equal(nonFiniteNumberAt(nest(MAX_NUMBER_DEPTH + 1)), undefined);
  });

  it('names the field as validation errors do, with what its schema allows', () => {
    assert.equal(fieldName(['rotations', 0, 'length']), 'rotations[0].length');
    const schema = {
      type: 'object',
      properties: { items: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 500 } } },
    };
    assert.match(allowedNumbers(schema, ['items', 3]), /^must be a whole number from 1 to 500 /);
    assert.match(allowedNumbers(undefined, ['x']), /^must be a finite number \(not Infinity/);
  });
});

describe('numbers that are not finite, over HTTP', () => {
  let server: TestServer;
  let scheduleId: string;

  before(async () => {
    server = await startTestServer();
    scheduleId = (await server.callOk('POST', '/v2/schedules', { name: 'Finite', timezone: 'UTC' })).data.id;
  });

  after(async () => {
    await server?.stop();
  });

  for (const interval of ['-1e309', '1e309', 'Infinity']) {
    it(`refuses a timeline's interval=${interval} with a 422 naming interval`, async () => {
      const answer = await server.call('GET', `/v2/schedules/${scheduleId}/timeline?interval=${interval}`);
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
      assert.match(answer.body.message, /^Request querystring is not processable/);
      assert.match(answer.body.errors.interval, /^must be a whole number of at least 1 /);
    });
  }

  it('refuses limit=1e309 and offset=-1e309 on a list, naming the field and its range', async () => {
    const limit = await server.call('GET', '/v2/users?limit=1e309');
    assert.equal(limit.status, 422, JSON.stringify(limit.body));
    assert.deepEqual(Object.keys(limit.body.errors), ['limit']);
    assert.match(limit.body.errors.limit, /^must be a whole number from 1 to 500 /);
    const offset = await server.call('GET', '/v2/users?offset=-1e309');
    assert.equal(offset.status, 422, JSON.stringify(offset.body));
    assert.match(offset.body.errors.offset, /^must be a whole number of at least 0 /);
  });

  it('refuses 1e309 in a body, as a number or as text coerced to one, and names a nested field', async () => {
    const heartbeat = (interval: string) =>
      `{"name":"finite-hb","interval":${interval},"intervalUnit":"minutes","enabled":false}`;
    for (const interval of ['1e309', '"1e309"', '"-Infinity"']) {
      const answer = await server.call('POST', '/v2/heartbeats', heartbeat(interval));
      assert.equal(answer.status, 422, `${interval}: ${JSON.stringify(answer.body)}`);
      assert.ok(answer.body.errors.interval, JSON.stringify(answer.body));
    }
    const rotation = await server.call('POST', '/v2/schedules', {
      name: 'Finite rotation',
      timezone: 'UTC',
      rotations: [
        {
          name: 'r',
          type: 'daily',
          length: '1e309',
          startDate: '2026-01-01T00:00:00Z',
          participants: [{ type: 'none' }],
        },
      ],
    });
    assert.equal(rotation.status, 422, JSON.stringify(rotation.body));
    assert.match(rotation.body.message, /^Request body is not processable/);
    assert.match(rotation.body.errors['rotations[0].length'], /^must be a whole number of at most 1000000 /);
  });

  it('leaves free text alone: a search for Infinity is a search', async () => {
    const answer = await server.call('GET', '/v2/alerts?query=Infinity');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });
});
