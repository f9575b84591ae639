import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiKeyMatches, generateApiKey, hashApiKey, keyFromAuthorization } from './apikeys.js';

describe('API keys', () => {
  it('reads GenieKey and Bearer headers', () => {
    assert.equal(keyFromAuthorization('GenieKey abc-123'), 'abc-123');
    assert.equal(keyFromAuthorization('Bearer abc-123'), 'abc-123');
    assert.equal(keyFromAuthorization('geniekey abc'), 'abc');
    assert.equal(keyFromAuthorization('Basic abc'), undefined);
    assert.equal(keyFromAuthorization(undefined), undefined);
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
