import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../logger.js';
import { startFakePushService, type FakePushService } from '../../testing/fake-push.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { whenWaitedFor } from '../../testing/lock-waits.js';
import { systemClock } from '../../work/clock.js';
import { createPushChannel } from './channel.js';
import { removeGoneSubscription } from './service.js';

/**
 * A browser renews a device's subscription (renewal.test.ts) just as a page to its old endpoint is answered
 * 410: the renewal must win. It takes the person's lock, then the device's row; the 410's removal must take
 * them in the same order (else a deadlock, whose loser was usually the renewal: the device then removed),
 * and a page already on its way to the old endpoint is sent again to the new one, not given up.
 */

let server: TestServer;
let fake: FakePushService;
let publicKey: string;
const run = randomUUID().slice(0, 8);

before(async () => {
  fake = await startFakePushService();
  server = await startTestServer({ env: { VIGIL_PUSH_SERVICE_HOSTS: '127.0.0.1' } });
  publicKey = (await server.callOk('GET', '/api/console/push/key')).publicKey as string;
});

after(async () => {
  await server?.stop();
  await fake?.close();
});

const subscribe = (body: Json, key: string) =>
  server.call('POST', '/api/console/push/subscriptions', body, key);

/** A person with one device subscribed, and the device's row as a push to it would have read it. */
async function personWithDevice(local: string) {
  const username = `${local}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username, fullName: local, role: { name: 'User' } });
  const key = (await server.callOk('POST', '/v2/api-keys', { name: local, user: { username } })).data
    .key as string;
  const first = fake.newSubscription({ applicationServerKey: publicKey });
  const made = await subscribe({ ...first, deviceName: 'Phone' }, key);
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const row = await server.app.context.db
    .selectFrom('push_subscriptions')
    .selectAll()
    .where('id', '=', made.body.id as string)
    .executeTakeFirstOrThrow();
  return { username, key, first, row };
}

const personLock = `SELECT pg_advisory_xact_lock(hashtextextended('vigil:people:' || $1, 0))`;

async function settled<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: server.databaseUrl });
  await client.connect();
  return client;
}

describe('a renewal racing the old endpoint’s 410', () => {
  it('does not deadlock with the removal, and the device stays, moved', async () => {
    const { db } = server.app.context;
    const { row } = await personWithDevice('ana');
    const renewed = fake.newSubscription({ applicationServerKey: publicKey });
    // The renewal, on a connection of its own, in subscribeOnce's order: the person, then the row.
    const renewal = await connect();
    try {
      await renewal.query('BEGIN');
      await renewal.query(personLock, [row.user_id]);
      const removing = settled(removeGoneSubscription(db, row));
      const renewing = await settled(
        whenWaitedFor(renewal, {
          then: `PERFORM 1 FROM push_subscriptions WHERE id = '${row.id}' FOR UPDATE`,
          never: 'the removal never waited for the renewal',
          seconds: 20,
        }),
      );
      if (renewing.error === undefined) {
        await renewal.query('UPDATE push_subscriptions SET endpoint = $1 WHERE id = $2', [
          renewed.endpoint,
          row.id,
        ]);
        await renewal.query('COMMIT');
      } else {
        await renewal.query('ROLLBACK');
      }
      const removal = await removing;
      assert.equal(renewing.error, undefined, String(renewing.error));
      assert.equal(removal.error, undefined, String(removal.error));
      assert.equal(removal.value, false, 'the moved device is not removed');
    } finally {
      await renewal.end();
    }
    const now = await db
      .selectFrom('push_subscriptions')
      .select(['endpoint', 'contact_method_id'])
      .where('id', '=', row.id)
      .executeTakeFirst();
    assert.equal(now?.endpoint, renewed.endpoint);
    assert.equal(now?.contact_method_id, row.contact_method_id);
  });

  it('runs a renewal that lost a deadlock once more', async () => {
    const { row, key, first } = await personWithDevice('bo');
    const renewed = fake.newSubscription({ applicationServerKey: publicKey });
    // The other side holds the device's row, then waits for the person the renewal holds: a deadlock.
    // Its own deadlock check comes late, so the renewal's comes first and the renewal is the one aborted.
    const other = await connect();
    try {
      await other.query(`SET deadlock_timeout = '30s'`);
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM push_subscriptions WHERE id = $1 FOR UPDATE', [row.id]);
      const renewing = settled(
        subscribe({ ...renewed, deviceName: 'Phone', oldEndpoint: first.endpoint }, key),
      );
      const waited = await settled(
        whenWaitedFor(other, {
          then: `PERFORM pg_advisory_xact_lock(hashtextextended('vigil:people:${row.user_id}', 0))`,
          never: 'the renewal never waited for the row',
          seconds: 20,
        }),
      );
      await other.query(waited.error === undefined ? 'COMMIT' : 'ROLLBACK');
      assert.equal(waited.error, undefined, String(waited.error));
      const response = await renewing;
      assert.equal(response.value?.status, 201, JSON.stringify(response.value?.body ?? response.error));
      assert.equal(response.value?.body.id, row.id);
    } finally {
      await other.end();
    }
  });

  it('sends a push that found the old endpoint gone again, to the device’s new endpoint', async () => {
    const { db, config } = server.app.context;
    const { row, key, first } = await personWithDevice('cy');
    const renewed = fake.newSubscription({ applicationServerKey: publicKey });
    let renewedMeanwhile = false;
    const channel = createPushChannel({
      db,
      config,
      log: createLogger('silent'),
      // The device is renewed while the push to its old endpoint is on its way, which then answers 410.
      fetch: async (input, init) => {
        if (renewedMeanwhile) return fetch(input, init);
        renewedMeanwhile = true;
        const moved = await subscribe({ ...renewed, deviceName: 'Phone', oldEndpoint: first.endpoint }, key);
        assert.equal(moved.status, 201, JSON.stringify(moved.body));
        return new Response('the subscription is gone', { status: 410 });
      },
      clock: systemClock,
    });
    const to = { address: row.id, name: 'cy' };
    const notice = { subject: 'Test', text: 'A test of your device' };
    const once = await channel.sendNotice!(to, notice);
    assert.equal(once.status, 'retry', JSON.stringify(once));
    const again = await channel.sendNotice!(to, notice);
    assert.equal(again.status, 'sent', JSON.stringify(again));
    assert.equal(fake.received(renewed.endpoint).length, 1);
  });
});
