import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * Security Hub findings that never fed an alert (they arrived resolved, passed or handled) are remembered
 * only to be compared with their next event. Retention deletes those unseen for its period, so findings
 * of short-lived resources, which keep coming with new ids, do not pile up for good; a finding tied to an
 * alert, or to one since deleted (its last changes still go back), stays.
 */

const MINUTE = 60_000;
const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;
let integration: { id: string; apiKey: string };

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await server.callOk('POST', '/v2/teams', { name: 'Findings kept' });
  integration = (
    await server.callOk('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Findings retention hub',
      ownerTeam: { name: 'Findings kept' },
      verifySignatures: false,
    })
  ).data as { id: string; apiKey: string };
});

after(async () => {
  await db?.end();
  await server?.stop();
});

const finding = (id: string, workflow: 'RESOLVED' | 'NEW'): Json => ({
  Id: id,
  ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
  Title: `Finding ${id}`,
  Severity: { Label: 'HIGH' },
  Workflow: { Status: workflow },
  RecordState: 'ACTIVE',
});

/** Delivers findings in one event and waits for them to be processed; the alert ids opened. */
async function deliver(findings: Json[]): Promise<string[]> {
  const response = await fetch(`${server.url}/v1/json/integrations/webhooks/amazonsecurityhub`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': integration.apiKey },
    body: JSON.stringify({
      id: `event-${findings.map((f) => f.Id as string).join('-')}-${Date.now()}`,
      'detail-type': 'Security Hub Findings - Imported',
      source: 'aws.securityhub',
      time: new Date().toISOString(),
      detail: { findings },
    }),
  });
  const answer = (await response.json()) as { payloadId: string };
  assert.equal(response.status, 200, JSON.stringify(answer));
  const settled = await waitFor('the findings to be processed', async () => {
    const payload = await server.call(
      'GET',
      `/v2/integrations/${integration.id}/payloads/${answer.payloadId}`,
    );
    return payload.body.data.verdict !== 'queued' ? payload.body.data : undefined;
  });
  return settled.alertIds as string[];
}

const stored = async (): Promise<Map<string, { alert_id: string | null; last_alert_id: string | null }>> => {
  const rows = await db.query<{ finding_id: string; alert_id: string | null; last_alert_id: string | null }>(
    'SELECT finding_id, alert_id, last_alert_id FROM securityhub_findings WHERE integration_id = $1',
    [integration.id],
  );
  return new Map(rows.rows.map((r) => [r.finding_id, r]));
};

describe('retention of Security Hub findings', () => {
  it('purges a remembered finding unseen past retention, and keeps a newer one and those tied to an alert', async () => {
    const opened = await deliver([
      finding('remembered-old', 'RESOLVED'),
      finding('remembered-new', 'RESOLVED'),
      finding('alerted', 'NEW'),
      finding('alert-deleted', 'NEW'),
    ]);
    assert.equal(opened.length, 2, 'the two new findings open alerts');
    let rows = await stored();
    assert.equal(
      rows.get('remembered-old')?.alert_id,
      null,
      'a finding arriving resolved is remembered only',
    );
    const deletedAlertId = rows.get('alert-deleted')?.alert_id;
    assert.ok(deletedAlertId);
    assert.equal((await server.call('DELETE', `/v2/alerts/${deletedAlertId}`)).status, 202);
    rows = await stored();
    assert.equal(
      rows.get('alert-deleted')?.last_alert_id,
      deletedAlertId,
      'the deleted alert is kept as last',
    );

    // All but one unseen for 20 days: past the 14 days of VIGIL_PAYLOAD_RETENTION_DAYS.
    await db.query(
      `UPDATE securityhub_findings SET last_seen_at = now() - interval '20 days'
       WHERE integration_id = $1 AND finding_id <> 'remembered-new'`,
      [integration.id],
    );
    // The first retention run comes 5 minutes after the start.
    clock.advance(6 * MINUTE);
    await waitFor('the remembered finding to be purged', async () =>
      (await stored()).has('remembered-old') ? undefined : true,
    );
    rows = await stored();
    assert.deepEqual([...rows.keys()].sort(), ['alert-deleted', 'alerted', 'remembered-new']);

    // Its next event is a new finding's: open again, it opens an alert.
    const again = await deliver([finding('remembered-old', 'NEW')]);
    assert.equal(again.length, 1);
    assert.equal((await stored()).get('remembered-old')?.alert_id, again[0]);
  });
});
