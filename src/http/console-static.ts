import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { HttpApp } from './server.js';

/** The built console (web/, built by Vite), the same folder whether Vigil runs from src/ or dist/. */
export const CONSOLE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

// Paths that belong to the API: an unknown one there is a JSON 404, never the console's page.
// assets/ too: a file the build did not make is a 404, not the page (which a browser would run as a script).
const API_PREFIXES = ['/v1/', '/v2/', '/api/', '/docs', '/openapi.json', '/healthz', '/readyz', '/assets/'];

// Vite names the files under assets/ by their content's hash: a changed file is a new URL, so they can be
// kept for a year. Everything else (the page, the manifest, icons) is checked again on every load.
const FOREVER = 'public, max-age=31536000, immutable';

/**
 * The page's headers. Scripts run from Vigil's own files, and inline only where the page itself has them
 * (the colour scheme, set before the first paint without a request of its own): each allowed by its hash.
 */
function pageHeaders(inlineScripts: readonly string[]) {
  const hashes = inlineScripts.map(
    (script) => ` 'sha256-${createHash('sha256').update(script).digest('base64')}'`,
  );
  return {
    'content-security-policy': `default-src 'self'; script-src 'self'${hashes.join('')}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-cache',
  };
}

/**
 * The text of each `<script>` without a `src` in the page: what a hash in the CSP must match, byte for
 * byte. Read once at start: a console rebuilt under a running Vigil has the same inline script unless
 * its source changed, and then Vigil is restarted with it.
 */
export function inlineScriptsOf(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1] ?? '');
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vigil</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>Vigil is running</h1>
<p>The web console has not been built in this checkout. Run <code>npm run build</code> (or start Vigil with
<code>npm start</code>, which builds what is missing), then reload this page.</p>
<p>The API answers meanwhile: see <a href="/docs">/docs</a>.</p></body></html>`;

/**
 * Serves the console at `/`: its files, and its page for every other GET outside the API, so that links
 * into the console (an alert's page from an email) load it and its router shows the right view.
 */
export async function registerConsole(app: HttpApp, root = CONSOLE_ROOT): Promise<void> {
  const built = fs.existsSync(path.join(root, 'index.html'));
  const headers = pageHeaders(
    built ? inlineScriptsOf(fs.readFileSync(path.join(root, 'index.html'), 'utf8')) : [],
  );
  if (built) {
    await app.register(fastifyStatic, {
      root,
      wildcard: false,
      index: false,
      // The page goes out only with its own headers (the CSP, no framing): through the routes below, never
      // as a file of its own at /index.html.
      globIgnore: ['index.html', 'index.html.*'],
      // scripts/compress-web.mjs wrote .br and .gz copies at build time.
      preCompressed: true,
      setHeaders(res, file) {
        const inAssets = path.relative(root, file).startsWith(`assets${path.sep}`);
        res.header('cache-control', inAssets ? FOREVER : 'no-cache');
        res.header('x-content-type-options', 'nosniff');
      },
    });
  }

  const page = (reply: FastifyReply) =>
    built
      ? reply.headers(headers).sendFile('index.html', root, { cacheControl: false })
      : reply.headers(headers).type('text/html; charset=utf-8').send(NOT_BUILT);

  app.get('/', { config: { public: true }, schema: { hide: true } }, (_request, reply) => page(reply));
  app.get('/*', { config: { public: true }, schema: { hide: true } }, (request, reply) => {
    const pathname = request.url.split('?')[0] ?? '';
    if (API_PREFIXES.some((prefix) => pathname.startsWith(prefix))) return reply.callNotFound();
    return page(reply);
  });
}
