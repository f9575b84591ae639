import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrl } from './logger.js';

describe('redactUrl', () => {
  it('keeps the token of a link that is its own credential out of logged URLs', () => {
    // An attachment's download link lets whoever has it read the file, as an action link acts.
    assert.equal(
      redactUrl('/v1/alert-attachments/eyJhbGciOiJIUzI1NiJ9.e30.c2ln?download=1'),
      '/v1/alert-attachments/[REDACTED]?download=1',
    );
    assert.equal(redactUrl('/v1/alert-actions/v1.abcDEF_-?x=1'), '/v1/alert-actions/[REDACTED]?x=1');
  });

  it('blanks key and token values in the query, whatever their case', () => {
    assert.equal(
      redactUrl('/v1/feed.ics?Token=abc&apiKey=def&x=1#frag'),
      '/v1/feed.ics?Token=[REDACTED]&apiKey=[REDACTED]&x=1#frag',
    );
  });

  it('blanks a key after a #, which the server reads as part of the query', () => {
    // The router splits the query off at the first ? or #, and the parser reads a later # as text:
    // each of these sends the key S (a GET of them to a Fastify server has apiKey S in its query).
    assert.equal(redactUrl('/x?a=1#&apiKey=S'), '/x?a=1#&apiKey=[REDACTED]');
    assert.equal(redactUrl('/x#apiKey=S'), '/x#apiKey=[REDACTED]');
    assert.equal(redactUrl('/x#a&apiKey=S'), '/x#a&apiKey=[REDACTED]');
    assert.equal(
      redactUrl('/v1/alert-actions/tok#apiKey=S'),
      '/v1/alert-actions/[REDACTED]#apiKey=[REDACTED]',
    );
    // A value runs to the next &, a # in it included: this key is "ab#cd".
    assert.equal(redactUrl('/x?apiKey=ab#cd&y=1'), '/x?apiKey=[REDACTED]&y=1');
    assert.equal(redactUrl('/x?a=1#b&Token=S#T'), '/x?a=1#b&Token=[REDACTED]');
  });

  it('keeps what the parser reads as no credential, though it has a # or ? before a secret name', () => {
    // The names are "x#apiKey" and "?token", and the value of a is "1#apiKey=S": no key the server reads.
    assert.equal(redactUrl('/x?x#apiKey=S'), '/x?x#apiKey=S');
    assert.equal(redactUrl('/x#?token=S&y=1'), '/x#?token=S&y=1');
    assert.equal(redactUrl('/x?a=1#apiKey=S'), '/x?a=1#apiKey=S');
  });

  it('leaves other paths alone', () => {
    assert.equal(redactUrl('/v2/alerts/abc/attachments/1'), '/v2/alerts/abc/attachments/1');
  });
});

describe('redactUrl and the console', () => {
  it("blanks the single sign-on callback's code and state, and the first set-up code", () => {
    assert.equal(
      redactUrl(
        '/api/console/sso/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=https%3A%2F%2Fidp',
      ),
      '/api/console/sso/callback?code=[REDACTED]&state=[REDACTED]&iss=https%3A%2F%2Fidp',
    );
    assert.equal(redactUrl('/setup?CODE=abc-def'), '/setup?CODE=[REDACTED]');
  });

  it('blanks a parameter whose name is percent-encoded, as the query parser decodes it', () => {
    assert.equal(
      redactUrl('/v1/json/integrations/webhooks/amazonsecurityhub?apiKe%79=secret&x=1'),
      '/v1/json/integrations/webhooks/amazonsecurityhub?apiKe%79=[REDACTED]&x=1',
    );
  });

  it('keeps parameters that only contain a secret name, and malformed escapes', () => {
    assert.equal(
      redactUrl('/v2/alerts?codeName=a&statement=b&%zz=c'),
      '/v2/alerts?codeName=a&statement=b&%zz=c',
    );
  });
});
