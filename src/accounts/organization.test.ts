import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';

describe('PATCH /v2/organization', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('answers a body with nothing to change with the organization as it is, as other PATCHes do', async () => {
    const renamed = await server.call('PATCH', '/v2/organization', { name: 'Before', plan: 'premium' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    // Empty, and with only fields the schema does not know (validation drops them).
    for (const body of [{}, { unknownField: 'x', id: 'someone-else' }]) {
      const unchanged = await server.call('PATCH', '/v2/organization', body);
      assert.equal(unchanged.status, 200, JSON.stringify(unchanged.body));
      assert.equal(unchanged.body.result, 'Updated');
      assert.equal(unchanged.body.data.id, renamed.body.data.id);
      assert.equal(unchanged.body.data.name, 'Before');
      assert.equal(unchanged.body.data.plan, 'premium');
    }
    const read = await server.call('GET', '/v2/organization');
    assert.equal(read.body.data.name, 'Before');
    assert.equal(read.body.data.plan, 'premium');
  });
});
