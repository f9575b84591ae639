import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIST_WINDOW, nextOffsetPage, offsetPagingOf, pageLink } from './cursor-paging.js';

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

describe('offsetPagingOf', () => {
  const request = {
    url: '/v2/alerts?query=status%3Aopen&limit=20',
    protocol: 'http' as const,
    host: 'vigil:8080',
  };
  const paging = (offset: number, limit: number, rowCount: number) =>
    offsetPagingOf(request, undefined, { offset, limit }, rowCount, { sort: 'createdAt', order: 'desc' });
  const pageOfLink = (link: string | undefined) => {
    if (link === undefined) return undefined;
    const query = new URL(link).searchParams;
    return { offset: Number(query.get('offset')), limit: Number(query.get('limit')) };
  };

  it("links the first page, and the next after a full page, with the list's own parameters", () => {
    const full = paging(40, 20, 20);
    assert.equal(
      full.next,
      'http://vigil:8080/v2/alerts?query=status%3Aopen&limit=20&sort=createdAt&order=desc&offset=60',
    );
    assert.deepEqual(pageOfLink(full.first), { offset: 0, limit: 20 });
    assert.equal(paging(40, 20, 19).next, undefined, 'a page that is not full is the last');
  });

  it('never links a page past the window the list refuses, and the last one asks only what it has left', () => {
    assert.equal(LIST_WINDOW, 20_000);
    // The full page before the window's last: the next asks for the 10 rows the window has left.
    assert.deepEqual(pageOfLink(paging(19_970, 20, 20).next), { offset: 19_990, limit: 10 });
    assert.deepEqual(nextOffsetPage({ offset: 19_990, limit: 10 }, 10), undefined);
    // A full page that ends at the window has no next (offset=20000 would be refused).
    assert.equal(paging(19_980, 20, 20).next, undefined);
    assert.equal(paging(19_900, 100, 100).next, undefined);
    // Every link a client following them from the start is given stays inside the window.
    for (const limit of [1, 7, 20, 30, 100]) {
      let page: { offset: number; limit: number } | undefined = { offset: 0, limit };
      let last = page;
      while (page) {
        assert.ok(page.offset + page.limit <= LIST_WINDOW, JSON.stringify(page));
        last = page;
        page = nextOffsetPage(page, page.limit);
      }
      assert.equal(last.offset + last.limit, LIST_WINDOW, `limit ${limit}: the pages reach the window's end`);
    }
  });
});
