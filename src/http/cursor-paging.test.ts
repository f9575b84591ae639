import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pageLink } from './cursor-paging.js';

/** The links of the next page: where they point, and what they carry. */

describe('pageLink', () => {
  const request = {
    url: '/v2/alerts/disk-full/notes?identifierType=alias&limit=2',
    protocol: 'http' as const,
    host: '10.0.0.5:8080',
  };

  it("points at VIGIL_PUBLIC_URL, else where the request was sent, with the request's parameters", () => {
    const set = { offset: '7', limit: '2' };
    assert.equal(
      pageLink(request, 'https://ops.example.com/vigil/', set),
      'https://ops.example.com/vigil/v2/alerts/disk-full/notes?identifierType=alias&limit=2&offset=7',
    );
    assert.equal(
      pageLink(request, undefined, set),
      'http://10.0.0.5:8080/v2/alerts/disk-full/notes?identifierType=alias&limit=2&offset=7',
    );
  });

  it('keeps the path as it came, and is relative when the Host header is no address', () => {
    assert.equal(
      pageLink({ ...request, url: '/v2/alerts/%2e%2e/notes', host: 'evil.example/x?' }, undefined, {
        offset: '7',
      }),
      '/v2/alerts/%2e%2e/notes?offset=7',
    );
  });
});
