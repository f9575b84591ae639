import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressBucket } from './address-bucket.js';

describe('addressBucket: whom the per-address sign-in limit counts', () => {
  it('counts an IPv4 address as itself', () => {
    assert.equal(addressBucket('192.0.2.1'), '192.0.2.1');
    assert.equal(addressBucket('203.0.113.255'), '203.0.113.255');
  });

  it('counts an IPv6 address by its /64, however the address is written', () => {
    for (const written of [
      '2001:db8:1:2::1',
      '2001:DB8:1:2::ffff',
      '2001:0db8:0001:0002:0000:0000:0000:0001',
      '2001:db8:1:2:aaaa:bbbb:cccc:dddd',
      '2001:db8:1:2:0:0:0:0',
      '2001:db8:1:2::',
      '2001:db8:1:2:1::2',
    ]) {
      assert.equal(addressBucket(written), '2001:db8:1:2::/64', written);
    }
    assert.equal(addressBucket('2001:db8:1:3::1'), '2001:db8:1:3::/64');
    assert.equal(addressBucket('2001:db8::1'), '2001:db8::/64');
    assert.equal(addressBucket('2001:db8:0:0:1::'), '2001:db8::/64');
    assert.equal(addressBucket('1:0:0:1::2'), '1:0:0:1::/64');
    assert.equal(addressBucket('::1'), '::/64');
    assert.equal(addressBucket('::'), '::/64');
    assert.equal(addressBucket('fe80::1%eth0'), 'fe80::/64');
    assert.equal(addressBucket('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 'ffff:ffff:ffff:ffff::/64');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    assert.equal(addressBucket('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressBucket('::FFFF:c000:0201'), '192.0.2.1');
    assert.equal(addressBucket('0:0:0:0:0:ffff:203.0.113.255'), '203.0.113.255');
    // Only ::ffff:0:0/96 is mapped: these are IPv6 addresses.
    assert.equal(addressBucket('::c000:201'), '::/64');
    assert.equal(addressBucket('64:ff9b::192.0.2.1'), '64:ff9b::/64');
  });

  it('counts what is not an address as itself', () => {
    assert.equal(addressBucket('unknown'), 'unknown');
    assert.equal(addressBucket('2001:db8:::1'), '2001:db8:::1');
    assert.equal(addressBucket(''), '');
  });
});
