import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeReturnPath } from './service.js';

describe('single sign-on return path', () => {
  it('never yields a scheme-relative address once dot segments are resolved', () => {
    // Each is a path of the console as written, but parsing resolves the dot segments into '//evil.com…',
    // which a browser given it in Location follows to evil.com.
    for (const returnTo of [
      '/.//evil.com',
      '/a/..//evil.com',
      '/..//evil.com',
      '/%2e//evil.com/x',
      '/%2e%2e//evil.com',
      '/a/%2E%2E//evil.com/x?y#z',
      '/.///evil.com',
    ]) {
      assert.equal(safeReturnPath(returnTo), '/', JSON.stringify(returnTo));
    }
  });

  it('still keeps a console path, percent-encoded', () => {
    assert.equal(safeReturnPath('/alerts/€'), '/alerts/%E2%82%AC');
    assert.equal(safeReturnPath('/alerts/abc?x=1#y'), '/alerts/abc?x=1#y');
    // Dot segments that stay inside the console are fine.
    assert.equal(safeReturnPath('/a/../alerts'), '/alerts');
    assert.equal(safeReturnPath('/alerts/.//x'), '/alerts//x');
  });
});
