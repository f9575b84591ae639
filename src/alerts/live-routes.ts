import { principalOf, type HttpApp } from '../http/server.js';
import type { AlertFeed, AlertsChanged } from './live.js';
import type { AlertsService } from './service.js';

// Proxies and load balancers close a connection that says nothing for a minute or so.
const KEEP_ALIVE_MS = 25_000;

/**
 * The console's live alert list: a server-sent event `alerts` with the ids of alerts created or changed in
 * the caller's organization, whichever Vigil process changed them, and only those the caller may see
 * (`visibleAmong`: a user who sees only their own alerts hears of no other). The browser then reads what
 * it shows through the API as usual, so the stream carries no alert data.
 */
export function registerLiveAlertRoutes(
  app: HttpApp,
  feed: AlertFeed,
  alerts: Pick<AlertsService, 'visibleAmong'>,
): void {
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
      const principal = principalOf(request);
      reply.hijack();
      const res = reply.raw;
      let closed = false;
      let keepAlive: NodeJS.Timeout | undefined;
      const tell = async (change: AlertsChanged) => {
        const ids = await alerts.visibleAmong(principal, change.ids);
        if (ids.length === 0 && !change.more) return;
        if (!closed) res.write(`event: alerts\ndata: ${JSON.stringify({ ids, more: change.more })}\n\n`);
      };
      // One change at a time, so that the browser hears of them in the order they happened; and only
      // once the stream is open, which waits until the database announces changes to this process.
      const subscription = feed.subscribe(principal.orgId, (change) => {
        told = told
          .then(() => tell(change))
          .catch((error: unknown) => {
            // The list misses one live update; the next change, or a reload, brings it.
            request.log.warn({ err: error }, 'the alerts of a live update could not be read');
          });
      });
      let told = subscription.ready.then(() => {
        if (closed) return;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx buffers responses unless told not to.
          'x-accel-buffering': 'no',
        });
        res.write('retry: 3000\n: connected\n\n');
        keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      });
      const end = () => {
        closed = true;
        clearInterval(keepAlive);
        subscription.unsubscribe();
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
