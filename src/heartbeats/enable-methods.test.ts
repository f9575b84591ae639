import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';

/**
 * Opsgenie's Heartbeat API v2 takes enable and disable as POST, PUT or PATCH (its migration guide says
 * so): each switches the heartbeat, whichever a client sends.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.stop();
});

it('enables and disables a heartbeat with POST, PUT and PATCH', async () => {
  const name = `switched-${run}`;
  await server.callOk('POST', '/v2/heartbeats', { name, interval: 5, intervalUnit: 'minutes' });
  for (const method of ['POST', 'PUT', 'PATCH']) {
    const enabled = await server.call(method, `/v2/heartbeats/${name}/enable`);
    assert.equal(enabled.status, 200, `${method} enable: ${JSON.stringify(enabled.body)}`);
    assert.equal(enabled.body.result, 'Enabled');
    assert.deepEqual(enabled.body.data, { name, enabled: true, expired: false });
    assert.equal((await server.callOk('GET', `/v2/heartbeats/${name}`)).data.enabled, true);

    const disabled = await server.call(method, `/v2/heartbeats/${name}/disable`);
    assert.equal(disabled.status, 200, `${method} disable: ${JSON.stringify(disabled.body)}`);
    assert.equal(disabled.body.result, 'Disabled');
    assert.deepEqual(disabled.body.data, { name, enabled: false, expired: false });
    assert.equal((await server.callOk('GET', `/v2/heartbeats/${name}`)).data.enabled, false);
  }
});
