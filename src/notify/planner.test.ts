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

function page(alert: AlertRow, runId: string, stopOn: PlanInput['stopOn'] = 'acknowledged'): PlanInput {
  return {
    alert,
    kind: 'create-alert',
    recipients: [{ id: userId, why: 'named in the escalation' }],
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
});
