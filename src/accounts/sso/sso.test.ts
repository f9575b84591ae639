import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it, mock } from 'node:test';
import { PassThrough } from 'node:stream';
import * as oidc from 'openid-client';
import { createLogger } from '../../logger.js';
import { addOrganization, startTestServer, type TestServer } from '../../testing/harness.js';
import { freePort } from '../../testing/network.js';
import { startTestOidcProvider, type TestOidcProvider } from '../../testing/oidc-provider.js';
import { systemClock } from '../../work/clock.js';
import type { Principal } from '../service.js';
import { ssoRepository } from './repository.js';
import { createSsoService, DiscoveryCache, SsoSignInError } from './service.js';

/**
 * Follows a browser's redirects from `start`, keeping each site's cookies as a browser does, until a page
 * answers without redirecting. Returns where it ended and Vigil's session cookie, if one was set.
 */
async function browse(start: string, vigil: string, options: { stopBefore?: string } = {}) {
  const jars = new Map<string, Map<string, string>>();
  let url = start;
  for (let hop = 0; hop < 15; hop++) {
    if (options.stopBefore && hop > 0 && url.startsWith(options.stopBefore)) {
      return { url, status: 0, session: undefined };
    }
    const origin = new URL(url).origin;
    const jar = jars.get(origin) ?? new Map<string, string>();
    jars.set(origin, jar);
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      return { url, status: response.status, session: jars.get(vigil)?.get('vigil_session') };
    }
    url = new URL(location, url).toString();
  }
  throw new Error('too many redirects');
}

/** A local server that counts the requests it gets, answering each with `body` as JSON. */
async function countingServer(host: string, body: (origin: string) => unknown = () => ({})) {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body(origin)));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('single sign-on through OpenID Connect', () => {
  let server: TestServer;
  let provider: TestOidcProvider;
  let orgId: string;
  before(async () => {
    // The provider sends the browser back to Vigil's public URL, which must be known before it starts.
    const port = await freePort();
    server = await startTestServer({
      // The test provider runs on 127.0.0.1: allowed as an operator allows an internal provider.
      env: {
        PORT: String(port),
        VIGIL_PUBLIC_URL: `http://127.0.0.1:${port}`,
        VIGIL_SSO_ALLOW_HOSTS: '127.0.0.1',
      },
    });
    provider = await startTestOidcProvider({ redirectUri: `${server.url}/api/console/sso/callback` });
    orgId = (await server.call('GET', '/v2/organization')).body.data.id;
    const person = await server.call('POST', '/v2/users', {
      username: 'sso.person@example.com',
      fullName: 'Sso Person',
      role: { name: 'User' },
    });
    assert.equal(person.status, 201);
  });
  after(async () => {
    await server.stop();
    await provider.stop();
  });

  it('refuses a provider whose discovery document cannot be read, naming the issuer', async () => {
    const saved = await server.call('PUT', '/api/console/sso', {
      issuer: 'http://127.0.0.1:9/nothing',
      clientId: 'x',
      clientSecret: 'y',
      label: 'Acme SSO',
    });
    assert.equal(saved.status, 422);
    assert.match(saved.body.errors.issuer, /could not be read/);
    const plain = await server.call('PUT', '/api/console/sso', {
      issuer: 'http://login.example.com',
      clientId: 'x',
      clientSecret: 'y',
    });
    assert.equal(plain.status, 422);
    assert.match(plain.body.errors.issuer, /https/);
  });

  it('refuses an issuer on a private or loopback address the operator did not allow, without a request to it', async () => {
    // On this machine, reached by a name VIGIL_SSO_ALLOW_HOSTS (127.0.0.1 here) does not list.
    const probe = await countingServer('localhost');
    try {
      const { port } = new URL(probe.origin);
      for (const issuer of [
        probe.origin,
        `https://localhost:${port}`,
        `http://[::1]:${port}`,
        'https://10.0.0.5/realms/acme',
        'https://169.254.169.254',
        'https://keycloak/realms/acme',
      ]) {
        const saved = await server.call('PUT', '/api/console/sso', {
          issuer,
          clientId: 'x',
          clientSecret: 'y',
          label: 'Acme SSO',
        });
        assert.equal(saved.status, 422, `${issuer}: ${JSON.stringify(saved.body)}`);
        assert.match(saved.body.errors.issuer, /is refused: .*VIGIL_SSO_ALLOW_HOSTS/, issuer);
      }
      assert.equal(probe.requests(), 0, 'nothing reached the address');
    } finally {
      await probe.close();
    }
  });

  it('never calls a private address that an allowed provider’s discovery document names', async () => {
    // The token endpoint on this machine, by a name not allowed; the discovery document on an allowed host.
    const inside = await countingServer('localhost');
    const provider = await countingServer('127.0.0.1', (origin) => ({
      issuer: origin,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${inside.origin}/token`,
      jwks_uri: `${inside.origin}/jwks`,
      userinfo_endpoint: `${inside.origin}/userinfo`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    }));
    try {
      const sso = createSsoService({
        db: server.app.context.db,
        clock: systemClock,
        log: createLogger('silent'),
        publicUrl: server.url,
        sessions: server.app.context.sessions,
        allowHosts: ['127.0.0.1'],
      });
      const org = await addOrganization(server, 'Sso Inside');
      const owner: Principal = {
        orgId: org.orgId,
        apiKeyId: 'a-test-key',
        userId: undefined,
        username: undefined,
        fullName: undefined,
        role: 'owner',
      };
      await sso.save(owner, {
        issuer: provider.origin,
        clientId: 'a-client',
        clientSecret: 'a-secret',
        label: 'Inside',
        enabled: true,
      });
      const started = await sso.start(org.orgId, '/');
      const callback = `/api/console/sso/callback?code=a-code&state=${started.state}`;
      const failed = await sso.finish(callback, started.state, { ip: '127.0.0.1', userAgent: 'test' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.equal(inside.requests(), 0, 'the token endpoint inside was never called');
      assert.equal(provider.requests(), 1, 'only the discovery document was read');
      assert.ok(failed instanceof SsoSignInError, String(failed));
      assert.equal(failed.failure, 'sso_unchecked', failed.message);
      assert.match(failed.message, /localhost is a local name, which Vigil does not send to/);
      // Off the sign-in page's list again, which the other tests read.
      await sso.remove(owner);
    } finally {
      await inside.close();
      await provider.close();
    }
  });

  it('tells the operator, at warn and naming VIGIL_SSO_ALLOW_HOSTS, of a sign-in the address guard refused', async () => {
    // A provider saved before the guard, whose name resolves to an address inside Vigil's network.
    const name = 'idp.vigil-test.example';
    const real = dns.lookup.bind(dns);
    type LookupCallback = (
      error: Error | null,
      address: string | dns.LookupAddress[],
      family?: number,
    ) => void;
    mock.method(dns, 'lookup', (host: string, options: dns.LookupOptions, callback: LookupCallback) => {
      if (host !== name) return real(host, options, callback);
      callback(null, options.all ? [{ address: '10.0.0.5', family: 4 }] : '10.0.0.5', 4);
    });
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const sso = createSsoService({
      db: server.app.context.db,
      clock: systemClock,
      log: createLogger('warn', stream),
      publicUrl: server.url,
      sessions: server.app.context.sessions,
      outbound: { env: {} },
      allowHosts: ['127.0.0.1'],
    });
    const org = await addOrganization(server, 'Sso Refused');
    await ssoRepository.saveSettings(server.app.context.db, {
      orgId: org.orgId,
      issuer: `https://${name}`,
      clientId: 'a-client',
      clientSecret: 'a-secret',
      label: 'Refused',
      enabled: true,
      now: new Date(),
    });
    try {
      await assert.rejects(sso.start(org.orgId, '/'), (error: unknown) => {
        assert.ok(error instanceof SsoSignInError, String(error));
        assert.equal(error.failure, 'sso_provider_unreachable', error.message);
        assert.match(error.message, /resolves to 10\.0\.0\.5.*VIGIL_SSO_ALLOW_HOSTS/);
        return true;
      });
      const warned = lines
        .map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string })
        .filter((line) => line.level === 40 && /VIGIL_SSO_ALLOW_HOSTS/.test(line.msg));
      assert.equal(warned.length, 1, lines.join(''));
      assert.match(warned[0]?.reason ?? '', /resolves to 10\.0\.0\.5/);
    } finally {
      mock.restoreAll();
      await ssoRepository.deleteSettings(server.app.context.db, org.orgId);
    }
  });

  it('signs a user in through the provider and back to the page they asked for', async () => {
    const saved = await server.call('PUT', '/api/console/sso', {
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      label: 'Acme SSO',
    });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.equal(saved.body.redirectUri, `${server.url}/api/console/sso/callback`);
    assert.equal(saved.body.clientSecret, undefined, 'the secret is never read back');
    const providers = await fetch(`${server.url}/api/console/sso/providers`);
    assert.deepEqual(((await providers.json()) as { providers: unknown[] }).providers, [
      { organizationId: orgId, organizationName: 'Vigil', label: 'Acme SSO' },
    ]);

    provider.signInAs('SSO.Person@example.com');
    const trip = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}&returnTo=${encodeURIComponent('/alerts/abc')}`,
      new URL(server.url).origin,
    );
    assert.equal(new URL(trip.url).pathname, '/alerts/abc', trip.url);
    assert.ok(trip.session, 'a session cookie was set');
    const me = await fetch(`${server.url}/api/console/session`, {
      headers: { cookie: `vigil_session=${trip.session}` },
    });
    assert.equal(me.status, 200);
    assert.equal(
      ((await me.json()) as { user: { username: string } }).user.username,
      'sso.person@example.com',
    );
  });

  it('sends a person the provider knows but Vigil does not back to the sign-in page, saying why', async () => {
    provider.signInAs('stranger@example.com');
    const trip = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}&returnTo=${encodeURIComponent('https://evil.example.com/')}`,
      new URL(server.url).origin,
    );
    const landed = new URL(trip.url);
    assert.equal(landed.pathname, '/sign-in');
    // A code the page has its own words for: never text that a link could carry instead.
    assert.equal(landed.search, '?error=sso_not_a_user');
    assert.equal(trip.session, undefined);
  });

  it('sends the browser back with a code alone when the organization has no single sign-on', async () => {
    const trip = await browse(
      `${server.url}/api/console/sso/start?organizationId=00000000-0000-4000-8000-000000000000`,
      new URL(server.url).origin,
    );
    const landed = new URL(trip.url);
    assert.equal(`${landed.pathname}${landed.search}`, '/sign-in?error=sso_not_set_up');
  });

  it('refuses an unverified email, and a callback replayed or forged', async () => {
    provider.signInAs('sso.person@example.com', false);
    const unverified = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}`,
      new URL(server.url).origin,
    );
    assert.equal(new URL(unverified.url).searchParams.get('error'), 'sso_email_unverified');
    const forged = await browse(
      `${server.url}/api/console/sso/callback?code=abc&state=made-up`,
      new URL(server.url).origin,
    );
    assert.equal(new URL(forged.url).searchParams.get('error'), 'sso_wrong_browser');
    assert.equal(forged.session, undefined);
  });

  it('refuses an email the provider does not say is verified', async () => {
    provider.signInAs('sso.person@example.com', null);
    const trip = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}`,
      new URL(server.url).origin,
    );
    assert.equal(new URL(trip.url).searchParams.get('error'), 'sso_email_unverified');
    assert.equal(trip.session, undefined);
  });

  it('reads email_verified from UserInfo when the ID token gives the email without it', async () => {
    provider.signInAs('sso.person@example.com', true, { idToken: 'email' });
    const trip = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}`,
      new URL(server.url).origin,
    );
    assert.equal(new URL(trip.url).pathname, '/', trip.url);
    assert.ok(trip.session, 'signed in');
  });

  it("takes UserInfo's email_verified only when UserInfo names the ID token's email", async () => {
    provider.signInAs('sso.person@example.com', true, {
      idToken: 'email',
      userInfoEmail: 'someone.else@example.com',
    });
    const trip = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}`,
      new URL(server.url).origin,
    );
    assert.equal(new URL(trip.url).searchParams.get('error'), 'sso_email_unverified');
    assert.equal(trip.session, undefined);
    // Its letters' case aside.
    provider.signInAs('sso.person@example.com', true, {
      idToken: 'email',
      userInfoEmail: 'SSO.Person@example.com',
    });
    const same = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}`,
      new URL(server.url).origin,
    );
    assert.ok(same.session, `signed in: ${same.url}`);
  });

  it('sends a person back only to a page of the console, whatever characters the address hides', async () => {
    provider.signInAs('sso.person@example.com');
    for (const returnTo of [
      '/\t/evil.example.com',
      '/\n/evil.example.com',
      '//evil.example.com',
      '/\\evil.example.com',
    ]) {
      const trip = await browse(
        `${server.url}/api/console/sso/start?organizationId=${orgId}&returnTo=${encodeURIComponent(returnTo)}`,
        new URL(server.url).origin,
      );
      const landed = new URL(trip.url);
      assert.equal(
        landed.origin,
        new URL(server.url).origin,
        `${JSON.stringify(returnTo)} led to ${trip.url}`,
      );
      assert.equal(landed.pathname, '/');
      assert.ok(trip.session, 'signed in all the same');
    }
  });

  it('sends a person back to a page whose address has characters a header cannot carry, percent-encoded', async () => {
    provider.signInAs('sso.person@example.com');
    const trip = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}&returnTo=${encodeURIComponent('/alerts/€?q=ü#é')}`,
      new URL(server.url).origin,
    );
    const landed = new URL(trip.url);
    assert.equal(landed.origin, new URL(server.url).origin, trip.url);
    assert.equal(`${landed.pathname}${landed.search}${landed.hash}`, '/alerts/%E2%82%AC?q=%C3%BC#%C3%A9');
    assert.ok(trip.session, `signed in: ${trip.status} ${trip.url}`);
  });

  it("refuses a callback opened in another browser than the sign-in's (someone's own sign-in, handed over)", async () => {
    provider.signInAs('sso.person@example.com');
    const callback = `${server.url}/api/console/sso/callback`;
    const halfDone = await browse(
      `${server.url}/api/console/sso/start?organizationId=${orgId}`,
      new URL(server.url).origin,
      { stopBefore: callback },
    );
    assert.ok(halfDone.url.startsWith(callback), halfDone.url);
    const victim = await browse(halfDone.url, new URL(server.url).origin);
    assert.equal(victim.session, undefined, 'no session for the browser that did not start the sign-in');
    assert.equal(new URL(victim.url).searchParams.get('error'), 'sso_wrong_browser');
  });

  it('only lets admins change the settings', async () => {
    const key = await server.call('POST', '/v2/api-keys', {
      name: 'sso person',
      user: { username: 'sso.person@example.com' },
    });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const refused = await server.call('GET', '/api/console/sso', undefined, key.body.data.key);
    assert.equal(refused.status, 403);
  });

  it('lets only owners change the settings: single sign-on could sign an admin in as an owner', async () => {
    const admin = await server.call('POST', '/v2/users', {
      username: 'sso.admin@example.com',
      fullName: 'Sso Admin',
      role: { name: 'Admin' },
    });
    assert.equal(admin.status, 201, JSON.stringify(admin.body));
    const key = await server.call('POST', '/v2/api-keys', {
      name: 'sso admin',
      user: { username: 'sso.admin@example.com' },
    });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const adminKey: string = key.body.data.key;
    const settings = {
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      label: 'An admin’s own provider',
    };

    const read = await server.call('GET', '/api/console/sso', undefined, adminKey);
    assert.equal(read.status, 200, 'admins may read the settings');
    const put = await server.call('PUT', '/api/console/sso', settings, adminKey);
    assert.equal(put.status, 403, JSON.stringify(put.body));
    assert.match(put.body.message, /Only organization owners/);
    const deleted = await server.call('DELETE', '/api/console/sso', undefined, adminKey);
    assert.equal(deleted.status, 403, JSON.stringify(deleted.body));
    assert.deepEqual((await server.call('GET', '/api/console/sso')).body, read.body, 'nothing changed');

    // The owner (the bootstrap key's user) may.
    const byOwner = await server.call('PUT', '/api/console/sso', { ...settings, label: 'Acme SSO' });
    assert.equal(byOwner.status, 200, JSON.stringify(byOwner.body));
    assert.equal((await server.call('DELETE', '/api/console/sso')).status, 204);
    assert.equal((await server.call('GET', '/api/console/sso')).status, 404);
  });

  it('keeps one provider configuration per organization however often it is saved, and a changed secret takes effect', async () => {
    const discovered = new DiscoveryCache();
    const sso = createSsoService({
      db: server.app.context.db,
      clock: systemClock,
      log: createLogger('silent'),
      publicUrl: server.url,
      sessions: server.app.context.sessions,
      allowHosts: ['127.0.0.1'],
      discovered,
    });
    const other = await addOrganization(server, 'Sso Elsewhere');
    const ownerOf = (org: string): Principal => ({
      orgId: org,
      apiKeyId: 'a-test-key',
      userId: undefined,
      username: undefined,
      fullName: undefined,
      role: 'owner',
    });
    const settings = (clientSecret: string) => ({
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret,
      label: 'Acme SSO',
      enabled: true,
    });
    for (let i = 0; i < 5; i++) {
      for (const org of [orgId, other.orgId]) await sso.save(ownerOf(org), settings(`an old secret ${i}`));
    }
    assert.equal(discovered.size, 2, 'one configuration per organization, not one per secret ever saved');

    // A sign-in through the service, from start to the provider's answer at the callback.
    const signIn = async () => {
      const started = await sso.start(orgId, '/');
      const callback = `${server.url}/api/console/sso/callback`;
      const answered = await browse(started.url, new URL(server.url).origin, { stopBefore: callback });
      assert.ok(answered.url.startsWith(callback), answered.url);
      const back = new URL(answered.url);
      return sso.finish(`${back.pathname}${back.search}`, started.state, {
        ip: '127.0.0.1',
        userAgent: 'test',
      });
    };
    provider.signInAs('sso.person@example.com');
    await assert.rejects(signIn(), (error: unknown) => {
      assert.ok(error instanceof SsoSignInError);
      assert.equal(error.failure, 'sso_unchecked', error.message);
      return true;
    });
    await sso.save(ownerOf(orgId), settings(provider.clientSecret));
    const session = await signIn();
    assert.equal(session.returnTo, '/');
    assert.equal(discovered.size, 2);

    await sso.remove(ownerOf(other.orgId));
    assert.equal(discovered.size, 1, 'a removed provider leaves nothing behind');
  });

  it('holds at most so many organizations’ provider configurations, emptying itself at that size', () => {
    const discovered = new DiscoveryCache(3);
    const config = new oidc.Configuration({ issuer: 'https://login.example.com' }, 'a-client');
    const entry = { version: 'v1', config, until: Date.now() + 60_000 };
    for (const org of ['a', 'b', 'c']) discovered.set(org, entry);
    discovered.set('c', { ...entry, version: 'v2' });
    assert.equal(discovered.size, 3, 'replacing an organization’s entry makes no room');
    assert.equal(
      discovered.get('c', 'v1', Date.now()),
      undefined,
      'the configuration read for another secret',
    );
    assert.equal(discovered.get('c', 'v2', Date.now()), config);
    discovered.set('d', entry);
    assert.ok(discovered.size <= 3, `${discovered.size} entries`);
    assert.equal(discovered.get('d', 'v1', Date.now()), config);
    assert.equal(discovered.get('d', 'v1', Date.now() + 120_000), undefined, 'expired');
  });

  it('sends the browser to the sign-in page, not a JSON 500, when the provider cannot be reached', async () => {
    const saved = await server.call('PUT', '/api/console/sso', {
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      label: 'Acme SSO',
    });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    // A sign-in started while the provider answered: its state cookie and the state the provider got.
    const started = await fetch(`${server.url}/api/console/sso/start?organizationId=${orgId}`, {
      redirect: 'manual',
    });
    assert.equal(started.status, 302);
    const state = new URL(started.headers.get('location') ?? '').searchParams.get('state');
    assert.ok(state);
    const [stateCookie = ''] = started.headers.getSetCookie()[0]?.split(';') ?? [];

    // Then the provider is gone: an issuer whose discovery document must be read again (as when the
    // cached one has expired, or Vigil restarted mid sign-in) at a port nothing listens on.
    const closed = await freePort();
    await server.app.context.db
      .updateTable('organization_sso')
      .set({ issuer: `http://127.0.0.1:${closed}` })
      .where('org_id', '=', orgId)
      .execute();

    const start = await fetch(`${server.url}/api/console/sso/start?organizationId=${orgId}`, {
      redirect: 'manual',
    });
    assert.equal(start.status, 302, await start.text());
    assert.equal(start.headers.get('location'), '/sign-in?error=sso_provider_unreachable');

    const back = await fetch(`${server.url}/api/console/sso/callback?code=a-code&state=${state}`, {
      redirect: 'manual',
      headers: { cookie: stateCookie },
    });
    assert.equal(back.status, 302, await back.text());
    assert.equal(back.headers.get('location'), '/sign-in?error=sso_provider_unreachable');
    assert.ok(!back.headers.getSetCookie().some((c) => c.startsWith('vigil_session=')), 'no session is set');
  });
});
