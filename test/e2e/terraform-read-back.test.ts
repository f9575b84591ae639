import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../src/testing/harness.js';

/**
 * Issue 13, Terraform unchanged: Opsgenie's Terraform provider (opsgenie/terraform-provider-opsgenie) reads
 * every resource back after Create and on each `terraform plan`, and a field whose GET answer differs from
 * what Create sent is a change on every plan, or "Provider produced inconsistent result after apply".
 *
 * Neither the provider nor its Go SDK (opsgenie/opsgenie-go-sdk-v2) runs here, so each test sends the body
 * the SDK marshals from the provider's request struct — field names, `omitempty` rules (an empty string or
 * slice left out, a `*bool` false sent, a non-pointer struct sent as `{}`, the `json:"type, omitempty"` typo
 * that makes `username: ""` always present), the trailing newline of Go's json.Encoder, `Content-Type:`
 * empty on GET and DELETE — then reads the resource with the SDK's GET and checks what the provider's Read
 * copies into the state against what was configured: same values, same case, same order where the schema
 * is a TypeList, times as Go formats them.
 */

let server: TestServer;
const run = randomUUID().replaceAll('-', '').slice(0, 8);

interface Answer {
  status: number;
  body: Json;
}

/** One request as the Go SDK's client.buildHttpRequest makes it. */
async function goSdk(method: string, path: string, body?: Json): Promise<Answer> {
  const headers: Record<string, string> = {
    Authorization: `GenieKey ${server.key}`,
    Accept: 'application/json',
    'User-Agent': 'opsgenie-go-sdk-2.0.0 go1.22.5 (linux/amd64)',
  };
  let payload: string | undefined;
  if (method === 'GET' || method === 'DELETE') {
    headers['Content-Type'] = '';
  } else {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    payload = `${JSON.stringify(body ?? {})}\n`;
  }
  const response = await fetch(server.url + path, { method, headers, body: payload });
  const text = await response.text();
  let parsed: Json = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the failure message
  }
  return { status: response.status, body: parsed };
}

/** As goSdk, for calls the provider needs to succeed; the SDK turns any status >= 400 into an error. */
async function goSdkOk(method: string, path: string, body?: Json): Promise<Json> {
  const answer = await goSdk(method, path, body);
  assert.ok(
    answer.status < 400,
    `${method} ${path} ${body === undefined ? '' : JSON.stringify(body)} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
  );
  return answer.body;
}

/**
 * What Go's `t.Format("2006-01-02T15:04:05Z")` prints for a time.Time parsed from `text`: the wall clock
 * in the offset the text gave, then a literal Z. Only a UTC answer reads back as the configured string.
 */
function goFormatLiteralZ(text: string): string {
  const parts = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  assert.ok(parts, `${JSON.stringify(text)} is not an RFC 3339 time Go's time.Time unmarshals`);
  return `${parts[1]}Z`;
}

const sortedStrings = (values: Json): string[] => [...((values as string[] | undefined) ?? [])].sort();

/** What the provider's flatten functions keep of an og.Condition. */
const conditionState = (c: Json) => ({
  field: c.field,
  operation: c.operation,
  key: c.key ?? '',
  not: c.not ?? false,
  expected_value: c.expectedValue ?? '',
  order: c.order,
});

/** What the provider's flatten functions keep of a weekday-and-time-of-day og.Restriction. */
const restrictionState = (r: Json) => ({
  start_day: r.startDay,
  end_day: r.endDay,
  start_hour: r.startHour,
  start_min: r.startMin,
  end_hour: r.endHour,
  end_min: r.endMin,
});

const hourState = (r: Json) => ({
  start_hour: r.startHour,
  start_min: r.startMin,
  end_hour: r.endHour,
  end_min: r.endMin,
});

interface User {
  id: string;
  username: string;
}

/** What flattenOpsGenieNotificationRuleSteps keeps of a rule's steps. */
const ruleSteps = (rule: Json) =>
  (rule.steps as Json[]).map((s) => ({
    enabled: s.enabled,
    contact: [{ to: s.contact.to, method: s.contact.method }],
    send_after: s.sendAfter?.timeAmount ?? 0,
  }));

/** user.CreateRequest as opsgenie_user sends it with every field configured. */
const fullUserBody = {
  fullName: 'Dana Scully',
  role: { name: 'User' },
  skypeUsername: 'dana.scully',
  userAddress: {
    country: 'US',
    state: 'DC',
    city: 'Washington',
    line: '935 Pennsylvania Ave',
    zipCode: '20535',
  },
  tags: ['fbi', 'xfiles'],
  details: { unit: ['x-files'] },
  timeZone: 'Europe/Rome',
  locale: 'it_IT',
};

/** What resourceOpsGenieUserRead keeps of a user (user_address only when its country is set). */
const userState = (user: Json) => ({
  username: user.username,
  full_name: user.fullName,
  role: user.role?.name,
  locale: user.locale,
  timezone: user.timeZone,
  tags: sortedStrings(user.tags),
  skype_username: user.skypeUsername ?? '',
  user_address:
    user.userAddress && user.userAddress.country
      ? {
          country: user.userAddress.country,
          state: user.userAddress.state,
          city: user.userAddress.city,
          line: user.userAddress.line,
          zipcode: user.userAddress.zipCode,
        }
      : undefined,
});

/** What resourceOpsGenieTeamRead keeps of a team. */
const teamState = (team: Json) => ({
  name: team.name,
  description: team.description ?? '',
  member: ((team.members ?? []) as Json[]).map((m) => ({ id: m.user.id, role: m.role })),
});
const memberState = (members: { user: { id: string }; role: string }[]) =>
  members.map((m) => ({ id: m.user.id, role: m.role }));

let alice: User;
let bob: User;
let carol: User;
/** A team made through the SDK body, owning the resources below. */
let payments: { id: string; name: string };

async function createUser(local: string, extra: Json = {}): Promise<User> {
  const username = `${local}.${run}@example.com`;
  // opsgenie_user's Create: user.CreateRequest always carries userAddress (a pointer to a struct whose
  // fields are all omitempty) and role; tags and details are left out when empty.
  const made = await goSdkOk('POST', '/v2/users', {
    username,
    fullName: `${local} ${run}`,
    role: { name: 'User' },
    userAddress: {},
    timeZone: 'America/New_York',
    locale: 'en_US',
    ...extra,
  });
  return { id: made.data.id, username };
}

before(async () => {
  server = await startTestServer();
  alice = await createUser('alice');
  bob = await createUser('bob');
  carol = await createUser('carol');
  const name = `payments_${run}`;
  await goSdkOk('POST', '/v2/teams', {
    name,
    members: [{ user: { id: alice.id }, role: 'admin' }],
  });
  const team = await goSdkOk('GET', `/v2/teams/${name}?identifierType=name`);
  payments = { id: team.data.id, name };
});

after(async () => {
  await server?.stop();
});

describe('Terraform opsgenie provider: what Read gets back is what Create sent', () => {
  // resource_opsgenie_team.go: Create posts team.CreateTeamRequest, then GETs the team by name for its id;
  // Read sets name, description and member (a TypeList: order matters) as [{id: user.id, role}].
  it('opsgenie_team: name, description and members with their roles', async () => {
    const name = `sre_${run}`;
    // Listed in username order here; the test below lists them in another.
    const members = [
      { user: { id: alice.id }, role: 'admin' },
      { user: { id: bob.id }, role: 'user' },
      { user: { id: carol.id }, role: 'user' },
    ];
    await goSdkOk('POST', '/v2/teams', { description: 'Site reliability', name, members });
    const byName = await goSdkOk('GET', `/v2/teams/${name}?identifierType=name`);
    const id = byName.data.id;
    assert.ok(id, 'the GET by name gives the id Create stores');

    const read = async () => teamState((await goSdkOk('GET', `/v2/teams/${id}?identifierType=id`)).data);
    assert.deepEqual(await read(), { name, description: 'Site reliability', member: memberState(members) });

    // Update: team.UpdateTeamRequest carries the id in the body too. It is a PATCH: the description, left
    // out when empty (omitempty), keeps its value, in Opsgenie too.
    const changed = [
      { user: { id: bob.id }, role: 'admin' },
      { user: { id: carol.id }, role: 'user' },
    ];
    await goSdkOk('PATCH', `/v2/teams/${id}`, { id, name, description: 'SRE', members: changed });
    assert.deepEqual(await read(), { name, description: 'SRE', member: memberState(changed) });
  });

  it('opsgenie_team: members listed out of username order read back in their order', async () => {
    const name = `dba_${run}`;
    const members = [
      { user: { id: carol.id }, role: 'user' },
      { user: { id: alice.id }, role: 'admin' },
    ];
    await goSdkOk('POST', '/v2/teams', { name, members });
    const team = (await goSdkOk('GET', `/v2/teams/${name}?identifierType=name`)).data;
    assert.deepEqual(teamState(team).member, memberState(members));
  });

  // resource_opsgenie_team_membership.go: Create posts team.AddTeamMemberRequest; Read finds the user among
  // the team's members and sets role (default "user") from it.
  it('opsgenie_team_membership: the member added is in the team with the role given', async () => {
    await goSdkOk('POST', `/v2/teams/${payments.id}/members?teamIdentifierType=id`, {
      user: { id: bob.id },
      role: 'user',
    });
    const team = (await goSdkOk('GET', `/v2/teams/${payments.id}?identifierType=id`)).data;
    const member = (team.members as Json[]).find((m) => m.user.id === bob.id);
    assert.equal(member?.role, 'user');
    // Delete: team.RemoveTeamMemberRequest, by id, Content-Type empty.
    await goSdkOk('DELETE', `/v2/teams/${payments.id}/members/${bob.id}?teamIdentifierType=id`);
    const after = (await goSdkOk('GET', `/v2/teams/${payments.id}?identifierType=id`)).data;
    assert.equal(
      (after.members as Json[]).find((m) => m.user.id === bob.id),
      undefined,
    );
  });

  // resource_opsgenie_user.go: Read sets username, full_name, role (role.name), locale, timezone (timeZone),
  // tags, skype_username, and user_address only when its country is not empty.
  it('opsgenie_user: username, full name, role, locale and time zone as sent', async () => {
    const username = `dana.${run}@example.com`;
    const made = await goSdkOk('POST', '/v2/users', { ...fullUserBody, username });
    const id = made.data.id;
    const read = async () => userState((await goSdkOk('GET', `/v2/users/${id}`)).data);
    const core = (state: ReturnType<typeof userState>) => ({
      username: state.username,
      full_name: state.full_name,
      role: state.role,
      locale: state.locale,
      timezone: state.timezone,
    });
    assert.deepEqual(core(await read()), {
      username,
      full_name: 'Dana Scully',
      role: 'User',
      locale: 'it_IT',
      timezone: 'Europe/Rome',
    });

    // Update: user.UpdateRequest without username (omitempty: the provider does not set it) and an empty
    // address when none is configured.
    await goSdkOk('PATCH', `/v2/users/${id}`, {
      fullName: 'Dana K. Scully',
      role: { name: 'Admin' },
      userAddress: {},
      timeZone: 'America/New_York',
      locale: 'en_US',
    });
    assert.deepEqual(core(await read()), {
      username,
      full_name: 'Dana K. Scully',
      role: 'Admin',
      locale: 'en_US',
      timezone: 'America/New_York',
    });

    // A user made with the provider's defaults only: Read sets no address and empty skype and tags.
    const plain = await createUser('plain');
    const plainState = userState((await goSdkOk('GET', `/v2/users/${plain.id}`)).data);
    assert.equal(plainState.user_address, undefined);
    assert.equal(plainState.skype_username, '');
    assert.deepEqual(plainState.tags, []);
    assert.equal(plainState.timezone, 'America/New_York');
    assert.equal(plainState.locale, 'en_US');
  });

  it('opsgenie_user: tags, skype username and address read back', async () => {
    const made = await goSdkOk('POST', '/v2/users', {
      ...fullUserBody,
      username: `fox.${run}@example.com`,
    });
    const state = userState((await goSdkOk('GET', `/v2/users/${made.data.id}`)).data);
    assert.deepEqual(
      { tags: state.tags, skype_username: state.skype_username, user_address: state.user_address },
      {
        tags: ['fbi', 'xfiles'],
        skype_username: 'dana.scully',
        user_address: {
          country: 'US',
          state: 'DC',
          city: 'Washington',
          line: '935 Pennsylvania Ave',
          zipcode: '20535',
        },
      },
    );
  });

  // resource_opsgenie_user_contact.go: Create posts contact.CreateRequest {to, method} to the username's
  // contacts, then POSTs .../enable or .../disable (an empty struct: "{}"); Read sets method, to and
  // enabled (status.enabled).
  it('opsgenie_user_contact: method, to as written, and enabled', async () => {
    const base = `/v2/users/${encodeURIComponent(alice.username)}/contacts`;
    const read = async (contactId: string) => {
      const c = (await goSdkOk('GET', `${base}/${contactId}`)).data;
      return { method: c.method, to: c.to, enabled: c.status?.enabled };
    };
    // A number written in E.164; the next test writes it in Opsgenie's own form.
    const sms = await goSdkOk('POST', base, { to: '+393331234567', method: 'sms' });
    const smsId = sms.data.id;
    await goSdkOk('POST', `${base}/${smsId}/disable`, {});
    assert.deepEqual(await read(smsId), { method: 'sms', to: '+393331234567', enabled: false });

    const email = await goSdkOk('POST', base, { to: `Alice.Pager.${run}@Example.com`, method: 'email' });
    await goSdkOk('POST', `${base}/${email.data.id}/enable`, {});
    assert.deepEqual(await read(email.data.id), {
      method: 'email',
      to: `Alice.Pager.${run}@Example.com`,
      enabled: true,
    });

    // Update: contact.UpdateRequest {to}, then enable.
    await goSdkOk('PATCH', `${base}/${smsId}`, { to: '+393339876543' });
    await goSdkOk('POST', `${base}/${smsId}/enable`, {});
    assert.deepEqual(await read(smsId), { method: 'sms', to: '+393339876543', enabled: true });
  });

  it('opsgenie_user_contact: a number in Opsgenie\'s "countryCode-number" form reads back as written', async () => {
    const base = `/v2/users/${encodeURIComponent(bob.username)}/contacts`;
    const sms = await goSdkOk('POST', base, { to: '39-3331234567', method: 'sms' });
    assert.equal((await goSdkOk('GET', `${base}/${sms.data.id}`)).data.to, '39-3331234567');
  });

  // resource_opsgenie_notification_rule.go: Create posts notification.CreateRuleRequest; Read sets name,
  // action_type, notification_time, enabled, order, steps (TypeList: [{enabled, contact [{to, method}],
  // send_after}]) and time_restriction.
  it('opsgenie_notification_rule: name, action type, enabled, order and steps with contacts and delays', async () => {
    const base = `/v2/users/${encodeURIComponent(carol.username)}/notification-rules`;
    const contacts = `/v2/users/${encodeURIComponent(carol.username)}/contacts`;
    await goSdkOk('POST', contacts, { to: `carol.pager.${run}@example.com`, method: 'email' });
    await goSdkOk('POST', contacts, { to: '+15551234567', method: 'sms' });
    // Steps as the provider sends them: sendAfter only when send_after > 0, always in "minute".
    const body = {
      name: `Pages ${run}`,
      actionType: 'create-alert',
      steps: [
        { contact: { to: `carol.pager.${run}@example.com`, method: 'email' }, enabled: false },
        {
          contact: { to: '+15551234567', method: 'sms' },
          sendAfter: { timeAmount: 5, timeUnit: 'minute' },
          enabled: true,
        },
      ],
      enabled: true,
    };
    const made = await goSdkOk('POST', base, body);
    const id = made.data.id;
    const rule = (await goSdkOk('GET', `${base}/${id}`)).data;
    assert.equal(rule.name, body.name);
    assert.equal(rule.actionType, 'create-alert');
    assert.equal(rule.enabled, true);
    assert.deepEqual(rule.notificationTime ?? [], []);
    assert.equal(typeof rule.order, 'number', 'order is Computed: any number, but a number');
    assert.deepEqual(ruleSteps(rule), [
      { enabled: false, contact: [{ to: `carol.pager.${run}@example.com`, method: 'email' }], send_after: 0 },
      { enabled: true, contact: [{ to: '+15551234567', method: 'sms' }], send_after: 5 },
    ]);

    // Update: notification.UpdateRuleRequest (no name, no actionType), the order Read stored sent back.
    await goSdkOk('PATCH', `${base}/${id}`, {
      steps: [
        { contact: { to: `carol.pager.${run}@example.com`, method: 'email' }, enabled: true },
        {
          contact: { to: '+15551234567', method: 'sms' },
          sendAfter: { timeAmount: 90, timeUnit: 'minute' },
          enabled: true,
        },
      ],
      order: rule.order,
      enabled: false,
    });
    const updated = (await goSdkOk('GET', `${base}/${id}`)).data;
    assert.equal(updated.enabled, false);
    assert.equal(updated.order, rule.order);
    assert.deepEqual(ruleSteps(updated), [
      { enabled: true, contact: [{ to: `carol.pager.${run}@example.com`, method: 'email' }], send_after: 0 },
      { enabled: true, contact: [{ to: '+15551234567', method: 'sms' }], send_after: 90 },
    ]);
  });

  it('opsgenie_notification_rule: a time restriction and repeat are kept, steps in the order given', async () => {
    const base = `/v2/users/${encodeURIComponent(alice.username)}/notification-rules`;
    const contacts = `/v2/users/${encodeURIComponent(alice.username)}/contacts`;
    await goSdkOk('POST', contacts, { to: `alice.night.${run}@example.com`, method: 'email' });
    const restrictions = [
      { startDay: 'monday', startHour: 22, startMin: 0, endHour: 6, endDay: 'tuesday', endMin: 30 },
    ];
    const made = await goSdkOk('POST', base, {
      name: `Night ${run}`,
      actionType: 'create-alert',
      timeRestriction: { type: 'weekday-and-time-of-day', restrictions, restriction: {} },
      steps: [
        {
          contact: { to: `alice.night.${run}@example.com`, method: 'email' },
          sendAfter: { timeAmount: 5, timeUnit: 'minute' },
          enabled: true,
        },
        { contact: { to: alice.username, method: 'email' }, enabled: true },
      ],
      repeat: { loopAfter: 2, enabled: true },
      enabled: true,
    });
    const rule = (await goSdkOk('GET', `${base}/${made.data.id}`)).data;
    assert.equal(rule.timeRestriction?.type, 'weekday-and-time-of-day');
    assert.deepEqual(
      (rule.timeRestriction.restrictions as Json[]).map(restrictionState),
      restrictions.map(restrictionState),
    );
    assert.deepEqual(
      ruleSteps(rule).map((s) => s.send_after),
      [5, 0],
    );
    // Kept and read back; Vigil repeats a create-alert rule's steps (docs/oncall.md).
    assert.deepEqual(rule.repeat, { loopAfter: 2, enabled: true });
  });

  // resource_opsgenie_escalation.go: Create posts escalation.CreateRequest (repeat is always a pointer,
  // "{}" when not configured); Read sets name, description, rules (TypeList: [{notify_type, condition, delay:
  // delay.timeAmount, recipient [{id, type}]}]), owner_team_id and, when configured, repeat.
  it('opsgenie_escalation: rules in their order with recipients, delays, owner team and repeat', async () => {
    const rules = [
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        recipient: { type: 'user', id: alice.id, username: '' },
        delay: { timeAmount: 0 },
      },
      {
        condition: 'if-not-closed',
        notifyType: 'all',
        recipient: { type: 'team', id: payments.id, username: '' },
        delay: { timeAmount: 5 },
      },
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        recipient: { type: 'user', id: bob.id, username: '' },
        delay: { timeAmount: 10 },
      },
    ];
    const state = (e: Json) => ({
      name: e.name,
      description: e.description ?? '',
      owner_team_id: e.ownerTeam?.id,
      rules: (e.rules as Json[]).map((r) => ({
        condition: r.condition,
        notify_type: r.notifyType,
        delay: r.delay?.timeAmount,
        recipient: [{ id: r.recipient.id, type: r.recipient.type }],
      })),
      repeat: e.repeat && {
        count: e.repeat.count ?? 0,
        wait_interval: e.repeat.waitInterval ?? 0,
        close_alert_after_all: e.repeat.closeAlertAfterAll ?? false,
        reset_recipient_states: e.repeat.resetRecipientStates ?? false,
      },
    });
    const expectedRules = rules.map((r) => ({
      condition: r.condition,
      notify_type: r.notifyType,
      delay: r.delay.timeAmount,
      recipient: [{ id: r.recipient.id, type: r.recipient.type }],
    }));

    const name = `payments-escalation-${run}`;
    const made = await goSdkOk('POST', '/v2/escalations', {
      name,
      rules,
      ownerTeam: { id: payments.id },
      repeat: {},
    });
    const id = made.data.id;
    const read = async () => state((await goSdkOk('GET', `/v2/escalations/${id}?identifierType=id`)).data);
    // Read sets repeat only when it is configured; "repeat": {} is no repeat.
    assert.deepEqual(await read(), {
      name,
      description: '',
      owner_team_id: payments.id,
      rules: expectedRules,
      repeat: undefined,
    });

    // Update with a repeat block: escalation.UpdateRequest, the same shape.
    await goSdkOk('PATCH', `/v2/escalations/${id}?identifierType=id`, {
      name,
      description: 'Pages the payments on-call',
      rules,
      ownerTeam: { id: payments.id },
      repeat: { waitInterval: 5, count: 2, resetRecipientStates: false, closeAlertAfterAll: true },
    });
    assert.deepEqual(await read(), {
      name,
      description: 'Pages the payments on-call',
      owner_team_id: payments.id,
      rules: expectedRules,
      repeat: { count: 2, wait_interval: 5, close_alert_after_all: true, reset_recipient_states: false },
    });

    // A repeat block with wait_interval = 0: omitempty leaves waitInterval out.
    const configured = {
      name,
      description: 'Pages the payments on-call',
      rules,
      ownerTeam: { id: payments.id },
    };
    await goSdkOk('PATCH', `/v2/escalations/${id}?identifierType=id`, {
      ...configured,
      repeat: { count: 3, resetRecipientStates: false, closeAlertAfterAll: false },
    });
    assert.deepEqual((await read()).repeat, {
      count: 3,
      wait_interval: 0,
      close_alert_after_all: false,
      reset_recipient_states: false,
    });

    // The repeat block removed from the configuration: "repeat": {} again, and no repeat is left.
    await goSdkOk('PATCH', `/v2/escalations/${id}?identifierType=id`, { ...configured, repeat: {} });
    assert.equal((await read()).repeat, undefined);
  });

  // resource_opsgenie_schedule.go: Create posts schedule.CreateRequest (enabled always sent, false when not
  // configured); Read sets name, owner_team_id, timezone, description and enabled.
  it('opsgenie_schedule: name, description, timezone, enabled and owner team', async () => {
    const state = (s: Json) => ({
      name: s.name,
      description: s.description ?? '',
      timezone: s.timezone,
      enabled: s.enabled,
      owner_team_id: s.ownerTeam?.id,
    });
    const name = `payments_schedule_${run}`;
    const made = await goSdkOk('POST', '/v2/schedules', {
      name,
      description: 'Primary on-call',
      timezone: 'Europe/Rome',
      enabled: true,
      ownerTeam: { id: payments.id },
    });
    const id = made.data.id;
    const read = async () => state((await goSdkOk('GET', `/v2/schedules/${id}?identifierType=id`)).data);
    assert.deepEqual(await read(), {
      name,
      description: 'Primary on-call',
      timezone: 'Europe/Rome',
      enabled: true,
      owner_team_id: payments.id,
    });

    // The provider's defaults only: no timezone (Opsgenie takes the account's; Vigil, UTC) and enabled false.
    const plain = await goSdkOk('POST', '/v2/schedules', { name: `plain_schedule_${run}`, enabled: false });
    const plainState = state((await goSdkOk('GET', `/v2/schedules/${plain.data.id}?identifierType=id`)).data);
    assert.deepEqual(
      { enabled: plainState.enabled, timezone: plainState.timezone },
      { enabled: false, timezone: 'UTC' },
    );

    // Update: schedule.UpdateRequest, a PATCH (a description left out keeps its value, as in Opsgenie).
    await goSdkOk('PATCH', `/v2/schedules/${id}?identifierType=id`, {
      name,
      description: 'Secondary on-call',
      timezone: 'Asia/Tokyo',
      enabled: false,
      ownerTeam: { id: payments.id },
    });
    assert.deepEqual(await read(), {
      name,
      description: 'Secondary on-call',
      timezone: 'Asia/Tokyo',
      enabled: false,
      owner_team_id: payments.id,
    });
  });

  // resource_opsgenie_schedule_rotation.go: Create posts schedule.CreateRotationRequest (an og.Rotation,
  // dates marshalled as RFC 3339); Read sets name, length, type, participant (TypeList: [{id, type}]),
  // time_restriction, and start_date/end_date through Format("2006-01-02T15:04:05Z").
  it('opsgenie_schedule_rotation: participants in order, dates in UTC, restrictions as sent', async () => {
    const schedule = await goSdkOk('POST', '/v2/schedules', {
      name: `rotations_${run}`,
      timezone: 'America/Los_Angeles',
      enabled: true,
      ownerTeam: { id: payments.id },
    });
    const scheduleId = schedule.data.id;
    const base = `/v2/schedules/${scheduleId}/rotations`;
    const state = (r: Json) => ({
      name: r.name,
      type: r.type,
      length: r.length,
      start_date: goFormatLiteralZ(r.startDate),
      end_date: r.endDate === undefined || r.endDate === null ? undefined : goFormatLiteralZ(r.endDate),
      participant: (r.participants as Json[]).map((p) => ({ id: p.id, type: p.type })),
      time_restriction: r.timeRestriction && {
        type: r.timeRestriction.type,
        ...(r.timeRestriction.type === 'time-of-day'
          ? { restriction: [hourState(r.timeRestriction.restriction)] }
          : { restrictions: (r.timeRestriction.restrictions as Json[]).map(restrictionState) }),
      },
    });

    const daily = await goSdkOk('POST', `${base}?scheduleIdentifierType=id`, {
      name: 'business hours',
      startDate: '2026-01-05T09:00:00Z',
      endDate: '2026-12-28T09:00:00Z',
      type: 'daily',
      length: 1,
      participants: [
        { type: 'user', id: carol.id, username: '' },
        { type: 'user', id: alice.id, username: '' },
        { type: 'user', id: bob.id, username: '' },
      ],
      timeRestriction: {
        type: 'time-of-day',
        restriction: { startHour: 9, startMin: 0, endHour: 17, endMin: 30 },
      },
    });
    const read = async (rotationId: string) =>
      state((await goSdkOk('GET', `${base}/${rotationId}?scheduleIdentifierType=id`)).data);
    assert.deepEqual(await read(daily.data.id), {
      name: 'business hours',
      type: 'daily',
      length: 1,
      start_date: '2026-01-05T09:00:00Z',
      end_date: '2026-12-28T09:00:00Z',
      participant: [
        { id: carol.id, type: 'user' },
        { id: alice.id, type: 'user' },
        { id: bob.id, type: 'user' },
      ],
      time_restriction: {
        type: 'time-of-day',
        restriction: [{ start_hour: 9, start_min: 0, end_hour: 17, end_min: 30 }],
      },
    });

    const weekdays = [
      { startDay: 'monday', startHour: 8, startMin: 0, endHour: 18, endDay: 'friday', endMin: 0 },
      { startDay: 'saturday', startHour: 10, startMin: 15, endHour: 12, endDay: 'saturday', endMin: 45 },
    ];
    const weekly = await goSdkOk('POST', `${base}?scheduleIdentifierType=id`, {
      name: 'weekly',
      startDate: '2026-02-02T08:30:00Z',
      type: 'weekly',
      length: 2,
      participants: [
        { type: 'user', id: bob.id, username: '' },
        { type: 'user', id: alice.id, username: '' },
      ],
      timeRestriction: { type: 'weekday-and-time-of-day', restrictions: weekdays, restriction: {} },
    });
    assert.deepEqual(await read(weekly.data.id), {
      name: 'weekly',
      type: 'weekly',
      length: 2,
      start_date: '2026-02-02T08:30:00Z',
      end_date: undefined,
      participant: [
        { id: bob.id, type: 'user' },
        { id: alice.id, type: 'user' },
      ],
      time_restriction: { type: 'weekday-and-time-of-day', restrictions: weekdays.map(restrictionState) },
    });

    // Update: schedule.UpdateRotationRequest, the whole rotation again.
    await goSdkOk('PATCH', `${base}/${weekly.data.id}?scheduleIdentifierType=id`, {
      name: 'weekly',
      startDate: '2026-02-03T07:00:00Z',
      endDate: '2027-02-03T07:00:00Z',
      type: 'hourly',
      length: 12,
      participants: [{ type: 'user', id: alice.id, username: '' }],
    });
    const updated = await read(weekly.data.id);
    assert.deepEqual(
      { ...updated, time_restriction: undefined },
      {
        name: 'weekly',
        type: 'hourly',
        length: 12,
        start_date: '2026-02-03T07:00:00Z',
        end_date: '2027-02-03T07:00:00Z',
        participant: [{ id: alice.id, type: 'user' }],
        time_restriction: undefined,
      },
    );
  });

  it('opsgenie_schedule_rotation: a team participant, and a turn of nobody (none)', async () => {
    const schedule = await goSdkOk('POST', '/v2/schedules', {
      name: `team_rotation_${run}`,
      enabled: true,
    });
    const base = `/v2/schedules/${schedule.data.id}/rotations`;
    const made = await goSdkOk('POST', `${base}?scheduleIdentifierType=id`, {
      name: 'teams',
      startDate: '2026-01-05T09:00:00Z',
      type: 'weekly',
      length: 1,
      participants: [
        { type: 'team', id: payments.id, username: '' },
        { type: 'none', username: '' },
      ],
    });
    const got = (await goSdkOk('GET', `${base}/${made.data.id}?scheduleIdentifierType=id`)).data;
    assert.deepEqual(
      got.participants.map((p: Json) => [p.type, p.id]),
      [
        ['team', payments.id],
        ['none', undefined],
      ],
    );
  });

  // resource_opsgenie_team_routing_rule.go: Create posts team.CreateRoutingRuleRequest (order and every
  // condition's not/order are pointers: always sent); Read sets name, timezone, notify [{type, id, name}]
  // (id and name Computed), criteria [{type, conditions (TypeList)}] and time_restriction.
  it('opsgenie_team_routing_rule: criteria conditions in order, notify, timezone and restriction', async () => {
    const escalation = await goSdkOk('POST', '/v2/escalations', {
      name: `routing-target-${run}`,
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          recipient: { type: 'team', id: payments.id, username: '' },
          delay: { timeAmount: 0 },
        },
      ],
      ownerTeam: { id: payments.id },
      repeat: {},
    });
    const conditions = [
      { field: 'message', not: false, operation: 'contains', expectedValue: 'database', order: 0 },
      {
        field: 'extra-properties',
        not: true,
        operation: 'equals',
        expectedValue: 'staging',
        key: 'env',
        order: 1,
      },
      { field: 'priority', not: false, operation: 'less-than', expectedValue: 'P3', order: 2 },
    ];
    const weekdays = [
      { startDay: 'monday', startHour: 9, startMin: 0, endHour: 17, endDay: 'friday', endMin: 0 },
    ];
    const base = `/v2/teams/${payments.id}/routing-rules`;
    const made = await goSdkOk('POST', `${base}?teamIdentifierType=id`, {
      name: `database ${run}`,
      order: 0,
      timezone: 'Europe/Rome',
      criteria: { type: 'match-any-condition', conditions },
      timeRestriction: { type: 'weekday-and-time-of-day', restrictions: weekdays, restriction: {} },
      notify: { type: 'escalation', id: escalation.data.id },
    });
    const ruleId = made.data.id;
    const read = async () => (await goSdkOk('GET', `${base}/${ruleId}?teamIdentifierType=id`)).data;
    const rule = await read();
    assert.equal(rule.name, `database ${run}`);
    assert.equal(rule.timezone, 'Europe/Rome');
    assert.equal(rule.notify.type, 'escalation');
    assert.equal(rule.notify.id, escalation.data.id);
    assert.equal(rule.criteria.type, 'match-any-condition');
    assert.deepEqual(
      (rule.criteria.conditions as Json[]).map(conditionState),
      conditions.map(conditionState),
    );
    assert.equal(rule.timeRestriction.type, 'weekday-and-time-of-day');
    assert.deepEqual(
      (rule.timeRestriction.restrictions as Json[]).map(restrictionState),
      weekdays.map(restrictionState),
    );

    // Update: team.UpdateRoutingRuleRequest has no order; a time-of-day restriction this time.
    await goSdkOk('PATCH', `${base}/${ruleId}?teamIdentifierType=id`, {
      name: `database ${run}`,
      timezone: 'UTC',
      criteria: { type: 'match-all' },
      timeRestriction: {
        type: 'time-of-day',
        restriction: { startHour: 0, startMin: 0, endHour: 8, endMin: 0 },
      },
      notify: { type: 'none' },
    });
    const updated = await read();
    assert.equal(updated.timezone, 'UTC');
    assert.equal(updated.criteria.type, 'match-all');
    assert.deepEqual(updated.criteria.conditions ?? [], []);
    assert.equal(updated.notify.type, 'none');
    assert.equal(updated.timeRestriction.type, 'time-of-day');
    assert.deepEqual(hourState(updated.timeRestriction.restriction), {
      start_hour: 0,
      start_min: 0,
      end_hour: 8,
      end_min: 0,
    });
  });

  // Issue #344: a team's default rule imported as `<team_id>/<rule_id>` with is_default = true and
  // criteria { type = "match-all" }. Update sends team.UpdateRoutingRuleRequest, whose Criteria pointer is
  // always set and which has no timezone for the default rule, then (older providers) change-order with
  // the order Read set: the rule's own, last, position.
  it('opsgenie_team_routing_rule: the imported default rule updates with its criteria and order', async () => {
    const name = `default-route_${run}`;
    await goSdkOk('POST', '/v2/teams', { name, members: [{ user: { id: alice.id }, role: 'admin' }] });
    const teamId = (await goSdkOk('GET', `/v2/teams/${name}?identifierType=name`)).data.id;
    const base = `/v2/teams/${teamId}/routing-rules`;
    await goSdkOk('POST', `${base}?teamIdentifierType=id`, {
      name: 'first',
      order: 0,
      criteria: { type: 'match-all' },
      notify: { type: 'none' },
    });
    // An Opsgenie team has its default rule from the start; in Vigil it is stored once set.
    const ruleId = (
      await goSdkOk('PUT', `${base}/default?teamIdentifierType=id`, { notify: { type: 'none' } })
    ).data.id;
    const read = async () => (await goSdkOk('GET', `${base}/${ruleId}?teamIdentifierType=id`)).data;
    const imported = await read();
    assert.equal(imported.isDefault, true);
    assert.equal(imported.order, 1);

    const schedule = await goSdkOk('POST', '/v2/schedules', { name: `default-route_${run}`, enabled: true });
    await goSdkOk('PATCH', `${base}/${ruleId}?teamIdentifierType=id`, {
      name: 'Default rule',
      criteria: { type: 'match-all' },
      notify: { type: 'schedule', id: schedule.data.id },
    });
    await goSdkOk('POST', `${base}/${ruleId}/change-order?teamIdentifierType=id`, { order: imported.order });
    const updated = await read();
    assert.equal(updated.isDefault, true);
    assert.equal(updated.order, 1);
    assert.equal(updated.criteria.type, 'match-all');
    assert.deepEqual([updated.notify.type, updated.notify.id], ['schedule', schedule.data.id]);
  });

  // expandOpsgenieConditions sends every condition's order (a pointer to the configured value, 0 when the
  // configuration gives none) and the field as written; flattenOpsgenieCriteria reads both back into the
  // TypeList. The rule's name is Optional and not Computed, and the SDK leaves an empty one out.
  it('opsgenie_team_routing_rule: conditions read back as sent, and a rule without a name has none', async () => {
    const base = `/v2/teams/${payments.id}/routing-rules`;
    const unset = [
      { field: 'message', not: false, operation: 'contains', expectedValue: 'database', order: 0 },
      { field: 'details', not: false, operation: 'contains-key', expectedValue: 'Region', order: 0 },
    ];
    const made = await goSdkOk('POST', `${base}?teamIdentifierType=id`, {
      order: 0,
      criteria: { type: 'match-all-conditions', conditions: unset },
      notify: { type: 'none' },
    });
    const ruleId = made.data.id;
    const read = async () => (await goSdkOk('GET', `${base}/${ruleId}?teamIdentifierType=id`)).data;
    const rule = await read();
    assert.equal(rule.name ?? '', '');
    assert.deepEqual((rule.criteria.conditions as Json[]).map(conditionState), unset.map(conditionState));

    const reversed = [
      { field: 'priority', not: false, operation: 'equals', expectedValue: 'P1', order: 1 },
      {
        field: 'extra-properties',
        not: true,
        operation: 'equals',
        expectedValue: 'staging',
        key: 'env',
        order: 0,
      },
      { field: 'details', not: false, operation: 'contains-key', expectedValue: 'Region', order: 0 },
    ];
    await goSdkOk('PATCH', `${base}/${ruleId}?teamIdentifierType=id`, {
      criteria: { type: 'match-any-condition', conditions: reversed },
      notify: { type: 'none' },
    });
    await goSdkOk('POST', `${base}/${ruleId}/change-order?teamIdentifierType=id`, { order: 0 });
    const updated = await read();
    assert.equal(updated.name ?? '', '');
    assert.deepEqual(
      (updated.criteria.conditions as Json[]).map(conditionState),
      reversed.map(conditionState),
    );
  });

  // resource_opsgenie_heartbeat.go: Create posts heartbeat.AddRequest, whose ownerTeam is a struct (sent as
  // "{}" without an owner); Read sets name, enabled, description, interval, interval_unit, owner_team_id,
  // alert_priority, alert_tags and alert_message.
  it('opsgenie_heartbeat: every field Read copies, with and without an owner team', async () => {
    const state = (h: Json) => ({
      name: h.name,
      enabled: h.enabled,
      description: h.description ?? '',
      interval: h.interval,
      interval_unit: h.intervalUnit,
      owner_team_id: h.ownerTeam?.id ?? '',
      alert_priority: h.alertPriority,
      alert_tags: sortedStrings(h.alertTags),
      alert_message: h.alertMessage,
    });
    const owned = `nightly-backup-${run}`;
    await goSdkOk('POST', '/v2/heartbeats', {
      name: owned,
      description: 'The backup job checks in',
      interval: 15,
      intervalUnit: 'minutes',
      enabled: true,
      ownerTeam: { id: payments.id },
      alertMessage: 'Backup missed',
      alertTags: ['backup', 'db'],
      alertPriority: 'P2',
    });
    const read = async (name: string) => state((await goSdkOk('GET', `/v2/heartbeats/${name}`)).data);
    assert.deepEqual(await read(owned), {
      name: owned,
      enabled: true,
      description: 'The backup job checks in',
      interval: 15,
      interval_unit: 'minutes',
      owner_team_id: payments.id,
      alert_priority: 'P2',
      alert_tags: ['backup', 'db'],
      alert_message: 'Backup missed',
    });

    const unowned = `cron-${run}`;
    await goSdkOk('POST', '/v2/heartbeats', {
      name: unowned,
      interval: 2,
      intervalUnit: 'hours',
      enabled: false,
      ownerTeam: {},
      alertMessage: 'Cron is late',
      alertPriority: 'P4',
    });
    assert.deepEqual(await read(unowned), {
      name: unowned,
      enabled: false,
      description: '',
      interval: 2,
      interval_unit: 'hours',
      owner_team_id: '',
      alert_priority: 'P4',
      alert_tags: [],
      alert_message: 'Cron is late',
    });

    // Update: heartbeat.UpdateRequest, the same fields.
    await goSdkOk('PATCH', `/v2/heartbeats/${unowned}`, {
      name: unowned,
      description: 'Hourly cron',
      interval: 1,
      intervalUnit: 'days',
      enabled: true,
      ownerTeam: {},
      alertMessage: 'Cron is very late',
      alertTags: ['cron'],
      alertPriority: 'P1',
    });
    assert.deepEqual(await read(unowned), {
      name: unowned,
      enabled: true,
      description: 'Hourly cron',
      interval: 1,
      interval_unit: 'days',
      owner_team_id: '',
      alert_priority: 'P1',
      alert_tags: ['cron'],
      alert_message: 'Cron is very late',
    });
  });

  // resource_opsgenie_maintenance.go: Create posts maintenance.CreateRequest; Read lists /v1/maintenance
  // (no type), finds the id and sets description and time [{type, start_date, end_date}] through
  // Format("2006-01-02T15:04:05Z").
  it('opsgenie_maintenance: listed, with its description and its times in UTC', async () => {
    const integration = await goSdkOk('POST', '/v2/integrations', {
      name: `maintained-${run}`,
      type: 'API',
      allowWriteAccess: true,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      ownerTeam: { id: payments.id },
    });
    const made = await goSdkOk('POST', '/v1/maintenance', {
      description: 'Database upgrade',
      time: { type: 'schedule', startDate: '2030-01-01T10:00:00Z', endDate: '2030-01-01T12:30:00Z' },
      rules: [{ state: 'disabled', entity: { id: integration.data.id, type: 'integration' } }],
    });
    const id = made.data.id;
    const list = await goSdkOk('GET', '/v1/maintenance');
    const found = (list.data as Json[]).find((m) => m.id === id);
    assert.ok(found, 'the maintenance is in the list Read searches');
    assert.deepEqual(
      {
        description: found.description,
        time: [
          {
            type: found.time.type,
            start_date: goFormatLiteralZ(found.time.startDate),
            end_date: goFormatLiteralZ(found.time.endDate),
          },
        ],
      },
      {
        description: 'Database upgrade',
        time: [{ type: 'schedule', start_date: '2030-01-01T10:00:00Z', end_date: '2030-01-01T12:30:00Z' }],
      },
    );
    // Update reads the maintenance's status first: a planned one is updated with the whole request.
    const got = await goSdkOk('GET', `/v1/maintenance/${id}`);
    assert.equal(got.data.status, 'planned');
  });

  // resource_opsgenie_alert_policy.go: Create posts policy.CreateAlertPolicyRequest (type "alert", booleans
  // as pointers, policyDescription always, filter and timeRestrictions); Read sets name, enabled,
  // policy_description, message, continue_policy, alias, alert_description, entity, source, the four
  // ignore_original_* flags, actions, tags, responders [{name, id, username, type}], filter [{type,
  // conditions}] and time_restriction.
  it('opsgenie_alert_policy: every field Read copies, responders without invented names', async () => {
    const conditions = [
      { field: 'message', not: false, operation: 'contains', expectedValue: 'prod', order: 0 },
      {
        field: 'extra-properties',
        not: true,
        operation: 'equals',
        expectedValue: 'eu',
        key: 'region',
        order: 1,
      },
    ];
    const restriction = {
      type: 'weekday-and-time-of-day',
      restrictions: [
        { startDay: 'monday', startHour: 8, startMin: 0, endHour: 20, endDay: 'friday', endMin: 0 },
      ],
      restriction: {},
    };
    for (const teamId of ['', payments.id]) {
      const query = teamId ? `?teamId=${teamId}` : '';
      const body = {
        type: 'alert',
        name: `prod alerts ${teamId ? 'team' : 'global'} ${run}`,
        enabled: true,
        policyDescription: '',
        filter: { type: 'match-all-conditions', conditions },
        timeRestrictions: restriction,
        message: '[prod] {{message}}',
        continue: false,
        alias: '{{alias}}',
        entity: '{{entity}}',
        source: '{{source}}',
        ignoreOriginalDetails: false,
        actions: ['restart'],
        ignoreOriginalActions: true,
        ignoreOriginalResponders: false,
        responders: [{ type: 'team', id: payments.id }],
        ignoreOriginalTags: false,
        tags: ['prod'],
        priority: 'P2',
      };
      const made = await goSdkOk('POST', `/v2/policies${query}`, body);
      const got = (await goSdkOk('GET', `/v2/policies/${made.data.id}${query}`)).data;
      assert.deepEqual(
        {
          name: got.name,
          enabled: got.enabled,
          policy_description: got.policyDescription ?? '',
          message: got.message,
          continue_policy: got.continue,
          alias: got.alias,
          alert_description: got.alertDescription ?? '',
          entity: got.entity,
          source: got.source,
          ignore_original_actions: got.ignoreOriginalActions,
          ignore_original_details: got.ignoreOriginalDetails,
          ignore_original_responders: got.ignoreOriginalResponders,
          ignore_original_tags: got.ignoreOriginalTags,
          actions: sortedStrings(got.actions),
          tags: sortedStrings(got.tags),
          responders: (got.responders as Json[]).map((r) => ({
            name: r.name ?? '',
            id: r.id,
            username: r.username ?? '',
            type: r.type,
          })),
          filter: {
            type: got.filter.type,
            conditions: (got.filter.conditions as Json[]).map(conditionState),
          },
          time_restriction: {
            type: got.timeRestrictions.type,
            restrictions: (got.timeRestrictions.restrictions as Json[]).map(restrictionState),
          },
        },
        {
          name: body.name,
          enabled: true,
          policy_description: '',
          message: '[prod] {{message}}',
          continue_policy: false,
          alias: '{{alias}}',
          alert_description: '',
          entity: '{{entity}}',
          source: '{{source}}',
          ignore_original_actions: true,
          ignore_original_details: false,
          ignore_original_responders: false,
          ignore_original_tags: false,
          actions: ['restart'],
          tags: ['prod'],
          responders: [{ name: '', id: payments.id, username: '', type: 'team' }],
          filter: { type: 'match-all-conditions', conditions: conditions.map(conditionState) },
          time_restriction: {
            type: 'weekday-and-time-of-day',
            restrictions: restriction.restrictions.map(restrictionState),
          },
        },
        `the ${teamId ? 'team' : 'global'} policy reads back as configured`,
      );
    }
  });

  // resource_opsgenie_alert_policy.go: expandOpsgenieFilterConditions sends each condition's order (0 when
  // not configured) and field as written; flattenOpsgenieFilter reads both back.
  it('opsgenie_alert_policy: filter conditions read back as sent, orders and the details field', async () => {
    const sent = [
      { field: 'details', not: false, operation: 'contains-key', expectedValue: 'Region', order: 1 },
      { field: 'message', not: false, operation: 'contains', expectedValue: 'prod', order: 0 },
      { field: 'source', not: true, operation: 'equals', expectedValue: 'test', order: 0 },
    ];
    const body = {
      type: 'alert',
      name: `filter as sent ${run}`,
      enabled: true,
      policyDescription: '',
      filter: { type: 'match-all-conditions', conditions: sent },
      message: '{{message}}',
      continue: false,
      ignoreOriginalDetails: false,
      ignoreOriginalActions: false,
      ignoreOriginalResponders: false,
      ignoreOriginalTags: false,
    };
    const made = await goSdkOk('POST', '/v2/policies', body);
    const read = async () => (await goSdkOk('GET', `/v2/policies/${made.data.id}`)).data;
    const got = await read();
    assert.deepEqual((got.filter.conditions as Json[]).map(conditionState), sent.map(conditionState));

    const unset = sent.map((c) => ({ ...c, order: 0 }));
    await goSdkOk('PUT', `/v2/policies/${made.data.id}`, {
      ...body,
      filter: { type: 'match-any-condition', conditions: unset },
    });
    const updated = await read();
    assert.deepEqual((updated.filter.conditions as Json[]).map(conditionState), unset.map(conditionState));
  });

  // resource_opsgenie_notification_policy.go: Create posts policy.CreateNotificationPolicyRequest with
  // ?teamId; Read sets name, enabled, policy_description, suppress, the four actions ([{duration
  // [{time_amount, time_unit}], ...}]), filter and time_restriction.
  it('opsgenie_notification_policy: actions, durations, filter and restriction as sent', async () => {
    const body = {
      type: 'notification',
      name: `quiet nights ${run}`,
      enabled: true,
      policyDescription: 'Delay pages at night',
      filter: {
        type: 'match-any-condition',
        conditions: [
          { field: 'priority', not: false, operation: 'greater-than', expectedValue: 'P3', order: 0 },
        ],
      },
      timeRestrictions: {
        type: 'time-of-day',
        restriction: { startHour: 9, startMin: 0, endHour: 17, endMin: 0 },
      },
      autoRestartAction: { duration: { timeAmount: 10, timeUnit: 'minutes' }, maxRepeatCount: 3 },
      autoCloseAction: { duration: { timeAmount: 2, timeUnit: 'hours' } },
      deduplicationAction: {
        deduplicationActionType: 'frequency-based',
        duration: { timeAmount: 1, timeUnit: 'days' },
        count: 4,
      },
      delayAction: { delayOption: 'next-time', untilMinute: 30, untilHour: 8 },
      suppress: false,
    };
    const query = `?teamId=${payments.id}`;
    const made = await goSdkOk('POST', `/v2/policies${query}`, body);
    const id = made.data.id;
    const duration = (d: Json) => d && [{ time_amount: d.timeAmount, time_unit: d.timeUnit }];
    const state = (p: Json) => ({
      name: p.name,
      enabled: p.enabled,
      policy_description: p.policyDescription ?? '',
      suppress: p.suppress ?? false,
      auto_close_action: p.autoCloseAction && [{ duration: duration(p.autoCloseAction.duration) }],
      auto_restart_action: p.autoRestartAction && [
        {
          duration: duration(p.autoRestartAction.duration),
          max_repeat_count: p.autoRestartAction.maxRepeatCount,
        },
      ],
      de_duplication_action: p.deduplicationAction && [
        {
          de_duplication_action_type: p.deduplicationAction.deduplicationActionType,
          count: p.deduplicationAction.count,
          duration: duration(p.deduplicationAction.duration),
        },
      ],
      delay_action: p.delayAction && [
        {
          delay_option: p.delayAction.delayOption,
          until_minute: p.delayAction.untilMinute,
          until_hour: p.delayAction.untilHour,
          duration: duration(p.delayAction.duration),
        },
      ],
      filter: [
        { type: p.filter.type, conditions: ((p.filter.conditions ?? []) as Json[]).map(conditionState) },
      ],
      time_restriction: p.timeRestrictions && [
        { type: p.timeRestrictions.type, restriction: [hourState(p.timeRestrictions.restriction)] },
      ],
    });
    const read = async () => state((await goSdkOk('GET', `/v2/policies/${id}${query}`)).data);
    assert.deepEqual(await read(), {
      name: body.name,
      enabled: true,
      policy_description: 'Delay pages at night',
      suppress: false,
      auto_close_action: [{ duration: [{ time_amount: 2, time_unit: 'hours' }] }],
      auto_restart_action: [{ duration: [{ time_amount: 10, time_unit: 'minutes' }], max_repeat_count: 3 }],
      de_duplication_action: [
        {
          de_duplication_action_type: 'frequency-based',
          count: 4,
          duration: [{ time_amount: 1, time_unit: 'days' }],
        },
      ],
      delay_action: [{ delay_option: 'next-time', until_minute: 30, until_hour: 8, duration: undefined }],
      filter: [{ type: 'match-any-condition', conditions: body.filter.conditions.map(conditionState) }],
      time_restriction: [
        { type: 'time-of-day', restriction: [{ start_hour: 9, start_min: 0, end_hour: 17, end_min: 0 }] },
      ],
    });

    // Update: policy.UpdateNotificationPolicyRequest marshals the deduplication action under the SDK's
    // misspelt key "deduplicationActionAction"; the rest is the create body.
    const { deduplicationAction, ...rest } = body;
    await goSdkOk('PUT', `/v2/policies/${id}${query}`, {
      ...rest,
      filter: { type: 'match-all' },
      suppress: true,
      delayAction: undefined,
      deduplicationActionAction: { ...deduplicationAction, count: 6 },
    });
    const updated = await read();
    assert.equal(updated.suppress, true);
    assert.deepEqual(updated.filter, [{ type: 'match-all', conditions: [] }]);
    assert.equal(updated.delay_action, undefined);
    assert.deepEqual(updated.de_duplication_action, [
      {
        de_duplication_action_type: 'frequency-based',
        count: 6,
        duration: [{ time_amount: 1, time_unit: 'days' }],
      },
    ]);
  });

  // resource_opsgenie_integration_action.go: Create and Update PUT integration.UpdateAllIntegrationActionsRequest
  // (every list sent, [] when empty; an ignore action's alias "" sent); Read takes the id from _parent.id
  // and sets each list (TypeList) from flattenOpsgenieIntegrationActions, filter [{type:
  // conditionMatchType, conditions}] included.
  it('opsgenie_integration_action: _parent, each action list in order with its filter and fields', async () => {
    const integration = await goSdkOk('POST', '/v2/integrations', {
      name: `actions-${run}`,
      type: 'API',
      allowWriteAccess: true,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      ownerTeam: { id: payments.id },
    });
    const id = integration.data.id;
    // Orders 0 (left out: omitempty) and 1; priority given where a create action says one. The provider's
    // defaults (order 1, no priority) are in the next test.
    const createAction = {
      type: 'create',
      name: 'Create prod',
      alias: '{{alias}}',
      user: '{{user}}',
      note: '{{note}}',
      filter: {
        conditionMatchType: 'match-any-condition',
        conditions: [
          { field: 'message', not: false, operation: 'contains', expectedValue: 'prod', order: 0 },
          { field: 'tags', not: true, operation: 'contains', expectedValue: 'test', order: 1 },
        ],
      },
      source: '{{source}}',
      message: '[prod] {{message}}',
      description: '{{description}}',
      entity: '{{entity}}',
      priority: 'P2',
      appendAttachments: true,
      alertActions: ['restart', 'page'],
      ignoreAlertActionsFromPayload: false,
      ignoreRespondersFromPayload: true,
      ignoreTagsFromPayload: false,
      ignoreExtraPropertiesFromPayload: false,
      responders: [{ type: 'team', id: payments.id }],
      tags: ['prod'],
      extraProperties: { region: 'eu' },
    };
    const createAll = {
      type: 'create',
      name: 'Create the rest',
      alias: '{{alias}}',
      order: 1,
      user: '{{user}}',
      note: '{{note}}',
      filter: { conditionMatchType: 'match-all' },
      source: '{{source}}',
      message: '{{message}}',
      description: '{{description}}',
      entity: '{{entity}}',
      priority: 'P3',
      appendAttachments: false,
      ignoreAlertActionsFromPayload: false,
      ignoreRespondersFromPayload: false,
      ignoreTagsFromPayload: false,
      ignoreExtraPropertiesFromPayload: false,
    };
    const closeAction = {
      type: 'close',
      name: 'Close resolved',
      alias: '{{alias}}',
      user: '{{user}}',
      note: 'resolved by {{source}}',
      filter: {
        conditionMatchType: 'match-all-conditions',
        conditions: [
          {
            field: 'extra-properties',
            key: 'state',
            not: false,
            operation: 'equals',
            expectedValue: 'ok',
            order: 0,
          },
        ],
      },
    };
    const ignoreAction = {
      type: 'ignore',
      name: 'Ignore tests',
      alias: '',
      filter: {
        conditionMatchType: 'match-any-condition',
        conditions: [
          { field: 'message', not: false, operation: 'starts-with', expectedValue: 'TEST', order: 0 },
        ],
      },
    };
    const put = await goSdkOk('PUT', `/v2/integrations/${id}/actions`, {
      create: [createAction, createAll],
      close: [closeAction],
      acknowledge: [],
      addNote: [],
      ignore: [ignoreAction],
    });
    assert.equal(put.data?._parent?.id, id, "Create stores the answer's _parent.id as the resource id");

    const got = (await goSdkOk('GET', `/v2/integrations/${id}/actions`)).data;
    assert.equal(got._parent?.id, id, 'Read sets the id from _parent.id: without it the resource disappears');
    const filterState = (f: Json) => {
      assert.ok(f, 'every action has a filter: the provider flattens it without checking for nil');
      return [
        { type: f.conditionMatchType, conditions: ((f.conditions ?? []) as Json[]).map(conditionState) },
      ];
    };
    const actionState = (a: Json) => ({
      type: a.type,
      name: a.name,
      order: a.order ?? 0,
      filter: filterState(a.filter),
      ...(a.type === 'ignore' ? {} : { user: a.user, alias: a.alias, note: a.note }),
      ...(a.type === 'create'
        ? {
            source: a.source,
            priority: a.priority ?? '',
            custom_priority: a.customPriority ?? '',
            message: a.message,
            description: a.description,
            entity: a.entity,
            append_attachments: a.appendAttachments,
            alert_actions: a.alertActions ?? [],
            ignore_alert_actions_from_payload: a.ignoreAlertActionsFromPayload,
            ignore_responders_from_payload: a.ignoreRespondersFromPayload,
            ignore_tags_from_payload: a.ignoreTagsFromPayload,
            ignore_extra_properties_from_payload: a.ignoreExtraPropertiesFromPayload,
            responders: ((a.responders ?? []) as Json[]).map((r) => ({ type: r.type, id: r.id })),
            tags: sortedStrings(a.tags),
            extra_properties: a.extraProperties ?? {},
          }
        : {}),
    });
    assert.deepEqual(
      {
        create: (got.create as Json[]).map(actionState),
        close: (got.close as Json[]).map(actionState),
        acknowledge: (got.acknowledge ?? []) as Json[],
        add_note: (got.addNote ?? []) as Json[],
        ignore: (got.ignore as Json[]).map(actionState),
      },
      {
        create: [createAction, createAll].map((a) => actionState(a)),
        close: [actionState(closeAction)],
        acknowledge: [],
        add_note: [],
        ignore: [actionState(ignoreAction)],
      },
    );
  });

  it("opsgenie_integration_action: the provider's defaults (order 1, no priority) read back", async () => {
    const integration = await goSdkOk('POST', '/v2/integrations', {
      name: `actions-defaults-${run}`,
      type: 'API',
      allowWriteAccess: true,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      ownerTeam: { id: payments.id },
    });
    const id = integration.data.id;
    await goSdkOk('PUT', `/v2/integrations/${id}/actions`, {
      create: [
        {
          type: 'create',
          name: 'Create',
          alias: '{{alias}}',
          order: 1,
          user: '{{user}}',
          note: '{{note}}',
          filter: { conditionMatchType: 'match-all' },
          source: '{{source}}',
          message: '{{message}}',
          description: '{{description}}',
          entity: '{{entity}}',
          appendAttachments: true,
          ignoreAlertActionsFromPayload: false,
          ignoreRespondersFromPayload: false,
          ignoreTagsFromPayload: false,
          ignoreExtraPropertiesFromPayload: false,
        },
      ],
      close: [],
      acknowledge: [],
      addNote: [],
      ignore: [],
    });
    const [action] = (await goSdkOk('GET', `/v2/integrations/${id}/actions`)).data.create;
    assert.deepEqual({ order: action.order, priority: action.priority ?? '' }, { order: 1, priority: '' });
  });

  // resource_opsgenie_email_integration.go: Create posts integration.EmailBasedIntegrationRequest, then
  // POSTs .../enable; Read sets owner_team_id (ownerTeam.id), name, suppress_notifications, email_username
  // and enabled; Update PUTs ForceUpdateAllFields' map.
  it('opsgenie_email_integration: name, email username, owner team, enabled and suppression', async () => {
    const emailUsername = `payments-alerts-${run}`;
    const made = await goSdkOk('POST', '/v2/integrations', {
      name: `mail in ${run}`,
      type: 'Email',
      emailUsername,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      ownerTeam: { id: payments.id },
    });
    const id = made.data.id;
    await goSdkOk('POST', `/v2/integrations/${id}/enable`, {});
    const read = async () => {
      const data = (await goSdkOk('GET', `/v2/integrations/${id}`)).data;
      return {
        owner_team_id: data.ownerTeam?.id,
        name: data.name,
        suppress_notifications: data.suppressNotifications,
        email_username: data.emailUsername,
        enabled: data.enabled,
      };
    };
    assert.deepEqual(await read(), {
      owner_team_id: payments.id,
      name: `mail in ${run}`,
      suppress_notifications: false,
      email_username: emailUsername,
      enabled: true,
    });

    await goSdkOk('PUT', `/v2/integrations/${id}`, {
      id,
      name: `mail in ${run}`,
      type: 'Email',
      enabled: false,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      responders: [],
      emailUsername,
    });
    assert.deepEqual(await read(), {
      owner_team_id: payments.id,
      name: `mail in ${run}`,
      suppress_notifications: false,
      email_username: emailUsername,
      enabled: false,
    });
  });

  it('opsgenie_email_integration: suppress_notifications = true reads back, and an update turns it off', async () => {
    const emailUsername = `quiet-${run}`;
    const made = await goSdkOk('POST', '/v2/integrations', {
      name: `quiet mail ${run}`,
      type: 'Email',
      emailUsername,
      ignoreRespondersFromPayload: false,
      suppressNotifications: true,
      ownerTeam: { id: payments.id },
    });
    const id = made.data.id;
    const read = async () => (await goSdkOk('GET', `/v2/integrations/${id}`)).data.suppressNotifications;
    assert.equal(await read(), true);
    await goSdkOk('PUT', `/v2/integrations/${id}`, {
      id,
      name: `quiet mail ${run}`,
      type: 'Email',
      enabled: true,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      responders: [],
      emailUsername,
    });
    assert.equal(await read(), false);
  });

  // resource_opsgenie_api_integration.go: suppress_notifications is sent on create and update and read back.
  it('opsgenie_api_integration: suppress_notifications reads back after create and update', async () => {
    const made = await goSdkOk('POST', '/v2/integrations', {
      name: `quiet api ${run}`,
      type: 'API',
      allowWriteAccess: true,
      ignoreRespondersFromPayload: false,
      suppressNotifications: true,
      ownerTeam: { id: payments.id },
    });
    const id = made.data.id;
    const read = async () => (await goSdkOk('GET', `/v2/integrations/${id}`)).data.suppressNotifications;
    assert.equal(await read(), true);
    await goSdkOk('PUT', `/v2/integrations/${id}`, {
      id,
      name: `quiet api ${run}`,
      type: 'API',
      enabled: true,
      allowWriteAccess: true,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      responders: [],
    });
    assert.equal(await read(), false);
  });

  // resource_opsgenie_saved_search.go: Create posts alert.CreateSavedSearchRequest; Read GETs it by id and
  // sets name, description, query and teams [{name, id}] (name Computed).
  it('opsgenie_saved_search: name, description, the query verbatim and teams in order', async () => {
    const other = `ops_${run}`;
    await goSdkOk('POST', '/v2/teams', { name: other });
    const otherId = (await goSdkOk('GET', `/v2/teams/${other}?identifierType=name`)).data.id;
    const query = 'status: open AND priority: P1 AND tag: "db"';
    const made = await goSdkOk('POST', '/v2/alerts/saved-searches', {
      name: `open urgent ${run}`,
      owner: { id: alice.id },
      teams: [{ id: otherId }, { id: payments.id }],
      description: 'What to look at first',
      query,
    });
    const id = made.data.id;
    const got = (await goSdkOk('GET', `/v2/alerts/saved-searches/${id}?identifierType=id`)).data;
    assert.deepEqual(
      {
        name: got.name,
        description: got.description,
        query: got.query,
        teams: (got.teams as Json[]).map((t) => t.id),
      },
      {
        name: `open urgent ${run}`,
        description: 'What to look at first',
        query,
        teams: [otherId, payments.id],
      },
    );
  });
});

// resource_opsgenie_role.go (opsgenie_custom_role): Create posts custom_user_role.CreateRequest (name,
// extendedRole, grantedRights, disallowedRights; the lists omitempty) and keeps data.id; Read GETs the role
// by NAME and sets role_name, extended_role, granted_rights and disallowed_rights (TypeSets: order free);
// Update PUTs the whole role by id, an emptied list left out; Delete is by id, and a 404 on Read drops it.
describe('Terraform opsgenie provider: opsgenie_custom_role, and opsgenie_user holding it', () => {
  it('opsgenie_custom_role: name, extended role and rights read back; a user reads back its name', async () => {
    const roleName = `genierole_${run}`;
    const made = await goSdkOk('POST', '/v2/roles', {
      name: roleName,
      extendedRole: 'user',
      grantedRights: ['alert-delete'],
      disallowedRights: ['profile-edit', 'contacts-edit'],
    });
    const id = made.data.id;
    assert.ok(id, 'Create keeps data.id');
    const read = async () => {
      const role = (await goSdkOk('GET', `/v2/roles/${roleName}?identifierType=name`)).data;
      return {
        role_name: role.name,
        extended_role: role.extendedRole,
        granted_rights: sortedStrings(role.grantedRights),
        disallowed_rights: sortedStrings(role.disallowedRights),
      };
    };
    assert.deepEqual(await read(), {
      role_name: roleName,
      extended_role: 'user',
      granted_rights: ['alert-delete'],
      disallowed_rights: ['contacts-edit', 'profile-edit'],
    });

    // Update with granted_rights emptied: UpdateRequest leaves grantedRights out (omitempty).
    await goSdkOk('PUT', `/v2/roles/${id}?identifierType=id`, {
      name: roleName,
      extendedRole: 'observer',
      disallowedRights: ['contacts-edit'],
    });
    assert.deepEqual(await read(), {
      role_name: roleName,
      extended_role: 'observer',
      granted_rights: [],
      disallowed_rights: ['contacts-edit'],
    });

    // opsgenie_user with role = the custom role's name: its Read sets role from role.name.
    const holder = await createUser('roleholder', { role: { name: roleName } });
    assert.equal(userState((await goSdkOk('GET', `/v2/users/${holder.id}`)).data).role, roleName);

    // Destroy in dependency order: the user, then the role; Read then finds nothing (404).
    await goSdkOk('DELETE', `/v2/users/${holder.id}`);
    await goSdkOk('DELETE', `/v2/roles/${id}?identifierType=id`);
    assert.equal((await goSdk('GET', `/v2/roles/${roleName}?identifierType=name`)).status, 404);
  });
});
