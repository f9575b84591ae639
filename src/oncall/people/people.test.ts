import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { notificationSetupOf } from './repository.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

async function createUser(username: string, role = 'User'): Promise<string> {
  const created = await server.call('POST', '/v2/users', {
    username,
    fullName: username,
    role: { name: role },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.data.id;
}

async function keyFor(username: string): Promise<string> {
  const key = await server.call('POST', '/v2/api-keys', { name: `${username} key`, user: { username } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  return key.body.data.key;
}

async function addContact(user: string, method: string, to: string): Promise<string> {
  const added = await server.call('POST', `/v2/users/${user}/contacts`, { method, to });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  return added.body.data.id;
}

async function contacts(user: string): Promise<Json[]> {
  const list = await server.call('GET', `/v2/users/${user}/contacts`);
  assert.equal(list.status, 200, JSON.stringify(list.body));
  return list.body.data;
}

async function rules(user: string): Promise<Json[]> {
  const list = await server.call('GET', `/v2/users/${user}/notification-rules`);
  assert.equal(list.status, 200, JSON.stringify(list.body));
  return list.body.data;
}

async function rule(user: string, id: string): Promise<Json> {
  const got = await server.call('GET', `/v2/users/${user}/notification-rules/${id}`);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  return got.body.data;
}

describe('defaults for new users', () => {
  it('gives a new user an email contact and a "New alert" rule that uses it', async () => {
    await createUser('ada@example.com');
    const list = await contacts('ada@example.com');
    assert.equal(list.length, 1);
    assert.equal(list[0].method, 'email');
    assert.equal(list[0].to, 'ada@example.com');
    assert.deepEqual(list[0].status, { enabled: true, verified: true });

    const ruleList = await rules('ada@example.com');
    assert.deepEqual(
      ruleList.map((r) => [r.name, r.actionType, r.order, r.enabled]),
      [['New alert', 'create-alert', 0, true]],
    );
    const detail = await rule('ada@example.com', ruleList[0].id);
    assert.deepEqual(detail.criteria, { type: 'match-all' });
    assert.equal(detail.steps.length, 1);
    assert.deepEqual(detail.steps[0].contact, { method: 'email', to: 'ada@example.com' });
    assert.deepEqual(detail.steps[0].sendAfter, { timeAmount: 0, timeUnit: 'minutes' });
    assert.equal(detail.steps[0].enabled, true);
  });

  it('gives the bootstrap owner the same defaults', async () => {
    const list = await contacts('admin@vigil.local');
    assert.deepEqual(
      list.map((c) => [c.method, c.to]),
      [['email', 'admin@vigil.local']],
    );
    const ruleList = await rules('admin@vigil.local');
    assert.deepEqual(
      ruleList.map((r) => r.name),
      ['New alert'],
    );
  });
});

describe('contact methods', () => {
  it('adds, reads, changes, disables and deletes contacts', async () => {
    const grace = await createUser('grace@example.com');
    const sms = await addContact('grace@example.com', 'sms', '+1 (415) 555-0123');
    const voice = await addContact('grace@example.com', 'voice', '44-7700900123');
    // A device contact made before it had to name a push subscription of the user's own: still served.
    const { id: mobile } = await server.app.context.db
      .insertInto('contact_methods')
      .values({ user_id: grace, method: 'mobile', address: 'device-7f3a:abc' })
      .returning('id')
      .executeTakeFirstOrThrow();

    const got = await server.call('GET', `/v2/users/grace@example.com/contacts/${sms}`);
    assert.equal(got.status, 200);
    // Answered as written (Opsgenie's `to`); sent to in E.164 (the contact's address, below).
    assert.deepEqual(got.body.data, {
      id: sms,
      method: 'sms',
      to: '+1 (415) 555-0123',
      // A phone is paged only once a code sent to it was entered.
      status: { enabled: true, verified: false },
    });
    assert.deepEqual(
      (await contacts('grace@example.com')).map((c) => [c.method, c.to]),
      [
        ['email', 'grace@example.com'],
        ['sms', '+1 (415) 555-0123'],
        ['voice', '44-7700900123'],
        ['mobile', 'device-7f3a:abc'],
      ].sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? '')),
    );
    const stored = await server.app.context.db
      .selectFrom('contact_methods')
      .select(['id', 'address'])
      .where('id', 'in', [sms, voice])
      .execute();
    assert.deepEqual(Object.fromEntries(stored.map((c) => [c.id, c.address])), {
      [sms]: '+14155550123',
      [voice]: '+447700900123',
    });

    const changed = await server.call('PATCH', `/v2/users/grace@example.com/contacts/${voice}`, {
      to: '+447700900999',
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(
      (await server.call('GET', `/v2/users/grace@example.com/contacts/${voice}`)).body.data.to,
      '+447700900999',
    );

    const disabled = await server.call('POST', `/v2/users/grace@example.com/contacts/${mobile}/disable`);
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.equal(disabled.body.result, 'Disabled');
    assert.deepEqual(
      (await server.call('GET', `/v2/users/grace@example.com/contacts/${mobile}`)).body.data.status,
      { enabled: false, verified: true },
    );
    await server.call('POST', `/v2/users/grace@example.com/contacts/${mobile}/enable`);
    assert.deepEqual(
      (await server.call('GET', `/v2/users/grace@example.com/contacts/${mobile}`)).body.data.status,
      { enabled: true, verified: true },
    );

    assert.equal((await server.call('DELETE', `/v2/users/grace@example.com/contacts/${mobile}`)).status, 200);
    assert.equal((await server.call('GET', `/v2/users/grace@example.com/contacts/${mobile}`)).status, 404);
    assert.equal((await server.call('DELETE', `/v2/users/grace@example.com/contacts/${mobile}`)).status, 404);
    assert.equal((await server.call('GET', '/v2/users/grace@example.com/contacts/not-a-uuid')).status, 404);
    assert.equal((await server.call('GET', `/v2/users/nobody@example.com/contacts`)).status, 404);
  });

  it('validates addresses and refuses duplicates', async () => {
    await createUser('linus@example.com');
    const refuse = async (body: unknown, field: string, status = 422) => {
      const answer = await server.call('POST', '/v2/users/linus@example.com/contacts', body);
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      if (status === 422) assert.ok(answer.body.errors?.[field], JSON.stringify(answer.body));
      return answer;
    };
    await refuse({ method: 'email', to: 'not-an-email' }, 'to');
    await refuse({ method: 'email', to: 'a@b' }, 'to');
    await refuse({ method: 'sms', to: '4155550123' }, 'to');
    await refuse({ method: 'sms', to: '+1234567' }, 'to');
    await refuse({ method: 'voice', to: '+1234567890123456' }, 'to');
    await refuse({ method: 'voice', to: '+0123456789' }, 'to');
    await refuse({ method: 'mobile', to: 'has spaces in it' }, 'to');
    // A device is added by subscribing it: an address that is no push subscription of the user's is not one.
    await refuse({ method: 'mobile', to: 'device-7f3a:abc' }, 'to');
    await refuse({ method: 'mobile', to: randomUUID() }, 'to');
    await refuse({ method: 'pager', to: 'x' }, 'method');
    await refuse({ method: 'sms' }, 'to');

    const dup = await refuse({ method: 'email', to: 'LINUS@example.com' }, 'to', 409);
    assert.match(dup.body.message, /already has/);
    await addContact('linus@example.com', 'sms', '+4915112345678');
    await refuse({ method: 'sms', to: '+49 151 1234 5678' }, 'to', 409);
    // The same number for another method is another contact.
    await addContact('linus@example.com', 'voice', '+4915112345678');

    const list = await contacts('linus@example.com');
    const email = list.find((c) => c.method === 'email');
    const badPatch = await server.call('PATCH', `/v2/users/linus@example.com/contacts/${email.id}`, {
      to: 'nope',
    });
    assert.equal(badPatch.status, 422);
    assert.ok(badPatch.body.errors.to);
  });

  it('takes a deleted contact out of the steps that used it, and fills an empty rule with a new contact', async () => {
    await createUser('barbara@example.com');
    const [newAlert] = await rules('barbara@example.com');
    const [email] = await contacts('barbara@example.com');
    assert.equal(
      (await server.call('DELETE', `/v2/users/barbara@example.com/contacts/${email.id}`)).status,
      200,
    );
    assert.deepEqual((await rule('barbara@example.com', newAlert.id)).steps, []);

    // The rule has no step left: the first contact added becomes one (sms after a minute).
    await addContact('barbara@example.com', 'sms', '+14155550100');
    const filled = await rule('barbara@example.com', newAlert.id);
    assert.deepEqual(
      filled.steps.map((s: Json) => [s.contact, s.sendAfter.timeAmount]),
      [[{ method: 'sms', to: '+14155550100' }, 1]],
    );
    // Rules that have steps are left alone.
    await addContact('barbara@example.com', 'voice', '+14155550100');
    assert.equal((await rule('barbara@example.com', newAlert.id)).steps.length, 1);
  });

  it("answers a number in Opsgenie's form as written, and pages it in E.164", async () => {
    const user = 'hedy@example.com';
    const userId = await createUser(user);
    const db = server.app.context.db;
    const sms = await addContact(user, 'sms', '39-3331234567');
    const read = async () => (await server.call('GET', `/v2/users/${user}/contacts/${sms}`)).body.data.to;
    assert.equal(await read(), '39-3331234567');
    // A step may name it either way; it answers as the contact was written.
    const made = await server.call('POST', `/v2/users/${user}/notification-rules`, {
      name: 'Texts',
      actionType: 'create-alert',
      steps: [{ contact: { method: 'sms', to: '+393331234567' } }],
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual((await rule(user, made.body.data.id)).steps[0].contact, {
      method: 'sms',
      to: '39-3331234567',
    });
    // What the engine pages: the number in E.164.
    const setup = (await notificationSetupOf(db, [userId], 'create-alert')).get(userId);
    assert.equal(setup?.contacts.get(sms)?.address, '+393331234567');
    // The same number in another spelling is the same contact.
    const dup = await server.call('POST', `/v2/users/${user}/contacts`, {
      method: 'sms',
      to: '+39 333 1234567',
    });
    assert.equal(dup.status, 409, JSON.stringify(dup.body));

    // Written again another way: only the answer changes, the number stays verified.
    const verifiedAt = new Date('2024-05-01T00:00:00Z');
    await db.updateTable('contact_methods').set({ verified_at: verifiedAt }).where('id', '=', sms).execute();
    const respelled = await server.call('PATCH', `/v2/users/${user}/contacts/${sms}`, {
      to: '+393331234567',
    });
    assert.equal(respelled.status, 200, JSON.stringify(respelled.body));
    assert.equal(await read(), '+393331234567');
    const row = await db
      .selectFrom('contact_methods')
      .select(['address', 'given_to', 'verified_at'])
      .where('id', '=', sms)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { address: '+393331234567', given_to: null, verified_at: verifiedAt });

    // A new number in Opsgenie's form: answered as written, and it has to be verified again.
    await server.call('PATCH', `/v2/users/${user}/contacts/${sms}`, { to: '39-3339876543' });
    assert.equal(await read(), '39-3339876543');
    const changed = await db
      .selectFrom('contact_methods')
      .select(['address', 'verified_at'])
      .where('id', '=', sms)
      .executeTakeFirstOrThrow();
    assert.deepEqual(changed, { address: '+393339876543', verified_at: null });
  });
});

describe('notification rules', () => {
  it('creates rules with criteria and steps, in order, and changes them', async () => {
    const user = 'margaret@example.com';
    await createUser(user);
    await addContact(user, 'sms', '+14155550111');
    await addContact(user, 'voice', '+14155550111');
    const [newAlert] = await rules(user);

    const created = await server.call('POST', `/v2/users/${user}/notification-rules`, {
      name: 'Urgent by phone',
      actionType: 'create-alert',
      order: 0,
      criteria: {
        type: 'match-all-conditions',
        conditions: [
          { field: 'priority', operation: 'equals', expectedValue: 'P1' },
          { field: 'extra-properties', key: 'env', operation: 'equals', expectedValue: 'prod' },
        ],
      },
      steps: [
        {
          contact: { method: 'voice', to: '+1 415 555 0111' },
          sendAfter: { timeAmount: 1, timeUnit: 'hours' },
        },
        { contact: { method: 'sms', to: '+14155550111' }, sendAfter: { timeAmount: 0 } },
        {
          contact: { method: 'email', to: user },
          sendAfter: { timeAmount: 5, timeUnit: 'minutes' },
          enabled: false,
        },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data.order, 0);
    const urgent = created.body.data.id;

    const note = await server.call('POST', `/v2/users/${user}/notification-rules`, {
      name: 'Notes',
      actionType: 'add-note',
    });
    assert.equal(note.status, 201);

    assert.deepEqual(
      (await rules(user)).map((r) => [r.name, r.actionType, r.order]),
      [
        ['Notes', 'add-note', 0],
        ['Urgent by phone', 'create-alert', 0],
        ['New alert', 'create-alert', 1],
      ],
    );

    const detail = await rule(user, urgent);
    assert.deepEqual(detail.criteria, {
      type: 'match-all-conditions',
      conditions: [
        { field: 'priority', not: false, operation: 'equals', expectedValue: 'P1', order: 0 },
        {
          field: 'extra-properties',
          key: 'env',
          not: false,
          operation: 'equals',
          expectedValue: 'prod',
          order: 1,
        },
      ],
    });
    // Steps are kept in the order given, as Opsgenie keeps them (Terraform's step list is ordered); each
    // still fires after its own delay.
    assert.deepEqual(
      detail.steps.map((s: Json) => [s.contact.method, s.sendAfter.timeAmount, s.enabled]),
      [
        ['voice', 60, true],
        ['sms', 0, true],
        ['email', 5, false],
      ],
    );

    // Move "New alert" first, rename, and replace the steps.
    const moved = await server.call('PATCH', `/v2/users/${user}/notification-rules/${newAlert.id}`, {
      order: 0,
      name: 'Every new alert',
      steps: [{ contact: { method: 'voice', to: '+14155550111' }, sendAfter: { timeAmount: 3 } }],
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(
      (await rules(user)).filter((r) => r.actionType === 'create-alert').map((r) => [r.name, r.order]),
      [
        ['Every new alert', 0],
        ['Urgent by phone', 1],
      ],
    );
    assert.deepEqual(
      (await rule(user, newAlert.id)).steps.map((s: Json) => [s.contact.method, s.sendAfter.timeAmount]),
      [['voice', 3]],
    );

    const disabled = await server.call('POST', `/v2/users/${user}/notification-rules/${urgent}/disable`);
    assert.equal(disabled.status, 200);
    assert.equal((await rule(user, urgent)).enabled, false);
    await server.call('POST', `/v2/users/${user}/notification-rules/${urgent}/enable`);
    assert.equal((await rule(user, urgent)).enabled, true);

    const criteria = await server.call('PATCH', `/v2/users/${user}/notification-rules/${urgent}`, {
      criteria: { type: 'match-all' },
    });
    assert.equal(criteria.status, 200);
    assert.deepEqual((await rule(user, urgent)).criteria, { type: 'match-all' });

    // Deleting the first rule closes the gap.
    assert.equal(
      (await server.call('DELETE', `/v2/users/${user}/notification-rules/${newAlert.id}`)).status,
      200,
    );
    assert.deepEqual(
      (await rules(user)).filter((r) => r.actionType === 'create-alert').map((r) => [r.name, r.order]),
      [['Urgent by phone', 0]],
    );
    assert.equal(
      (await server.call('GET', `/v2/users/${user}/notification-rules/${newAlert.id}`)).status,
      404,
    );
  });

  it("refuses steps whose contact is not the user's, and bad criteria, naming the field", async () => {
    const user = 'edsger@example.com';
    await createUser(user);
    const post = (body: unknown) => server.call('POST', `/v2/users/${user}/notification-rules`, body);

    const notMine = await post({
      name: 'x',
      actionType: 'create-alert',
      steps: [{ contact: { method: 'email', to: user } }, { contact: { method: 'sms', to: '+14155550199' } }],
    });
    assert.equal(notMine.status, 422, JSON.stringify(notMine.body));
    assert.match(notMine.body.errors['steps[1].contact'], /not one of/);

    const badNumber = await post({
      name: 'x',
      actionType: 'create-alert',
      steps: [{ contact: { method: 'sms', to: 'call me' } }],
    });
    assert.equal(badNumber.status, 422);
    assert.ok(badNumber.body.errors['steps[0].contact.to'], JSON.stringify(badNumber.body));

    const badRegex = await post({
      name: 'x',
      actionType: 'create-alert',
      criteria: {
        type: 'match-any-condition',
        conditions: [{ field: 'message', operation: 'matches', expectedValue: '(a)\\1' }],
      },
    });
    assert.equal(badRegex.status, 422);
    assert.ok(badRegex.body.errors['criteria.conditions[0].expectedValue'], JSON.stringify(badRegex.body));

    const badField = await post({
      name: 'x',
      actionType: 'create-alert',
      criteria: { type: 'match-any-condition', conditions: [{ field: 'teams', operation: 'contains' }] },
    });
    assert.equal(badField.status, 422);
    assert.ok(badField.body.errors['criteria.conditions[0].field'], JSON.stringify(badField.body));

    const badType = await post({ name: 'x', actionType: 'schedule-start' });
    assert.equal(badType.status, 422);
    assert.ok(badType.body.errors.actionType);

    const tooLate = await post({
      name: 'x',
      actionType: 'create-alert',
      steps: [{ contact: { method: 'email', to: user }, sendAfter: { timeAmount: 200, timeUnit: 'hours' } }],
    });
    assert.equal(tooLate.status, 422);
    assert.ok(tooLate.body.errors['steps[0].sendAfter'], JSON.stringify(tooLate.body));

    assert.equal((await rules(user)).length, 1);
  });

  it('manages the steps of a rule as a sub-resource', async () => {
    const user = 'donald@example.com';
    await createUser(user);
    const sms = '+14155550122';
    await addContact(user, 'sms', sms);
    const created = await server.call('POST', `/v2/users/${user}/notification-rules`, {
      name: 'Closed',
      actionType: 'closed-alert',
    });
    const ruleId = created.body.data.id;
    const base = `/v2/users/${user}/notification-rules/${ruleId}/steps`;

    const first = await server.call('POST', base, {
      contact: { method: 'sms', to: sms },
      sendAfter: { timeAmount: 10 },
    });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await server.call('POST', base, { contact: { method: 'email', to: user } });
    assert.equal(second.status, 201);
    const stranger = await server.call('POST', base, { contact: { method: 'email', to: 'x@example.com' } });
    assert.equal(stranger.status, 422);
    assert.ok(stranger.body.errors.contact, JSON.stringify(stranger.body));

    const list = await server.call('GET', base);
    // In the order added, not by delay.
    assert.deepEqual(
      list.body.data.map((s: Json) => [s.id, s.contact.method, s.sendAfter.timeAmount]),
      [
        [first.body.data.id, 'sms', 10],
        [second.body.data.id, 'email', 0],
      ],
    );

    const patched = await server.call('PATCH', `${base}/${second.body.data.id}`, {
      sendAfter: { timeAmount: 1, timeUnit: 'hours' },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const got = await server.call('GET', `${base}/${second.body.data.id}`);
    assert.deepEqual(got.body.data.sendAfter, { timeAmount: 60, timeUnit: 'minutes' });
    assert.deepEqual(
      (await server.call('GET', base)).body.data.map((s: Json) => s.contact.method),
      ['sms', 'email'],
    );

    assert.equal((await server.call('POST', `${base}/${first.body.data.id}/disable`)).status, 200);
    assert.equal((await server.call('GET', `${base}/${first.body.data.id}`)).body.data.enabled, false);

    assert.equal((await server.call('DELETE', `${base}/${first.body.data.id}`)).status, 200);
    assert.equal((await server.call('GET', `${base}/${first.body.data.id}`)).status, 404);
    assert.equal((await server.call('DELETE', `${base}/${first.body.data.id}`)).status, 404);
    assert.equal((await server.call('GET', base)).body.data.length, 1);
  });
});

describe('permissions', () => {
  it("lets users manage their own contacts and rules, not someone else's; admins manage anyone's", async () => {
    await createUser('alan@example.com');
    await createUser('joan@example.com');
    const alan = await keyFor('alan@example.com');

    const own = await server.call(
      'POST',
      '/v2/users/alan@example.com/contacts',
      { method: 'sms', to: '+442079460000' },
      alan,
    );
    assert.equal(own.status, 201, JSON.stringify(own.body));
    const ownRule = await server.call(
      'POST',
      '/v2/users/alan@example.com/notification-rules',
      { name: 'Acks', actionType: 'acknowledged-alert' },
      alan,
    );
    assert.equal(ownRule.status, 201);

    const theirs = await server.call(
      'POST',
      '/v2/users/joan@example.com/contacts',
      { method: 'sms', to: '+442079460001' },
      alan,
    );
    assert.equal(theirs.status, 403);
    const theirRule = await server.call(
      'POST',
      '/v2/users/joan@example.com/notification-rules',
      { name: 'x', actionType: 'create-alert' },
      alan,
    );
    assert.equal(theirRule.status, 403);
    const [joansRule] = await rules('joan@example.com');
    assert.equal(
      (
        await server.call(
          'DELETE',
          `/v2/users/joan@example.com/notification-rules/${joansRule.id}`,
          undefined,
          alan,
        )
      ).status,
      403,
    );
    const [joansEmail] = await contacts('joan@example.com');
    assert.equal(
      (
        await server.call(
          'POST',
          `/v2/users/joan@example.com/contacts/${joansEmail.id}/disable`,
          undefined,
          alan,
        )
      ).status,
      403,
    );

    // Reading is for the user, org admins and admins of the user's teams (contact-access.test.ts).
    assert.equal(
      (await server.call('GET', '/v2/users/joan@example.com/contacts', undefined, alan)).status,
      403,
    );
    assert.equal(
      (await server.call('GET', '/v2/users/joan@example.com/notification-rules', undefined, alan)).status,
      403,
    );

    // The org owner (the test server's key) manages anyone's.
    const byAdmin = await server.call('POST', '/v2/users/alan@example.com/contacts', {
      method: 'voice',
      to: '+442079460000',
    });
    assert.equal(byAdmin.status, 201);
  });
});

describe('notificationSetupOf', () => {
  it("gives each unblocked user's enabled rules of the action type, in order, and enabled contacts", async () => {
    const katherineId = await createUser('katherine@example.com');
    const dorothyId = await createUser('dorothy@example.com');
    const maryId = await createUser('mary@example.com');
    const db = server.app.context.db;

    const sms = await addContact('katherine@example.com', 'sms', '+14155550140');
    const voice = await addContact('katherine@example.com', 'voice', '+14155550140');
    await server.call('POST', `/v2/users/katherine@example.com/contacts/${voice}/disable`);
    const first = await server.call('POST', '/v2/users/katherine@example.com/notification-rules', {
      name: 'First',
      actionType: 'create-alert',
      order: 0,
      steps: [{ contact: { method: 'sms', to: '+14155550140' } }],
    });
    const off = await server.call('POST', '/v2/users/katherine@example.com/notification-rules', {
      name: 'Off',
      actionType: 'create-alert',
      enabled: false,
    });
    assert.equal(off.status, 201);
    await server.call('POST', '/v2/users/katherine@example.com/notification-rules', {
      name: 'Acks',
      actionType: 'acknowledged-alert',
    });
    const blocked = await server.call('PATCH', '/v2/users/mary@example.com', { blocked: true });
    assert.equal(blocked.status, 200);

    const setups = await notificationSetupOf(
      db,
      [katherineId, dorothyId, maryId, katherineId, randomUUID()],
      'create-alert',
    );
    assert.deepEqual([...setups.keys()].sort(), [katherineId, dorothyId].sort());

    const katherine = setups.get(katherineId);
    assert.ok(katherine);
    assert.equal(katherine.user.username, 'katherine@example.com');
    assert.deepEqual(
      katherine.rules.map((r) => r.name),
      ['First', 'New alert'],
    );
    assert.equal(katherine.rules[0]?.id, first.body.data.id);
    assert.equal(katherine.rules[0]?.steps[0]?.contactId, sms);
    assert.deepEqual([...katherine.contacts.values()].map((c) => [c.method, c.address, c.enabled]).sort(), [
      ['email', 'katherine@example.com', true],
      ['sms', '+14155550140', true],
    ]);
    assert.ok(katherine.contacts.get(sms)?.created_at instanceof Date);

    const dorothy = setups.get(dorothyId);
    assert.deepEqual(
      dorothy?.rules.map((r) => r.name),
      ['New alert'],
    );
    const dorothyEmail = [...(dorothy?.contacts.values() ?? [])][0];
    assert.equal(dorothy?.rules[0]?.steps[0]?.contactId, dorothyEmail?.id);

    assert.equal((await notificationSetupOf(db, [], 'create-alert')).size, 0);
    const acks = await notificationSetupOf(db, [katherineId], 'acknowledged-alert');
    assert.deepEqual(
      acks.get(katherineId)?.rules.map((r) => r.name),
      ['Acks'],
    );
  });
});
