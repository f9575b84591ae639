import assert from 'node:assert/strict';
import { makeTestCertificate, startConnectProxy, type ConnectProxy } from '../testing/network.js';
import fs from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpsGet, OutboundAgent, OutboundError, proxyFor } from './outbound.js';

const HOST = 'sns.us-west-2.amazonaws.com';

/** Resolves HOST (and only HOST) to the local server. */
const lookup: net.LookupFunction = (hostname, options, callback) => {
  if (hostname !== HOST) {
    const error: NodeJS.ErrnoException = new Error(`test lookup does not know ${hostname}`);
    error.code = 'ENOTFOUND';
    callback(error, '', 4);
    return;
  }
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

describe('httpsGet', () => {
  let dir: string;
  let ca: string;
  let server: https.Server;
  let port: number;
  let base: string;
  const seenHosts: string[] = [];

  let proxy: ConnectProxy;
  let proxyPort: number;
  let connects: ConnectProxy['connects'];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-outbound-'));
    const tlsCert = await makeTestCertificate([HOST]);
    ca = tlsCert.cert.toString('utf8');

    server = https.createServer({ key: tlsCert.key, cert: ca }, (req, res) => {
      seenHosts.push(req.headers.host ?? '');
      switch (req.url) {
        case '/cert.pem':
          res
            .writeHead(200, { 'content-type': 'application/x-pem-file' })
            .end('-----BEGIN CERTIFICATE-----\n');
          return;
        case '/redirect':
          res.writeHead(302, { location: 'https://evil.example.com/x.pem' }).end();
          return;
        case '/slow':
          return; // never answers
        case '/big':
          res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000, 'a'));
          return;
        case '/big-chunked':
          res.writeHead(200);
          res.write(Buffer.alloc(800, 'a'));
          setTimeout(() => res.end(Buffer.alloc(800, 'b')), 10);
          return;
        default:
          res.writeHead(404).end('not here');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    base = `https://${HOST}:${port}`;

    // A CONNECT proxy that records the target and tunnels every target to the local server; it refuses
    // the user "deny".
    proxy = await startConnectProxy(port, {
      refuse: (auth) => auth === 'Basic ' + Buffer.from('deny:me').toString('base64'),
    });
    proxyPort = Number(new URL(proxy.url).port);
    connects = proxy.connects;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await proxy.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('fetches over TLS from the named host, verifying its certificate', async () => {
    const response = await httpsGet(`${base}/cert.pem`, { ca, lookup, env: {} });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/x-pem-file');
    assert.equal(response.body.toString(), '-----BEGIN CERTIFICATE-----\n');
    assert.equal(seenHosts.at(-1), `${HOST}:${port}`);
  });

  it('returns other statuses to the caller', async () => {
    const response = await httpsGet(`${base}/missing`, { ca, lookup, env: {} });
    assert.equal(response.status, 404);
    assert.equal(response.body.toString(), 'not here');
  });

  it('refuses a certificate it does not trust', async () => {
    await assert.rejects(httpsGet(`${base}/cert.pem`, { lookup, env: {} }), OutboundError);
  });

  it('refuses non-https URLs', async () => {
    await assert.rejects(httpsGet(`http://${HOST}:${port}/cert.pem`, { lookup, env: {} }), {
      name: 'OutboundError',
      message: /non-https/,
    });
    await assert.rejects(httpsGet('not a url', { env: {} }), OutboundError);
  });

  it('refuses to follow a redirect and says where it pointed', async () => {
    await assert.rejects(httpsGet(`${base}/redirect`, { ca, lookup, env: {} }), (error: Error) => {
      assert.ok(error instanceof OutboundError);
      assert.match(error.message, /redirect/);
      assert.match(error.message, /302/);
      assert.match(error.message, /https:\/\/evil\.example\.com\/x\.pem/);
      return true;
    });
  });

  it('gives up after the timeout', async () => {
    const started = Date.now();
    await assert.rejects(httpsGet(`${base}/slow`, { ca, lookup, env: {}, timeoutMs: 200 }), {
      name: 'OutboundError',
      message: /timed out after 200 ms/,
    });
    assert.ok(Date.now() - started < 2000);
  });

  it('refuses bodies over the size cap, declared or streamed', async () => {
    await assert.rejects(httpsGet(`${base}/big`, { ca, lookup, env: {}, maxBytes: 1000 }), {
      name: 'OutboundError',
      message: /too large/,
    });
    await assert.rejects(httpsGet(`${base}/big-chunked`, { ca, lookup, env: {}, maxBytes: 1000 }), {
      name: 'OutboundError',
      message: /too large/,
    });
    const whole = await httpsGet(`${base}/big-chunked`, { ca, lookup, env: {}, maxBytes: 1600 });
    assert.equal(whole.body.length, 1600);
  });

  it('tunnels through HTTPS_PROXY with CONNECT, sending basic auth from the proxy URL', async () => {
    connects.length = 0;
    // No lookup: the target name must not be resolved here, only by the proxy.
    const response = await httpsGet(`${base}/cert.pem`, {
      ca,
      env: { HTTPS_PROXY: `http://user:p%40ss@127.0.0.1:${proxyPort}` },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), '-----BEGIN CERTIFICATE-----\n');
    assert.deepEqual(connects, [
      { target: `${HOST}:${port}`, auth: 'Basic ' + Buffer.from('user:p@ss').toString('base64') },
    ]);
  });

  it('uses lower-case https_proxy and applies the timeout, size cap and redirect rule through it', async () => {
    connects.length = 0;
    const env = { https_proxy: `127.0.0.1:${proxyPort}` };
    const response = await httpsGet(`${base}/cert.pem`, { ca, env });
    assert.equal(response.status, 200);
    assert.deepEqual(connects, [{ target: `${HOST}:${port}`, auth: undefined }]);
    await assert.rejects(httpsGet(`${base}/redirect`, { ca, env }), { message: /redirect/ });
    await assert.rejects(httpsGet(`${base}/big`, { ca, env, maxBytes: 10 }), { message: /too large/ });
    await assert.rejects(httpsGet(`${base}/slow`, { ca, env, timeoutMs: 200 }), { message: /timed out/ });
  });

  it('reports a proxy that refuses CONNECT', async () => {
    await assert.rejects(
      httpsGet(`${base}/cert.pem`, { ca, env: { HTTPS_PROXY: `http://deny:me@127.0.0.1:${proxyPort}` } }),
      { name: 'OutboundError', message: /refused CONNECT .* with status 407/ },
    );
  });

  it('reports a proxy it cannot reach', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      httpsGet(`${base}/cert.pem`, { ca, env: { HTTPS_PROXY: `http://127.0.0.1:${closedPort}` } }),
      { name: 'OutboundError', message: /Could not reach proxy 127\.0\.0\.1:\d+: .*ECONNREFUSED/ },
    );
  });

  it('times out on a proxy that never answers CONNECT, and closes the connection to it', async () => {
    const closed: Promise<void>[] = [];
    const silent = net.createServer((socket) => {
      socket.resume(); // reads the CONNECT request, and so sees the end of the connection
      socket.on('error', () => {});
      closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        httpsGet(`${base}/cert.pem`, {
          ca,
          timeoutMs: 200,
          env: { HTTPS_PROXY: `http://127.0.0.1:${silentPort}` },
        }),
        { name: 'OutboundError', message: /timed out after 200 ms/ },
      );
      assert.equal(closed.length, 1);
      await closed[0];
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('keeps a tunnel open for the next request when the agent keeps connections alive', async () => {
    connects.length = 0;
    const agent = new OutboundAgent({ env: { HTTPS_PROXY: proxy.url }, ca, keepAlive: true });
    try {
      for (let i = 0; i < 2; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          https
            .get(`${base}/cert.pem`, { agent }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            })
            .on('error', reject);
        });
        assert.equal(status, 200);
      }
      assert.deepEqual(connects, [{ target: `${HOST}:${port}`, auth: undefined }]);
    } finally {
      agent.destroy();
    }
  });

  it('connects directly when NO_PROXY matches', async () => {
    connects.length = 0;
    for (const noProxy of ['.amazonaws.com', 'localhost, amazonaws.com', `${HOST}:${port}`, '*']) {
      const response = await httpsGet(`${base}/cert.pem`, {
        ca,
        lookup,
        env: { HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: noProxy },
      });
      assert.equal(response.status, 200);
    }
    assert.deepEqual(connects, []);
  });
});

describe('proxyFor', () => {
  const url = new URL('https://sns.us-west-2.amazonaws.com/cert.pem');
  const proxied = (env: Record<string, string>, target = url) => proxyFor(target, env)?.toString();

  it('reads HTTPS_PROXY, else https_proxy', () => {
    assert.equal(proxied({}), undefined);
    assert.equal(proxied({ HTTPS_PROXY: '' }), undefined);
    assert.equal(proxied({ HTTPS_PROXY: 'http://proxy:3128' }), 'http://proxy:3128/');
    assert.equal(proxied({ https_proxy: 'http://lower:3128' }), 'http://lower:3128/');
    assert.equal(
      proxied({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' }),
      'http://upper:1/',
    );
    assert.equal(proxied({ HTTPS_PROXY: 'proxy.corp:8080' }), 'http://proxy.corp:8080/');
    assert.equal(proxied({ HTTPS_PROXY: 'http://proxy:3128' }, new URL('http://example.com/')), undefined);
  });

  it('refuses proxy URLs it cannot use', () => {
    assert.throws(() => proxyFor(url, { HTTPS_PROXY: 'http://' }), OutboundError);
    assert.throws(() => proxyFor(url, { HTTPS_PROXY: 'socks5://proxy:1080' }), /http:\/\/ proxy URL/);
  });

  it('applies NO_PROXY: names, domain suffixes, ports and *', () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: noProxy });
    assert.equal(proxied(env('*')), undefined);
    assert.equal(proxied(env('sns.us-west-2.amazonaws.com')), undefined);
    assert.equal(proxied(env('amazonaws.com')), undefined);
    assert.equal(proxied(env('.amazonaws.com')), undefined);
    assert.equal(proxied(env('*.amazonaws.com')), undefined);
    assert.equal(proxied(env(' example.com , AmazonAWS.com ')), undefined);
    assert.equal(proxied(env('amazonaws.com:443')), undefined);
    assert.equal(proxied(env('amazonaws.com:8443')), 'http://proxy:3128/');
    assert.equal(proxied(env('zonaws.com')), 'http://proxy:3128/');
    assert.equal(proxied(env('example.com,localhost')), 'http://proxy:3128/');
    assert.equal(proxied(env('us-west-2.amazonaws.com.evil')), 'http://proxy:3128/');
    assert.equal(proxied(env('')), 'http://proxy:3128/');
    assert.equal(proxied({ HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'amazonaws.com' }), undefined);
    assert.equal(proxied(env('example.com:8443'), new URL('https://api.example.com:8443/')), undefined);
    assert.equal(proxied(env('[::1]:443'), new URL('https://[::1]/')), undefined);
    assert.equal(proxied(env('::1'), new URL('https://[::1]:8443/')), undefined);
    assert.equal(proxied(env('127.0.0.1'), new URL('https://127.0.0.1/')), undefined);
  });

  it('reads NO_PROXY as curl does where proxy-from-env alone would not', () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: noProxy });
    // "*.name" and ".name" cover the name itself too.
    assert.equal(proxied(env('*.amazonaws.com'), new URL('https://amazonaws.com/')), undefined);
    assert.equal(proxied(env('.amazonaws.com'), new URL('https://amazonaws.com/')), undefined);
    // `*` anywhere in the list, and entries split by spaces as well as commas.
    assert.equal(proxied(env('example.com,*')), undefined);
    assert.equal(proxied(env('example.com amazonaws.com')), undefined);
    assert.equal(proxied(env('amazonaws.com.')), undefined);
    assert.equal(proxied(env('amazonaws.com.:443')), undefined);
    // The target's trailing dot does not hide it.
    assert.equal(proxied(env('amazonaws.com'), new URL('https://sns.us-west-2.amazonaws.com./')), undefined);
    // NO_PROXY is read before https_proxy's value: an excluded host never sees a bad proxy URL.
    assert.equal(proxyFor(url, { HTTPS_PROXY: 'socks5://proxy:1080', NO_PROXY: '*' }), undefined);
  });
});
