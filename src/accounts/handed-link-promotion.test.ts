import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';

/**
 * An invitation's link that could not be emailed comes back to the admin who invited, who can then set the
 * person's password, sign in as them and make an API key in that session. Once the person is made an owner
 * (or that admin is let go), none of it may go on working: the sessions end, the keys made in them go
 * (they count the admin among their holders), and the password the admin may have chosen is dropped. A
 * person whose link was emailed, or handed to an owner (who may hold an owner's), keeps their password
 * and the keys only they (and owners) saw.
 */
describe('a password set through an invitation link handed back to an admin', () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  before(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({ env: { VIGIL_SMTP_URL: smtp.url } });
  });
  after(async () => {
    await server?.stop();
    await smtp?.stop();
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as Json;
    return { status: res.status, body: answer, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] };
  };

  /** A console session: its cookie and CSRF token, and calls made with them. */
  function session(signedIn: { cookie: string | undefined; body: Json }) {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          cookie: signedIn.cookie ?? '',
          'x-csrf-token': signedIn.body.csrfToken as string,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    return { call, works: async () => (await call('GET', '/api/console/session')).status };
  }

  async function setPassword(link: string, password: string) {
    const token = new URL(link).searchParams.get('token');
    const signedIn = await post('/api/console/password', { token, password });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    return session(signedIn);
  }

  const signIn = (email: string, password: string) => post('/api/console/session', { email, password });

  /** Invites `email` as `inviter` (a session, or the owner's key); the link, handed back or emailed. */
  async function invite(
    inviter: ReturnType<typeof session> | undefined,
    email: string,
    role: 'admin' | 'user',
    handed: boolean,
  ): Promise<{ id: string; link: string }> {
    if (handed) smtp.rejectRecipient(email, 550);
    const body = { email, fullName: email, role };
    const made = inviter
      ? await inviter.call('POST', '/api/console/invitations', body)
      : await server.call('POST', '/api/console/invitations', body);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    if (handed) {
      assert.ok(made.body.link, 'handed back');
      return { id: made.body.userId, link: made.body.link };
    }
    assert.equal(made.body.link, undefined, 'emailed');
    const mail = await waitFor(`the invitation to ${email}`, async () =>
      smtp.messages.find((m) => m.to.includes(email.toLowerCase())),
    );
    const link = /https?:\/\/\S*set-password\?token=[\w%-]+/.exec(mail.text)?.[0];
    assert.ok(link, mail.text);
    return { id: made.body.userId, link };
  }

  /** An admin the owner invited, signed in. */
  async function admin(local: string) {
    const email = `${local}.${run}@example.com`;
    const { id, link } = await invite(undefined, email, 'admin', false);
    return { id, ...(await setPassword(link, `${local} chose this`)) };
  }

  const keyWorks = async (key: string) => (await server.call('GET', '/v2/alerts', undefined, key)).status;

  async function keyMadeIn(s: ReturnType<typeof session>): Promise<string> {
    const made = await s.call('POST', '/v2/api-keys', { name: `made ${randomUUID().slice(0, 6)}` });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    return made.body.data.key as string;
  }

  it('is dropped when its person is made an owner, with the sessions and the keys made in them', async () => {
    const alice = await admin('alice');
    // Alice sets the password of the person she invited, signs in as them and makes a key there.
    const victim = `victim.${run}@example.com`;
    const handed = await invite(alice, victim, 'user', true);
    const asVictim = await setPassword(handed.link, 'alice chose this for them');
    const aliceAsVictim = await keyMadeIn(asVictim);
    // A person whose link was emailed: their password and the key only they saw are theirs.
    const own = `own.${run}@example.com`;
    const emailed = await invite(alice, own, 'user', false);
    const asOwn = await setPassword(emailed.link, 'own chose this');
    const ownKey = await keyMadeIn(asOwn);
    // A link handed back to an owner: an owner may hold an owner's link, and so the password it set.
    const byOwner = `by.owner.${run}@example.com`;
    const ownerHanded = await invite(undefined, byOwner, 'user', true);
    const asByOwner = await setPassword(ownerHanded.link, 'the owner handed this');
    const byOwnerKey = await keyMadeIn(asByOwner);

    for (const id of [handed.id, emailed.id, ownerHanded.id])
      await server.callOk('PATCH', `/v2/users/${id}`, { role: { name: 'Owner' } });

    assert.equal(await asVictim.works(), 401, 'the session signed in through the handed link ended');
    assert.equal(await keyWorks(aliceAsVictim), 401, 'the key made in that session is deleted');
    assert.equal(
      (await signIn(victim, 'alice chose this for them')).status,
      401,
      'the password chosen through the handed link is dropped',
    );
    assert.equal(await asOwn.works(), 401, 'every session of a person made an owner ends');
    assert.equal(await keyWorks(ownKey), 200, 'a key only its person saw stays');
    assert.equal((await signIn(own, 'own chose this')).status, 200, 'an emailed link: the password stays');
    assert.equal(await keyWorks(byOwnerKey), 200, 'a key made in a session only an owner may be in stays');
    assert.equal((await signIn(byOwner, 'the owner handed this')).status, 200, "an owner's link: it stays");

    // The new owner sets a password of their own through "Forgot password?".
    smtp.clear(); // and the refusal that made the invitation's link come back
    assert.equal((await post('/api/console/password-reset', { email: victim })).status, 202);
    const [reset] = await smtp.waitForMessages(1);
    const link = /https?:\/\/\S*set-password\?token=[\w%-]+/.exec(reset?.text ?? '')?.[0];
    assert.ok(link && reset?.to.includes(victim), reset?.text);
    const asOwner = await setPassword(link, 'the owner chose this');
    assert.equal((await asOwner.call('GET', '/api/console/session')).body.user.role, 'owner');
  });

  it("is dropped, with those sessions and keys, when the admin it was handed to is let go; others' stay", async () => {
    for (const how of ['blocked', 'deleted', 'demoted'] as const) {
      const mallory = await admin(`mallory.${how}`);
      const bob = await admin(`bob.${how}`);
      const victim = `victim.${how}.${run}@example.com`;
      const other = `other.${how}.${run}@example.com`;
      const asVictim = await setPassword(
        (await invite(mallory, victim, 'user', true)).link,
        'mallory chose this',
      );
      const malloryAsVictim = await keyMadeIn(asVictim);
      const asOther = await setPassword((await invite(bob, other, 'user', true)).link, 'bob chose this one');
      const bobAsOther = await keyMadeIn(asOther);

      if (how === 'blocked') await server.callOk('PATCH', `/v2/users/${mallory.id}`, { blocked: true });
      else if (how === 'deleted') await server.callOk('DELETE', `/v2/users/${mallory.id}`);
      else await server.callOk('PATCH', `/v2/users/${mallory.id}`, { role: { name: 'User' } });

      assert.equal(await asVictim.works(), 401, `${how}: the session signed in with mallory's password`);
      assert.equal(await keyWorks(malloryAsVictim), 401, `${how}: the key made in it`);
      assert.equal((await signIn(victim, 'mallory chose this')).status, 401, `${how}: the password`);
      assert.equal(await asOther.works(), 200, `${how}: a link another admin was handed`);
      assert.equal(await keyWorks(bobAsOther), 200, `${how}: the key made with it`);
      assert.equal((await signIn(other, 'bob chose this one')).status, 200, `${how}: its password`);
    }
  });
});
