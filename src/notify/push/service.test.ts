import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../errors.js';
import { parseEndpoint, PUSH_SERVICE_HOSTS } from './service.js';

describe('push endpoints', () => {
  it("accepts the browsers' push services and their subdomains, and nothing else unless added", () => {
    for (const endpoint of [
      'https://fcm.googleapis.com/fcm/send/abc',
      'https://updates.push.services.mozilla.com/wpush/v2/abc',
      'https://wns2-by3p.notify.windows.com/w/?token=abc',
      'https://web.push.apple.com/abc',
    ]) {
      assert.equal(parseEndpoint(endpoint), endpoint);
    }
    for (const endpoint of [
      'https://fcm.googleapis.com.evil.example/x',
      'https://evilfcm.googleapis.com.example/x',
      'https://169.254.169.254/latest/meta-data',
      'http://127.0.0.1:8080/v2/alerts',
    ]) {
      assert.throws(
        () => parseEndpoint(endpoint),
        (e) => isDomainError(e, 'invalid'),
        endpoint,
      );
    }
    assert.equal(
      parseEndpoint('http://127.0.0.1:9999/push/1', [...PUSH_SERVICE_HOSTS, '127.0.0.1']),
      'http://127.0.0.1:9999/push/1',
    );
    assert.throws(
      () => parseEndpoint('http://push.example.com/x', ['push.example.com']),
      (e) => isDomainError(e, 'invalid') && /https/.test(e.fields?.endpoint ?? ''),
    );
  });
});
