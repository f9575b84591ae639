import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDb, createPool } from '../db/database.js';
import { createLogger } from '../logger.js';
import { createTestDatabase, startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { retentionQueue } from './retention.js';
import { ShiftedClock } from '../work/clock.js';
import { integrationsRepository } from '../integrations/repository.js';

/**
 * Retention follows the engine's clock: a request record, an incident's and an alert event's handled
 * mark are purged once the clock is a retention past them, with no wait, and not before; deliveries and
 * request records are stamped on that clock too, so one made after the clock moved on is as young as it is.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
});

after(async () => {
  await db?.end();
  await server?.stop();
});

const count = async (query: string, params: unknown[]) =>
  (await db.query<{ n: number }>(query, params)).rows[0]?.n ?? 0;

/** When the retention runs next; a run claims it by moving it an hour on, before it purges. */
const nextRetention = async () =>
  (await db.query<{ next_at: Date }>(`SELECT next_at FROM work_schedules WHERE name = 'retention'`)).rows[0]
    ?.next_at;

/** Moves the clock on by `ms` and waits for the retention run that this makes due to claim its turn. */
async function advanceToRetention(ms: number): Promise<void> {
  clock.advance(ms);
  const now = clock.now();
  await waitFor('the retention to run', async () => {
    const next = await nextRetention();
    return next !== undefined && next.getTime() > now.getTime();
  });
}

describe('retention', () => {
  it('purges request records and handled-event marks when the clock is past their retention, not before', async () => {
    const alert = await server.callOk('POST', '/v2/alerts', { message: 'kept for a week' });
    const alertId = await waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${alert.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    const incident = await server.callOk('POST', '/v1/incidents/create', { message: 'kept for a week too' });
    await waitFor('the incident', async () => {
      const status = await server.call('GET', `/v1/incidents/requests/${incident.requestId}`);
      return status.status === 200;
    });
    const alertRequests = () =>
      count('SELECT count(*)::int AS n FROM alert_requests WHERE id = $1', [alert.requestId]);
    const incidentRequests = () =>
      count('SELECT count(*)::int AS n FROM incident_requests WHERE id = $1', [incident.requestId]);
    const handledMarks = () => count('SELECT count(*)::int AS n FROM engine_handled_events', []);
    await waitFor('the alert event to be handled', async () => (await handledMarks()) > 0);
    await server.idle();
    const marks = await handledMarks();

    // The first run (5 minutes after the start), then one an hour later: the second claims its turn only
    // once the first is over, and both find everything young.
    await advanceToRetention(6 * MINUTE);
    await advanceToRetention(61 * MINUTE);
    assert.equal(await alertRequests(), 1, 'an alert request record within its 7 days is kept');
    assert.equal(await incidentRequests(), 1, 'an incident request record within its 7 days is kept');
    assert.equal(await handledMarks(), marks, 'handled-event marks within their 7 days are kept');

    await advanceToRetention(8 * DAY);
    await waitFor('the purge', async () =>
      (await alertRequests()) === 0 && (await incidentRequests()) === 0 && (await handledMarks()) === 0
        ? true
        : undefined,
    );
    // Only old records went: the alert itself stays, and its request can no longer be looked up.
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).status, 200);
    assert.equal((await server.call('GET', `/v2/alerts/requests/${alert.requestId}`)).status, 404);
  });

  it('keeps a delivery and request records made after the clock moved on: they are stamped on the same clock', async () => {
    // Past the 14 days of payloads (and the 7 of request records), so a delivery or a request record
    // stamped by the database's own time would look weeks old.
    await advanceToRetention(20 * DAY);
    const alert = await server.callOk('POST', '/v2/alerts', { message: 'made 20 days on' });
    const incident = await server.callOk('POST', '/v1/incidents/create', { message: 'made 20 days on too' });
    const requestsKnown = async () =>
      (await server.call('GET', `/v2/alerts/requests/${alert.requestId}`)).status === 200 &&
      (await server.call('GET', `/v1/incidents/requests/${incident.requestId}`)).status === 200;
    await waitFor('the requests to be processed', async () => ((await requestsKnown()) ? true : undefined));
    await server.callOk('POST', '/v2/teams', { name: 'Retention' });
    const integration = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'AmazonSecurityHub',
        name: 'Retention hub',
        ownerTeam: { name: 'Retention' },
        verifySignatures: false,
      })
    ).data as { id: string; apiKey: string };
    const response = await fetch(`${server.url}/v1/json/integrations/webhooks/amazonsecurityhub`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': integration.apiKey },
      body: JSON.stringify({
        id: 'retention-event',
        'detail-type': 'Security Hub Findings - Imported',
        source: 'aws.securityhub',
        detail: {
          findings: [
            {
              Id: 'retention-finding',
              ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
              Title: 'kept for its 14 days',
              Severity: { Label: 'HIGH' },
            },
          ],
        },
      }),
    });
    const answer = (await response.json()) as { payloadId: string };
    assert.equal(response.status, 200, JSON.stringify(answer));
    const payloads = () =>
      count('SELECT count(*)::int AS n FROM integration_payloads WHERE integration_id = $1', [
        integration.id,
      ]);
    assert.equal(await payloads(), 1);

    await advanceToRetention(61 * MINUTE);
    assert.equal(await payloads(), 1, 'a delivery within its 14 days is kept');
    assert.ok(await requestsKnown(), 'request records within their 7 days are kept');
    const logged = await server.call(
      'GET',
      `/v2/integrations/${integration.id}/payloads/${answer.payloadId}`,
    );
    assert.equal(logged.status, 200, JSON.stringify(logged.body));
  });

  it('purges only settled deliveries: one still queued is work a sender was told is stored', async () => {
    await server.callOk('POST', '/v2/teams', { name: 'Queued' });
    const integration = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'AmazonSecurityHub',
        name: 'Queued hub',
        ownerTeam: { name: 'Queued' },
        verifySignatures: false,
      })
    ).data as { id: string };
    const old = new Date(clock.now().getTime() - 15 * DAY);
    // In a transaction that is rolled back: the workers never see these rows, so they cannot settle
    // the queued one before the purge looks at it.
    const left = await server.app.context.apiDb
      .transaction()
      .execute(async (tx) => {
        await tx
          .insertInto('integration_payloads')
          .values(
            ['queued', 'created'].map((verdict) => ({
              integration_id: integration.id,
              received_at: old,
              kind: 'eventbridge',
              verdict,
              body: '{}',
            })),
          )
          .execute();
        await integrationsRepository.purge(tx, new Date(clock.now().getTime() - 14 * DAY), clock.now());
        const rows = await tx
          .selectFrom('integration_payloads')
          .select('verdict')
          .where('integration_id', '=', integration.id)
          .execute();
        throw new RolledBack(rows.map((r) => r.verdict));
      })
      .catch((error: unknown) => {
        if (error instanceof RolledBack) return error.verdicts;
        throw error;
      });
    assert.deepEqual(left, ['queued'], 'the queued delivery stays until a worker settles it');
  });
});

class RolledBack extends Error {
  constructor(readonly verdicts: string[]) {
    super('rolled back');
  }
}

describe('a retention run in which one purge fails', () => {
  it('runs the purges after it, and comes again in minutes rather than an hour', async () => {
    const pool = createPool(await createTestDatabase({ migrated: true }), 2);
    const kdb = createDb(pool);
    try {
      const ran: string[] = [];
      const queue = retentionQueue({
        db: kdb,
        log: createLogger('silent'),
        purges: [
          { what: 'first', purge: async () => (ran.push('first'), 0) },
          {
            what: 'failing',
            purge: async () => {
              ran.push('failing');
              throw new Error('canceling statement due to lock timeout');
            },
          },
          { what: 'last', purge: async () => (ran.push('last'), 1) },
        ],
      });
      const start = new Date('2026-06-01T00:00:00Z');
      await queue.round(start); // plans the first run, five minutes on
      const now = new Date(start.getTime() + 6 * MINUTE);
      const round = await queue.round(now);
      assert.deepEqual(ran, ['first', 'failing', 'last']);
      assert.equal(round.nextDueAt?.getTime(), now.getTime() + 5 * MINUTE, 'again in five minutes');
    } finally {
      await kdb.destroy();
    }
  });
});
