import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * What changed while a delivery waited for its retry is read again when it is sent, on the real server:
 * a delivery whose Webhook integration a maintenance disabled meanwhile is not sent (its delivery log says
 * why, as for one made during the maintenance); nor one whose destination, or Webhook integration, moved
 * to a team that does not have the alert (and, that team added to the alert later, the destination is
 * told of it: a delivery not sent told it nothing). The receiver answers 503 first, so the delivery waits; the test
 * moves the server's clock past its retry.
 */

const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;
let receiver: WebhookReceiver;
const run = randomUUID().slice(0, 8);
let teamA: string;
let teamB: string;

const call = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

async function createAlert(message: string, teamId: string): Promise<string> {
  const created = await call('POST', '/v2/alerts', { message, responders: [{ type: 'team', id: teamId }] });
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  return request.alertId as string;
}

/** A Webhook integration of team A posting to the receiver's `path`; its id and its destination's. */
async function webhookIntegration(path: string): Promise<{ id: string; destinationId: string }> {
  const made = await call('POST', '/v2/integrations', {
    type: 'Webhook',
    name: `Outgoing ${path} ${run}`,
    ownerTeam: { id: teamA },
    webhookUrl: `${receiver.url}${path}`,
  });
  const { rows } = await db.query('SELECT id, config FROM team_destinations WHERE integration_id = $1', [
    made.data.id,
  ]);
  receiver.endpoint(path, rows[0].config.secret as string);
  return { id: made.data.id as string, destinationId: rows[0].id as string };
}

/** A webhook destination of `teamId` (team A) at the receiver's `path`; its id. */
async function teamWebhook(path: string, teamId: string = teamA): Promise<string> {
  receiver.endpoint(path);
  const created = await call('POST', '/v2/destinations', {
    name: `Hook ${path} ${run}`,
    type: 'webhook',
    team: { id: teamId },
    config: { url: receiver.url + path },
  });
  receiver.setSecret(path, created.data.config.secret as string);
  return created.data.id as string;
}

/** Raises an alert of team A whose delivery to `destinationId` met a 503 and waits for its retry. */
async function alertWaitingForRetry(path: string, destinationId: string): Promise<string> {
  receiver.answerNext(path, { status: 503, body: 'down for a moment' });
  const alertId = await createAlert(`Waiting ${path} ${run}`, teamA);
  await waitFor('the 503 to be recorded', async () => {
    const [row] = await deliveriesOf(destinationId, alertId);
    return row?.state === 'pending' && row.attempts === 1;
  });
  assert.equal(receiver.received(path).length, 1);
  return alertId;
}

async function deliveriesOf(destinationId: string, alertId: string): Promise<Json[]> {
  const log = (await call('GET', `/v2/destinations/${destinationId}/deliveries?limit=100`)).data as Json[];
  return log.filter((d) => d.alertId === alertId);
}

/** Moves the clock past the first retry (5 s, jittered by 10 %) and lets the workers take it. */
async function pastTheRetry(): Promise<void> {
  clock.advance(6000);
  await server.idle();
}

before(async () => {
  receiver = await startWebhookReceiver();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' },
  });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  teamA = (await call('POST', '/v2/teams', { name: `Senders ${run}` })).data.id;
  teamB = (await call('POST', '/v2/teams', { name: `Others ${run}` })).data.id;
});

after(async () => {
  await db?.end();
  await server?.stop();
  await receiver?.close();
});

describe('a delivery waiting for its retry', () => {
  it('is not sent once a maintenance disables its Webhook integration, and says so', async () => {
    const integration = await webhookIntegration('/paused');
    const alertId = await alertWaitingForRetry('/paused', integration.destinationId);

    const failingSince = async () =>
      (
        await db.query('SELECT enabled, failing_since FROM team_destinations WHERE id = $1', [
          integration.destinationId,
        ])
      ).rows[0] as { enabled: boolean; failing_since: Date | null };
    const before = await failingSince();
    const maintenance = await call('POST', '/v1/maintenance', {
      description: `deploy ${run}`,
      time: { type: 'for-1-hour' },
      rules: [{ state: 'disabled', entity: { id: integration.id, type: 'integration' } }],
    });
    await pastTheRetry();

    assert.equal(receiver.received('/paused').length, 1, 'only the 503 reached the receiver');
    const [delivery] = await deliveriesOf(integration.destinationId, alertId);
    assert.equal(delivery?.state, 'failed');
    assert.match(String(delivery?.lastError), /^not sent: the integration is disabled by maintenance/);
    assert.ok(String(delivery?.lastError).includes(maintenance.data.id), delivery?.lastError);
    assert.equal(delivery?.attempts, 1, 'the attempt not made is not counted');
    // The 503 was the receiver's failure; the delivery not sent says nothing more of it.
    assert.deepEqual(await failingSince(), before);
    assert.equal(before.enabled, true);
  });

  it('is not sent once its destination moved to a team that does not have the alert', async () => {
    const destinationId = await teamWebhook('/moved');
    const alertId = await alertWaitingForRetry('/moved', destinationId);

    await call('PATCH', `/v2/destinations/${destinationId}`, { team: { id: teamB } });
    await pastTheRetry();

    assert.equal(receiver.received('/moved').length, 1, 'only the 503 reached the receiver');
    const [delivery] = await deliveriesOf(destinationId, alertId);
    assert.equal(delivery?.state, 'failed');
    assert.equal(delivery?.lastError, 'not sent: the team no longer has the alert');
  });

  it('leaves its destination a Create when its new team is added to the alert later', async () => {
    const destinationId = await teamWebhook('/moved-then-added');
    const alertId = await alertWaitingForRetry('/moved-then-added', destinationId);
    const teamC = (await call('POST', '/v2/teams', { name: `Joiners ${run}` })).data.id as string;

    await call('PATCH', `/v2/destinations/${destinationId}`, { team: { id: teamC } });
    await pastTheRetry();
    const [notSent] = await deliveriesOf(destinationId, alertId);
    assert.equal(notSent?.lastError, 'not sent: the team no longer has the alert');

    // The receiver never took the alert (a 503, then nothing): the added team's destination is told of it.
    await call('POST', `/v2/alerts/${alertId}/teams`, { team: { id: teamC } });
    const added = await waitFor('the added team to be told', async () => {
      const rows = await deliveriesOf(destinationId, alertId);
      const row = rows.find((d) => d.eventType === 'responder_added');
      return row?.state === 'sent' ? row : undefined;
    });
    assert.ok(added);
    const received = receiver.received('/moved-then-added');
    assert.deepEqual(
      received.map((r) => r.status),
      [503, 204],
    );
    assert.equal(received[1]?.body.type, 'alert.responder_added');
    assert.deepEqual(received[1]?.body.data.event.responder, { type: 'team', id: teamC });
  });

  it("is not sent once its Webhook integration's team is one that does not have the alert", async () => {
    const integration = await webhookIntegration('/reassigned');
    const alertId = await alertWaitingForRetry('/reassigned', integration.destinationId);

    await call('PATCH', `/v2/integrations/${integration.id}`, { ownerTeam: { id: teamB } });
    await pastTheRetry();

    assert.equal(receiver.received('/reassigned').length, 1, 'only the 503 reached the receiver');
    const [delivery] = await deliveriesOf(integration.destinationId, alertId);
    assert.equal(delivery?.state, 'failed');
    assert.equal(delivery?.lastError, 'not sent: the team no longer has the alert');
  });

  it('is sent when nothing changed', async () => {
    const integration = await webhookIntegration('/unchanged');
    const alertId = await alertWaitingForRetry('/unchanged', integration.destinationId);

    await pastTheRetry();

    assert.deepEqual(
      receiver.received('/unchanged').map((r) => r.status),
      [503, 204],
    );
    const [delivery] = await deliveriesOf(integration.destinationId, alertId);
    assert.equal(delivery?.state, 'sent');
  });
});

/**
 * A receiver that takes every request and never answers it: the sender gives up at its deadline (15 s),
 * though the receiver has the alert.
 */
async function startSilentReceiver(): Promise<{ url: string; bodies: Json[]; close(): Promise<void> }> {
  const bodies: Json[] = [];
  const silent = http.createServer((req) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        silent.closeAllConnections();
        silent.close(() => resolve());
      }),
  };
}

async function mayHaveReached(destinationId: string, alertId: string): Promise<boolean> {
  const { rows } = await db.query(
    'SELECT may_have_reached FROM team_destination_deliveries WHERE destination_id = $1 AND alert_id = $2',
    [destinationId, alertId],
  );
  assert.equal(rows.length, 1);
  return rows[0].may_have_reached as boolean;
}

/**
 * Whether a destination was told of an alert, when its team is added to it later, is what became of its
 * deliveries' requests, not their error text: one whose request may have reached the receiver (no answer
 * in time) told it, though the delivery ended not sent; one refused before any request went out did not.
 * After the other tests: the alerts here go to team A's destinations of theirs too.
 */
describe('a destination whose team is added to an alert later', () => {
  it('gets no second Create when an earlier request timed out, though that delivery ended not sent', async () => {
    const silent = await startSilentReceiver();
    try {
      const teamC = (await call('POST', '/v2/teams', { name: `Late joiners ${run}` })).data.id as string;
      const slow = (
        await call('POST', '/v2/destinations', {
          name: `Slow ${run}`,
          type: 'webhook',
          team: { id: teamA },
          config: { url: `${silent.url}/slow` },
        })
      ).data.id as string;
      const alertId = await createAlert(`Answered too late ${run}`, teamA);
      await waitFor('the receiver to get the alert', async () => silent.bodies.length === 1);
      // Moved while the request is out: its retry, after the timeout, is not sent.
      await call('PATCH', `/v2/destinations/${slow}`, { team: { id: teamC } });
      const [notSent] = await waitFor('the retry not to be sent', async () => {
        const rows = await deliveriesOf(slow, alertId);
        return rows[0]?.state === 'failed' ? rows : undefined;
      });
      assert.equal(notSent?.lastError, 'not sent: the team no longer has the alert');
      assert.equal(notSent?.attempts, 1);
      assert.equal(await mayHaveReached(slow, alertId), true);

      // Another destination of team C shows when the team's addition has been handed out.
      const witness = await teamWebhook('/late-joiners-witness', teamC);
      await call('POST', `/v2/alerts/${alertId}/teams`, { team: { id: teamC } });
      await waitFor('the added team to be told', async () => {
        const rows = await deliveriesOf(witness, alertId);
        return rows.find((d) => d.eventType === 'responder_added')?.state === 'sent';
      });
      await server.idle();
      const rows = await deliveriesOf(slow, alertId);
      assert.deepEqual(
        rows.map((d) => d.eventType),
        ['created'],
        'the receiver that got the alert is not sent it again',
      );
      assert.equal(silent.bodies.length, 1);
      assert.equal(silent.bodies[0]?.type, 'alert.created');
    } finally {
      await silent.close();
    }
  });

  it('gets its Create when its earlier delivery failed before any request went out', async () => {
    const path = '/refused-then-fixed';
    const destinationId = await teamWebhook(path);
    const teamC = (await call('POST', '/v2/teams', { name: `Fixed joiners ${run}` })).data.id as string;
    // The operator's list changed since the URL was accepted: the sender refuses it before connecting.
    await db.query(
      `UPDATE team_destinations SET config = jsonb_set(config, '{url}', '"http://192.0.2.1/hook"') WHERE id = $1`,
      [destinationId],
    );
    const alertId = await createAlert(`Refused ${run}`, teamA);
    const [refused] = await waitFor('the delivery to be refused', async () => {
      const rows = await deliveriesOf(destinationId, alertId);
      return rows[0]?.state === 'failed' ? rows : undefined;
    });
    assert.match(String(refused?.lastError), /^config\.url must be https/);
    assert.equal(receiver.received(path).length, 0);

    await call('PATCH', `/v2/destinations/${destinationId}`, {
      team: { id: teamC },
      config: { url: receiver.url + path },
    });
    await call('POST', `/v2/alerts/${alertId}/teams`, { team: { id: teamC } });
    await waitFor(
      'the added team to be told',
      async () => {
        const rows = await deliveriesOf(destinationId, alertId);
        return rows.find((d) => d.eventType === 'responder_added')?.state === 'sent';
      },
      30_000,
    );
    const received = receiver.received(path);
    assert.deepEqual(
      received.map((r) => r.status),
      [204],
    );
    assert.equal(received[0]?.body.type, 'alert.responder_added');
  });

  it('gets its Create when its earlier attempt could not connect, though the delivery was retried', async () => {
    const path = '/unreachable-then-fixed';
    const destinationId = await teamWebhook(path);
    const teamC = (await call('POST', '/v2/teams', { name: `Unreachable joiners ${run}` })).data.id as string;
    // A port nothing listens on: the connection is refused, so no request was written.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/hook`;
    await new Promise((resolve) => probe.close(resolve));
    await db.query(
      `UPDATE team_destinations SET config = jsonb_set(config, '{url}', to_jsonb($2::text)) WHERE id = $1`,
      [destinationId, closed],
    );
    const alertId = await createAlert(`Unreachable ${run}`, teamA);
    const [retried] = await waitFor('the refused connection to be recorded', async () => {
      const rows = await deliveriesOf(destinationId, alertId);
      return rows[0]?.state === 'pending' && rows[0].attempts === 1 ? rows : undefined;
    });
    assert.match(String(retried?.lastError), /^could not reach 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    assert.equal(await mayHaveReached(destinationId, alertId), false);

    // Moved (and fixed) while the delivery waits: its retry is not sent, and the added team's Create is.
    await call('PATCH', `/v2/destinations/${destinationId}`, {
      team: { id: teamC },
      config: { url: receiver.url + path },
    });
    await pastTheRetry();
    const [notSent] = await deliveriesOf(destinationId, alertId);
    assert.equal(notSent?.lastError, 'not sent: the team no longer has the alert');
    await call('POST', `/v2/alerts/${alertId}/teams`, { team: { id: teamC } });
    await waitFor('the added team to be told', async () => {
      const rows = await deliveriesOf(destinationId, alertId);
      return rows.find((d) => d.eventType === 'responder_added')?.state === 'sent';
    });
    assert.deepEqual(
      receiver.received(path).map((r) => r.body.type),
      ['alert.responder_added'],
    );
  });
});
