import assert from 'node:assert/strict';
import dns from 'node:dns';
import { afterEach, describe, it, mock } from 'node:test';
import { hostProblem, isAddressRefusal, isPrivateAddress, privateNameProblem } from './address-guard.js';

describe('the address guard', () => {
  afterEach(() => mock.restoreAll());

  it('refuses the local-use NAT64 prefix (RFC 8215, 64:ff9b:1::/48) wherever it carries the IPv4 address', () => {
    for (const a of [
      // 10.0.0.5 at /96, 127.0.0.1 at /64 (RFC 6052 offsets), and one carrying a public address.
      '64:ff9b:1::a00:5',
      '64:ff9b:1:0:7f:0:100:0',
      '64:ff9b:1::808:808',
      '64:ff9b:1:ffff:ffff:ffff:ffff:ffff',
    ])
      assert.equal(isPrivateAddress(a), true, a);
    assert.match(hostProblem('[64:ff9b:1::a00:5]') ?? '', /loopback, private or reserved/);
    // Its neighbours are not in it: the well-known prefix still carries a public address through.
    for (const a of ['64:ff9b::808:808', '64:ff9b:2::1']) assert.equal(isPrivateAddress(a), false, a);
  });

  it('refuses SIIT’s IPv4-translated addresses (::ffff:0:a.b.c.d) and Teredo (2001::/32)', () => {
    for (const a of [
      '::ffff:0:a00:5',
      '::ffff:0:10.0.0.5',
      '::ffff:0:808:808',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    ])
      assert.equal(isPrivateAddress(a), true, a);
    for (const host of ['[::ffff:0:a00:5]', '[2001::a00:5]'])
      assert.match(
        hostProblem(new URL(`https://${host}/`).hostname) ?? '',
        /loopback, private or reserved/,
        host,
      );
    // Their neighbours are not in them: the rest of 2001::/16, and a group more before ffff:0.
    for (const a of ['2001:4860:4860::8888', '::1:ffff:0:808:808'])
      assert.equal(isPrivateAddress(a), false, a);
  });

  it('tells which names resolve to a private address, for a proxy that would resolve them itself', async () => {
    const answers: Record<string, string> = {
      'inside.example.com': '10.0.0.5',
      'outside.example.com': '8.8.8.8',
    };
    mock.method(
      dns,
      'lookup',
      (
        host: string,
        _options: dns.LookupOptions,
        callback: (error: Error | null, addresses: dns.LookupAddress[]) => void,
      ) => {
        const address = answers[host];
        if (address) callback(null, [{ address, family: 4 }]);
        else callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
      },
    );
    assert.match(
      (await privateNameProblem('inside.example.com')) ?? '',
      /^inside\.example\.com resolves to 10\.0\.0\.5, a loopback, private or reserved address/,
    );
    assert.equal(await privateNameProblem('outside.example.com'), undefined);
    // Left to the proxy (split DNS: only the proxy may see outside).
    assert.equal(await privateNameProblem('unknown.example.com'), undefined, 'left to the proxy');
  });

  it('finds its refusal anywhere in an error’s causes', () => {
    const refusal = Object.assign(new Error('10.0.0.5 is refused'), { code: 'EADDRNOTALLOWED' });
    const wrapped = new TypeError('fetch failed', {
      cause: new Error('10.0.0.5 is refused', { cause: refusal }),
    });
    assert.equal(isAddressRefusal(wrapped), true);
    assert.equal(
      isAddressRefusal(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') })),
      false,
    );
    assert.equal(isAddressRefusal('EADDRNOTALLOWED'), false);
  });
});
