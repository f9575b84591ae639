import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Fairness between senders: one integration's bulk deliveries in flight do not hold up another
 * integration's lone CRITICAL finding. (The benchmark, `npm run bench:fairness`, gives the figure; this
 * test's bound is generous so that a busy machine does not make it flake, and it checks that the bulk was
 * still waiting when the lone finding was done, which is what fairness means.)
 */

let server: TestServer;

before(async () => {
  server = await startTestServer();
  assert.equal((await server.call('POST', '/v2/teams', { name: 'Bulk' })).status, 201);
  assert.equal((await server.call('POST', '/v2/teams', { name: 'Lone' })).status, 201);
});

after(async () => {
  await server.stop();
});

async function integration(team: string) {
  const res = await server.call('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: `${team} ${randomUUID().slice(0, 6)}`,
    ownerTeam: { name: team },
    verifySignatures: false,
  });
  assert.equal(res.status, 201);
  return { id: res.body.data.id as string, key: res.body.data.apiKey as string };
}

function event(findings: Json[]): string {
  return JSON.stringify({
    id: randomUUID(),
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    detail: { findings },
  });
}

async function deliver(key: string, body: string): Promise<Json> {
  const res = await fetch(`${server.url}/v1/json/integrations/webhooks/amazonsecurityhub`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body,
  });
  assert.equal(res.status, 200);
  return res.json();
}

describe('fairness between integrations', () => {
  it('makes a lone CRITICAL finding an alert while 20 deliveries of 1,000 findings from another wait', async () => {
    const bulk = await integration('Bulk');
    const lone = await integration('Lone');
    const product = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
    const bodies = Array.from({ length: 20 }, (_, d) =>
      event(
        Array.from({ length: 1000 }, (_, i) => ({
          Id: `bulk-${d}-${i}-${randomUUID()}`,
          ProductArn: product,
          Title: 'bulk',
          Severity: { Label: 'LOW' },
        })),
      ),
    );
    await Promise.all(bodies.map((b) => deliver(bulk.key, b)));
    // The workers are now busy with the bulk.
    const started = performance.now();
    const answer = await deliver(
      lone.key,
      event([
        { Id: `lone-${randomUUID()}`, ProductArn: product, Title: 'lone', Severity: { Label: 'CRITICAL' } },
      ]),
    );
    const outcome = await waitFor(
      'the lone finding to become an alert',
      async () => {
        const res = await server.call('GET', `/v2/integrations/${lone.id}/payloads/${answer.payloadId}`);
        return res.body.data.verdict !== 'queued' ? res.body.data : undefined;
      },
      20_000,
    );
    const tookMs = performance.now() - started;
    assert.equal(outcome.verdict, 'created');
    const bulkWaiting = await server.call(
      'GET',
      `/v2/integrations/${bulk.id}/payloads?verdict=queued&limit=100`,
    );
    assert.ok(
      bulkWaiting.body.data.length >= 10,
      `the bulk was still waiting (${bulkWaiting.body.data.length} deliveries queued) when the lone finding took ${Math.round(tookMs)} ms`,
    );
  });
});
