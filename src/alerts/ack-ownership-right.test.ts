import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  addUserWithKey,
  alertLogs,
  createAlert,
  startTestServer,
  type TestServer,
  type TestUser,
} from '../testing/harness.js';

/**
 * Acknowledging makes the acknowledger the owner only when they may take ownership: a custom role that
 * acknowledges but lacks alert-take-ownership acknowledges (alone or in bulk) and leaves the owner empty,
 * as its assign to themselves would be refused.
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

describe('acknowledging and the alert-take-ownership right', () => {
  it('a role without alert-take-ownership acknowledges but does not become the owner', async () => {
    const role = `Ack no own ${run}`;
    await server.callOk('POST', '/v2/roles', {
      name: role,
      extendedRole: 'user',
      grantedRights: ['alert-acknowledge'],
      disallowedRights: ['alert-take-ownership'],
    });
    const holder = await addUserWithKey(server, 'ack-no-own', run);
    await server.callOk('PATCH', `/v2/users/${holder.id}`, { role: { name: role } });
    const plain = await addUserWithKey(server, 'ack-own', run);

    const alertFor = (user: TestUser, what: string) =>
      createAlert(server, {
        message: `${what} ${run}`,
        visibleTo: [{ type: 'user', id: user.id }],
      });
    const state = async (id: string) => {
      const alert = (await server.callOk('GET', `/v2/alerts/${id}`)).data;
      return { acknowledged: alert.acknowledged as boolean, owner: alert.owner as string };
    };

    // The right is enforced: an assign to themselves is refused.
    const single = await alertFor(holder, 'single');
    const assign = await server.call(
      'POST',
      `/v2/alerts/${single}/assign`,
      { owner: { id: holder.id } },
      holder.key,
    );
    assert.equal(assign.status, 403, JSON.stringify(assign.body));

    // So acknowledging succeeds without making them the owner, and the log says no assign.
    const acked = await server.call('POST', `/v2/alerts/${single}/acknowledge`, {}, holder.key);
    assert.equal(acked.status, 202, JSON.stringify(acked.body));
    assert.deepEqual(await state(single), { acknowledged: true, owner: '' });
    const logs = await alertLogs(server, single);
    assert.ok(!logs.some((l) => l.startsWith('Alert assigned')), logs.join('\n'));

    const many = [await alertFor(holder, 'bulk 1'), await alertFor(holder, 'bulk 2')];
    const bulk = await server.call('POST', '/v2/bulk/alerts/acknowledge', { identifiers: many }, holder.key);
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    for (const id of many) assert.deepEqual(await state(id), { acknowledged: true, owner: '' });

    // A user who may take ownership still becomes the owner by acknowledging.
    const theirs = await alertFor(plain, 'plain');
    await server.callOk('POST', `/v2/alerts/${theirs}/acknowledge`, {}, plain.key);
    assert.deepEqual(await state(theirs), { acknowledged: true, owner: plain.username });
  });
});
