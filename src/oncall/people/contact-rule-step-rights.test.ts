import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * A contact added to a user whose "New alert" rule has no step becomes that rule's step: a change to a
 * notification rule, so it answers to notification-rules-edit as the rule API does. A custom role that
 * takes the right away is not got round by adding a contact; an org admin adding one for them still fills
 * the rule, as their rights, not the user's role, apply.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);
let phones = 0;
const ROLE = `No rule edits ${run}`;

/** A user with their own key, whose "New alert" rule has lost its only step (their email contact). */
async function userWithEmptyRule(
  local: string,
  role: string,
): Promise<{ username: string; key: string; ruleId: string }> {
  const username = `${local}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username, fullName: local, role: { name: role } });
  const key = (await server.callOk('POST', '/v2/api-keys', { name: `${local} key`, user: { username } })).data
    .key as string;
  const [email] = (await server.callOk('GET', `/v2/users/${username}/contacts`)).data as Json[];
  await server.callOk('DELETE', `/v2/users/${username}/contacts/${email?.id}`);
  const [rule] = (await server.callOk('GET', `/v2/users/${username}/notification-rules`)).data as Json[];
  assert.equal(rule?.name, 'New alert');
  const ruleId = rule?.id as string;
  assert.deepEqual(await stepsOf(username, ruleId), []);
  return { username, key, ruleId };
}

async function stepsOf(username: string, ruleId: string): Promise<Json[]> {
  return (await server.callOk('GET', `/v2/users/${username}/notification-rules/${ruleId}`)).data
    .steps as Json[];
}

const nextPhone = () => `+1415555${String(3000 + ++phones)}`;

before(async () => {
  server = await startTestServer();
  await server.callOk('POST', '/v2/roles', {
    name: ROLE,
    extendedRole: 'user',
    grantedRights: [],
    disallowedRights: ['notification-rules-edit'],
  });
});

after(async () => {
  await server?.stop();
});

describe('adding a contact to a user whose rule has no step', () => {
  it('leaves the rule alone when the caller may not change their notification rules', async () => {
    const grace = await userWithEmptyRule('grace', ROLE);
    const phone = nextPhone();
    const added = await server.call(
      'POST',
      `/v2/users/${grace.username}/contacts`,
      { method: 'sms', to: phone },
      grace.key,
    );
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(await stepsOf(grace.username, grace.ruleId), []);
    // As the rule API refuses them the same change.
    const patched = await server.call(
      'PATCH',
      `/v2/users/${grace.username}/notification-rules/${grace.ruleId}`,
      { steps: [{ contact: { method: 'sms', to: phone } }] },
      grace.key,
    );
    assert.equal(patched.status, 403, JSON.stringify(patched.body));
    assert.match(patched.body.message, /lacks the notification-rules-edit right/);
    assert.deepEqual(await stepsOf(grace.username, grace.ruleId), []);
  });

  it('fills the rule when an org admin adds the contact for them', async () => {
    const hedy = await userWithEmptyRule('hedy', ROLE);
    const phone = nextPhone();
    await server.callOk('POST', `/v2/users/${hedy.username}/contacts`, { method: 'sms', to: phone });
    assert.deepEqual(
      (await stepsOf(hedy.username, hedy.ruleId)).map((s) => s.contact),
      [{ method: 'sms', to: phone }],
    );
  });

  it('fills the rule for a user who may change their rules', async () => {
    const ada = await userWithEmptyRule('ada', 'User');
    const phone = nextPhone();
    const added = await server.call(
      'POST',
      `/v2/users/${ada.username}/contacts`,
      { method: 'sms', to: phone },
      ada.key,
    );
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(
      (await stepsOf(ada.username, ada.ruleId)).map((s) => s.contact),
      [{ method: 'sms', to: phone }],
    );
  });
});
