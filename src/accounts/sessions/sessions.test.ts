import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../testing/smtp.js';
import { ShiftedClock } from '../../work/clock.js';
import type { SignInCandidate } from './repository.js';
import { matchingCandidate } from './service.js';

/** A browser's view of the console: one cookie jar, and the CSRF token from the last session answer. */
class Browser {
  cookie = '';
  csrf = '';
  constructor(readonly base: string) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const all: Record<string, string> = { ...headers };
    if (body !== undefined) all['content-type'] = 'application/json';
    if (this.cookie) all.cookie = this.cookie;
    if (this.csrf && method !== 'GET' && !('x-csrf-token' in headers)) all['x-csrf-token'] = this.csrf;
    const response = await fetch(this.base + path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) {
      const pair = setCookie.split(';')[0] ?? '';
      this.cookie = pair.endsWith('=') ? '' : pair;
    }
    const text = await response.text();
    let parsed: Json = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    if (parsed && typeof parsed === 'object' && typeof parsed.csrfToken === 'string' && parsed.csrfToken)
      this.csrf = parsed.csrfToken;
    return { status: response.status, body: parsed, headers: response.headers, setCookie };
  }
}

const PASSWORD = 'correct horse battery staple';

describe('console sign-in: the first visit on an empty database', () => {
  let server: TestServer;
  let logged = '';
  before(async () => {
    const logTo = new PassThrough();
    logTo.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    server = await startTestServer({ env: { VIGIL_BOOTSTRAP_API_KEY: '' }, logTo });
  });
  after(() => server.stop());

  it('creates the organization and its first admin once, with the logged code, signed in, and refuses a second set-up', async () => {
    const browser = new Browser(server.url);
    assert.deepEqual((await browser.call('GET', '/api/console/setup')).body, { setupRequired: true });
    const link = /There is no organization yet\. Open (\S+) to create it/.exec(logged)?.[1] ?? '';
    assert.match(link, /\/setup\?code=[A-Za-z0-9_-]{22}$/, logged);
    const setupCode = new URL(link).searchParams.get('code') ?? '';
    const ada = { organizationName: 'Acme', fullName: 'Ada Admin', email: 'ada@example.com' };

    const short = await browser.call('POST', '/api/console/setup', {
      ...ada,
      password: 'too short',
      setupCode,
    });
    assert.equal(short.status, 422);
    assert.match(short.body.errors.password, /at least 12 characters/);

    // Whoever reaches the page before the operator cannot take the organization without the code.
    for (const wrong of [{}, { setupCode: '' }, { setupCode: `${setupCode.slice(1)}A` }]) {
      const refused = await browser.call('POST', '/api/console/setup', {
        ...ada,
        password: PASSWORD,
        ...wrong,
      });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.match(refused.body.message, /set-up code.*start-up log/);
      assert.equal(refused.setCookie, null);
    }
    assert.deepEqual((await browser.call('GET', '/api/console/setup')).body, { setupRequired: true });

    const made = await browser.call('POST', '/api/console/setup', { ...ada, password: PASSWORD, setupCode });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.user.username, 'ada@example.com');
    assert.equal(made.body.user.role, 'owner');
    assert.equal(made.body.organization.name, 'Acme');
    assert.match(
      made.setCookie ?? '',
      /vigil_session=[A-Za-z0-9_-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax/,
    );
    assert.doesNotMatch(made.setCookie ?? '', /Secure/, 'Vigil is served over plain HTTP here');

    // Signed in: the public API answers the cookie.
    const alerts = await browser.call('GET', '/v2/alerts');
    assert.equal(alerts.status, 200);
    assert.deepEqual((await browser.call('GET', '/api/console/setup')).body, { setupRequired: false });

    // The code is spent with the organization: it sets nothing up again.
    for (const code of [{}, { setupCode }]) {
      const again = await new Browser(server.url).call('POST', '/api/console/setup', {
        organizationName: 'Evil',
        fullName: 'Eve',
        email: 'eve@example.com',
        password: PASSWORD,
        ...code,
      });
      assert.equal(again.status, 409);
      assert.match(again.body.message, /already set up/);
    }
    const kept = await server.app.context.db
      .selectFrom('app_secrets')
      .select('name')
      .where('name', 'like', 'setup code %')
      .execute();
    assert.deepEqual(kept, []);
  });
});

describe('console sign-in', () => {
  let server: TestServer;
  let smtp: TestSmtpServer;
  before(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({
      env: {
        VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'owner@example.com',
        VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
        VIGIL_SMTP_URL: smtp.url,
        VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>',
      },
    });
  });
  after(async () => {
    await server.stop();
    await smtp.stop();
  });

  it('signs in the bootstrap admin, beside the bootstrap API key, and signs out', async () => {
    const browser = new Browser(server.url);
    assert.equal((await browser.call('GET', '/api/console/session')).status, 401);
    const signedIn = await browser.call('POST', '/api/console/session', {
      email: 'Owner@Example.com',
      password: PASSWORD,
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    assert.equal(signedIn.body.user.username, 'owner@example.com');
    assert.ok(signedIn.body.csrfToken.length > 20);
    const me = await browser.call('GET', '/api/console/session');
    assert.equal(me.status, 200);
    assert.equal(me.body.csrfToken, signedIn.body.csrfToken);
    // The API key belongs to the same owner.
    const byKey = await server.call('GET', '/api/console/session');
    assert.equal(byKey.body.user.username, 'owner@example.com');
    assert.equal(byKey.body.csrfToken, '');

    const cookie = browser.cookie;
    assert.equal((await browser.call('DELETE', '/api/console/session')).status, 204);
    assert.equal(browser.cookie, '', 'the cookie is cleared');
    const stale = await fetch(`${server.url}/v2/alerts`, { headers: { cookie } });
    assert.equal(stale.status, 401, 'the session ended on the server too');
    assert.match(((await stale.json()) as { message: string }).message, /sign in again/);
  });

  it('needs the CSRF token for every change made with the cookie, and for none made with a key', async () => {
    const browser = new Browser(server.url);
    await browser.call('POST', '/api/console/session', { email: 'owner@example.com', password: PASSWORD });
    const forged = await browser.call(
      'POST',
      '/v2/alerts',
      { message: 'forged' },
      { 'x-csrf-token': 'nope' },
    );
    assert.equal(forged.status, 403);
    assert.match(forged.body.message, /CSRF token/);
    const missing = await fetch(`${server.url}/v2/alerts`, {
      method: 'POST',
      headers: { cookie: browser.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'no token' }),
    });
    assert.equal(missing.status, 403);
    const made = await browser.call('POST', '/v2/alerts', { message: 'from the console' });
    assert.equal(made.status, 202, JSON.stringify(made.body));
    const reading = await browser.call('GET', '/v2/alerts/count', undefined, { 'x-csrf-token': '' });
    assert.equal(reading.status, 200);
    const byKey = await server.call('POST', '/v2/alerts', { message: 'from a script' });
    assert.equal(byKey.status, 202, 'an API key is not a cookie: no CSRF token needed');

    // A heartbeat's ping changes state on GET (Opsgenie takes it so): a followed link carries the cookie
    // and no token, and must not close an expired heartbeat's alert.
    await server.callOk('POST', '/v2/teams', { name: 'Backups' });
    await server.callOk('POST', '/v2/heartbeats', {
      name: 'nightly-backup',
      interval: 10,
      intervalUnit: 'minutes',
      enabled: true,
      ownerTeam: { name: 'Backups' },
    });
    const linked = await browser.call('GET', '/v2/heartbeats/nightly-backup/ping');
    assert.equal(linked.status, 403, JSON.stringify(linked.body));
    assert.match(linked.body.message, /CSRF token/);
    const pinged = await browser.call('GET', '/v2/heartbeats/nightly-backup/ping', undefined, {
      'x-csrf-token': browser.csrf,
    });
    assert.equal(pinged.status, 202, JSON.stringify(pinged.body));
    const byKeyPing = await server.call('GET', '/v2/heartbeats/nightly-backup/ping');
    assert.equal(byKeyPing.status, 202, 'a key pings by GET as in Opsgenie');
  });

  it('refuses a wrong password the same way as an unknown email, and slows down guessing', async () => {
    const browser = new Browser(server.url);
    const wrong = await browser.call('POST', '/api/console/session', {
      email: 'guess@example.com',
      password: 'not the password',
    });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.message, /Wrong email or password/);
    const unknown = await browser.call('POST', '/api/console/session', {
      email: 'nobody@example.com',
      password: PASSWORD,
    });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.message, wrong.body.message);

    for (let i = 1; i < 10; i++) {
      const again = await browser.call('POST', '/api/console/session', {
        email: 'guess@example.com',
        password: `guess number ${i}`,
      });
      assert.equal(again.status, 401);
    }
    const limited = await browser.call('POST', '/api/console/session', {
      email: 'guess@example.com',
      password: 'guess number 11',
    });
    assert.equal(limited.status, 429);
    assert.match(limited.body.message, /Too many wrong passwords/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter > 800 && retryAfter <= 900, `retry-after ${retryAfter}`);
  });

  it('gives guesses sent side by side no more tries than guesses sent one by one', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        new Browser(server.url).call('POST', '/api/console/session', {
          email: 'owner@example.com',
          password: `parallel guess ${i}`,
        }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 401).length, 10, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 429).length, 20, statuses.join(' '));
    // The owner's right password waits out the window like any other try; later tests sign in again.
    await server.app.context.apiDb.deleteFrom('sign_in_failures').execute();
  });

  it('invites a person by email; the link sets their password once and signs them in', async () => {
    const admin = new Browser(server.url);
    await admin.call('POST', '/api/console/session', { email: 'owner@example.com', password: PASSWORD });
    smtp.clear();
    const invited = await admin.call('POST', '/api/console/invitations', {
      email: 'new.person@example.com',
      fullName: 'New Person',
      role: 'user',
    });
    assert.equal(invited.status, 201, JSON.stringify(invited.body));
    assert.equal(invited.body.emailed, true);
    assert.equal(invited.body.link, undefined, 'the link goes only to the person');
    const [mail] = await smtp.waitForMessages(1);
    assert.deepEqual(mail?.to, ['new.person@example.com']);
    assert.match(mail?.subject ?? '', /invited/);
    const link = /https?:\/\/\S+\/set-password\?token=([A-Za-z0-9_%-]+)/.exec(mail?.text ?? '');
    assert.ok(link, mail?.text);
    const token = decodeURIComponent(link[1] ?? '');

    const person = new Browser(server.url);
    const set = await person.call('POST', '/api/console/password', {
      token,
      password: 'a new password of mine',
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.user.username, 'new.person@example.com');
    assert.equal(set.body.user.role, 'user');
    const reused = await new Browser(server.url).call('POST', '/api/console/password', {
      token,
      password: 'another password here',
    });
    assert.equal(reused.status, 401);
    assert.match(reused.body.message, /expired or has been used/);

    const again = await admin.call('POST', '/api/console/invitations', {
      email: 'new.person@example.com',
      fullName: 'New Person',
      role: 'user',
    });
    assert.equal(again.status, 409);
    const byUser = await person.call('POST', '/api/console/invitations', {
      email: 'someone@example.com',
      fullName: 'Someone',
      role: 'user',
    });
    assert.equal(byUser.status, 403);
  });

  it("spends a person's other links once one of them has set the password", async () => {
    const admin = new Browser(server.url);
    await admin.call('POST', '/api/console/session', { email: 'owner@example.com', password: PASSWORD });
    smtp.clear();
    const tokens: string[] = [];
    for (let i = 1; i <= 2; i++) {
      const invited = await admin.call('POST', '/api/console/invitations', {
        email: 'twice.invited@example.com',
        fullName: 'Twice Invited',
        role: 'user',
      });
      assert.equal(invited.status, 201, JSON.stringify(invited.body));
      const mail = (await smtp.waitForMessages(i))[i - 1];
      tokens.push(
        decodeURIComponent(/set-password\?token=([A-Za-z0-9_%-]+)/.exec(mail?.text ?? '')?.[1] ?? ''),
      );
    }
    const [first, second] = tokens;
    assert.ok(first && second && first !== second);
    const set = await new Browser(server.url).call('POST', '/api/console/password', {
      token: second,
      password: 'the password I chose',
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const older = await new Browser(server.url).call('POST', '/api/console/password', {
      token: first,
      password: 'somebody else chose this',
    });
    assert.equal(older.status, 401, JSON.stringify(older.body));
    assert.match(older.body.message, /expired or has been used/);
    const signIn = await new Browser(server.url).call('POST', '/api/console/session', {
      email: 'twice.invited@example.com',
      password: 'the password I chose',
    });
    assert.equal(signIn.status, 200, 'the password set first still holds');
  });

  it('resets a password by email, ending the other sessions, and says nothing of unknown emails', async () => {
    const elsewhere = new Browser(server.url);
    await elsewhere.call('POST', '/api/console/session', { email: 'owner@example.com', password: PASSWORD });
    smtp.clear();
    const unknown = await new Browser(server.url).call('POST', '/api/console/password-reset', {
      email: 'nobody@example.com',
    });
    const known = await new Browser(server.url).call('POST', '/api/console/password-reset', {
      email: 'owner@example.com',
    });
    assert.equal(unknown.status, 202);
    assert.deepEqual(known.body, unknown.body);
    const [mail] = await smtp.waitForMessages(1);
    assert.deepEqual(mail?.to, ['owner@example.com']);
    const token = decodeURIComponent(
      /set-password\?token=([A-Za-z0-9_%-]+)/.exec(mail?.text ?? '')?.[1] ?? '',
    );
    const reset = await new Browser(server.url).call('POST', '/api/console/password', {
      token,
      password: `${PASSWORD} again`,
    });
    assert.equal(reset.status, 200);
    assert.equal((await elsewhere.call('GET', '/api/console/session')).status, 401);
    const old = await new Browser(server.url).call('POST', '/api/console/session', {
      email: 'owner@example.com',
      password: PASSWORD,
    });
    assert.equal(old.status, 401);
    assert.equal(smtp.messages.length, 1, 'one email: the unknown address got none');
  });

  it('streams the ids of created and changed alerts a signed-in browser may see, and no others', async () => {
    const browser = new Browser(server.url);
    await browser.call('POST', '/api/console/session', {
      email: 'new.person@example.com',
      password: 'a new password of mine',
    });
    const controller = new AbortController();
    const response = await fetch(`${server.url}/api/console/events`, {
      headers: { cookie: browser.cookie },
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    let received = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) received += decoder.decode(chunk);
    })().catch(() => {});
    await waitFor('the stream to open', async () => received.includes(': connected'));
    // A user sees only their own alerts (alerts/visibility.ts): of these two, the second.
    const notTheirs = await server.call('POST', '/v2/alerts', { message: 'not theirs', alias: 'not-theirs' });
    assert.equal(notTheirs.status, 202);
    const made = await server.call('POST', '/v2/alerts', {
      message: 'live one',
      alias: 'live-one',
      visibleTo: [{ type: 'user', username: 'new.person@example.com' }],
    });
    assert.equal(made.status, 202);
    const hidden = await waitFor('the other alert', async () => {
      const got = await server.call('GET', '/v2/alerts/not-theirs?identifierType=alias');
      return got.status === 200 && got.body.data;
    });
    const alert = await waitFor('the alert', async () => {
      const got = await server.call('GET', '/v2/alerts/live-one?identifierType=alias');
      return got.status === 200 && got.body.data;
    });
    await waitFor('the announcement', async () => received.includes(alert.id));
    assert.match(received, new RegExp(`event: alerts\\ndata: \\{"ids":\\[[^\\]]*"${alert.id}"`));
    // Announced in order, so the alert made first would have come before.
    assert.ok(!received.includes(hidden.id), received);
    controller.abort();
    await reading;
  });
});

describe('console sign-in: what ends sessions and links', () => {
  let server: TestServer;
  let smtp: TestSmtpServer;
  let admin: Browser;
  const clock = new ShiftedClock();
  before(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({
      clock,
      env: {
        VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'owner@example.com',
        VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
        VIGIL_SMTP_URL: smtp.url,
        VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>',
      },
    });
    admin = new Browser(server.url);
    const signedIn = await admin.call('POST', '/api/console/session', {
      email: 'owner@example.com',
      password: PASSWORD,
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  });
  after(async () => {
    await server.stop();
    await smtp.stop();
  });

  /** Invites `email` and returns the token of the link the email carries. */
  async function invite(email: string): Promise<{ userId: string; token: string }> {
    smtp.clear();
    const invited = await admin.call('POST', '/api/console/invitations', {
      email,
      fullName: 'Some One',
      role: 'user',
    });
    assert.equal(invited.status, 201, JSON.stringify(invited.body));
    const [mail] = await smtp.waitForMessages(1);
    assert.deepEqual(mail?.to, [email]);
    const token = decodeURIComponent(
      /set-password\?token=([A-Za-z0-9_%-]+)/.exec(mail?.text ?? '')?.[1] ?? '',
    );
    assert.ok(token, mail?.text);
    return { userId: invited.body.userId, token };
  }

  const setPassword = (token: string, password: string) =>
    new Browser(server.url).call('POST', '/api/console/password', { token, password });

  it('ends the sessions of a blocked user: unblocking does not bring them back', async () => {
    const { userId, token } = await invite('to.block@example.com');
    assert.equal((await setPassword(token, 'blocked person password')).status, 200);
    const browser = new Browser(server.url);
    const signedIn = await browser.call('POST', '/api/console/session', {
      email: 'to.block@example.com',
      password: 'blocked person password',
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const cookie = browser.cookie;
    assert.equal((await browser.call('GET', '/api/console/session')).status, 200);

    const blocked = await server.call('PATCH', `/v2/users/${userId}`, { blocked: true });
    assert.equal(blocked.status, 200, JSON.stringify(blocked.body));
    assert.equal((await browser.call('GET', '/api/console/session')).status, 401);
    const unblocked = await server.call('PATCH', `/v2/users/${userId}`, { blocked: false });
    assert.equal(unblocked.status, 200, JSON.stringify(unblocked.body));
    const stale = await fetch(`${server.url}/api/console/session`, { headers: { cookie } });
    assert.equal(stale.status, 401, 'the session ended when the user was blocked');
    const again = await new Browser(server.url).call('POST', '/api/console/session', {
      email: 'to.block@example.com',
      password: 'blocked person password',
    });
    assert.equal(again.status, 200, 'an unblocked user signs in again');
  });

  it('ends the event streams of a session signed out and of a blocked user at the next keep-alive', async () => {
    /** Opens the console's event stream with a browser's cookie, and reads it. */
    async function openStream(browser: Browser) {
      const response = await fetch(`${server.url}/api/console/events`, {
        headers: { cookie: browser.cookie },
      });
      assert.equal(response.status, 200);
      const stream = { received: '', ended: false };
      void (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of response.body as AsyncIterable<Uint8Array>)
          stream.received += decoder.decode(chunk);
      })()
        .catch(() => {})
        .finally(() => (stream.ended = true));
      await waitFor('the stream to open', async () => stream.received.includes(': connected'));
      return stream;
    }
    const owner = new Browser(server.url);
    const ownerIn = await owner.call('POST', '/api/console/session', {
      email: 'owner@example.com',
      password: PASSWORD,
    });
    assert.equal(ownerIn.status, 200, JSON.stringify(ownerIn.body));
    const { userId, token } = await invite('streamer@example.com');
    assert.equal((await setPassword(token, 'streaming person password')).status, 200);
    const person = new Browser(server.url);
    const personIn = await person.call('POST', '/api/console/session', {
      email: 'streamer@example.com',
      password: 'streaming person password',
    });
    assert.equal(personIn.status, 200, JSON.stringify(personIn.body));
    const signedOut = await openStream(owner);
    const blocked = await openStream(person);

    assert.equal((await owner.call('DELETE', '/api/console/session')).status, 204);
    const block = await server.call('PATCH', `/v2/users/${userId}`, { blocked: true });
    assert.equal(block.status, 200, JSON.stringify(block.body));
    clock.advance(25_000);
    await waitFor('the signed-out stream to end', async () => signedOut.ended);
    await waitFor("the blocked user's stream to end", async () => blocked.ended);

    const later = await server.call('POST', '/v2/alerts', {
      message: 'after the streams',
      alias: 'after-the-streams',
      visibleTo: [{ type: 'user', username: 'streamer@example.com' }],
    });
    assert.equal(later.status, 202);
    const alert = await waitFor('the alert', async () => {
      const got = await server.call('GET', '/v2/alerts/after-the-streams?identifierType=alias');
      return got.status === 200 && got.body.data;
    });
    assert.ok(!signedOut.received.includes(alert.id), signedOut.received);
    assert.ok(!blocked.received.includes(alert.id), blocked.received);
    const unblock = await server.call('PATCH', `/v2/users/${userId}`, { blocked: false });
    assert.equal(unblock.status, 200, JSON.stringify(unblock.body));
  });

  it('lets a new password end a lock-out that wrong passwords caused', async () => {
    const { token } = await invite('locked.out@example.com');
    assert.equal((await setPassword(token, 'locked out password')).status, 200);
    const guesser = new Browser(server.url);
    for (let i = 0; i < 10; i++) {
      const wrong = await guesser.call('POST', '/api/console/session', {
        email: 'locked.out@example.com',
        password: `someone guessing ${i}`,
      });
      assert.equal(wrong.status, 401);
    }
    const locked = await new Browser(server.url).call('POST', '/api/console/session', {
      email: 'locked.out@example.com',
      password: 'locked out password',
    });
    assert.equal(locked.status, 429, 'locked out');

    smtp.clear();
    const asked = await new Browser(server.url).call('POST', '/api/console/password-reset', {
      email: 'locked.out@example.com',
    });
    assert.equal(asked.status, 202);
    const [mail] = await smtp.waitForMessages(1);
    const resetToken = decodeURIComponent(
      /set-password\?token=([A-Za-z0-9_%-]+)/.exec(mail?.text ?? '')?.[1] ?? '',
    );
    assert.equal((await setPassword(resetToken, 'a fresh password now')).status, 200);
    const elsewhere = await new Browser(server.url).call('POST', '/api/console/session', {
      email: 'locked.out@example.com',
      password: 'a fresh password now',
    });
    assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
  });

  it('spends earlier links when a person is invited again', async () => {
    const first = await invite('invited.again@example.com');
    const second = await invite('invited.again@example.com');
    assert.notEqual(first.token, second.token);
    const old = await setPassword(first.token, 'from the old link');
    assert.equal(old.status, 401, JSON.stringify(old.body));
    assert.match(old.body.message, /expired or has been used/);
    assert.equal((await setPassword(second.token, 'from the new link')).status, 200);
  });

  it('spends the links sent to the old login email when it changes', async () => {
    const before = await invite('mistyped@exmaple.com');
    const renamed = await server.call('PATCH', `/v2/users/${before.userId}`, {
      username: 'corrected@example.com',
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    const old = await setPassword(before.token, 'whoever got the mail');
    assert.equal(old.status, 401, 'the link went to the old address');
    const after = await invite('corrected@example.com');
    assert.equal(after.userId, before.userId);
    const set = await setPassword(after.token, 'the right person now');
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.user.username, 'corrected@example.com');
  });

  it('ends the sessions of a person whose login email changes, as Opsgenie does', async () => {
    // Whoever got the mail sent to the mistyped address signs in with its link, before the correction.
    const { userId, token } = await invite('signed.in@exmaple.com');
    const stranger = new Browser(server.url);
    const set = await stranger.call('POST', '/api/console/password', { token, password: 'whoever got it' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal((await stranger.call('GET', '/api/console/session')).status, 200);
    const renamed = await server.call('PATCH', `/v2/users/${userId}`, { username: 'signed.in@example.com' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal((await stranger.call('GET', '/api/console/session')).status, 401);

    // A person who changes their own login email (a custom role may let them) signs in again with it.
    const role = await server.call('POST', '/v2/roles', {
      name: 'Edits own login email',
      extendedRole: 'user',
      grantedRights: ['login-email-edit'],
    });
    assert.equal(role.status, 201, JSON.stringify(role.body));
    const own = await invite('own.address@example.com');
    const given = await server.call('PATCH', `/v2/users/${own.userId}`, {
      role: { name: 'Edits own login email' },
    });
    assert.equal(given.status, 200, JSON.stringify(given.body));
    const person = new Browser(server.url);
    const chosen = await person.call('POST', '/api/console/password', {
      token: own.token,
      password: 'the person themselves',
    });
    assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
    const changed = await person.call('PATCH', `/v2/users/${own.userId}`, {
      username: 'new.address@example.com',
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal((await person.call('GET', '/api/console/session')).status, 401);
    const signedIn = await person.call('POST', '/api/console/session', {
      email: 'new.address@example.com',
      password: 'the person themselves',
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  });

  it("renews the cookie's lifetime while the session is used", async () => {
    const browser = new Browser(server.url);
    const signedIn = await browser.call('POST', '/api/console/session', {
      email: 'owner@example.com',
      password: PASSWORD,
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const cookie = browser.cookie;
    const soon = await browser.call('GET', '/api/console/session');
    assert.equal(soon.status, 200);
    assert.equal(soon.setCookie, null, 'not renewed on every request');

    clock.advance(6 * 60_000);
    const later = await browser.call('GET', '/api/console/session');
    assert.equal(later.status, 200);
    assert.match(later.setCookie ?? '', /vigil_session=[A-Za-z0-9_-]+; Max-Age=1209600; Path=\/; HttpOnly/);
    assert.equal(later.setCookie?.split(';')[0], cookie, 'the same session, its cookie kept longer');
    assert.equal(browser.cookie, cookie);
    const next = await browser.call('GET', '/api/console/session');
    assert.equal(next.setCookie, null, 'renewed once per few minutes');
  });
});

describe('console sign-in: matching a password', () => {
  const candidate = (c: Partial<SignInCandidate>): SignInCandidate => ({
    user_id: 'u1',
    username: 'someone@example.com',
    org_id: 'o1',
    role: 'user',
    blocked: false,
    hash: 'hash-1',
    ...c,
  });

  async function verifications(candidates: SignInCandidate[], right?: string) {
    const calls: (string | undefined)[] = [];
    const match = await matchingCandidate(candidates, 'a password', async (_password, hash) => {
      calls.push(hash);
      return hash !== undefined && hash === right;
    });
    return { match, calls };
  }

  it('verifies at least one password, whoever the email belongs to', async () => {
    assert.deepEqual(await verifications([]), { match: undefined, calls: [undefined] });
    assert.deepEqual(await verifications([candidate({ hash: null })]), {
      match: undefined,
      calls: [undefined],
    });
    assert.deepEqual(
      await verifications([candidate({ blocked: true })], 'hash-1'),
      { match: undefined, calls: [undefined] },
      'a blocked user is not signed in, and takes as long to refuse as a wrong password',
    );
    assert.deepEqual(await verifications([candidate({})]), { match: undefined, calls: ['hash-1'] });
    assert.deepEqual(await verifications([candidate({})], 'hash-1'), { match: 'u1', calls: ['hash-1'] });
  });
});
