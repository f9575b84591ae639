import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  addUserWithKey,
  createAlert,
  startTestServer,
  type Json,
  type TestServer,
  type TestUser,
} from '../testing/harness.js';

/**
 * Opsgenie's `details.key:`, `details.value:` and `recipients:` through GET /v2/alerts. The first two
 * compiled to a detail literally named "key" or "value" (so `details.key:impact` found nothing and its
 * NOT everything), and `recipients` was refused as an unknown field.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);
const tag = `fields-${run}`;
let alice: TestUser;
let carol: TestUser;

before(async () => {
  server = await startTestServer();
  [alice, carol] = await Promise.all([
    addUserWithKey(server, 'alice', run),
    addUserWithKey(server, 'carol', run),
  ]);
  // carol's role grants nothing: she sees only her own alerts.
  await server.callOk('POST', '/v2/roles', { name: `Plain ${run}`, extendedRole: 'user' });
  await server.callOk('PATCH', `/v2/users/${carol.id}`, { role: { name: `Plain ${run}` } });
  await createAlert(server, {
    message: `impact ${run}`,
    alias: `impact-${run}`,
    tags: [tag],
    details: { impact: 'high' },
    responders: [{ type: 'user', username: alice.username }],
  });
  await createAlert(server, {
    message: `env ${run}`,
    alias: `env-${run}`,
    tags: [tag],
    details: { env: 'prod' },
    responders: [{ type: 'user', username: carol.username }],
  });
});
after(async () => {
  await server?.stop();
});

/** The aliases (without the run) of this run's alerts the query finds, as `key` lists them. */
async function found(query: string, key?: string): Promise<string[]> {
  const list = await server.callOk(
    'GET',
    `/v2/alerts?query=${encodeURIComponent(`tag:${tag} AND (${query})`)}&limit=100`,
    undefined,
    key,
  );
  return list.data.map((a: Json) => (a.alias as string).replace(`-${run}`, '')).sort();
}

describe("Opsgenie's details.key, details.value and recipients on GET /v2/alerts", () => {
  it('finds an alert by the key and by the value of its details', async () => {
    assert.deepEqual(await found('details.key:impact'), ['impact']);
    assert.deepEqual(await found('details.value:high'), ['impact']);
    assert.deepEqual(await found('details.key:high'), []);
    assert.deepEqual(await found('NOT details.key:impact'), ['env']);
    assert.deepEqual(await found('detailsPair(impact:high)'), ['impact']);
    assert.deepEqual(await found('details.impact:high'), ['impact']);
  });

  it('finds by recipients the alerts with a user as responder, within what the caller may see', async () => {
    assert.deepEqual(await found(`recipients:${alice.username}`), ['impact']);
    assert.deepEqual(await found(`recipients:${carol.username}`), ['env']);
    // carol sees only her own alert: the query narrows it and shows her no other.
    assert.deepEqual(await found(`recipients:${alice.username}`, carol.key), []);
    assert.deepEqual(await found(`recipients:${carol.username}`, carol.key), ['env']);
    assert.deepEqual(await found(`NOT recipients:${carol.username}`, carol.key), []);
  });

  it('answers 422 for an order comparison of them', async () => {
    const res = await server.call('GET', `/v2/alerts?query=${encodeURIComponent('details.value>a')}`);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body), /details\.value can not be compared with >/);
  });
});
