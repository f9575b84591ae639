import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { makeTestCertificate, startConnectProxy, type ConnectProxy } from '../testing/network.js';
import { createOutboundFetch } from './outbound-fetch.js';

/**
 * The providers' fetch (Twilio, Slack, Web Push) honours HTTPS_PROXY and NO_PROXY: a CONNECT proxy
 * tunnels the real host names to a local TLS server that answers as the provider would.
 */

const HOST = 'api.twilio.com';
let cert: Buffer;
let provider: https.Server;
let plain: http.Server;
let proxy: ConnectProxy;
let refusing: ConnectProxy;
const seen: { host: string | undefined; method: string | undefined; body: string }[] = [];

function answer(req: http.IncomingMessage, res: http.ServerResponse) {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
  req.on('end', () => {
    seen.push({ host: req.headers.host, method: req.method, body });
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: 'SM123' }));
  });
}

before(async () => {
  const made = await makeTestCertificate([HOST]);
  cert = made.cert;
  provider = https.createServer({ key: made.key, cert: made.cert }, answer);
  plain = http.createServer(answer);
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const port = (provider.address() as AddressInfo).port;
  proxy = await startConnectProxy(port);
  refusing = await startConnectProxy(port, { refuse: () => true });
});

after(async () => {
  await proxy.close();
  await refusing.close();
  await new Promise((resolve) => provider.close(resolve));
  await new Promise((resolve) => plain.close(resolve));
});

const post = {
  method: 'POST',
  body: 'To=%2B15005550006',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
};

describe('the providers’ fetch', () => {
  it('tunnels https through HTTPS_PROXY to the real host name, and reads the answer', async () => {
    const before = proxy.connects.length;
    const fetch = createOutboundFetch({ env: { HTTPS_PROXY: proxy.url }, ca: cert });
    const response = await fetch(`https://${HOST}/2010-04-01/Accounts/AC1/Messages.json`, post);
    assert.equal(response.status, 201);
    assert.deepEqual(await response.json(), { sid: 'SM123' });
    assert.deepEqual(
      proxy.connects.slice(before).map((c) => c.target),
      [`${HOST}:443`],
    );
    assert.deepEqual(seen.at(-1), { host: HOST, method: 'POST', body: 'To=%2B15005550006' });
  });

  it('sends the proxy URL’s user and password as Proxy-Authorization', async () => {
    const before = proxy.connects.length;
    const url = new URL(proxy.url);
    url.username = 'vigil';
    url.password = 's3cret';
    const fetch = createOutboundFetch({ env: { https_proxy: url.href }, ca: cert });
    const response = await fetch(`https://${HOST}/x`, post);
    assert.equal(response.status, 201);
    assert.deepEqual(
      proxy.connects.slice(before).map((c) => c.auth),
      [`Basic ${Buffer.from('vigil:s3cret').toString('base64')}`],
    );
  });

  it('goes direct to a host NO_PROXY names', async () => {
    const before = proxy.connects.length;
    const fetch = createOutboundFetch({ env: { HTTPS_PROXY: proxy.url, NO_PROXY: '.invalid' }, ca: cert });
    // Names under .invalid never resolve (RFC 6761): going direct cannot reach anything.
    await assert.rejects(fetch('https://api.vigil-test.invalid/x', post), (error: Error) => {
      assert.match(
        String((error.cause as Error | undefined)?.message ?? error.message),
        /ENOTFOUND|EAI_AGAIN|getaddrinfo/,
      );
      return true;
    });
    assert.equal(proxy.connects.length, before);
  });

  it('goes direct over plain http, whatever HTTPS_PROXY says', async () => {
    const before = proxy.connects.length;
    const fetch = createOutboundFetch({ env: { HTTPS_PROXY: proxy.url } });
    const response = await fetch(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/x`, post);
    assert.equal(response.status, 201);
    assert.equal(proxy.connects.length, before);
  });

  it('fails, rather than reaching the host some other way, when the proxy refuses the tunnel', async () => {
    const answered = seen.length;
    const fetch = createOutboundFetch({ env: { HTTPS_PROXY: refusing.url }, ca: cert });
    await assert.rejects(fetch(`https://${HOST}/x`, post), (error: Error) => {
      assert.equal(error.message, 'fetch failed');
      assert.match(
        (error.cause as Error).message,
        new RegExp(`^Proxy 127\\.0\\.0\\.1:\\d+ refused CONNECT to ${HOST}:443 with status 407$`),
      );
      return true;
    });
    assert.deepEqual(
      refusing.connects.map((c) => c.target),
      [`${HOST}:443`],
    );
    assert.equal(seen.length, answered);
  });

  it('leaves an aborted request an abort, for the caller to tell a timeout from a failure', async () => {
    const fetch = createOutboundFetch({ env: { HTTPS_PROXY: proxy.url }, ca: cert });
    await assert.rejects(fetch(`https://${HOST}/x`, { ...post, signal: AbortSignal.abort() }), {
      name: 'AbortError',
    });
  });

  it('refuses a provider whose certificate it does not trust', async () => {
    const fetch = createOutboundFetch({ env: { HTTPS_PROXY: proxy.url } });
    await assert.rejects(fetch(`https://${HOST}/x`, post), (error: Error) => {
      assert.match(String((error.cause as Error | undefined)?.message ?? error.message), /certificate/i);
      return true;
    });
  });
});

describe('the guarded fetch (single sign-on’s)', () => {
  const NAME = 'idp.vigil-test.example';
  /** What the resolver says `name` is, for the rest of the test; other names resolve as they do. */
  function resolving(name: string, address: string) {
    const real = dns.lookup.bind(dns);
    mock.method(dns, 'lookup', (host: string, options: dns.LookupOptions, callback: LookupCallback) => {
      if (host !== name) return real(host, options, callback);
      callback(null, options.all ? [{ address, family: 4 }] : address, 4);
    });
  }
  type LookupCallback = (error: Error | null, address: string | dns.LookupAddress[], family?: number) => void;
  afterEach(() => mock.restoreAll());
  const plainUrl = (host: string) => `http://${host}:${(plain.address() as AddressInfo).port}/x`;
  const refusedWith = (pattern: RegExp) => (error: Error) => {
    assert.equal(error.message, 'fetch failed');
    assert.match((error.cause as Error).message, pattern);
    return true;
  };

  it('refuses a private address, written in the URL or resolved at connection, before any request', async () => {
    const answered = seen.length;
    const fetch = createOutboundFetch({ guard: { allowHosts: [] } });
    await assert.rejects(
      fetch(plainUrl('127.0.0.1'), post),
      refusedWith(/^127\.0\.0\.1 is a loopback, private or reserved address/),
    );
    await assert.rejects(fetch(plainUrl('localhost'), post), refusedWith(/^localhost is a local name/));
    resolving(NAME, '127.0.0.1');
    await assert.rejects(
      fetch(plainUrl(NAME), post),
      refusedWith(new RegExp(`^${NAME.replaceAll('.', '\\.')} resolves to 127\\.0\\.0\\.1, a loopback`)),
    );
    assert.equal(seen.length, answered, 'nothing reached the server');
  });

  it('reaches a host the operator allowed, at a private address too', async () => {
    const fetch = createOutboundFetch({ guard: { allowHosts: ['127.0.0.1'] } });
    const response = await fetch(plainUrl('127.0.0.1'), post);
    assert.equal(response.status, 201);
  });

  it('does not follow a redirect, whose target would go unchecked', async () => {
    const answered = seen.length;
    const redirecting = http.createServer((_req, res) =>
      res.writeHead(302, { location: plainUrl('127.0.0.1') }).end(),
    );
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const port = (redirecting.address() as AddressInfo).port;
      const fetch = createOutboundFetch({ guard: { allowHosts: ['127.0.0.1'] } });
      const response = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(response.status, 302);
      assert.equal(seen.length, answered);
    } finally {
      redirecting.closeAllConnections();
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });

  it('behind HTTPS_PROXY, resolves the name first: a private one never reaches the proxy', async () => {
    const before = proxy.connects.length;
    const fetch = createOutboundFetch({
      env: { HTTPS_PROXY: proxy.url },
      ca: cert,
      guard: { allowHosts: [] },
    });
    resolving(HOST, '10.0.0.5');
    await assert.rejects(
      fetch(`https://${HOST}/x`, post),
      refusedWith(/resolves to 10\.0\.0\.5, a loopback, private or reserved address/),
    );
    await assert.rejects(fetch('https://10.0.0.5/x', post), refusedWith(/^10\.0\.0\.5 is a loopback/));
    assert.equal(proxy.connects.length, before, 'no CONNECT');
    // Allowed by the operator: the proxy is asked.
    const allowed = createOutboundFetch({
      env: { HTTPS_PROXY: proxy.url },
      ca: cert,
      guard: { allowHosts: [HOST] },
    });
    assert.equal((await allowed(`https://${HOST}/x`, post)).status, 201);
    mock.restoreAll();
    // A public address: the proxy is asked.
    resolving(HOST, '8.8.8.8');
    assert.equal((await fetch(`https://${HOST}/x`, post)).status, 201);
    assert.equal(proxy.connects.length, before + 2);
  });
});
