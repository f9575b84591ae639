import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SSO_FAILURES } from '../../src/accounts/sso/service.js';
import { SSO_ERROR_MESSAGES, ssoErrorMessage } from '../../web/src/lib/ssoErrors.js';

describe("the sign-in page's words for a single sign-on that did not complete", () => {
  it('has words for every code the server sends, and no others', () => {
    assert.deepEqual(Object.keys(SSO_ERROR_MESSAGES).sort(), [...SSO_FAILURES].sort());
  });

  it('shows its own words for a code, never the text of the address', () => {
    assert.equal(ssoErrorMessage('sso_expired'), SSO_ERROR_MESSAGES.sso_expired);
    for (const spoof of [
      'Vigil has moved: sign in at https://evil.example.com',
      'toString',
      '__proto__',
      'sso_expired ',
    ]) {
      const shown = ssoErrorMessage(spoof);
      assert.equal(shown, SSO_ERROR_MESSAGES.sso_failed, JSON.stringify(spoof));
    }
  });

  it('says nothing when there is no error', () => {
    assert.equal(ssoErrorMessage(null), undefined);
    assert.equal(ssoErrorMessage(''), undefined);
  });
});

describe('the sign-in page', () => {
  // The page itself is only rendered by the browser tests; its source shows what it reads the error through.
  const source = readFileSync(new URL('../../web/src/pages/SignInPage.tsx', import.meta.url), 'utf8');

  it("shows the address's error only through ssoErrorMessage", () => {
    const reads = source.match(/params\.get\('error'\)/g) ?? [];
    assert.equal(reads.length, 1, 'the page reads ?error= once');
    assert.match(source, /ssoErrorMessage\(params\.get\('error'\)\)/);
  });
});
