import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync } from 'node:zlib';
import Fastify from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { inlineScriptsOf, registerConsole } from './console-static.js';
import type { HttpApp } from './server.js';
import { startTestServer, type TestServer } from '../testing/harness.js';

const INLINE = "\n  document.documentElement.setAttribute('data-x', 'y');\n";

describe('the console is served at /', () => {
  let root: string;
  let app: HttpApp;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-console-'));
    await fs.mkdir(path.join(root, 'assets'));
    await fs.writeFile(
      path.join(root, 'index.html'),
      `<!doctype html><title>console</title><script>${INLINE}</script><script type="module" src="/assets/index-abc123.js"></script>`,
    );
    await fs.writeFile(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    await fs.writeFile(path.join(root, 'assets', 'index-abc123.js.br'), brotliCompressSync('console.log(1)'));
    await fs.writeFile(path.join(root, 'index.html.br'), brotliCompressSync('<!doctype html>'));
    await fs.writeFile(path.join(root, 'manifest.webmanifest'), '{}');
    app = Fastify().withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpApp;
    app.setNotFoundHandler((_request, reply) => reply.status(404).send({ message: 'No such endpoint' }));
    await registerConsole(app, root);
  });
  after(async () => {
    await app.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('serves hashed assets for a year and the page for every client route, never cached', async () => {
    const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    for (const url of ['/', '/alerts/123', '/teams/abc/integrations?x=1', '/index.html']) {
      const page = await app.inject({ method: 'GET', url });
      assert.equal(page.statusCode, 200, url);
      assert.match(page.body, /<title>console<\/title>/);
      assert.equal(page.headers['cache-control'], 'no-cache');
      assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    }
    const compressed = await app.inject({
      method: 'GET',
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    assert.equal(compressed.headers['content-encoding'], 'br', 'the copy compressed at build time');
    assert.equal(compressed.headers['cache-control'], 'public, max-age=31536000, immutable');
    const manifest = await app.inject({ method: 'GET', url: '/manifest.webmanifest' });
    assert.equal(manifest.headers['cache-control'], 'no-cache');
  });

  it("allows the page's own inline script by its hash, and no other", async () => {
    const page = await app.inject({ method: 'GET', url: '/alerts' });
    const csp = String(page.headers['content-security-policy']);
    const hash = createHash('sha256').update(INLINE).digest('base64');
    assert.match(csp, new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}';`));
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/);
  });

  it('finds the inline scripts of a page, not those with a src', () => {
    assert.deepEqual(
      inlineScriptsOf(
        '<script>a()</script><script type="module" src="/x.js"></script><SCRIPT nonce="n">\nb()</SCRIPT>',
      ),
      ['a()', '\nb()'],
    );
  });

  it('leaves unknown API paths to the API: a 404, not the page', async () => {
    for (const url of ['/v2/nothing-here', '/api/console/nothing', '/v1/x', '/assets/index-gone.js']) {
      const answer = await app.inject({ method: 'GET', url });
      assert.equal(answer.statusCode, 404, url);
      assert.match(answer.body, /No such endpoint/);
    }
  });
});

describe('the console on the real server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('answers / with a page without an API key, and unknown API paths with the JSON 404', async () => {
    const page = await fetch(`${server.url}/alerts/some-id`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const api = await fetch(`${server.url}/v2/nothing-here`);
    assert.equal(api.status, 404);
    assert.match(
      ((await api.json()) as { message: string }).message,
      /No such endpoint: GET \/v2\/nothing-here/,
    );
  });
});
