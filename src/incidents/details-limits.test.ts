import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * An incident's details are its associated alert's, so they have an alert's limits: a key of 1 to 512
 * characters, at most 1,000 keys, a value of 8,000 at most. Over them is a 422 and nothing is made; a key
 * with a line break is checked as any other (a Type.Record's `^.*$` key pattern let its value through).
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

/** Details an alert's create refuses, each named for the assertion message. */
const HOSTILE: [string, Json][] = [
  ['a key over 512 characters', { ['k'.repeat(513)]: 'v' }],
  ['an empty key', { '': 'v' }],
  ['over 1,000 keys', Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 'v']))],
  ['a key with a line break and an object value', { 'a\nb': { nested: true } }],
  ['a key with a line break and a value over 8,000', { 'a\nb': 'v'.repeat(8001) }],
  ['a value over 8,000', { key: 'v'.repeat(8001) }],
];

describe('incident details', () => {
  it('are refused over an alert’s limits, and nothing is made', async () => {
    const before = (await server.callOk('GET', '/v1/incidents?limit=100')).data.length as number;
    for (const [what, details] of HOSTILE) {
      const res = await server.call('POST', '/v1/incidents/create', { message: `m ${run}`, details });
      assert.equal(res.status, 422, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    assert.equal((await server.callOk('GET', '/v1/incidents?limit=100')).data.length, before, 'nothing made');
  });

  it('within them are kept, a NUL made storable', async () => {
    const res = await server.call('POST', '/v1/incidents/create', {
      message: `kept ${run}`,
      details: { ['k'.repeat(512)]: 'v'.repeat(8000), 'nul\u0000key': 'nul\u0000value', n: 1, b: true },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const status = (await server.callOk('GET', `/v1/incidents/requests/${res.body.requestId}`)).data;
    assert.equal(status.isSuccess, true, JSON.stringify(status));
    const incident = (await server.callOk('GET', `/v1/incidents/${status.incidentId}`)).data;
    assert.deepEqual(incident.extraProperties, {
      ['k'.repeat(512)]: 'v'.repeat(8000),
      'nul\uFFFDkey': 'nul\uFFFDvalue',
      n: '1',
      b: 'true',
    });
  });
});
