import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { GOOD, hostileDelivery, PROPERTY_SEED, snsEnvelope } from '../../testing/hostile-arbitraries.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { findingKeyDigest, parseSecurityHubEvent } from './findings.js';

/**
 * Properties of the intake over hostile deliveries: no answer is a 5xx, every delivery answered 200 ends
 * with a verdict in the payload log, and every good finding of such a delivery (one Security Hub would
 * open an alert for) becomes an alert, whatever its neighbours in the delivery hold.
 */

let server: TestServer;
let db: pg.Client;
let integration: { id: string; apiKey: string };

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  assert.equal((await server.call('POST', '/v2/teams', { name: 'Prop' })).status, 201);
  const res = await server.call('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: 'Property',
    ownerTeam: { name: 'Prop' },
    verifySignatures: false,
  });
  integration = { id: res.body.data.id, apiKey: res.body.data.apiKey };
});

after(async () => {
  await db.end();
  await server.stop();
});

/** A bare EventBridge event (key in a header), or the same wrapped in an SNS notification (key in the URL). */
const delivery = fc.oneof(
  { weight: 3, arbitrary: hostileDelivery.map((event) => ({ event, sns: undefined })) },
  { weight: 2, arbitrary: snsEnvelope(hostileDelivery).map((sns) => ({ event: undefined, sns })) },
);

async function post(body: unknown, keyInUrl: boolean): Promise<{ status: number; body: Json }> {
  const url = `${server.url}/v1/json/integrations/webhooks/amazonsecurityhub`;
  const response = await fetch(keyInUrl ? `${url}?apiKey=${encodeURIComponent(integration.apiKey)}` : url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(keyInUrl ? {} : { 'x-api-key': integration.apiKey }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('the intake over hostile deliveries', () => {
  it('never answers 5xx, settles every delivery it accepts, and makes every good finding an alert', async () => {
    await fc.assert(
      fc.asyncProperty(delivery, async ({ event, sns }) => {
        const res = await post(sns ?? event, sns !== undefined);
        assert.ok(
          res.status >= 200 && res.status < 500,
          `answered ${res.status}: ${JSON.stringify(res.body)}`,
        );
        if (res.status !== 200 || res.body.verdict !== 'queued') return;
        const outcome = await waitFor('the delivery to be processed', async () => {
          const payload = await server.call(
            'GET',
            `/v2/integrations/${integration.id}/payloads/${res.body.payloadId}`,
          );
          return payload.body.data.verdict !== 'queued' ? payload.body.data : undefined;
        });
        assert.notEqual(outcome.verdict, 'failed', outcome.reason);
        // The good findings, as the parser reads them (it also makes them storable).
        const parsed = parseSecurityHubEvent(sns ? (JSON.parse(sns.Message) as unknown) : event);
        const good = parsed.findings.filter((f) => f.key.id.includes(GOOD));
        for (const finding of good) {
          const row = await db.query(
            'SELECT alert_id FROM securityhub_findings WHERE integration_id = $1 AND finding_key = $2',
            [integration.id, findingKeyDigest(finding.key)],
          );
          assert.ok(row.rows[0]?.alert_id, `finding ${JSON.stringify(finding.key.id)} has an alert`);
        }
      }),
      { seed: PROPERTY_SEED, numRuns: 120 },
    );
  });
});
