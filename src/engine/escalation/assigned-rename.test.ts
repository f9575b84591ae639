import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { engineByHand, type EngineByHand } from '../../testing/engine-by-hand.js';
import {
  addUserWithKey,
  createAlert,
  startTestServer,
  type TestServer,
  type TestUser,
} from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * An assignment handled by the engine after the new owner's login changed (which moves their alerts to
 * the new username): they are still told, by their assigned-alert rule, as the event names them by id.
 */

const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
let api: TestServer;
let byHand: EngineByHand;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  // No workers: the test hands the events to the engine itself, after the rename.
  api = await startTestServer({ role: 'api', clock });
  byHand = engineByHand(api, clock);
  alice = await addUserWithKey(api, 'alice', run);
  bob = await addUserWithKey(api, 'bob', run);
  await api.callOk('POST', `/v2/users/${alice.username}/notification-rules`, {
    name: 'Assigned to me',
    actionType: 'assigned-alert',
    steps: [{ contact: { method: 'email', to: alice.username }, sendAfter: { timeAmount: 0 } }],
  });
});

after(async () => {
  await api?.stop();
});

describe('an assignment handled after the new owner changed their login', () => {
  it('still tells them', async () => {
    const alertId = await createAlert(api, {
      message: `assigned then renamed ${run}`,
      responders: [{ type: 'user', username: bob.username }],
    });
    await byHand.handle(alertId, 'created');
    await api.callOk(
      'POST',
      `/v2/alerts/${alertId}/assign`,
      { owner: { username: alice.username } },
      bob.key,
    );
    const renamed = `alice.new-${run}@example.com`;
    await api.callOk('PATCH', `/v2/users/${alice.id}`, { username: renamed });
    assert.equal((await api.callOk('GET', `/v2/alerts/${alertId}`)).data.owner, renamed);

    await byHand.handle(alertId, 'owner_assigned');
    const told = await api.app.context.db
      .selectFrom('notifications')
      .select('user_id')
      .where('alert_id', '=', alertId)
      .where('kind', '=', 'assigned-alert')
      .execute();
    assert.deepEqual(
      told.map((t) => t.user_id),
      [alice.id],
    );
  });
});
