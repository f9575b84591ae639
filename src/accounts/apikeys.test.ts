import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  apiKeyMatches,
  generateApiKey,
  hashApiKey,
  keyAndSchemeFromAuthorization,
  keyFromAuthorization,
} from './apikeys.js';

describe('API keys', () => {
  it('reads GenieKey and Bearer headers', () => {
    assert.equal(keyFromAuthorization('GenieKey abc-123'), 'abc-123');
    assert.equal(keyFromAuthorization('Bearer abc-123'), 'abc-123');
    assert.equal(keyFromAuthorization('geniekey abc'), 'abc');
    assert.equal(keyFromAuthorization(undefined), undefined);
  });

  it('reads the key as the password of Basic credentials (Alertmanager, Grafana)', () => {
    const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
    assert.equal(keyFromAuthorization(basic(':abc-123')), 'abc-123');
    assert.equal(keyFromAuthorization(basic('anyone:abc-123')), 'abc-123');
    assert.equal(keyFromAuthorization(basic('abc-123')), 'abc-123', 'no colon: the whole value');
    assert.equal(keyFromAuthorization(basic(':a:b')), 'a:b', 'the password may hold a colon');
    assert.equal(keyFromAuthorization(`basic ${Buffer.from(':abc').toString('base64')}`), 'abc');
    assert.equal(keyFromAuthorization('Basic OmFiYw'), 'abc', 'padding left out');
    for (const refused of [
      basic(':'),
      basic('anyone:'),
      basic(''),
      'Basic',
      'Basic ',
      'Basic abc!',
      'Basic a',
      'Basic OmFiYw===',
      'Basic Om=FiYw',
      'Basic OmFiYw== extra',
      `Basic ${Buffer.from([0x3a, 0xff, 0xfe]).toString('base64')}`,
    ]) {
      assert.equal(keyFromAuthorization(refused), undefined, refused);
    }
  });

  it('says which scheme the key came in', () => {
    assert.deepEqual(keyAndSchemeFromAuthorization('geniekey abc'), { key: 'abc', scheme: 'geniekey' });
    assert.deepEqual(keyAndSchemeFromAuthorization('Bearer abc'), { key: 'abc', scheme: 'bearer' });
    assert.deepEqual(keyAndSchemeFromAuthorization(' basic OmFiYw'), { key: 'abc', scheme: 'basic' });
    assert.equal(keyAndSchemeFromAuthorization('Basic Og=='), undefined, 'no key: no scheme either');
  });

  it('matches a key only against its own hash', () => {
    const key = generateApiKey();
    const { hash, lookup } = hashApiKey(key);
    assert.equal(lookup.length, 16);
    assert.ok(apiKeyMatches(key, hash));
    assert.ok(!apiKeyMatches(generateApiKey(), hash));
    assert.ok(!apiKeyMatches(key, Buffer.alloc(5)));
  });
});
