import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * A create action's extraProperties go on the alert as its details, so they have an alert create's
 * limits: a key of 1 to 512 characters, at most 1,000 keys, a value of 8,000 at most. Over them a PUT or
 * POST is a 422 and the actions are left as they were; a key with a line break is checked as any other (a
 * Type.Record's `^.*$` key pattern let its value through).
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);
let integrationId: string;

before(async () => {
  server = await startTestServer();
  const team = await server.callOk('POST', '/v2/teams', { name: `Limits ${run}` });
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name: `Limits ${run}`,
    ownerTeam: { id: team.data.id },
  });
  integrationId = made.data.id;
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

describe('create action extraProperties', () => {
  it('are refused over an alert’s limits, by PUT and by POST, and the actions are left as they were', async () => {
    const path = `/v2/integrations/${integrationId}/actions`;
    const before = await server.callOk('GET', path);
    for (const [what, extraProperties] of HOSTILE) {
      const put = await server.call('PUT', path, { create: [{ name: `Put ${run}`, extraProperties }] });
      assert.equal(put.status, 422, `PUT, ${what}: ${JSON.stringify(put.body).slice(0, 300)}`);
      const post = await server.call('POST', path, { type: 'create', name: `Post ${run}`, extraProperties });
      assert.equal(post.status, 422, `POST, ${what}: ${JSON.stringify(post.body).slice(0, 300)}`);
    }
    assert.deepEqual((await server.callOk('GET', path)).data, before.data);
  });

  it('within them are kept as text, a NUL made storable', async () => {
    const path = `/v2/integrations/${integrationId}/actions`;
    const put = await server.call('PUT', path, {
      create: [
        {
          name: `Within ${run}`,
          extraProperties: {
            ['k'.repeat(512)]: 'v'.repeat(8000),
            'nul\u0000key': 'nul\u0000',
            n: 1,
            b: false,
          },
        },
      ],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body).slice(0, 300));
    const [create] = (await server.callOk('GET', path)).data.create as Json[];
    assert.deepEqual(create?.extraProperties, {
      ['k'.repeat(512)]: 'v'.repeat(8000),
      'nul\uFFFDkey': 'nul\uFFFD',
      n: '1',
      b: 'false',
    });
  });
});
