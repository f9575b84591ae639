import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { FakeAws } from '../../../testing/fake-aws.js';
import { deliverToIntake, startTestServer, waitFor, type TestServer } from '../../../testing/harness.js';
import { ACCOUNT, PRODUCT, setUpWriteback } from '../../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../../work/clock.js';
import { writebacksRepository } from './repository.js';

/**
 * A change made while a maintenance disabled the integration, and the maintenance cancelled before Vigil
 * recorded the change (the event queue lagging, a worker restarted): the change is still dropped, as the
 * maintenance disabled the integration when it was made. One cancelled before the change does not stop
 * it. The API in one server and the workers in another on the same database, so that a test can stop the
 * workers while it acts.
 */

let server: TestServer;
let workers: TestServer | undefined;
const clock = new ShiftedClock();
let aws: FakeAws;
let integration: { id: string; path: string };

const startWorkers = async () => {
  workers = await startTestServer({
    databaseUrl: server.databaseUrl,
    role: 'worker',
    apiKey: server.key,
    clock,
    writeback: { baseDelayMs: 100, maxDelayMs: 1000 },
  });
};

/** Runs `act` with no worker running: alert events wait, unhandled, until it is done. */
async function withoutWorkers(act: () => Promise<void>): Promise<void> {
  await workers?.stop();
  workers = undefined;
  try {
    await act();
  } finally {
    await startWorkers();
  }
}

before(async () => {
  server = await startTestServer({ clock, role: 'api' });
  await startWorkers();
  ({ aws, integration } = await setUpWriteback(server));
});

after(async () => {
  await workers?.stop();
  await server.stop();
  await aws.close();
});

const held = (id: string) => aws.findings.get(`${PRODUCT}|${id}`);
const requestsNaming = (findingId: string) =>
  aws.securityHubRequests.filter(
    (r) => r.operation.startsWith('BatchUpdateFindings') && JSON.stringify(r.body).includes(findingId),
  );

/** A finding sent through intake (and known to the fake Security Hub); its alert id and finding Id. */
async function finding(suffix: string): Promise<{ alertId: string; id: string }> {
  const id = `arn:aws:securityhub:us-east-1:${ACCOUNT}:finding/${suffix}-${randomUUID()}`;
  aws.addFinding({ Id: id, ProductArn: PRODUCT });
  const alertId = await deliverToIntake(server, integration, {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [id],
    detail: {
      findings: [
        {
          SchemaVersion: '2018-10-08',
          Id: id,
          ProductArn: PRODUCT,
          GeneratorId: 'test',
          AwsAccountId: ACCOUNT,
          Types: ['Software and Configuration Checks'],
          CreatedAt: '2026-11-27T10:00:00Z',
          UpdatedAt: '2026-11-27T10:00:00Z',
          Severity: { Label: 'MEDIUM' },
          Title: `Test finding ${suffix}`,
          Description: 'A finding for the write-back tests',
          Resources: [{ Type: 'AwsEc2Instance', Id: 'i-0123456789abcdef0' }],
          Workflow: { Status: 'NEW' },
          RecordState: 'ACTIVE',
        },
      ],
    },
  });
  assert.ok(alertId, `an alert for ${suffix}`);
  return { alertId, id };
}

/** The write-back changes of a finding, oldest first. */
async function changesOf(findingId: string): Promise<{ status: string; last_error: string | null }[]> {
  const rows = await sql<{ status: string; last_error: string | null }>`
    SELECT status, last_error FROM securityhub_writebacks WHERE finding_id = ${findingId}
    ORDER BY id`.execute(server.app.context.db);
  return rows.rows;
}

const maintain = async (): Promise<string> =>
  (
    await server.callOk('POST', '/v1/maintenance', {
      description: 'deploy',
      time: { type: 'for-1-hour' },
      rules: [{ entity: { id: integration.id, type: 'integration' } }],
    })
  ).data.id as string;

/** Lets the Clock pass `instant`, so that what it stamps next is later than what was stamped by then. */
const pass = (instant: Date) => waitFor('the clock to move on', async () => clock.now() > instant);

describe('a maintenance cancelled after a change it stopped', () => {
  it('still stops it, though the change is recorded after the cancel', async () => {
    const { alertId, id } = await finding('closed-then-cancelled');
    let maintenanceId: string | undefined;
    await withoutWorkers(async () => {
      maintenanceId = await maintain();
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
      // The close's event is stamped by now; the cancel is stamped after it, before any worker hears of it.
      await pass(clock.now());
      await server.callOk('POST', `/v1/maintenance/${maintenanceId}/cancel`);
    });
    await waitFor('the change recorded', async () => (await changesOf(id)).length === 1);
    assert.deepEqual(await changesOf(id), [
      {
        status: 'superseded',
        last_error: `not sent: the integration is disabled by maintenance ${maintenanceId}`,
      },
    ]);
    await server.idle();
    assert.equal(requestsNaming(id).length, 0);
    assert.equal(held(id)?.Workflow?.Status, undefined);
  });

  it('is judged at the change: a change made once it was cancelled is sent', async () => {
    const { alertId, id } = await finding('cancelled-then-closed');
    await withoutWorkers(async () => {
      const maintenanceId = await maintain();
      await server.callOk('POST', `/v1/maintenance/${maintenanceId}/cancel`);
      await pass(clock.now());
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
    });
    await waitFor('the change sent', async () => (await changesOf(id))[0]?.status === 'done');
    assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
  });

  it('covers from its start until, not including, the instant of the cancel', async () => {
    const maintenanceId = await maintain();
    await pass(clock.now());
    await server.callOk('POST', `/v1/maintenance/${maintenanceId}/cancel`);
    const { db } = server.app.context;
    const row = await db
      .selectFrom('maintenances')
      .select(['start_at', 'cancelled_at'])
      .where('id', '=', maintenanceId)
      .executeTakeFirstOrThrow();
    const cancelledAt = row.cancelled_at!;
    const at = (ms: number) => writebacksRepository.pausedBy(db, integration.id, new Date(ms));
    const paused = `disabled by maintenance ${maintenanceId}`;
    assert.equal(await at(row.start_at.getTime() - 1), undefined);
    assert.equal(await at(row.start_at.getTime()), paused);
    assert.equal(await at(cancelledAt.getTime() - 1), paused);
    assert.equal(await at(cancelledAt.getTime()), undefined);
  });
});
