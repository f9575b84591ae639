import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { startFakeSlack, type FakeSlack } from '../../testing/fake-slack.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * A Slack message deleted in Slack (or one Slack no longer lets the bot edit) fails the edits of that one
 * alert's message, and only those: the channel still takes every other alert. Such failures must not count
 * towards disabling the destination, or two of them a day apart on a quiet channel would turn it off
 * ("every delivery failed for 25 h") and the next P1 would never be posted.
 */

let server: TestServer;
let slack: FakeSlack;
let db: pg.Client;
const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
const CHANNEL = 'C0VIGIL0001';
const team = `Slackers ${run}`;
let destination: string;

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  return server.callOk(method, path, body);
}

async function createAlert(message: string): Promise<string> {
  const created = await call('POST', '/v2/alerts', { message, responders: [{ type: 'team', name: team }] });
  const request = await waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  return request.alertId as string;
}

async function deliveries(
  alertId: string,
): Promise<{ event_type: string; state: string; last_error: string }[]> {
  const { rows } = await db.query(
    `SELECT event_type, state, last_error FROM team_destination_deliveries
     WHERE destination_id = $1 AND alert_id = $2 ORDER BY seq`,
    [destination, alertId],
  );
  return rows;
}

async function failedEdit(alertId: string, type: string) {
  return waitFor(`the ${type} edit failed`, async () =>
    (await deliveries(alertId)).find((d) => d.event_type === type && d.state === 'failed'),
  );
}

before(async () => {
  slack = await startFakeSlack();
  slack.addChannel(CHANNEL);
  server = await startTestServer({
    engineIntervalMs: 100,
    clock,
    env: {
      ...slack.vigilEnv,
    },
  });
  slack.setVigilUrl(server.url);
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await call('POST', '/v2/teams', { name: team });
  const made = await call('POST', '/v2/destinations', {
    name: `Slack ${run}`,
    type: 'slack',
    team: { name: team },
    config: { channel: CHANNEL },
  });
  destination = made.data.id as string;
});

after(async () => {
  await db?.end();
  await server?.stop();
  await slack?.close();
});

it("an alert's message deleted in Slack fails its edits, but leaves the destination enabled and posting", async () => {
  const old = await createAlert(`old ${run}`);
  await waitFor('the post', async () => (await deliveries(old)).find((d) => d.state === 'sent'));

  // Someone deletes the alert's message in Slack: its next edit answers message_not_found.
  slack.failNext('chat.update', 'message_not_found');
  await call('POST', `/v2/alerts/${old}/acknowledge`, {});
  assert.match((await failedEdit(old, 'acknowledged')).last_error, /deleted in Slack/);

  // A day and more later, on a channel that heard nothing else, another edit Slack refuses for this
  // message alone.
  clock.advance(25 * 3600_000);
  slack.failNext('chat.update', 'edit_window_closed');
  await call('POST', `/v2/alerts/${old}/close`, {});
  assert.match((await failedEdit(old, 'closed')).last_error, /edit_window_closed/);

  const { rows } = await db.query(
    'SELECT enabled, disabled_reason, failing_since FROM team_destinations WHERE id = $1',
    [destination],
  );
  assert.deepEqual(rows[0], { enabled: true, disabled_reason: null, failing_since: null });

  // And a new alert is posted.
  const fresh = await createAlert(`new P1 ${run}`);
  await waitFor('the new alert posted', async () =>
    (await deliveries(fresh)).find((d) => d.event_type === 'created' && d.state === 'sent'),
  );
  assert.ok(slack.messages(CHANNEL).some((m) => m.text.includes(`new P1 ${run}`)));
});

/** When the destination has been failing since, or null. */
async function failingSince(): Promise<Date | null> {
  const { rows } = await db.query('SELECT failing_since FROM team_destinations WHERE id = $1', [destination]);
  return rows[0].failing_since;
}

it('a channel the bot cannot post in still counts against the destination', async () => {
  // Before the alert: its post may be sent before createAlert returns.
  slack.failNext('chat.postMessage', 'not_in_channel');
  const alert = await createAlert(`unseen ${run}`);
  await waitFor('the post failed', async () =>
    (await deliveries(alert)).find((d) => d.event_type === 'created' && d.state === 'failed'),
  );
  // The round records the delivery's outcome before it judges the destination: wait for the judgement.
  await waitFor('the destination is failing since then', async () => failingSince());
});

it('a new post Slack refuses (invalid_blocks) counts against the destination; the same on an edit does not', async () => {
  await db.query('UPDATE team_destinations SET failing_since = NULL WHERE id = $1', [destination]);
  const edited = await createAlert(`edited ${run}`);
  await waitFor('the post', async () => (await deliveries(edited)).find((d) => d.state === 'sent'));
  slack.failNext('chat.update', 'invalid_blocks');
  await call('POST', `/v2/alerts/${edited}/acknowledge`, {});
  assert.match((await failedEdit(edited, 'acknowledged')).last_error, /invalid_blocks/);
  const afterEdit = await db.query('SELECT failing_since FROM team_destinations WHERE id = $1', [
    destination,
  ]);
  assert.equal(afterEdit.rows[0].failing_since, null, 'an edit refused is about that message');

  slack.failNext('chat.postMessage', 'invalid_blocks');
  const refused = await createAlert(`refused ${run}`);
  await waitFor('the post failed', async () =>
    (await deliveries(refused)).find((d) => d.event_type === 'created' && d.state === 'failed'),
  );
  await waitFor('a channel refusing new alerts is failing since then', async () => failingSince());
});

it('an edit Slack refuses because the channel is archived or frozen (is_inactive) fails that delivery at once, not counting against the destination', async () => {
  await db.query('UPDATE team_destinations SET failing_since = NULL WHERE id = $1', [destination]);
  const frozen = await createAlert(`frozen ${run}`);
  await waitFor('the post', async () => (await deliveries(frozen)).find((d) => d.state === 'sent'));
  slack.failNext('chat.update', 'is_inactive');
  await call('POST', `/v2/alerts/${frozen}/acknowledge`, {});
  const tried = await waitFor('the edit tried', async () =>
    (await deliveries(frozen)).find((d) => d.event_type === 'acknowledged' && d.last_error),
  );
  assert.match(tried.last_error, /is_inactive/);
  assert.equal(tried.state, 'failed', 'not tried again for a day');
  assert.match(tried.last_error, /archived or frozen/);
  await server.idle();
  assert.equal(
    await failingSince(),
    null,
    'an edit of a message in an archived channel is about that message',
  );
});
