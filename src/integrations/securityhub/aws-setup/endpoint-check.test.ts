import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requirePublicHttps } from './endpoint-check.js';

const resolvesTo =
  (...addresses: string[]) =>
  async () =>
    addresses.map((address) => ({ address }));

describe('an endpoint SNS can deliver to', () => {
  it('takes an HTTPS URL whose host resolves to public addresses', async () => {
    await requirePublicHttps(
      'https://vigil.example.com/x?apiKey=k',
      resolvesTo('52.94.236.248', '2600:1f18:4c12::1'),
    );
    await requirePublicHttps('https://54.239.28.85/x', resolvesTo());
  });

  it('refuses http, private and loopback addresses, and names that do not resolve', async () => {
    await assert.rejects(
      requirePublicHttps('http://vigil.example.com/x', resolvesTo('52.94.236.248')),
      /not HTTPS/,
    );
    for (const address of [
      '10.0.0.5',
      '127.0.0.1',
      '172.20.1.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fd00::1',
      '::ffff:10.1.1.1',
    ])
      await assert.rejects(
        requirePublicHttps('https://vigil.internal/x', resolvesTo('52.94.236.248', address)),
        new RegExp(`resolves to ${address.replace(/[.:]/g, '\\$&')}, which the internet cannot reach`),
      );
    await assert.rejects(requirePublicHttps('https://10.0.0.5/x'), /cannot reach/);
    const missing = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await assert.rejects(
      requirePublicHttps('https://nowhere.invalid/x', missing),
      /does not resolve \(ENOTFOUND\)/,
    );
  });
});
