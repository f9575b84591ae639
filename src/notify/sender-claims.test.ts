import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { textedPerson } from '../testing/texted-person.js';
import type { NotificationChannel } from './channel.js';

/**
 * The sender's claim on the messages of a round, on the real server with a one-second lease: a message
 * to a slow destination keeps its claim while it is being sent (no other round sends it again), and the
 * other messages of its round are recorded as soon as they are sent, not when the slow one is done.
 */

const run = randomUUID().slice(0, 8);
/** Every send, by address, in order. */
const sent: string[] = [];
/** A send to an address in here is received at once but finishes only when its promise settles. */
const held = new Map<string, Promise<void>>();
const texts: NotificationChannel = {
  type: 'sms',
  async send(message) {
    sent.push(message.to.address);
    await held.get(message.to.address);
    return { status: 'sent', providerId: `sms-${sent.length}` };
  },
};
/** Every email's address and kind, in order. */
const mailed: { to: string; kind: string }[] = [];
const emails: NotificationChannel = {
  type: 'email',
  async send(message) {
    mailed.push({ to: message.to.address, kind: message.kind });
    return { status: 'sent', providerId: `mail-${mailed.length}` };
  },
};

let server: TestServer;
let db: pg.Client;
/** Lets the held send finish: the server stops only once its sends are done, failed test or not. */
let finish = () => {};

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  return server.callOk(method, path, body);
}

before(async () => {
  server = await startTestServer({
    engineIntervalMs: 100,
    channels: [texts, emails],
    env: { VIGIL_NOTIFICATION_LEASE_SECONDS: '1' },
  });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
});

after(async () => {
  finish();
  await db?.end();
  await server?.stop();
});

describe('a round with a slow send among quick ones', () => {
  it('records the quick ones at once, and keeps the slow one claimed past its lease: sent once', async () => {
    const slow = '+14155550181';
    const quick = '+14155550182';
    const teams = [
      await textedPerson(server, db, { name: 'Sloane', phone: slow, run, afterMinutes: 0 }),
      await textedPerson(server, db, { name: 'Quinn', phone: quick, run, afterMinutes: 0 }),
    ];
    held.set(slow, new Promise<void>((resolve) => (finish = resolve)));

    await call('POST', '/v2/alerts', {
      message: `claims ${run}`,
      responders: teams.map((name) => ({ type: 'team', name })),
    });
    await waitFor('both texts handed to the channel', async () => sent.length >= 2 || undefined);
    const states = async () =>
      Object.fromEntries(
        (await db.query(`SELECT address, state FROM notifications WHERE method = 'sms'`)).rows.map(
          (r: Json) => [r.address, r.state],
        ),
      );
    // The quick text is recorded while the slow one is still being sent.
    await waitFor('the quick text recorded', async () => (await states())[quick] === 'sent' || undefined);
    assert.equal((await states())[slow], 'sending');

    // Three leases go by with the slow send still out: another round would take it again without the
    // claim kept alive (the sender's loops wake at the lease's end).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.deepEqual(
      sent.filter((a) => a === slow),
      [slow],
      'the slow text was handed to the channel once',
    );
    finish();
    await waitFor('the slow text recorded', async () => (await states())[slow] === 'sent' || undefined);
    assert.deepEqual([...sent].sort(), [slow, quick].sort());
  });
});

describe('a page still being recorded', () => {
  it('counts as a page for the follow-ups: a note made meanwhile reaches that person', async () => {
    const phone = '+14155550183';
    const team = await textedPerson(server, db, { name: 'Nadia', phone, run, afterMinutes: 0 });
    const username = `nadia-${run}@example.com`;
    // The note goes by email: a second text would wait out the SMS throttle (one a minute to a phone).
    await call('POST', `/v2/users/${username}/notification-rules`, {
      name: 'Notes',
      actionType: 'add-note',
      steps: [{ contact: { method: 'email', to: username }, sendAfter: { timeAmount: 0 } }],
    });
    let release = () => {};
    held.set(phone, new Promise<void>((resolve) => (release = resolve)));
    try {
      const accepted = await call('POST', '/v2/alerts', {
        message: `noted while sending ${run}`,
        responders: [{ type: 'team', name: team }],
      });
      const alertId = (await call('GET', `/v2/alerts/requests/${accepted.requestId}`)).data.alertId;
      await waitFor('the page handed to the channel', async () => sent.includes(phone) || undefined);
      const state = async () =>
        (
          await db.query(`SELECT state FROM notifications WHERE address = $1 AND kind = 'create-alert'`, [
            phone,
          ])
        ).rows[0]?.state;
      assert.equal(await state(), 'sending', 'the page is out, its outcome not yet written');

      await call('POST', `/v2/alerts/${alertId}/notes`, { note: 'Failing over now', user: 'Bob' });
      await waitFor('the note handed to the channel', async () =>
        mailed.some((m) => m.to === username && m.kind === 'add-note'),
      );
      assert.equal(await state(), 'sending', 'the page was still being recorded when the note went');
    } finally {
      release();
    }
  });
});
