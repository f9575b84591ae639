import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterMs } from './retry-after.js';

/** The Retry-After header read as RFC 9110 has it: delta-seconds or an HTTP-date, and nothing else. */

const now = new Date('1994-11-06T08:49:07Z');
const DAY = 24 * 3600_000;

describe('retryAfterMs', () => {
  it('reads delta-seconds', () => {
    assert.equal(retryAfterMs('120', now), 120_000);
    assert.equal(retryAfterMs(' 120 ', now), 120_000);
    assert.equal(retryAfterMs('0', now), 0);
    assert.equal(retryAfterMs(['30', '60'], now), 30_000);
  });

  it('reads the three forms of an HTTP-date, 30 s on', () => {
    for (const date of [
      'Sun, 06 Nov 1994 08:49:37 GMT',
      'Sunday, 06-Nov-94 08:49:37 GMT',
      // asctime says no zone, and is GMT: not the local time Date.parse would read it as.
      'Sun Nov  6 08:49:37 1994',
    ]) {
      assert.equal(retryAfterMs(date, now), 30_000, date);
    }
  });

  it('ignores what is neither', () => {
    for (const value of [
      // Date.parse reads these as dates: the year 3600, 120 and 2030.
      '3600.5',
      '120 s',
      '-5',
      '1e3',
      '2030-01-01',
      'Nov 6 1994',
      'Sun, 06 Nov 1994 08:49:37 PST',
      'soon',
      '',
      '   ',
    ]) {
      assert.equal(retryAfterMs(value, now), undefined, JSON.stringify(value));
    }
    assert.equal(retryAfterMs(undefined, now), undefined);
    assert.equal(retryAfterMs([], now), undefined);
  });

  it('gives no wait for a date past, and at most a day', () => {
    assert.equal(retryAfterMs('Sun, 06 Nov 1994 08:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('99999999', now), DAY);
    assert.equal(retryAfterMs('9'.repeat(400), now), DAY);
    assert.equal(retryAfterMs('Fri, 01 Jan 2100 00:00:00 GMT', now), DAY);
  });
});
