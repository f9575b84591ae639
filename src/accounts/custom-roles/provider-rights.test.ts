import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  addUserWithKey,
  createAlert,
  startTestServer,
  type TestServer,
  type TestUser as User,
} from '../../testing/harness.js';

/**
 * Every right Terraform's Opsgenie provider accepts on an opsgenie_custom_role (its validCustomRolesRights),
 * taken by /v2/roles and given back; and the newer ones Vigil has a check for enforced: changing an
 * alert's message (alert-update-message) or description (alert-update-description), and adding a responder
 * (alert-add-responder, Opsgenie's newer name for alert-add-recipient).
 */

/** terraform-provider-opsgenie's validCustomRolesRights, in its order. */
const PROVIDER_RIGHTS = [
  'who-is-on-call-show-all',
  'notification-rules-edit',
  'quiet-hours-edit',
  'alerts-access-all',
  'reports-access',
  'logs-page-access',
  'maintenance-edit',
  'contacts-edit',
  'profile-edit',
  'login-email-edit',
  'profile-custom-fields-edit',
  'configurations-read-only',
  'configurations-edit',
  'configurations-delete',
  'billing-manage',
  'alert-action',
  'alert-create',
  'alert-add-attachment',
  'alert-delete-attachment',
  'alert-add-note',
  'alert-acknowledge',
  'alert-unacknowledge',
  'alert-snooze',
  'alert-escalate',
  'alert-close',
  'alert-delete',
  'alert-take-ownership',
  'alert-assign-ownership',
  'alert-add-recipient',
  'alert-add-team',
  'alert-edit-tags',
  'alert-edit-details',
  'alert-custom-action',
  'alert-update-priority',
  'alert-acknowledge-all',
  'alert-close-all',
  'incident-create',
  'incident-add-stakeholder',
  'incident-add-responder',
  'incident-resolve',
  'incident-reopen',
  'mass-notification-create',
  'service-access',
  'forwardings-edit',
  'manage-roles',
  'it-user-functionality',
  'parent-login-as-user',
  'update-login-as-user-state',
  'see-alerts',
  'alert-delete-note',
  'alert-update-note',
  'alert-update-description',
  'alert-update-message',
  'alert-add-responder',
  'alert-grant-visibility',
  'alert-create-issue',
  'alert-link-issue',
  'incidents-access-all',
  'assign-response-role',
  'incident-action',
  'incident-associate-alerts',
  'incident-dissociate-alerts',
  'incident-remove-responder',
  'incident-update-priority',
  'incident-edit-tags',
  'incident-edit-details',
  'incident-edit-impact-times',
  'incident-edit-postmortem-fields',
  'incident-edit-message',
  'incident-add-note',
  'incident-close',
  'incident-delete',
  'incident-custom-action',
  'update-potential-causes',
  'incident-create-issue',
  'incident-link-issue',
  'edit-impacted-services',
  'postmortem-access-published',
  'postmortem-access-unpublished',
  'postmortem-create',
  'postmortem-edit',
  'postmortem-delete',
  'slack-channel-create',
  'slack-channel-unlink',
  'join-icc-session',
  'create-icc-session',
  'access-icc-past-sessions',
  'incident-commander',
  'edit-incident-command-center-room',
  'delete-incident-command-center-room',
  'incident-timeline-create',
  'incident-timeline-edit',
  'incident-timeline-delete',
  'service-access-status',
  'service-send-status-update',
];

let server: TestServer;
const run = randomUUID().slice(0, 6);

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

async function userWithRole(
  local: string,
  role: { grantedRights?: string[]; disallowedRights?: string[] },
): Promise<{ user: User; name: string }> {
  const name = `${local} ${run}`;
  await server.callOk('POST', '/v2/roles', { name, extendedRole: 'user', ...role });
  const user = await addUserWithKey(server, local, run);
  await server.callOk('PATCH', `/v2/users/${user.id}`, { role: { name } });
  return { user, name };
}

const alertFor = (user: User) =>
  createAlert(server, {
    message: `provider rights ${randomUUID()}`,
    visibleTo: [{ type: 'user', id: user.id }],
  });

const alertRow = (id: string) =>
  server.app.context.db
    .selectFrom('alerts')
    .select(['message', 'description', 'responders'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

describe('custom user roles: every right of the Terraform provider', () => {
  it('takes each name the provider accepts, granted or disallowed, and gives it back', async () => {
    const granted = PROVIDER_RIGHTS.filter((_, i) => i % 2 === 0);
    const disallowed = PROVIDER_RIGHTS.filter((_, i) => i % 2 === 1);
    const body = {
      name: `Everything ${run}`,
      extendedRole: 'user',
      grantedRights: granted,
      disallowedRights: disallowed,
    };
    const created = await server.call('POST', '/v2/roles', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.data.id;
    assert.deepEqual((await server.callOk('GET', `/v2/roles/${id}`)).data, { id, ...body });

    // Terraform's update: the whole role again, the other way round, every name in one list.
    const replaced = { extendedRole: 'observer', grantedRights: disallowed, disallowedRights: granted };
    await server.callOk('PUT', `/v2/roles/${id}`, replaced);
    assert.deepEqual((await server.callOk('GET', `/v2/roles/${id}`)).data, {
      id,
      name: body.name,
      ...replaced,
    });
    const all = await server.call('POST', '/v2/roles', {
      name: `All granted ${run}`,
      grantedRights: PROVIDER_RIGHTS,
    });
    assert.equal(all.status, 201, JSON.stringify(all.body));

    // The hunter's request, as Terraform sends it.
    const resp = await server.call('POST', '/v2/roles', {
      name: `Resp ${run}`,
      grantedRights: ['alert-update-message'],
    });
    assert.equal(resp.status, 201, JSON.stringify(resp.body));
  });

  it('alert-update-message and alert-update-description refuse changing the message or the description', async () => {
    const { user, name } = await userWithRole('no-message', { disallowedRights: ['alert-update-message'] });
    const alertId = await alertFor(user);
    const before = await alertRow(alertId);
    const message = await server.call(
      'PUT',
      `/v2/alerts/${alertId}/message`,
      { message: 'changed' },
      user.key,
    );
    assert.equal(message.status, 403, JSON.stringify(message.body));
    assert.match(message.body.message, new RegExp(`role \\[${name}\\].*alert-update-message`));
    assert.equal((await alertRow(alertId)).message, before.message, 'the message is as it was');
    // The description is a right of its own.
    const description = await server.call(
      'PUT',
      `/v2/alerts/${alertId}/description`,
      { description: 'described' },
      user.key,
    );
    assert.equal(description.status, 202, JSON.stringify(description.body));
    assert.equal((await alertRow(alertId)).description, 'described');

    const other = await userWithRole('no-description', { disallowedRights: ['alert-update-description'] });
    const otherAlert = await alertFor(other.user);
    const refused = await server.call(
      'PUT',
      `/v2/alerts/${otherAlert}/description`,
      { description: 'nope' },
      other.user.key,
    );
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, /alert-update-description/);
    assert.equal((await alertRow(otherAlert)).description, '');
    const changed = await server.call(
      'PUT',
      `/v2/alerts/${otherAlert}/message`,
      { message: 'renamed' },
      other.user.key,
    );
    assert.equal(changed.status, 202, JSON.stringify(changed.body));
    assert.equal((await alertRow(otherAlert)).message, 'renamed');

    // An incident's message and description come down to its alerts': the same rights.
    const incident = await server.callOk('POST', '/v1/incidents/create', {
      message: `incident ${randomUUID()}`,
      responders: [{ type: 'user', id: user.id }],
    });
    const incidentId = (await server.callOk('GET', `/v1/incidents/requests/${incident.requestId}`)).data
      .incidentId as string;
    const incidentMessage = await server.call(
      'POST',
      `/v1/incidents/${incidentId}/message`,
      { message: 'changed' },
      user.key,
    );
    assert.equal(incidentMessage.status, 403, JSON.stringify(incidentMessage.body));
    assert.match(incidentMessage.body.message, /alert-update-message/);
    const incidentDescription = await server.call(
      'POST',
      `/v1/incidents/${incidentId}/description`,
      { description: 'described' },
      user.key,
    );
    assert.equal(incidentDescription.status, 202, JSON.stringify(incidentDescription.body));

    // Parts of alert-action: without it only what is granted on its own.
    const only = await userWithRole('only-message', {
      disallowedRights: ['alert-action'],
      grantedRights: ['alert-update-message'],
    });
    const onlyAlert = await alertFor(only.user);
    const put = (what: string, body: object) =>
      server.call('PUT', `/v2/alerts/${onlyAlert}/${what}`, body, only.user.key);
    assert.equal((await put('message', { message: 'mine' })).status, 202);
    assert.equal((await put('description', { description: 'mine' })).status, 403);
    assert.deepEqual(
      [(await alertRow(onlyAlert)).message, (await alertRow(onlyAlert)).description],
      ['mine', ''],
    );
  });

  it('alert-add-responder is alert-add-recipient by its newer name: either disallowed refuses, either granted gives', async () => {
    const responder = await addUserWithKey(server, 'paged', run);
    const addResponder = (user: User, alertId: string) =>
      server.call(
        'POST',
        `/v2/alerts/${alertId}/responders`,
        { responder: { type: 'user', id: responder.id } },
        user.key,
      );
    const responderIds = async (alertId: string) =>
      ((await alertRow(alertId)).responders as { id?: string }[]).map((r) => r.id);

    for (const right of ['alert-add-responder', 'alert-add-recipient']) {
      const { user, name } = await userWithRole(`no-${right}`, { disallowedRights: [right] });
      const alertId = await alertFor(user);
      const refused = await addResponder(user, alertId);
      assert.equal(refused.status, 403, `${right}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, new RegExp(`role \\[${name}\\]`));
      assert.match(refused.body.message, new RegExp(right));
      assert.ok(!(await responderIds(alertId)).includes(responder.id), `${right}: nobody was added`);
    }

    const granted = await userWithRole('add-responder-only', {
      disallowedRights: ['alert-action'],
      grantedRights: ['alert-add-responder'],
    });
    const alertId = await alertFor(granted.user);
    const added = await addResponder(granted.user, alertId);
    assert.equal(added.status, 202, JSON.stringify(added.body));
    assert.ok((await responderIds(alertId)).includes(responder.id));
    // Granted by one name and taken away by the other: taken away wins.
    const both = await userWithRole('granted-and-not', {
      disallowedRights: ['alert-add-recipient'],
      grantedRights: ['alert-add-responder'],
    });
    const bothAlert = await alertFor(both.user);
    assert.equal((await addResponder(both.user, bothAlert)).status, 403);
  });
});
