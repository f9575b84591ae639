import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { SnsMessage } from './securityhub/sns/message.js';
import { waitFor, type Json, type TestServer } from '../testing/harness.js';
import { securityHubIntake } from '../testing/securityhub-intake.js';
import { ShiftedClock } from '../work/clock.js';
import { integrationsRepository, SNS_REPLAY_MARGIN_MS } from './repository.js';

/**
 * An SNS message id is what tells a replayed message from a new one: the retention keeps it while a
 * captured copy of the message would still pass VIGIL_SNS_MAX_MESSAGE_AGE, however short the retention
 * of the deliveries (VIGIL_PAYLOAD_RETENTION_DAYS=1 here, with messages taken for two days).
 */

const HOUR = 60 * 60_000;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:replay-retention';
const MAX_AGE_SECONDS = 2 * 24 * 3600;
const clock = new ShiftedClock();
const intake = securityHubIntake({
  topicArn: TOPIC,
  server: {
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_PAYLOAD_RETENTION_DAYS: '1', VIGIL_SNS_MAX_MESSAGE_AGE: String(MAX_AGE_SECONDS) },
  },
});
let server: TestServer;
let db: pg.Client;

before(async () => {
  ({ server } = await intake.start());
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
});

after(async () => {
  await db?.end();
  if (server) await intake.stop();
});

/** Unlike the intake's `post`, answers `queued` as it is, without waiting for the delivery's outcome. */
async function post(pathAndQuery: string, message: SnsMessage): Promise<Json> {
  const response = await fetch(server.url + pathAndQuery, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': message.Type },
    body: JSON.stringify(message),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

/** When the retention runs next; a run claims it by moving it an hour on, before it purges. */
const nextRetention = async () =>
  (await db.query<{ next_at: Date }>(`SELECT next_at FROM work_schedules WHERE name = 'retention'`)).rows[0]
    ?.next_at;

/**
 * Moves the clock on by `ms`, and then an hour more: the second run claims its turn only once the
 * first is over, so when it has, the purges of the first are done.
 */
async function advancePastRetentionRun(ms: number): Promise<void> {
  for (const step of [ms, HOUR + 60_000]) {
    clock.advance(step);
    const now = clock.now();
    await waitFor('the retention to run', async () => {
      const next = await nextRetention();
      return next !== undefined && next.getTime() > now.getTime();
    });
  }
}

describe('SNS message ids and the retention', () => {
  it('tells a replay for as long as the message passes the age check, beyond the retention', async () => {
    const integration = await intake.addIntegration({ name: 'Replayed hub' });
    const confirmed = (await intake.confirm(integration)).res.body;
    assert.equal(confirmed.verdict, 'confirmed', JSON.stringify(confirmed));

    const message = intake.notification({ 'detail-type': 'Not a finding', detail: {} });
    const first = await post(integration.path, message);
    assert.equal(first.verdict, 'queued', JSON.stringify(first));
    const kept = async () =>
      (
        await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM sns_processed_messages WHERE integration_id = $1',
          [integration.id],
        )
      ).rows[0]?.n ?? 0;
    assert.equal(await kept(), 2, 'the confirmation and the notification');

    // 26 hours on: the deliveries (1 day) and the retry window (25 hours) are past, the age limit is not.
    await advancePastRetentionRun(26 * HOUR);
    const replay = await post(integration.path, message);
    assert.equal(replay.verdict, 'duplicate', 'a message that still passes the age check is a replay');

    // Past the age limit and its margin the ids go: a replay is refused by the age check instead.
    await advancePastRetentionRun(MAX_AGE_SECONDS * 1000 + SNS_REPLAY_MARGIN_MS - 26 * HOUR);
    assert.equal(await kept(), 0, 'ids are not kept beyond the age limit');
  });

  it('keeps ids for the longest of the retention, the retry window and the age limit with its margin', async () => {
    const integration = await server.callOk('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Purged hub',
      ownerTeam: { name: 'SecOps' },
      verifySignatures: false,
    });
    const now = clock.now();
    const ago = (hours: number) => new Date(now.getTime() - hours * HOUR);
    const left = (before: Date, maxAgeSeconds: number) =>
      server.app.context.db
        .transaction()
        .execute(async (tx) => {
          await tx
            .insertInto('sns_processed_messages')
            .values(
              [24.5, 26, 48.5, 49.5, 200].map((hours) => ({
                integration_id: integration.data.id as string,
                message_id: `${hours}h`,
                processed_at: ago(hours),
              })),
            )
            .execute();
          await integrationsRepository.purge(tx, before, now, maxAgeSeconds);
          const rows = await tx
            .selectFrom('sns_processed_messages')
            .select('message_id')
            .where('integration_id', '=', integration.data.id as string)
            .orderBy('processed_at', 'desc')
            .execute();
          throw new RolledBack(rows.map((r) => r.message_id));
        })
        .catch((error: unknown) => {
          if (error instanceof RolledBack) return error.ids;
          throw error;
        });
    const oneDay = ago(24);
    assert.deepEqual(await left(oneDay, 0), ['24.5h'], 'no age check: the 25-hour retry window');
    assert.deepEqual(await left(oneDay, 5400), ['24.5h'], 'a short age limit: the retry window');
    assert.deepEqual(await left(oneDay, MAX_AGE_SECONDS), ['24.5h', '26h', '48.5h'], 'two days and an hour');
    assert.deepEqual(
      await left(ago(30 * 24), MAX_AGE_SECONDS),
      ['24.5h', '26h', '48.5h', '49.5h', '200h'],
      'a longer retention',
    );
  });
});

class RolledBack extends Error {
  constructor(readonly ids: string[]) {
    super('rolled back');
  }
}
