import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { serverUrl } from '../testing/harness.js';
import { isDatabaseUnavailable, isTransientDatabaseError } from './database.js';

/**
 * pg's words for a client Vigil itself ended ('Connection terminated' under a statement still running,
 * 'Client was closed and is not queryable' after) speak of a bug or a shutdown race, not of an outage: taken
 * for one, a request answered 503 and a round was tried again on a client that never comes back.
 */
describe('a client Vigil ended itself', () => {
  it('is not taken for the database being unavailable', async () => {
    const client = new pg.Client({ connectionString: serverUrl() });
    await client.connect();
    const running = client.query('SELECT pg_sleep(1)').then(
      () => assert.fail('a statement on an ended client was answered'),
      (error: unknown) => error,
    );
    await client.end();
    const underway = await running;
    assert.match(String(underway), /Connection terminated/);
    const after = await client.query('SELECT 1').then(
      () => assert.fail('an ended client answered'),
      (error: unknown) => error,
    );
    assert.match(String(after), /Client was closed and is not queryable/);
    for (const error of [underway, after]) {
      assert.equal(isDatabaseUnavailable(error), false, String(error));
      assert.equal(isTransientDatabaseError(error), false, String(error));
    }
  });
});
