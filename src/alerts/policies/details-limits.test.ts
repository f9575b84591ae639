import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * The details an alert policy adds go on the alert, so they have an alert create's limits: a key of 1 to
 * 512 characters, at most 1,000 keys, a value of 8,000 at most. Over them a create or update is a 422 and
 * nothing is stored; a key with a line break is checked as any other (a Type.Record's `^.*$` key pattern
 * let its value through).
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

const policyBody = (name: string, details: Json) => ({
  type: 'alert',
  name,
  filter: {
    type: 'match-all-conditions',
    conditions: [{ field: 'message', operation: 'contains', expectedValue: `limits ${run}` }],
  },
  details,
});

describe('alert policy details', () => {
  it('are refused over an alert’s limits, on create and on update, and nothing is stored', async () => {
    const made = await server.call('POST', '/v2/policies', policyBody(`Kept ${run}`, { team: 'storage' }));
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.data.id as string;
    for (const [what, details] of HOSTILE) {
      const created = await server.call('POST', '/v2/policies', policyBody(`Hostile ${run}`, details));
      assert.equal(created.status, 422, `create, ${what}: ${JSON.stringify(created.body).slice(0, 300)}`);
      const updated = await server.call('PUT', `/v2/policies/${id}`, policyBody(`Kept ${run}`, details));
      assert.equal(updated.status, 422, `update, ${what}: ${JSON.stringify(updated.body).slice(0, 300)}`);
    }
    assert.equal((await server.call('GET', `/v2/policies/${id}`)).body.data.details.team, 'storage');
    const names = ((await server.callOk('GET', '/v2/policies/alert')).data as Json[]).map((p) => p.name);
    assert.ok(!names.includes(`Hostile ${run}`), JSON.stringify(names));
  });

  it('within them are kept, a NUL made storable', async () => {
    const made = await server.call(
      'POST',
      '/v2/policies',
      policyBody(`Within ${run}`, { ['k'.repeat(512)]: 'v'.repeat(8000), 'nul\u0000key': 'nul\u0000', n: 1 }),
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const got = (await server.callOk('GET', `/v2/policies/${made.body.data.id}`)).data;
    assert.deepEqual(got.details, {
      ['k'.repeat(512)]: 'v'.repeat(8000),
      'nul\uFFFDkey': 'nul\uFFFD',
      n: '1',
    });
  });
});
