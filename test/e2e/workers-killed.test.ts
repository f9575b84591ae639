import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  PEOPLE,
  allDone,
  countBy,
  errorLines,
  expectedPairs,
  notificationOf,
  pairOf,
  received,
  settled,
  startFleet,
  stopAll,
  stopFleets,
} from './worker-fleet.js';

/** A `vigil start --role worker` process killed mid-batch, and its work taken over (test/e2e/worker-fleet.ts). */

after(stopFleets);

describe('a worker killed mid-batch', () => {
  it(
    'loses nothing: its claimed work is taken over when its leases run out',
    { timeout: 240_000 },
    async (t) => {
      const fleet = await startFleet();
      const { db } = fleet;
      // Leases short enough to wait for (the defaults are 360 s for messages and 120 s for events), long
      // enough that a live worker's batch never outlasts its lease on a busy machine.
      const leases = { VIGIL_NOTIFICATION_LEASE_SECONDS: '15', VIGIL_EVENT_LEASE_SECONDS: '15' };
      const doomed = await fleet.worker(leases);
      await fleet.listening([doomed]);

      const alerts = 200;
      const expected = alerts * PEOPLE.length;
      const posting = fleet.alerts(alerts, 'killed');
      // Killed right after an email arrives: a batch of messages is being sent.
      await doomed.smtp.waitForMessages(10, 120_000);
      doomed.child.kill('SIGKILL');
      assert.deepEqual(await doomed.exited, { code: null, signal: 'SIGKILL' });
      const killedAt = Date.now();
      // What the dead process held: it was the only worker, and the API process sends nothing. Read after
      // its exit, so that a message it handed to SMTP is in here unless its `sent` was committed (a commit
      // still on its way to PostgreSQL at the kill can only make this set larger than the truth, not miss one).
      const held = new Set(
        (await db.query<{ id: string }>(`SELECT id FROM notifications WHERE state = 'sending'`)).rows.map(
          (r) => r.id,
        ),
      );
      const heldEvents = (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM event_deliveries WHERE lease_until > now() AND dead_at IS NULL`,
        )
      ).rows[0]?.n;
      const sentBeforeKill = doomed.smtp.messages.length;
      t.diagnostic(
        `killed after ${sentBeforeKill} emails, holding ${held.size} messages and ${heldEvents} alert events`,
      );
      assert.ok(sentBeforeKill < expected, 'killed before it was done');
      assert.ok(held.size + (heldEvents ?? 0) > 0, 'killed holding claimed work (or the leases go untested)');

      await posting;
      const fresh = await fleet.worker(leases);
      const workers = [doomed, fresh];
      const state = await settled(db, alerts, workers, [fleet.api, fresh]);
      t.diagnostic(`recovered ${Date.now() - killedAt} ms after the kill`);
      assert.deepEqual(state, allDone(alerts, expected));

      const mail = received(workers);
      assert.deepEqual(
        [...new Set(mail.map((r) => pairOf(r.mail)))].sort(),
        await expectedPairs(db),
        'every alert reached every member at least once',
      );
      // At least once is the contract across a crash: a message the dead worker had handed to its SMTP server
      // but not yet recorded as sent is still `sending` under its lease, and is sent again when the lease runs
      // out. Only those may come twice, once from each worker.
      const perNotification = countBy(mail, (r) => notificationOf(r.mail));
      const repeated = [...perNotification].filter(([, n]) => n > 1);
      t.diagnostic(`${repeated.length} of the ${held.size} held messages had reached SMTP before the kill`);
      assert.deepEqual(
        repeated.filter(([id, n]) => n !== 2 || !held.has(id)),
        [],
        'only a message in flight at the kill came twice, and only twice',
      );
      for (const [id] of repeated) {
        const senders = mail.filter((r) => notificationOf(r.mail) === id).map((r) => r.worker);
        assert.deepEqual(senders, [doomed.name, fresh.name]);
      }
      assert.equal(mail.length, expected + repeated.length);
      // The messages the dead worker held were taken over (claimed again) by the fresh one, and no others.
      const retaken = await db.query<{ id: string }>(`SELECT id FROM notifications WHERE attempts > 1`);
      assert.deepEqual(
        retaken.rows.filter((r) => !held.has(r.id)),
        [],
        'no message but a held one was claimed twice',
      );
      assert.deepEqual(errorLines(fresh), [], 'the fresh worker logged no error');

      await stopAll([fleet.api, fresh]);
    },
  );
});
