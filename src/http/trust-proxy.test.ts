import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';

/**
 * Whose address a request comes from: X-Forwarded-For is believed only from the proxies
 * VIGIL_TRUST_PROXY names, or a client could pass for any address (and the per-address sign-in limit
 * would count nothing). An alert made without a source takes its sender's address, which shows it.
 */

let direct: TestServer;
let proxied: TestServer;
let oneHop: TestServer;
before(async () => {
  [direct, proxied, oneHop] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { VIGIL_TRUST_PROXY: '127.0.0.1,10.0.0.0/8' } }),
    startTestServer({ env: { VIGIL_TRUST_PROXY: 'on' } }),
  ]);
});
after(async () => {
  await Promise.all([direct?.stop(), proxied?.stop(), oneHop?.stop()]);
});

/** The source of an alert sent with this X-Forwarded-For and no source of its own. */
async function sourceWhenForwardedFor(server: TestServer, forwardedFor: string): Promise<unknown> {
  const alias = randomUUID();
  const sent = await fetch(`${server.url}/v2/alerts`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `GenieKey ${server.key}`,
      'x-forwarded-for': forwardedFor,
    },
    body: JSON.stringify({ message: 'where from?', alias }),
  });
  assert.equal(sent.status, 202, await sent.text());
  const alert = await server.callOk('GET', `/v2/alerts/${alias}?identifierType=alias`);
  return (alert.data as { source: unknown }).source;
}

describe('the client address', () => {
  it('is the connection’s peer by default, whatever X-Forwarded-For says', async () => {
    assert.equal(await sourceWhenForwardedFor(direct, '203.0.113.9'), '127.0.0.1');
  });

  it('is the one a trusted proxy forwarded for, skipping the trusted hops', async () => {
    assert.equal(await sourceWhenForwardedFor(proxied, '203.0.113.9'), '203.0.113.9');
    // The client's own claim comes first in the list and is not believed past an untrusted hop.
    assert.equal(await sourceWhenForwardedFor(proxied, '198.51.100.7, 203.0.113.9, 10.1.2.3'), '203.0.113.9');
  });

  it('is the one the nearest proxy saw with `on`, not the left-most one the client wrote', async () => {
    // A proxy appends the address it saw: the client can write anything before it.
    assert.equal(await sourceWhenForwardedFor(oneHop, '198.51.100.7, 203.0.113.9'), '203.0.113.9');
    assert.equal(await sourceWhenForwardedFor(oneHop, '203.0.113.9'), '203.0.113.9');
  });
});
