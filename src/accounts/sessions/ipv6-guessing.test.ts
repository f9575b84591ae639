import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';

/**
 * The limit of 100 failed sign-ins from one address within 15 minutes. Anyone on IPv6 has a /64 of their
 * own (2^64 addresses): counted by the exact address, each guess could come from a new one, and only the
 * per-email limit would stand against trying one password on many accounts. So IPv6 counts by /64.
 * Behind a trusted proxy, as a dual-stack proxy forwards for IPv6 clients.
 */
describe('console sign-in: failed sign-ins counted per IPv6 /64', () => {
  let server: TestServer;
  let sprayed = 0;
  before(async () => {
    server = await startTestServer({ env: { VIGIL_TRUST_PROXY: '127.0.0.1' } });
  });
  after(() => server.stop());

  /** A wrong password for a new email each time (no per-email limit), as if from `address`. */
  async function guessFrom(address: string): Promise<{ status: number; message: string }> {
    sprayed += 1;
    const response = await fetch(`${server.url}/api/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ email: `sprayed-${sprayed}@example.com`, password: 'Winter2024!Winter' }),
    });
    const body = (await response.json()) as { message?: string };
    return { status: response.status, message: body.message ?? '' };
  }

  const statusesFrom = async (addresses: string[]) =>
    (await Promise.all(addresses.map(guessFrom))).map((a) => a.status);

  it('limits a /64 once 100 of its addresses have failed, and not the next /64', async () => {
    // 100 addresses in 2001:db8:1:2::/64, each written its own way.
    const spread = Array.from(
      { length: 100 },
      (_, i) => `2001:db8:1:2:${((i * 977) % 0x10000).toString(16)}::${i + 1}`,
    );
    assert.deepEqual(await statusesFrom(spread), Array<number>(100).fill(401));

    const next = await guessFrom('2001:DB8:0001:0002:ffff:ffff:ffff:ffff');
    assert.equal(next.status, 429, 'the 101st from the same /64, from an address not used yet');
    assert.match(next.message, /Too many failed sign-ins from your address/);

    assert.equal((await guessFrom('2001:db8:1:3::1')).status, 401, 'another /64 is not limited');
    assert.equal((await guessFrom('2001:db8:1:2::1')).status, 429, 'an address used before is limited too');
  });

  it('gives guesses from one /64 sent side by side no more tries than one by one', async () => {
    const spread = Array.from({ length: 110 }, (_, i) => `2001:db8:9:9::${(i + 1).toString(16)}`);
    const statuses = (await statusesFrom(spread)).sort();
    assert.equal(statuses.filter((s) => s === 401).length, 100, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 429).length, 10, statuses.join(' '));
  });

  it('still counts IPv4 by the whole address, the IPv4-mapped IPv6 form as the same address', async () => {
    assert.deepEqual(await statusesFrom(Array<string>(100).fill('192.0.2.7')), Array<number>(100).fill(401));
    assert.equal((await guessFrom('192.0.2.7')).status, 429);
    assert.equal((await guessFrom('::ffff:192.0.2.7')).status, 429, 'as a dual-stack socket names it');
    assert.equal((await guessFrom('192.0.2.8')).status, 401, 'the next address is not limited');
  });
});
