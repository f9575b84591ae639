import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakePushService, type FakePushService } from '../testing/fake-push.js';
import { createAlert, startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import type { NotificationChannel } from './channel.js';
import { createActionLinks, loadLinkSecret } from './links.js';
import type { PushPayload } from './push/channel.js';

/**
 * An email's or a push's action links act only while the contact method the message went to is still the
 * person's, at that address, and enabled: mail to a mistyped address, fixed since, must not let whoever
 * reads it act as the person for the rest of the link's life. On the real server: the links are the ones
 * the sender made (the email channel hands them over here, the push goes through the fake push service).
 */

const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);

const mails: { address: string; alertId: string; acknowledge?: string | undefined }[] = [];
const email: NotificationChannel = {
  type: 'email',
  async send(message) {
    mails.push({
      address: message.to.address,
      alertId: message.alert.id,
      acknowledge: message.links.acknowledge,
    });
    return { status: 'sent', providerId: `mail-${mails.length}` };
  },
};

let server: TestServer;
let fake: FakePushService;

before(async () => {
  fake = await startFakePushService();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    channels: [email],
    env: { VIGIL_PUSH_SERVICE_HOSTS: '127.0.0.1' },
  });
});

after(async () => {
  await server?.stop();
  await fake?.close();
});

/** The server's links name its public URL; the test reaches it on its port. */
function local(link: string): string {
  const url = new URL(link);
  return server.url + url.pathname + url.search;
}

async function open(url: string, method: 'GET' | 'POST') {
  const response = await fetch(url, {
    method,
    ...(method === 'POST'
      ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' }
      : {}),
  });
  return { status: response.status, html: await response.text() };
}

/** A person whose username (so their default email contact) is the mistyped `ana.<name>@exmaple.com`. */
async function person(name: string): Promise<{ username: string; id: string; contacts: string }> {
  const username = `ana.${name}.${run}@exmaple.com`;
  const made = await server.callOk('POST', '/v2/users', {
    username,
    fullName: `Ana ${name}`,
    role: { name: 'User' },
  });
  return {
    username,
    id: made.data.id as string,
    contacts: `/v2/users/${encodeURIComponent(username)}/contacts`,
  };
}

async function emailContactId(contacts: string, address: string): Promise<string> {
  const list = (await server.callOk('GET', contacts)).data as Json[];
  const found = list.find((c) => c.method === 'email' && c.to === address);
  assert.ok(found, `an email contact at ${address}: ${JSON.stringify(list)}`);
  return found.id as string;
}

/** Pages the person about a new alert; the alert and the Acknowledge link of the email that went out. */
async function paged(username: string, message: string): Promise<{ alertId: string; link: string }> {
  const alertId = await createAlert(server, {
    message: `${message} ${run}`,
    responders: [{ type: 'user', username }],
  });
  const mail = await waitFor('the email', async () =>
    mails.find((m) => m.alertId === alertId && m.address === username),
  );
  assert.ok(mail.acknowledge, 'the email has an Acknowledge link');
  const link = local(mail.acknowledge);
  // Before the change, the link is good (GET only shows the alert).
  assert.equal((await open(link, 'GET')).status, 200);
  return { alertId, link };
}

async function acknowledged(alertId: string): Promise<boolean> {
  return (await server.callOk('GET', `/v2/alerts/${alertId}`)).data.acknowledged as boolean;
}

/** The link is refused on GET and POST, with the page that says why and where to act instead. */
async function assertRefused(link: string, alertId: string): Promise<void> {
  for (const method of ['GET', 'POST'] as const) {
    const page = await open(link, method);
    assert.equal(page.status, 403, `${method}: ${page.html}`);
    assert.match(page.html, /This link no longer acts on the alert/);
    assert.ok(page.html.includes(`/alerts/${alertId}"`), page.html);
    assert.doesNotMatch(page.html, /<form/);
  }
  assert.equal(await acknowledged(alertId), false);
}

describe('action links bound to the contact they were sent to', () => {
  it('act while the contact is as it was', async () => {
    const ana = await person('same');
    const { alertId, link } = await paged(ana.username, 'unchanged');
    const page = await open(link, 'POST');
    assert.equal(page.status, 200, page.html);
    assert.match(page.html, /acknowledged by Ana same/);
    assert.equal(await acknowledged(alertId), true);
  });

  it("are refused once the email contact's address was changed", async () => {
    const ana = await person('to');
    const { alertId, link } = await paged(ana.username, 'changed to');
    const id = await emailContactId(ana.contacts, ana.username);
    await server.callOk('PATCH', `${ana.contacts}/${id}`, { to: `ana.to.${run}@example.com` });
    await assertRefused(link, alertId);
  });

  it('are refused once the contact was deleted', async () => {
    const ana = await person('deleted');
    // Another contact, so that deleting the first leaves the person pageable.
    await server.callOk('POST', ana.contacts, { method: 'email', to: `ana.deleted.${run}@example.com` });
    const { alertId, link } = await paged(ana.username, 'deleted contact');
    await server.callOk('DELETE', `${ana.contacts}/${await emailContactId(ana.contacts, ana.username)}`);
    await assertRefused(link, alertId);
  });

  it('are refused while the contact is disabled, and act again once it is enabled', async () => {
    const ana = await person('disabled');
    const { alertId, link } = await paged(ana.username, 'disabled contact');
    const id = await emailContactId(ana.contacts, ana.username);
    await server.callOk('POST', `${ana.contacts}/${id}/disable`);
    await assertRefused(link, alertId);
    await server.callOk('POST', `${ana.contacts}/${id}/enable`);
    assert.equal((await open(link, 'POST')).status, 200);
    assert.equal(await acknowledged(alertId), true);
  });

  it('are refused once the username (login email) was corrected: the default email contact follows it', async () => {
    const ana = await person('renamed');
    const { alertId, link } = await paged(ana.username, 'renamed');
    const fixed = `ana.renamed.${run}@example.com`;
    await server.callOk('PATCH', `/v2/users/${encodeURIComponent(ana.username)}`, { username: fixed });
    // The same contact now pages the corrected address (followLoginEmail).
    const contacts = (await server.callOk('GET', `/v2/users/${ana.id}/contacts`)).data as Json[];
    assert.deepEqual(
      contacts.filter((c) => c.method === 'email').map((c) => c.to),
      [fixed],
    );
    await assertRefused(link, alertId);
  });

  it("are refused on a removed push device's notification", async () => {
    const ana = await person('push');
    const key = (await server.callOk('POST', '/v2/api-keys', { name: `push ${run}`, user: { id: ana.id } }))
      .data.key as string;
    const publicKey = (await server.callOk('GET', '/api/console/push/key', undefined, key))
      .publicKey as string;
    const sub = fake.newSubscription({ applicationServerKey: publicKey });
    const device = await server.callOk(
      'POST',
      '/api/console/push/subscriptions',
      { ...sub, deviceName: 'Phone' },
      key,
    );
    const alertId = await createAlert(server, {
      message: `pushed ${run}`,
      responders: [{ type: 'user', username: ana.username }],
    });
    const push = await waitFor('the push', async () =>
      fake.received(sub.endpoint).find((p) => (p.json as PushPayload).alertId === alertId),
    );
    const link = local((push.json as PushPayload).actions.acknowledge ?? '');
    assert.match(link, /\/v1\/alert-actions\/.*\?via=push$/);
    assert.equal((await open(link, 'GET')).status, 200);
    await server.callOk('DELETE', `/api/console/push/subscriptions/${device.id}`, undefined, key);
    await assertRefused(link, alertId);
  });

  it('made before links named their contact, act as before until they expire', async () => {
    const ana = await person('legacy');
    const alertId = await createAlert(server, {
      message: `legacy ${run}`,
      responders: [{ type: 'user', username: ana.username }],
    });
    const { org_id: orgId } = await server.app.context.db
      .selectFrom('users')
      .select('org_id')
      .where('id', '=', ana.id)
      .executeTakeFirstOrThrow();
    const links = createActionLinks(await loadLinkSecret(server.app.context.db), server.url, 72 * 3_600_000);
    const link = links.url({ alertId, userId: ana.id, orgId, action: 'acknowledge' }, clock.now());
    await server.callOk('PATCH', `${ana.contacts}/${await emailContactId(ana.contacts, ana.username)}`, {
      to: `ana.legacy.${run}@example.com`,
    });
    assert.equal((await open(link, 'POST')).status, 200);
    assert.equal(await acknowledged(alertId), true);
  });
});
