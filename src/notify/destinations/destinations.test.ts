import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ShiftedClock } from '../../work/clock.js';
import {
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import { textedPerson } from '../../testing/texted-person.js';
import type { NotificationChannel, OutgoingNotification } from '../channel.js';
import { notificationsRepository } from '../repository.js';

/**
 * Destinations end to end on the real server: a message goes to the channel of its destination type, a
 * throttled type makes messages to one address wait their turn (none is lost), and a message can go to
 * a destination that is not a person.
 */

const clock = new ShiftedClock();
const received: { type: string; message: OutgoingNotification }[] = [];
/** A send to an address in here is received at once but finishes only when its promise settles. */
const held = new Map<string, Promise<void>>();
function recording(type: string): NotificationChannel {
  return {
    type,
    async send(message) {
      received.push({ type, message });
      const providerId = `${type}-${received.length}`;
      await held.get(message.to.address);
      return { status: 'sent', providerId };
    },
  };
}

let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);

const createAlert = (message: string, team = `Pat ${run}`) => createTeamAlert(server, message, team);

/** Waits for the alert's text to be planned (due a minute after it is), then gives the alert back. */
async function planned(alertId: string): Promise<string> {
  await waitFor('the text planned', async () => {
    const rows = await db.query(`SELECT 1 FROM notifications WHERE alert_id = $1`, [alertId]);
    return rows.rows.length > 0 || undefined;
  });
  return alertId;
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.body.data as Json[]).map((l) => l.log as string);
}

before(async () => {
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    channels: [recording('sms'), recording('test-room')],
  });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await textedPerson(server, db, { name: 'Pat', phone: '+1 415 555 0123', run, afterMinutes: 1 });
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('an SMS storm to one phone', () => {
  it('sends one text a minute to one number; the rest wait their turn and none is lost', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await createAlert(`storm ${i} ${run}`));
    // An SMS step waits a minute by default (people get the quiet channels first).
    const planned = await waitFor('three texts planned', async () => {
      const rows = await db.query(`SELECT count(*)::int AS n FROM notifications WHERE method = 'sms'`);
      return rows.rows[0].n === 3 || undefined;
    });
    assert.ok(planned);
    clock.advance(60_000);
    await waitFor('the first text', async () => received.length >= 1 || undefined);
    const waiting = await waitFor('two texts put back to wait', async () => {
      const rows = await db.query(
        `SELECT attempts, last_error FROM notifications WHERE method = 'sms' AND state = 'pending'`,
      );
      return rows.rows.length === 2 ? rows.rows : undefined;
    });
    for (const row of waiting) {
      assert.equal(row.attempts, 0, 'waiting for the throttle is not a failed attempt');
      assert.match(row.last_error, /^throttled:/);
    }
    assert.equal(received.length, 1);
    assert.equal(received[0]?.message.to.address, '+14155550123');
    assert.equal(received[0]?.message.to.name, 'Pat');

    const lines = (await Promise.all(ids.map(logs))).flat();
    assert.equal(lines.filter((l) => l === 'SMS sent to Pat').length, 1, lines.join('\n'));
    assert.equal(
      lines.filter((l) =>
        /^SMS waits (\d+ min )?\d+ s for its turn: at most 1 in 1 min 0 s to one address$/.test(l),
      ).length,
      2,
      lines.join('\n'),
    );

    // This channel sends one message at a time (Twilio's bundles them: twilio.test.ts).
    clock.advance(60_000);
    await waitFor('the second text', async () => received.length >= 2 || undefined);
    clock.advance(60_000);
    await waitFor('the third text', async () => received.length >= 3 || undefined);
    // The channel has the text before its outcome is recorded.
    const states = await waitFor('the three outcomes recorded', async () => {
      const rows = await db.query(`SELECT state, attempts FROM notifications WHERE method = 'sms'`);
      return rows.rows.every((r) => r.state !== 'sending') ? rows.rows : undefined;
    });
    assert.deepEqual(
      states.map((r) => [r.state, r.attempts]),
      [
        ['sent', 1],
        ['sent', 1],
        ['sent', 1],
      ],
    );
    assert.equal(new Set(received.map((r) => r.message.alert.id)).size, 3, 'one text per alert');
  });
});

describe('a destination that is not a person', () => {
  it('gets the message under its own name, with a link to view and none that acts as someone', async () => {
    const alertId = await createAlert(`room ${run}`);
    const alert = await db.query(`SELECT org_id FROM alerts WHERE id = $1`, [alertId]);
    await db.query(
      `INSERT INTO notifications (idempotency_key, org_id, alert_id, method, address, destination_name, kind, reason, due_at)
       VALUES ($1, $2, $3, 'test-room', 'room-7', '#security', 'create-alert', 'the team room', $4)`,
      [`room:${alertId}`, alert.rows[0].org_id, alertId, clock.now()],
    );
    clock.advance(1);
    const got = await waitFor('the room message', async () => received.find((r) => r.type === 'test-room'));
    assert.equal(got.message.to.address, 'room-7');
    assert.equal(got.message.to.name, '#security');
    assert.equal(got.message.to.userId, undefined);
    assert.deepEqual(Object.keys(got.message.links), ['view']);
    await waitFor(
      'the log line',
      async () => (await logs(alertId)).includes('test-room sent to #security') || undefined,
    );
  });

  it('is refused by the database without a name, so the log can always say who got it', async () => {
    await assert.rejects(
      db.query(
        `INSERT INTO notifications (idempotency_key, org_id, alert_id, method, address, kind, due_at)
         SELECT 'nameless', org_id, id, 'test-room', 'room-8', 'create-alert', now() FROM alerts LIMIT 1`,
      ),
      /notifications_recipient/,
    );
  });
});

describe('a text still being sent when the next to the same phone falls due', () => {
  it('counts against the throttle: the next waits its turn', async () => {
    const phone = '+14155550124';
    const team = await textedPerson(server, db, { name: 'Lee', phone, run, afterMinutes: 1 });
    const texts = () => received.filter((r) => r.message.to.address === phone);
    let release = () => {};
    held.set(phone, new Promise<void>((resolve) => (release = resolve)));
    try {
      await planned(await createAlert(`slow first ${run}`, team));
      clock.advance(30_000);
      const second = await planned(await createAlert(`second ${run}`, team));
      clock.advance(30_000);
      await waitFor('the first text handed to the channel', async () => texts().length >= 1 || undefined);
      // The second falls due while the first is still being sent, and another round takes it.
      clock.advance(30_000);
      const decided = await waitFor('the second text sent or put back', async () => {
        if (texts().length >= 2) return 'sent 30 s after the first';
        const rows = await db.query(`SELECT state, last_error FROM notifications WHERE alert_id = $1`, [
          second,
        ]);
        const row = rows.rows[0];
        return row?.state === 'pending' && row.last_error?.startsWith('throttled:') ? 'waits' : undefined;
      });
      assert.equal(decided, 'waits');
      // 30 s less the real time between the two rounds (the test's clock runs on from where it was moved).
      const lines = await logs(second);
      assert.ok(
        lines.some((l) =>
          /^SMS waits (29|30) s for its turn: at most 1 in 1 min 0 s to one address$/.test(l),
        ),
        lines.join('\n'),
      );
    } finally {
      release();
    }
    await waitFor('the first text recorded sent', async () => {
      const rows = await db.query(
        `SELECT count(*)::int AS n FROM notifications WHERE address = $1 AND state = 'sent'`,
        [phone],
      );
      return rows.rows[0].n === 1 || undefined;
    });
    await server.idle();
    assert.equal(texts().length, 1, 'nothing more inside the minute');
    clock.advance(30_000);
    await waitFor('the second text, a minute after the first', async () => texts().length >= 2 || undefined);
  });
});

describe('two rounds letting texts to one phone through at the same moment', () => {
  it('check one after the other: the second counts the text the first let through', async () => {
    const phone = '+14155550125';
    const team = await textedPerson(server, db, { name: 'Mo', phone, run, afterMinutes: 1 });
    const alerts = [await planned(await createAlert(`a ${run}`, team))];
    alerts.push(await planned(await createAlert(`b ${run}`, team)));
    // Claimed by two rounds (the sender leaves a claim alone until its lease runs out).
    const claimed = await db.query(
      `UPDATE notifications SET state = 'sending', lease_until = now() + interval '1 day'
       WHERE alert_id = ANY($1) RETURNING id`,
      [alerts],
    );
    const [a, b] = claimed.rows.map((r) => r.id as string);
    assert.ok(a && b);
    const destinations = [{ type: 'sms', address: phone }];
    const since = new Date(clock.now().getTime() - 60_000);
    const kdb = server.app.context.db;
    // Each round read before either let its text through: each saw nothing in the way.
    assert.equal((await notificationsRepository.sendsSince(kdb, destinations, since, [a])).size, 0);
    assert.equal((await notificationsRepository.sendsSince(kdb, destinations, since, [b])).size, 0);
    // Round A holds the phone's lock and has marked its text, not yet committed, when B checks.
    const roundA = new pg.Client({ connectionString: server.databaseUrl });
    await roundA.connect();
    try {
      await roundA.query('BEGIN');
      await roundA.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `vigil:throttle:sms ${phone}`,
      ]);
      await roundA.query(`UPDATE notifications SET let_through_at = $2 WHERE id = $1`, [a, clock.now()]);
      let done = false;
      const checkB = notificationsRepository
        .letThrough(kdb, destinations, since, [b], [b], clock.now())
        .finally(() => (done = true));
      await waitFor('B to wait for the lock, or to have checked without it', async () => {
        const waiting = await db.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'
             AND query LIKE '%vigil_throttle_let_through%'`,
        );
        return done || waiting.rows.length > 0 || undefined;
      });
      await roundA.query('COMMIT');
      const seenByB = await checkB;
      assert.equal(seenByB.get(`sms ${phone}`)?.length, 1, 'B counts the text A let through');
    } finally {
      await roundA.end();
    }
    await db.query(`UPDATE notifications SET state = 'cancelled', lease_until = NULL WHERE id = ANY($1)`, [
      [a, b],
    ]);
  });
});
