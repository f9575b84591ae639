import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addOrganization, startTestServer, type TestServer } from '../testing/harness.js';

/** tinyId counts per organization: no organization learns another's volume or reaches its alerts. */

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

type Call = TestServer['call'];

async function create(call: Call, message: string): Promise<{ id: string; tinyId: string }> {
  const created = await call('POST', '/v2/alerts', { message });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const status = await call('GET', `/v2/alerts/requests/${created.body.requestId}`);
  assert.equal(status.status, 200, JSON.stringify(status.body));
  const alert = await call('GET', `/v2/alerts/${status.body.data.alertId}`);
  assert.equal(alert.status, 200);
  return { id: alert.body.data.id, tinyId: String(alert.body.data.tinyId) };
}

describe('tinyId', () => {
  it('counts 1, 2, 3… in each organization, whatever the others create', async () => {
    const first = server.call.bind(server);
    const other = await addOrganization(server, 'Other Org');
    const mine: string[] = [];
    const theirs: string[] = [];
    // Interleaved, so one shared counter would give each organization every other number.
    for (let i = 0; i < 3; i++) {
      mine.push((await create(first, `first ${i + 1}`)).tinyId);
      theirs.push((await create(other.call, `other ${i + 1}`)).tinyId);
    }
    mine.push((await create(first, 'first 4')).tinyId);
    assert.deepEqual(mine, ['1', '2', '3', '4']);
    assert.deepEqual(theirs, ['1', '2', '3']);

    // The same tinyId finds each organization's own alert, never the other's.
    for (const tiny of ['1', '2', '3']) {
      const a = await first('GET', `/v2/alerts/${tiny}?identifierType=tiny`);
      const b = await other.call('GET', `/v2/alerts/${tiny}?identifierType=tiny`);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(a.body.data.message, `first ${tiny}`);
      assert.equal(b.body.data.message, `other ${tiny}`);
    }
    const missing = await other.call('GET', '/v2/alerts/4?identifierType=tiny');
    assert.equal(missing.status, 404, 'the other organization has no tinyId 4, whatever the first has');
    assert.doesNotMatch(JSON.stringify(missing.body), /first 4/);

    // Actions by tinyId reach only the caller's own alert.
    const closed = await other.call('POST', '/v2/alerts/4/close?identifierType=tiny', {});
    assert.equal(closed.status, 202);
    const status = await other.call('GET', `/v2/alerts/requests/${closed.body.requestId}`);
    assert.equal(status.body.data.status, 'Alert does not exist');
    const fourth = await first('GET', '/v2/alerts/4?identifierType=tiny');
    assert.equal(fourth.body.data.status, 'open');
  });
});
