import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { hostileApiRequest, PROPERTY_SEED } from '../testing/hostile-arbitraries.js';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * Properties of the HTTP API over hostile requests (any JSON, any strings including NULs and lone
 * surrogates, any numbers, in bodies, paths and query strings): no answer is a 5xx, and a create that is
 * refused writes nothing.
 */

let server: TestServer;
let alertId: string;

before(async () => {
  server = await startTestServer();
  assert.equal((await server.call('POST', '/v2/teams', { name: 'Prop' })).status, 201);
  await server.call('POST', '/v2/alerts', { message: 'target', alias: 'target' });
  alertId = (await server.call('GET', '/v2/alerts/target?identifierType=alias')).body.data.id;
});

after(async () => {
  await server.stop();
});

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(server.url + path, {
    method,
    headers: {
      authorization: `GenieKey ${server.key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text };
}

async function alertCount(): Promise<number> {
  return (await server.call('GET', '/v2/alerts/count')).body.data.count;
}

describe('the API over hostile requests', () => {
  it('never answers 5xx, and a refused create writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(hostileApiRequest, async (r) => {
        const path = r.path.replace('TARGET', alertId);
        const before = r.method === 'POST' && path === '/v2/alerts' ? await alertCount() : undefined;
        const res = await send(r.method, path, r.body);
        assert.ok(
          res.status >= 200 && res.status < 500,
          `${r.method} ${path} answered ${res.status}: ${res.body}`,
        );
        if (before !== undefined && res.status >= 400) assert.equal(await alertCount(), before);
      }),
      { seed: PROPERTY_SEED, numRuns: 400 },
    );
  });
});
