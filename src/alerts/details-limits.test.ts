import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alertLogs, createAlert, startTestServer, type TestServer } from '../testing/harness.js';
import { DETAILS_LIMITS } from './limits.js';

/**
 * An alert's details are capped in total, not only per request: Add Details past 1,000 keys or 1 MiB of
 * JSON is refused (422) rather than growing the row that GET and every webhook send; a repeat of the
 * alert (a source sending it again) is counted, with only the details that fit.
 */

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

const keys = (prefix: string, n: number, value = 'v') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, value]));

const detailsOf = async (alertId: string): Promise<Record<string, string>> =>
  (await server.callOk('GET', `/v2/alerts/${alertId}`)).data.details as Record<string, string>;

describe("the limits on an alert's details", () => {
  it('refuses Add Details past 1,000 keys, and still lets existing values be replaced', async () => {
    const alertId = await createAlert(server, { message: 'many keys', details: keys('a', 600) });
    const added = await server.call('POST', `/v2/alerts/${alertId}/details`, { details: keys('b', 400) });
    assert.equal(added.status, 202, JSON.stringify(added.body));
    assert.equal(Object.keys(await detailsOf(alertId)).length, DETAILS_LIMITS.keys);

    const over = await server.call('POST', `/v2/alerts/${alertId}/details`, { details: { c0: 'one more' } });
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.match(JSON.stringify(over.body), /at most 1,000 keys and 1 MiB.*Remove details/);
    assert.equal((await detailsOf(alertId)).c0, undefined);

    const replaced = await server.call('POST', `/v2/alerts/${alertId}/details`, { details: { a0: 'new' } });
    assert.equal(replaced.status, 202, JSON.stringify(replaced.body));
    assert.equal((await detailsOf(alertId)).a0, 'new');
  });

  it('refuses Add Details past 1 MiB of details, each request well within its own limits', async () => {
    const big = 'x'.repeat(8000);
    const alertId = await createAlert(server, { message: 'large details', details: keys('a', 120, big) });
    const over = await server.call('POST', `/v2/alerts/${alertId}/details`, { details: keys('b', 20, big) });
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.equal(Object.keys(await detailsOf(alertId)).length, 120);
    // What fits still goes in.
    const fits = await server.call('POST', `/v2/alerts/${alertId}/details`, { details: keys('b', 5, big) });
    assert.equal(fits.status, 202, JSON.stringify(fits.body));
    assert.equal(Object.keys(await detailsOf(alertId)).length, 125);
  });

  it('counts a repeat whose details would go past the limits, keeping those that fit', async () => {
    const alertId = await createAlert(server, { message: 'repeated', details: keys('a', 999) });
    const { alerts, db } = server.app.context;
    const updated = await db.transaction().execute(async (tx) => {
      const alert = await alerts.lockInTx(tx, alertId);
      assert.ok(alert);
      return alerts.recordRepeat(
        tx,
        alert,
        { details: { a0: 'changed', new1: 'fits', new2: 'left out' }, summary: 'Sent again' },
        { kind: 'system', name: 'Test' },
      );
    });
    assert.equal(updated.count, 2);
    const details = await detailsOf(alertId);
    assert.equal(Object.keys(details).length, DETAILS_LIMITS.keys);
    assert.equal(details.a0, 'changed');
    assert.equal(details.new1, 'fits');
    assert.equal(details.new2, undefined);
    const logs = await alertLogs(server, alertId);
    assert.ok(
      logs.some((l) => /Sent again; count is now 2; 1 of its details left out/.test(l)),
      logs.join('\n'),
    );
  });
});
