import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { alertsRepository } from '../alerts/repository.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import type { NotificationChannel } from './channel.js';
import { planNotifications } from './planner.js';

/**
 * A notification rule's `repeat` acted on, on the real server with the engine's clock moved by hand: the
 * rule's steps run again `loopAfter` minutes after the page and every `loopAfter` after that, until the
 * alert is acknowledged, at most 10 times; a disabled repeat pages once; planning a page or a round again
 * adds nothing. What counts is what the email channel was handed.
 */

const clock = new ShiftedClock();
const MIN = 60_000;

interface Received {
  address: string;
  alertId: string;
  key: string;
  at: number;
}
const received: Received[] = [];
const email: NotificationChannel = {
  type: 'email',
  async send(message) {
    received.push({
      address: message.to.address,
      alertId: message.alert.id,
      key: message.idempotencyKey,
      at: clock.now().getTime(),
    });
    return { status: 'sent', providerId: `mail-${received.length}` };
  },
};

let server: TestServer;
const run = randomUUID().slice(0, 8);

interface Person {
  username: string;
  /** The first step's address (at once) and the second's (a minute later). */
  first: string;
  second: string;
  ruleId: string;
}

/** A person whose "New alert" rule emails `first` at once and `second` a minute later, with `repeat`. */
async function person(name: string, repeat: { loopAfter: number; enabled: boolean }): Promise<Person> {
  const username = `${name}.${run}@example.com`;
  const second = `${name}.desk.${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username, fullName: name, role: { name: 'User' } });
  const contacts = `/v2/users/${encodeURIComponent(username)}/contacts`;
  await server.callOk('POST', contacts, { method: 'email', to: second });
  const rules = `/v2/users/${encodeURIComponent(username)}/notification-rules`;
  const ruleId = ((await server.callOk('GET', rules)).data as Json[])[0].id as string;
  await server.callOk('PATCH', `${rules}/${ruleId}`, {
    steps: [
      { contact: { method: 'email', to: username }, sendAfter: { timeAmount: 0 } },
      { contact: { method: 'email', to: second }, sendAfter: { timeAmount: 1 } },
    ],
    repeat,
  });
  return { username, first: username, second, ruleId };
}

async function alertFor(who: Person, message: string): Promise<string> {
  const res = await server.callOk('POST', '/v2/alerts', {
    message: `${message} ${run}`,
    responders: [{ type: 'user', username: who.username }],
  });
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId as string}`);
    return status.body.data?.alertId as string | undefined;
  });
}

function sentTo(alertId: string, address: string): Received[] {
  return received.filter((r) => r.alertId === alertId && r.address === address);
}

/** Waits until `address` has had `n` emails about the alert, then checks it has had no more. */
async function expectSent(alertId: string, address: string, n: number): Promise<Received[]> {
  await waitFor(`${n} emails to ${address}`, async () => sentTo(alertId, address).length >= n || undefined);
  await server.idle();
  const got = sentTo(alertId, address);
  assert.equal(got.length, n, `emails to ${address}: ${JSON.stringify(got)}`);
  return got;
}

async function repeatRow(alertId: string) {
  return server.app.context.db
    .selectFrom('notification_repeats')
    .selectAll()
    .where('alert_id', '=', alertId)
    .executeTakeFirst();
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.data as Json[]).map((l) => l.log as string);
}

/** Moves the clock on and lets the workers do what fell due. */
async function advance(ms: number): Promise<void> {
  clock.advance(ms);
  await server.idle();
}

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100, channels: [email] });
});

after(async () => {
  await server?.stop();
});

describe('notification rule repeat', () => {
  it('runs the steps again every loopAfter minutes until the alert is acknowledged', async () => {
    const ana = await person('ana', { loopAfter: 5, enabled: true });
    const alertId = await alertFor(ana, 'disk full');
    const [page] = await expectSent(alertId, ana.first, 1);
    const t0 = page?.at ?? 0;
    await advance(MIN);
    await expectSent(alertId, ana.second, 1);

    // The first round: loopAfter (5 min) after the page, the first step, then the second a minute later.
    await advance(4 * MIN);
    const round1 = await expectSent(alertId, ana.first, 2);
    await expectSent(alertId, ana.second, 1);
    await advance(MIN);
    await expectSent(alertId, ana.second, 2);
    // And again after another 5 min.
    await advance(4 * MIN);
    const round2 = await expectSent(alertId, ana.first, 3);
    await advance(MIN);
    await expectSent(alertId, ana.second, 3);

    // The engine's clock moved by whole minutes: each round came when it was due, not minutes late.
    const near = (at: number | undefined, expected: number) =>
      assert.ok(at !== undefined && Math.abs(at - expected) < 30_000, `${at} is not near ${expected}`);
    near(round1[1]?.at, t0 + 5 * MIN);
    near(round2[2]?.at, t0 + 10 * MIN);
    // Each round under its own keys.
    const keys = sentTo(alertId, ana.first).map((r) => r.key);
    assert.equal(new Set(keys).size, 3);
    assert.match(keys[1] ?? '', /:repeat:1:/);
    assert.match(keys[2] ?? '', /:repeat:2:/);
    const lines = await logs(alertId);
    assert.ok(
      lines.some((l) => l.endsWith('; again every 5 min until acknowledged, at most 10 times')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith('Notifying ana again') && l.includes('repeat 2 of 10')),
      lines.join('\n'),
    );
    assert.equal((await repeatRow(alertId))?.rounds, 2);

    // Acknowledging ends the repeat at once: the next round never comes.
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, { user: ana.username });
    await waitFor('the repeat to end', async () => (await repeatRow(alertId)) === undefined || undefined);
    await advance(5 * MIN);
    await advance(5 * MIN);
    await expectSent(alertId, ana.first, 3);
    await expectSent(alertId, ana.second, 3);
    assert.ok((await logs(alertId)).some((l) => l.startsWith('Notification repeats stopped for 1 person')));
  });

  it('pages once when the repeat is disabled', async () => {
    const ben = await person('ben', { loopAfter: 5, enabled: false });
    const alertId = await alertFor(ben, 'cpu hot');
    await expectSent(alertId, ben.first, 1);
    await advance(MIN);
    await expectSent(alertId, ben.second, 1);
    assert.equal(await repeatRow(alertId), undefined);
    await advance(5 * MIN);
    await advance(5 * MIN);
    await expectSent(alertId, ben.first, 1);
    await expectSent(alertId, ben.second, 1);
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
  });

  it('adds nothing when a page or a round is planned again', async () => {
    const cleo = await person('cleo', { loopAfter: 5, enabled: true });
    const alertId = await alertFor(cleo, 'queue stuck');
    await expectSent(alertId, cleo.first, 1);
    const started = await repeatRow(alertId);
    assert.ok(started, 'the page started a repeat');

    // The page planned again (a retried step, a second worker): no message, the repeat as it was.
    const db = server.app.context.db;
    const alert = await alertsRepository.byId(db, alertId);
    assert.ok(alert);
    const again = await planNotifications(db, {
      alert,
      kind: 'create-alert',
      recipients: [{ id: started.user_id, why: started.why }],
      keyPrefix: started.key_prefix,
      now: clock.now(),
      reason: started.reason,
      stopOn: started.stop_on,
      ...(started.escalation_run_id ? { escalationRunId: started.escalation_run_id } : {}),
    });
    assert.equal(again.planned, 0);
    assert.deepEqual(await repeatRow(alertId), started);

    await advance(MIN);
    await advance(4 * MIN);
    await expectSent(alertId, cleo.first, 2);
    const afterRound = await repeatRow(alertId);
    assert.equal(afterRound?.rounds, 1);

    // The round made again (as a transaction that committed its messages but is retried would):
    // its messages are already there under its keys, so nothing is sent twice.
    await db
      .updateTable('notification_repeats')
      .set({ rounds: 0, next_at: started.next_at })
      .where('alert_id', '=', alertId)
      .execute();
    await advance(1);
    const redone = await waitFor('the round to be made again', async () => {
      const row = await repeatRow(alertId);
      return row?.rounds === 1 ? row : undefined;
    });
    assert.equal(redone.next_at.getTime(), afterRound?.next_at.getTime());
    await advance(MIN);
    await expectSent(alertId, cleo.first, 2);
    await expectSent(alertId, cleo.second, 2);
    const roundRows = await db
      .selectFrom('notifications')
      .select('idempotency_key')
      .where('alert_id', '=', alertId)
      .where('idempotency_key', 'like', '%:repeat:1:%')
      .execute();
    assert.equal(roundRows.length, 2, 'one message per step of the round');
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
    await waitFor('the repeat to end', async () => (await repeatRow(alertId)) === undefined || undefined);
  });

  it('stops after 10 repeats, as Opsgenie does', async () => {
    const dev = await person('dev', { loopAfter: 1, enabled: true });
    const alertId = await alertFor(dev, 'never acknowledged');
    await expectSent(alertId, dev.first, 1);
    for (let round = 1; round <= 10; round++) {
      await advance(MIN);
      await expectSent(alertId, dev.first, 1 + round);
    }
    assert.equal(await repeatRow(alertId), undefined, 'the last round ended the repeat');
    await advance(MIN);
    await advance(5 * MIN);
    await expectSent(alertId, dev.first, 11);
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
  });

  it('ends when the rule no longer repeats', async () => {
    const eve = await person('eve', { loopAfter: 5, enabled: true });
    const alertId = await alertFor(eve, 'rule changed');
    await expectSent(alertId, eve.first, 1);
    await server.callOk(
      'PATCH',
      `/v2/users/${encodeURIComponent(eve.username)}/notification-rules/${eve.ruleId}`,
      { repeat: { loopAfter: 5, enabled: false } },
    );
    await advance(5 * MIN);
    assert.equal(await repeatRow(alertId), undefined);
    await expectSent(alertId, eve.first, 1);
    assert.ok(
      (await logs(alertId)).includes('No more repeats for eve: their rule "New alert" no longer repeats'),
    );
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
  });
});

describe('a deleted notification rule', () => {
  it('ends its repeats, and the log says so', async () => {
    const fay = await person('fay', { loopAfter: 5, enabled: true });
    const alertId = await alertFor(fay, 'rule deleted');
    await expectSent(alertId, fay.first, 1);
    await advance(MIN);
    await expectSent(alertId, fay.second, 1);
    assert.ok(await repeatRow(alertId), 'the page started a repeat');
    await server.callOk(
      'DELETE',
      `/v2/users/${encodeURIComponent(fay.username)}/notification-rules/${fay.ruleId}`,
    );
    assert.equal(await repeatRow(alertId), undefined);
    assert.ok(
      (await logs(alertId)).includes('No more repeats for fay: their rule "New alert" was deleted'),
      (await logs(alertId)).join('\n'),
    );
    await advance(5 * MIN);
    await advance(5 * MIN);
    await expectSent(alertId, fay.first, 1);
    await expectSent(alertId, fay.second, 1);
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
  });
});
