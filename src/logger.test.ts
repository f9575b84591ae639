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

  it('leaves other paths alone', () => {
    assert.equal(redactUrl('/v2/alerts/abc/attachments/1'), '/v2/alerts/abc/attachments/1');
  });
});
