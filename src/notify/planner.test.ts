import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { alertsRepository } from '../alerts/repository.js';
import type { AlertRow } from '../db/schema.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { type PlanInput, planNotificationsBatch } from './planner.js';

/**
 * The pages of a batch are planned together (one "already paged?" read and one insert): a page sees
 * the pages of earlier transactions and those planned before it in the same batch, as it would planned
 * one after the other.
 */

let server: TestServer;
let userId: string;
const person = `planner-${randomUUID().slice(0, 8)}@example.com`;

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await server.call(method, path, body);
  assert.ok(res.status < 300, `${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A new alert with no responders: the engine pages nobody for it, the test plans its pages. */
async function newAlert(): Promise<AlertRow> {
  const res = await call('POST', '/v2/alerts', { message: `Planner ${randomUUID()}` });
  const id = await waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
  const alert = await alertsRepository.byId(server.app.context.db, id);
  assert.ok(alert);
  return alert;
}

function page(
  alert: AlertRow,
  runId: string,
  stopOn: PlanInput['stopOn'] = 'acknowledged',
  who = userId,
): PlanInput {
  return {
    alert,
    kind: 'create-alert',
    recipients: [{ id: who, why: 'named in the escalation' }],
    keyPrefix: `test:${randomUUID()}`,
    now: new Date(),
    reason: 'test page',
    escalationRunId: runId,
    stopOn,
  };
}

function plan(inputs: PlanInput[]) {
  return server.app.context.db.transaction().execute((tx) => planNotificationsBatch(tx, inputs));
}

/**
 * A person whose "New alert" rule has these steps: email to their username, or text to a number of
 * theirs (marked verified, as texted-person.ts does); their id.
 */
async function personWith(
  name: string,
  steps: { method: 'email' | 'sms'; after: number }[],
): Promise<string> {
  const username = `${name.toLowerCase().replaceAll(' ', '-')}-${randomUUID().slice(0, 8)}@example.com`;
  const user = await call('POST', '/v2/users', { username, fullName: name, role: { name: 'User' } });
  const phone = '+14155550123';
  const sms = await call('POST', `/v2/users/${username}/contacts`, { method: 'sms', to: phone });
  await server.app.context.db
    .updateTable('contact_methods')
    .set({ verified_at: new Date() })
    .where('id', '=', (sms.data as Json).id as string)
    .execute();
  const rules = await call('GET', `/v2/users/${username}/notification-rules`);
  await call('PATCH', `/v2/users/${username}/notification-rules/${(rules.data as Json[])[0].id as string}`, {
    steps: steps.map(({ method, after }) => ({
      contact: { method, to: method === 'email' ? username : phone },
      sendAfter: { timeAmount: after },
    })),
  });
  return (user.data as Json).id as string;
}

before(async () => {
  server = await startTestServer();
  const user = await call('POST', '/v2/users', {
    username: person,
    fullName: 'Planner person',
    role: { name: 'User' },
  });
  userId = (user.data as Json).id as string;
});

after(async () => {
  await server?.stop();
});

describe('planning a batch of pages', () => {
  it('pages a contact once across escalations, in one batch and across transactions', async () => {
    const alert = await newAlert();
    const [one] = await plan([page(alert, 'a0000000-0000-4000-8000-000000000001')]);
    assert.equal(one?.planned, 1);
    assert.match(one?.lines.join() ?? '', /email at once/);

    // Another escalation of the alert, later: covered by the page in the table.
    const [later] = await plan([page(alert, 'a0000000-0000-4000-8000-000000000002')]);
    assert.equal(later?.planned, 0);
    assert.match(later?.lines.join() ?? '', /email already being paged/);
    // The same escalation again (its repeat): not covered.
    const [repeat] = await plan([page(alert, 'a0000000-0000-4000-8000-000000000001')]);
    assert.equal(repeat?.planned, 1);
    // A page that lasts longer (if-not-closed) is not covered by an if-not-acked one.
    const [lasting] = await plan([page(alert, 'a0000000-0000-4000-8000-000000000003', 'closed')]);
    assert.equal(lasting?.planned, 1);

    // Two escalations of a new alert in one batch: the second is covered by the first.
    const fresh = await newAlert();
    const other = await newAlert();
    const results = await plan([
      page(fresh, 'b0000000-0000-4000-8000-000000000001'),
      page(other, 'b0000000-0000-4000-8000-000000000002'),
      page(fresh, 'b0000000-0000-4000-8000-000000000003'),
    ]);
    assert.deepEqual(
      results.map((r) => r.planned),
      [1, 1, 0],
    );
    assert.match(results[2]?.lines.join() ?? '', /email already being paged/);
    assert.ok(results.every((r) => r.dueNow === r.planned > 0));
  });

  it('pages a contact once across escalations also for a step after a delay', async () => {
    const emailThenText = await personWith('Two steps', [
      { method: 'email', after: 0 },
      { method: 'sms', after: 5 },
    ]);
    const alert = await newAlert();
    const [first] = await plan([
      page(alert, 'c0000000-0000-4000-8000-000000000001', 'acknowledged', emailThenText),
    ]);
    assert.equal(first?.planned, 2);
    assert.match(first?.lines.join() ?? '', /email at once, sms after 5 min/);
    // Another escalation of the alert: its text in 5 minutes is the one already planned.
    const [second] = await plan([
      page(alert, 'c0000000-0000-4000-8000-000000000002', 'acknowledged', emailThenText),
    ]);
    assert.equal(second?.planned, 0, second?.lines.join());
    assert.match(
      second?.lines.join() ?? '',
      /email already being paged, sms after 5 min already being paged/,
    );

    // Only a step after a delay: nothing at once to cover, yet its message goes once, in a batch too.
    const textLater = await personWith('Text later', [{ method: 'sms', after: 1 }]);
    const later = await newAlert();
    const [one] = await plan([
      page(later, 'c0000000-0000-4000-8000-000000000003', 'acknowledged', textLater),
    ]);
    const [again] = await plan([
      page(later, 'c0000000-0000-4000-8000-000000000004', 'acknowledged', textLater),
    ]);
    assert.deepEqual([one?.planned, again?.planned], [1, 0]);
    const fresh = await newAlert();
    const batch = await plan([
      page(fresh, 'c0000000-0000-4000-8000-000000000006', 'acknowledged', textLater),
      page(fresh, 'c0000000-0000-4000-8000-000000000007', 'acknowledged', textLater),
    ]);
    assert.deepEqual(
      batch.map((r) => r.planned),
      [1, 0],
    );
  });

  it("pages someone on two of one escalation's rules with the same delay once", async () => {
    const alert = await newAlert();
    const runId = 'd0000000-0000-4000-8000-000000000001';
    // Rules 1 and 2 at once (schedules Primary and Secondary), the person on call in both.
    const results = await plan([page(alert, runId), page(alert, runId)]);
    assert.deepEqual(
      results.map((r) => r.planned),
      [1, 0],
    );
    assert.match(results[1]?.lines.join() ?? '', /email already being paged/);
  });

  it("an escalation's repeat pages again, the steps after a delay too", async () => {
    const emailThenText = await personWith('Repeated', [
      { method: 'email', after: 0 },
      { method: 'sms', after: 5 },
    ]);
    const alert = await newAlert();
    const runId = 'e0000000-0000-4000-8000-000000000001';
    const [first] = await plan([page(alert, runId, 'acknowledged', emailThenText)]);
    assert.equal(first?.planned, 2);
    // Its next cycle, run only half a minute after the first (which ran late): each step within the minute.
    const next = { ...page(alert, runId, 'acknowledged', emailThenText), now: new Date(Date.now() + 30_000) };
    const [repeat] = await plan([next]);
    assert.equal(repeat?.planned, 2, repeat?.lines.join());
  });
});

describe('the priority of a planned message', () => {
  it("is its alert's, P1..P5 as 1..5: the sender claims by it", async () => {
    const alert = { ...(await newAlert()), priority: 'P1' as const };
    const input = page(alert, 'f0000000-0000-4000-8000-000000000001');
    const [planned] = await plan([input]);
    assert.equal(planned?.planned, 1);
    const rows = await server.app.context.db
      .selectFrom('notifications')
      .select('priority')
      .where('idempotency_key', 'like', `${input.keyPrefix}:%`)
      .execute();
    assert.deepEqual(
      rows.map((r) => r.priority),
      [1],
    );
  });
});
