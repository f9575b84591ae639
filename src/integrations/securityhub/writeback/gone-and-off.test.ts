import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type pg from 'pg';
import type { FakeAws } from '../../../testing/fake-aws.js';
import {
  alertLogs,
  deliverToIntake,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../../../testing/lock-waits.js';
import { ACCOUNT, PRODUCT, setUpWriteback } from '../../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../../work/clock.js';
import { CLAIM_LOCK, writebacksRepository } from './repository.js';

/**
 * What becomes of a change whose alert is deleted before it is written, and of changes of an integration
 * that is turned off (or that a maintenance disables): end to end, the API in one server and the workers
 * in another on the same database, so that a test can stop the workers while it acts, as a busy machine
 * whose event queue lags behind would.
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
  const alertId = await sendFinding(id, suffix, 'NEW');
  assert.ok(alertId, `an alert for ${suffix}`);
  return { alertId, id };
}

/** Sends the finding through intake as Security Hub does, with this workflow status; the alert it names. */
async function sendFinding(id: string, suffix: string, workflowStatus: string): Promise<string | undefined> {
  return deliverToIntake(server, integration, {
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
          Workflow: { Status: workflowStatus },
          RecordState: 'ACTIVE',
        },
      ],
    },
  });
}

/** The write-back changes of a finding, oldest first. */
async function changesOf(findingId: string): Promise<{ status: string; last_error: string | null }[]> {
  const rows = await sql<{ status: string; last_error: string | null }>`
    SELECT status, last_error FROM securityhub_writebacks WHERE finding_id = ${findingId}
    ORDER BY id`.execute(server.app.context.db);
  return rows.rows;
}

/**
 * Makes the changes `act` makes at one instant of the server's clock, and lets it go on only once
 * `recorded` changes of these findings wait: nothing is sent before (their gathering pause never ends
 * while the clock stands still), so `then` runs between the recording and the sending.
 */
async function beforeSending(
  findingIds: readonly string[],
  act: () => Promise<void>,
  then: () => Promise<void>,
): Promise<void> {
  const release = clock.hold();
  try {
    await act();
    await waitFor('the changes recorded for the write-back', async () => {
      const rows = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM securityhub_writebacks
        WHERE finding_id = ANY(${findingIds}::text[]) AND status = 'pending'`.execute(server.app.context.db);
      return rows.rows[0]?.n === findingIds.length;
    });
    await then();
  } finally {
    release();
  }
}

describe('a deleted alert', () => {
  it('still writes back the close made right before the delete', async () => {
    const { alertId, id } = await finding('closed-then-deleted');
    await withoutWorkers(async () => {
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, { user: 'Alice Example' });
      await server.callOk('DELETE', `/v2/alerts/${alertId}`);
    });
    await waitFor('RESOLVED', async () => held(id)?.Workflow?.Status === 'RESOLVED');
    const request = requestsNaming(id).at(-1);
    assert.deepEqual((request?.body as Json).Workflow, { Status: 'RESOLVED' });
    // Security Hub holds the value before the sender has recorded its answer.
    await waitFor('the change settled', async () =>
      (await changesOf(id)).every((c) => c.status !== 'sending'),
    );
    assert.deepEqual(
      (await changesOf(id)).map((c) => c.status),
      ['done'],
    );
  });

  it("does not write the deleted alert's changes to a finding that feeds another alert since", async () => {
    const first = await finding('relinked');
    const second = await finding('relinked-other');
    const db = server.app.context.db;
    await server.callOk('DELETE', `/v2/alerts/${first.alertId}`);
    const findingsOf = (alertId: string) =>
      db.transaction().execute((tx) => writebacksRepository.findingsToWriteBack(tx, alertId));
    assert.deepEqual(
      (await findingsOf(first.alertId)).map((f) => f.findingId),
      [first.id],
    );
    // The finding opens a new alert (here: the other finding's, as the intake would link a new one).
    await sql`UPDATE securityhub_findings SET alert_id = ${second.alertId} WHERE finding_id = ${first.id}`.execute(
      db,
    );
    assert.deepEqual(await findingsOf(first.alertId), []);
    assert.deepEqual(
      (await findingsOf(second.alertId)).map((f) => f.findingId).sort(),
      [first.id, second.id].sort(),
    );
  });

  it('costs the other alerts of its request nothing of their activity logs', async () => {
    const kept = await finding('batched-kept');
    const deleted = await finding('batched-deleted');
    await beforeSending(
      [kept.id, deleted.id],
      async () => {
        await server.callOk('POST', `/v2/alerts/${kept.alertId}/close`, {});
        await server.callOk('POST', `/v2/alerts/${deleted.alertId}/close`, {});
      },
      async () => {
        await server.callOk('DELETE', `/v2/alerts/${deleted.alertId}`);
      },
    );
    await waitFor(
      'both RESOLVED',
      async () =>
        held(kept.id)?.Workflow?.Status === 'RESOLVED' && held(deleted.id)?.Workflow?.Status === 'RESOLVED',
    );
    // One request for both: the deleted alert's line was among the kept one's.
    const request = requestsNaming(kept.id).at(-1);
    assert.ok(JSON.stringify(request?.body).includes(deleted.id), 'the two closes went in one request');
    await waitFor('the line on the kept alert', async () =>
      (await alertLogs(server, kept.alertId)).includes(
        'Finding updated in Security Hub: Workflow.Status RESOLVED',
      ),
    );
  });
});

describe('a turned-off integration', () => {
  it('does not send a change waiting when it is turned off, and says so on the alert', async () => {
    const { alertId, id } = await finding('waiting-when-off');
    try {
      await beforeSending(
        [id],
        async () => {
          await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
        },
        async () => {
          await server.callOk('POST', `/v2/integrations/${integration.id}/disable`);
        },
      );
      await waitFor('the change ended', async () => (await changesOf(id))[0]?.status === 'superseded');
      assert.equal((await changesOf(id))[0]?.last_error, 'not sent: the integration is turned off');
      await server.idle();
      assert.equal(requestsNaming(id).length, 0);
      assert.equal(held(id)?.Workflow?.Status, undefined);
      await waitFor('the line on the alert', async () =>
        (await alertLogs(server, alertId)).includes(
          'Not written to Security Hub (Workflow.Status RESOLVED): the integration is turned off',
        ),
      );
    } finally {
      await server.callOk('POST', `/v2/integrations/${integration.id}/enable`);
    }
  });

  for (const [how, off, on, reason] of [
    [
      'the integration is turned off and on again',
      () => server.callOk('POST', `/v2/integrations/${integration.id}/disable`),
      () => server.callOk('POST', `/v2/integrations/${integration.id}/enable`),
      'the integration is turned off',
    ],
    [
      'its write-back is turned off and on again',
      () => server.callOk('PATCH', `/v2/integrations/${integration.id}`, { sendUpdatesBack: false }),
      () => server.callOk('PATCH', `/v2/integrations/${integration.id}`, { sendUpdatesBack: true }),
      'write-back was turned off',
    ],
  ] as const) {
    it(`drops a change waiting when ${how} before the sender gets to it`, async () => {
      const { alertId, id } = await finding(`waiting-when-${how.replace(/\W+/g, '-')}`);
      try {
        await beforeSending(
          [id],
          async () => {
            await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
          },
          async () => {
            await off();
            await on();
          },
        );
      } finally {
        await on();
      }
      await waitFor('the change settled', async () =>
        (await changesOf(id)).every((c) => c.status !== 'pending' && c.status !== 'sending'),
      );
      assert.deepEqual(await changesOf(id), [{ status: 'superseded', last_error: `not sent: ${reason}` }]);
      await server.idle();
      assert.equal(requestsNaming(id).length, 0);
      assert.equal(held(id)?.Workflow?.Status, undefined);
      assert.ok(
        (await alertLogs(server, alertId)).includes(
          `Not written to Security Hub (Workflow.Status RESOLVED): ${reason}`,
        ),
      );
      // Its value is forgotten: RESOLVED set in Security Hub now is a person's, not Vigil's echo.
      const remembered = await sql<{ written_back: Json }>`
        SELECT written_back FROM securityhub_findings WHERE finding_id = ${id}`.execute(
        server.app.context.db,
      );
      assert.equal((remembered.rows[0]?.written_back as Json | null)?.workflowStatus, undefined);
    });
  }

  it('stops a change claimed and not yet sent when it is turned off and on again', async () => {
    const { alertId, id } = await finding('claimed-when-off');
    // As a sender leaves a change it has claimed and not sent yet (its request waiting its turn).
    const now = clock.now();
    const leaseUntil = new Date(now.getTime() + 60_000);
    await sql`
      INSERT INTO securityhub_writebacks
        (integration_id, alert_id, finding_key, format, product_arn, finding_id, aws_account_id, field,
         value, event_id, seq, status, attempts, not_before, lease_until, claim_id, created_at, updated_at)
      SELECT f.integration_id, f.alert_id, f.finding_key, f.format, f.product_arn, f.finding_id,
        f.aws_account_id, 'workflow', ${JSON.stringify({ Status: 'RESOLVED' })}::jsonb, gen_random_uuid(),
        1, 'sending', 1, ${now}, ${leaseUntil}, gen_random_uuid(), ${now}, ${now}
      FROM securityhub_findings f WHERE f.finding_id = ${id}`.execute(server.app.context.db);
    await server.callOk('POST', `/v2/integrations/${integration.id}/disable`);
    await server.callOk('POST', `/v2/integrations/${integration.id}/enable`);
    assert.deepEqual(await changesOf(id), [
      { status: 'superseded', last_error: 'not sent: the integration is turned off' },
    ]);
    assert.ok(
      (await alertLogs(server, alertId)).includes(
        'Not written to Security Hub (Workflow.Status RESOLVED), unless its request had already gone: the integration is turned off',
      ),
    );
    // Its lease runs out: no process takes it over and sends it.
    clock.advance(61_000);
    await server.idle();
    assert.equal(requestsNaming(id).length, 0);
    assert.equal(held(id)?.Workflow?.Status, undefined);
  });

  it('sends nothing of what is done while it is off, and not later either', async () => {
    const { alertId, id } = await finding('acted-on-when-off');
    await server.callOk('POST', `/v2/integrations/${integration.id}/disable`);
    try {
      await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
      await waitFor('the change recorded', async () => (await changesOf(id)).length === 1);
      assert.deepEqual(await changesOf(id), [
        { status: 'superseded', last_error: 'not sent: the integration is turned off' },
      ]);
      assert.ok(
        (await alertLogs(server, alertId)).includes(
          'Not written to Security Hub (Workflow.Status NOTIFIED): the integration is turned off',
        ),
      );
    } finally {
      await server.callOk('POST', `/v2/integrations/${integration.id}/enable`);
    }
    // Turned on again: what follows goes, what was done meanwhile is not replayed.
    await server.callOk('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P1' });
    await waitFor('CRITICAL', async () => held(id)?.Severity?.Label === 'CRITICAL');
    assert.equal(held(id)?.Workflow?.Status, undefined);
    assert.equal(requestsNaming(id).length, 1);
  });

  it('says once on an alert with two findings what it did not write', async () => {
    const first = await finding('two-of-one-alert');
    const second = await finding('two-of-one-alert-other');
    // The second finding feeds the first's alert too (as a finding of another integration could).
    await sql`UPDATE securityhub_findings SET alert_id = ${first.alertId} WHERE finding_id = ${second.id}`.execute(
      server.app.context.db,
    );
    await server.callOk('POST', `/v2/integrations/${integration.id}/disable`);
    try {
      await server.callOk('POST', `/v2/alerts/${first.alertId}/acknowledge`, {});
      await waitFor(
        'both changes recorded',
        async () => (await changesOf(first.id)).length === 1 && (await changesOf(second.id)).length === 1,
      );
      const line = 'Not written to Security Hub (Workflow.Status NOTIFIED): the integration is turned off';
      assert.deepEqual(
        (await alertLogs(server, first.alertId)).filter((l) => l === line),
        [line],
      );
    } finally {
      await server.callOk('POST', `/v2/integrations/${integration.id}/enable`);
    }
  });

  it('sends nothing while a maintenance disables it', async () => {
    const { alertId, id } = await finding('maintained');
    const maintenance = await server.callOk('POST', '/v1/maintenance', {
      description: 'deploy',
      time: { type: 'for-1-hour' },
      rules: [{ entity: { id: integration.id, type: 'integration' } }],
    });
    const maintenanceId = maintenance.data.id as string;
    try {
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
      await waitFor('the change recorded', async () => (await changesOf(id)).length === 1);
      assert.deepEqual(await changesOf(id), [
        {
          status: 'superseded',
          last_error: `not sent: the integration is disabled by maintenance ${maintenanceId}`,
        },
      ]);
      await server.idle();
      assert.equal(requestsNaming(id).length, 0);
    } finally {
      await server.callOk('POST', `/v1/maintenance/${maintenanceId}/cancel`);
    }
  });
});

describe('a maintenance', () => {
  const rules = () => [{ entity: { id: integration.id, type: 'integration' } }];
  const maintain = async (time: Json): Promise<string> =>
    (await server.callOk('POST', '/v1/maintenance', { description: 'deploy', time, rules: rules() })).data
      .id as string;
  /** Waits until the finding's one change is sent or dropped. */
  const settled = (findingId: string) =>
    waitFor('the change settled', async () => {
      const status = (await changesOf(findingId))[0]?.status;
      return status !== undefined && status !== 'pending' && status !== 'sending';
    });

  it('does not stop a change made before it began, though recorded after', async () => {
    const { alertId, id } = await finding('closed-before-maintenance');
    let maintenanceId: string | undefined;
    try {
      await withoutWorkers(async () => {
        await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
        // The window begins right after the close, before any worker hears of it.
        const start = new Date(clock.now().getTime() + 500);
        maintenanceId = await maintain({
          type: 'schedule',
          startDate: start.toISOString(),
          endDate: new Date(start.getTime() + 60 * 60_000).toISOString(),
        });
        await waitFor('the window to begin', async () => clock.now() >= start);
      });
      await settled(id);
      assert.deepEqual(
        (await changesOf(id)).map((c) => c.status),
        ['done'],
      );
      assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
    } finally {
      if (maintenanceId !== undefined) await server.callOk('POST', `/v1/maintenance/${maintenanceId}/cancel`);
    }
  });

  it('does not stop a change made before it began and waiting to be sent', async () => {
    const { alertId, id } = await finding('waiting-when-maintained');
    let maintenanceId: string | undefined;
    try {
      await beforeSending(
        [id],
        async () => {
          await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
        },
        async () => {
          maintenanceId = await maintain({ type: 'for-1-hour' });
        },
      );
      await settled(id);
      assert.deepEqual(
        (await changesOf(id)).map((c) => c.status),
        ['done'],
      );
      assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
    } finally {
      if (maintenanceId !== undefined) await server.callOk('POST', `/v1/maintenance/${maintenanceId}/cancel`);
    }
  });

  it('still drops a change made during it, though recorded after it ended', async () => {
    const { alertId, id } = await finding('closed-during-maintenance');
    let maintenanceId: string | undefined;
    await withoutWorkers(async () => {
      maintenanceId = await maintain({ type: 'for-5-minutes' });
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
      // The window ends soon after the close, before any worker hears of it (in real time: the change's
      // time is read on the same clock, so moving the clock on would move it too). 5 s, so that a busy
      // machine still sets the end before it has passed.
      const end = new Date(clock.now().getTime() + 5000);
      await server.callOk('POST', `/v1/maintenance/${maintenanceId}/change-end-date`, {
        endDate: end.toISOString(),
      });
      await waitFor('the window to end', async () => clock.now() > end);
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

  /** Lets the Clock pass `instant`, so that what it stamps next is later than what was stamped by then. */
  const pass = (instant: Date) => waitFor('the clock to move on', async () => clock.now() > instant);

  // Cancelled after a change it stopped, before Vigil recorded the change (the event queue lagging, a
  // worker restarted): the change is still dropped, as the maintenance disabled the integration when it
  // was made. One cancelled before the change does not stop it.
  it('still stops it, though the change is recorded after the cancel', async () => {
    const { alertId, id } = await finding('closed-then-cancelled');
    let maintenanceId: string | undefined;
    await withoutWorkers(async () => {
      maintenanceId = await maintain({ type: 'for-1-hour' });
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
      const maintenanceId = await maintain({ type: 'for-1-hour' });
      await server.callOk('POST', `/v1/maintenance/${maintenanceId}/cancel`);
      await pass(clock.now());
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
    });
    await waitFor('the change sent', async () => (await changesOf(id))[0]?.status === 'done');
    assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
  });

  it('covers from its start until, not including, the instant of the cancel', async () => {
    const maintenanceId = await maintain({ type: 'for-1-hour' });
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

describe('a turn-off racing the write-back', () => {
  const disable = () => server.callOk('POST', `/v2/integrations/${integration.id}/disable`);
  const enable = () => server.callOk('POST', `/v2/integrations/${integration.id}/enable`);
  const TURNED_OFF = 'not sent: the integration is turned off';
  /** The bucket every request of these tests draws its token from (rate-limit.ts): AWS account and region. */
  const BUCKET = `${ACCOUNT}:us-east-1`;

  /** The change's row as the claim left it, and whether Vigil still takes the value for its own echo. */
  async function leftOf(findingId: string) {
    const db = server.app.context.db;
    const rows = await sql<{ status: string; attempts: number; leased: boolean; last_error: string | null }>`
      SELECT status, attempts, lease_until IS NOT NULL AS leased, last_error
      FROM securityhub_writebacks WHERE finding_id = ${findingId} ORDER BY id`.execute(db);
    const remembered = await sql<{ written_back: Json | null }>`
      SELECT written_back FROM securityhub_findings WHERE finding_id = ${findingId}`.execute(db);
    return { changes: rows.rows, echo: remembered.rows[0]?.written_back?.workflowStatus };
  }

  /** Whether a session waits for a lock that the session `pid` holds. */
  async function waitedForBy(pid: number): Promise<boolean> {
    const row = await sql<{ waited: boolean }>`
      SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND ${pid}::int = ANY (pg_blocking_pids(pid)))
        AS waited`.execute(server.app.context.db);
    return row.rows[0]?.waited === true;
  }

  // A sender that has claimed a change and waits for its request's token (its lease renewed and the
  // request made only once it has one): a turn-off meanwhile ends the change, and the request never
  // goes. The claim counted no attempt and the change holds back nothing; its value is not Vigil's echo.
  for (const [how, afterTheTurnOff] of [
    ['its request waits its turn', async (other: pg.Client) => void (await other.query('ROLLBACK'))],
    [
      'its request is then held back by a throttle',
      async (other: pg.Client) => {
        // AWS's limit spent for 2 s (the hold outcomes.ts makes of a throttle), as the sender gets the bucket.
        await other.query('UPDATE aws_rate_buckets SET tokens = -20, updated_at = $2 WHERE key = $1', [
          BUCKET,
          clock.now(),
        ]);
        await other.query('COMMIT');
      },
    ],
  ] as const) {
    it(`takes back a change claimed and not sent when ${how}, turned off and on meanwhile`, async () => {
      const { alertId, id } = await finding(`claimed-token-${how.replace(/\W+/g, '-')}`);
      const db = server.app.context.db;
      await sql`INSERT INTO aws_rate_buckets (key, tokens, updated_at) VALUES (${BUCKET}, 25, ${clock.now()})
        ON CONFLICT (key) DO NOTHING`.execute(db);
      const other = await otherTransaction(server.databaseUrl);
      try {
        await other.query('SELECT 1 FROM aws_rate_buckets WHERE key = $1 FOR UPDATE', [BUCKET]);
        await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
        await whenWaitedFor(other, { never: 'the sender never waited for its token' });
        assert.deepEqual(
          (await changesOf(id)).map((c) => c.status),
          ['sending'],
        );
        await disable();
        await enable();
        await afterTheTurnOff(other);
      } finally {
        await other.query('ROLLBACK').catch(() => {});
        await other.end();
      }
      try {
        // The workers stop once the sender's round is over: what it left is what is read.
        await withoutWorkers(async () => {
          assert.deepEqual(await leftOf(id), {
            changes: [{ status: 'superseded', attempts: 0, leased: false, last_error: TURNED_OFF }],
            echo: undefined,
          });
          assert.equal(requestsNaming(id).length, 0);
        });
      } finally {
        await sql`UPDATE aws_rate_buckets SET tokens = 25, updated_at = ${clock.now()} WHERE key = ${BUCKET}`.execute(
          db,
        );
      }
      await server.idle();
      assert.equal(requestsNaming(id).length, 0);
      assert.equal(held(id)?.Workflow?.Status, undefined);
    });
  }

  it('takes back a change claimed and not sent when the sender finds the integration turned off', async () => {
    const { id } = await finding('claimed-found-off');
    const db = server.app.context.db;
    // As a sender leaves a change it has claimed and not sent yet, its value remembered for its echo.
    const claimId = randomUUID();
    const now = clock.now();
    const inserted = await sql<{ id: string }>`
      INSERT INTO securityhub_writebacks
        (integration_id, alert_id, finding_key, format, product_arn, finding_id, aws_account_id, field,
         value, event_id, seq, status, attempts, not_before, lease_until, claim_id, created_at, updated_at)
      SELECT f.integration_id, f.alert_id, f.finding_key, f.format, f.product_arn, f.finding_id,
        f.aws_account_id, 'workflow', ${JSON.stringify({ Status: 'RESOLVED' })}::jsonb, gen_random_uuid(),
        1, 'sending', 1, ${now}, ${new Date(now.getTime() + 60_000)}, ${claimId}, ${now}, ${now}
      FROM securityhub_findings f WHERE f.finding_id = ${id}
      RETURNING id`.execute(db);
    await sql`UPDATE securityhub_findings SET written_back = '{"workflowStatus":"RESOLVED"}'::jsonb
      WHERE finding_id = ${id}`.execute(db);
    await disable();
    try {
      // What outcomes.ts makes of the sender's 'turned-off': the claim's changes end unsent.
      await writebacksRepository.supersede(db, [inserted.rows[0]!.id], clock.now(), TURNED_OFF, claimId);
    } finally {
      await enable();
    }
    assert.deepEqual(await leftOf(id), {
      changes: [{ status: 'superseded', attempts: 0, leased: false, last_error: TURNED_OFF }],
      echo: undefined,
    });
  });

  it('drops a change the recorder records as it is turned off, having read it on', async () => {
    const { alertId, id } = await finding('recorded-as-turned-off');
    const release = clock.hold();
    const other = await otherTransaction(server.databaseUrl);
    try {
      // The recorder waits here, the integration read, before it records the change.
      await other.query('SELECT 1 FROM securityhub_findings WHERE finding_id = $1 FOR UPDATE', [id]);
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
      await whenWaitedFor(other, { never: 'the recorder never reached the finding' });
      const recorder = await sql<{ pid: number }>`
        SELECT pid FROM pg_locks WHERE NOT granted
          AND ${(await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid}::int
            = ANY (pg_blocking_pids(pid))`.execute(server.app.context.db);
      const recorderPid = recorder.rows[0]!.pid;
      let off = false;
      const turningOff = disable().then(() => {
        off = true;
      });
      // Done at once, or (the recorder holding the integration) waiting until the change is recorded.
      await waitFor(
        'the turn-off, or its wait for the recorder',
        async () => off || (await waitedForBy(recorderPid)),
      );
      await other.query('ROLLBACK');
      await turningOff;
      // Straight back on, before the sender could have found it off (the clock stands still: the change
      // is still gathering).
      await enable();
    } finally {
      await other.query('ROLLBACK').catch(() => {});
      await other.end();
      release();
    }
    await waitFor('the change settled', async () => {
      const changes = await changesOf(id);
      return changes.length === 1 && changes.every((c) => c.status !== 'pending' && c.status !== 'sending');
    });
    assert.deepEqual(await changesOf(id), [{ status: 'superseded', last_error: TURNED_OFF }]);
    await server.idle();
    assert.equal(requestsNaming(id).length, 0);
    assert.equal(held(id)?.Workflow?.Status, undefined);
    assert.equal((await leftOf(id)).echo, undefined);
  });

  it('ends a change claimed between its ending of the changes being sent and of those waiting', async () => {
    const { id } = await finding('claimed-as-turned-off');
    const db = server.app.context.db;
    // No worker: the claim is the one played here, in another transaction.
    await withoutWorkers(async () => {
      const now = clock.now();
      const inserted = await sql<{ id: string }>`
        INSERT INTO securityhub_writebacks
          (integration_id, alert_id, finding_key, format, product_arn, finding_id, aws_account_id, field,
           value, event_id, seq, status, not_before, created_at, updated_at)
        SELECT f.integration_id, f.alert_id, f.finding_key, f.format, f.product_arn, f.finding_id,
          f.aws_account_id, 'workflow', ${JSON.stringify({ Status: 'RESOLVED' })}::jsonb, gen_random_uuid(),
          1, 'pending', ${now}, ${now}, ${now}
        FROM securityhub_findings f WHERE f.finding_id = ${id}
        RETURNING id`.execute(db);
      const other = await otherTransaction(server.databaseUrl);
      try {
        // As claimDue claims it: under the claim's lock, committed once the turn-off has begun.
        await other.query('SELECT vigil_lock_names($1::text[])', [[CLAIM_LOCK]]);
        await other.query(
          `UPDATE securityhub_writebacks SET status = 'sending', claim_id = gen_random_uuid(),
             attempts = attempts + 1, lease_until = $2 WHERE id = $1`,
          [inserted.rows[0]!.id, new Date(now.getTime() + 60_000)],
        );
        const turningOff = disable();
        await whenWaitedFor(other, { never: 'the turn-off never waited for the claim' });
        await other.query('COMMIT');
        await turningOff;
      } finally {
        await other.query('ROLLBACK').catch(() => {});
        await other.end();
        await enable();
      }
    });
    assert.deepEqual(await changesOf(id), [{ status: 'superseded', last_error: TURNED_OFF }]);
  });
});

// Last in the file: it moves the shared clock a day on.
describe('a value Vigil sent more than 25 hours before, come back', () => {
  it("is not taken for Vigil's echo, the window being measured on the clock the change was stamped by", async () => {
    const { alertId, id } = await finding('late-echo');
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await waitFor('NOTIFIED', async () => held(id)?.Workflow?.Status === 'NOTIFIED');
    await server.callOk('POST', `/v2/alerts/${alertId}/unacknowledge`, {});
    await waitFor('NEW', async () => held(id)?.Workflow?.Status === 'NEW');
    await waitFor('both sent', async () => (await changesOf(id)).every((c) => c.status === 'done'));
    clock.advance(26 * 60 * 60 * 1000);
    // A person sets NOTIFIED in Security Hub, which keeps UpdatedAt as it was: within the window this
    // would be the acknowledge's late echo (written_back remembers only the unacknowledge's NEW).
    await sendFinding(id, 'late-echo', 'NOTIFIED');
    const payload = await server.callOk('GET', `/v2/integrations/${integration.id}/payloads?limit=1`);
    const latest = (payload.data as { verdict: string; reason?: string }[])[0];
    assert.equal(latest?.verdict, 'updated', JSON.stringify(latest));
  });
});
