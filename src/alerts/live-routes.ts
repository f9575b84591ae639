import { principalOf, type HttpApp } from '../http/server.js';
import type { AlertFeed } from './live.js';

// Proxies and load balancers close a connection that says nothing for a minute or so.
const KEEP_ALIVE_MS = 25_000;

/**
 * The console's live alert list: a server-sent event `alerts` with the ids of alerts created or changed in
 * the caller's organization, whichever Vigil process changed them. The browser then reads what it shows
 * through the API as usual, so the stream carries no alert data and needs no rights of its own.
 */
export function registerLiveAlertRoutes(app: HttpApp, feed: AlertFeed): void {
  const open = new Set<() => void>();
  // A stream never ends by itself: end them all, or closing the server would wait for the browsers.
  app.addHook('preClose', async () => {
    for (const close of open) close();
  });

  app.get(
    '/api/console/events',
    {
      schema: {
        tags: ['console'],
        summary: 'Server-sent events: `alerts` with {ids, more} when alerts are created or changed',
        produces: ['text/event-stream'],
      },
    },
    (request, reply) => {
      const { orgId } = principalOf(request);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx buffers responses unless told not to.
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n: connected\n\n');
      const unsubscribe = feed.subscribe(orgId, (change) => {
        res.write(`event: alerts\ndata: ${JSON.stringify(change)}\n\n`);
      });
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      const end = () => {
        clearInterval(keepAlive);
        unsubscribe();
        open.delete(close);
      };
      const close = () => {
        end();
        res.end();
      };
      open.add(close);
      request.raw.on('close', end);
      res.on('error', end);
    },
  );
}
