import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeAws } from '../testing/fake-aws.js';
import { deliverToIntake, startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import {
  findingEvent,
  requestsAbout,
  setUpWriteback,
  testFinding,
  type WritebackSetUp,
} from '../testing/securityhub-writeback.js';

/**
 * The Security Hub metrics of a real server: a finding made into an alert counts as a delivery created,
 * and the acknowledgement written back counts as an answered BatchUpdateFindings request with its
 * finding written, against the local Security Hub.
 */

let server: TestServer;
let setUp: WritebackSetUp;
let aws: FakeAws;

before(async () => {
  server = await startTestServer({ env: { VIGIL_METRICS_PORT: '0' } });
  setUp = await setUpWriteback(server);
  aws = setUp.aws;
});
after(async () => {
  await server?.stop();
  await aws?.close();
});

async function metric(series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${server.app.metricsPort ?? 0}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the Security Hub metrics', () => {
  it('count the delivery made into an alert, and the write-back of its acknowledgement', async () => {
    const finding = testFinding(aws, 'metrics-1');
    const alertId = await deliverToIntake(
      server,
      setUp.integration,
      findingEvent('Security Hub Findings - Imported', finding, []),
    );
    assert.equal(await metric('vigil_securityhub_deliveries_total{verdict="created"}'), 1);
    assert.equal(await metric('vigil_securityhub_writeback_requests_total{outcome="answered"}'), undefined);
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await waitFor('the acknowledgement written back', async () => requestsAbout(aws, 'metrics-1') >= 1);
    await waitFor(
      'the request counted',
      async () => (await metric('vigil_securityhub_writeback_requests_total{outcome="answered"}')) === 1,
    );
    assert.equal(await metric('vigil_securityhub_writeback_findings_total{outcome="written"}'), 1);
    assert.equal(await metric('vigil_securityhub_writeback_requests_total{outcome="failed"}'), undefined);
  });
});
