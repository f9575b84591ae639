import { principalOf, type HttpApp } from '../http/server.js';
import { Type } from 'typebox';
import type { AlertFeed, AlertsChanged, MissedChanges } from './live.js';
import type { AlertsService } from './service.js';

// Proxies and load balancers close a connection that says nothing for a minute or so.
const KEEP_ALIVE_MS = 25_000;

/** The longest `replay` asked for: a day (a process keeps far less, and then says `more`). */
const REPLAY_MAX_MS = 86_400_000;

/**
 * What the browser missed: since the position its last stream reached (EventSource sends the last
 * `id:` it saw as `Last-Event-ID` when it reconnects by itself), or in the last `replay` milliseconds
 * (a new page: since its first reads). Neither: a plain stream of what changes from now on.
 */
function missedOf(lastEventId: string | string[] | undefined, replayMs: number | undefined) {
  const position =
    typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : NaN;
  if (Number.isSafeInteger(position)) return { after: position } satisfies MissedChanges;
  if (replayMs !== undefined) return { pastMs: replayMs } satisfies MissedChanges;
  return undefined;
}

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
        description:
          'With `replay` (milliseconds), or `Last-Event-ID` when the browser reconnects, the stream ' +
          'first tells what changed in that time, or `more` when this process cannot tell it all.',
        querystring: Type.Object(
          { replay: Type.Optional(Type.Integer({ minimum: 0, maximum: REPLAY_MAX_MS })) },
          { additionalProperties: false },
        ),
        produces: ['text/event-stream'],
      },
    },
    (request, reply) => {
      const principal = principalOf(request);
      const missed = missedOf(request.headers['last-event-id'], request.query.replay);
      reply.hijack();
      const res = reply.raw;
      let closed = false;
      let keepAlive: NodeJS.Timeout | undefined;
      // Each message carries the feed's position once it is said, for the browser to resume from.
      const tell = async (change: AlertsChanged, position: number) => {
        const ids = await alerts.visibleAmong(principal, change.ids);
        if (closed) return;
        const data =
          ids.length > 0 || change.more
            ? `event: alerts\ndata: ${JSON.stringify({ ids, more: change.more })}\n`
            : '';
        res.write(`id: ${position}\n${data}\n`);
      };
      // One change at a time, so that the browser hears of them in the order they happened; and only
      // once the stream is open, which waits until the database announces changes to this process.
      let opened!: () => void;
      let told = new Promise<void>((resolve) => (opened = resolve));
      const subscription = feed.subscribe(
        principal.orgId,
        (change, position) => {
          told = told
            .then(() => tell(change, position))
            .catch((error: unknown) => {
              // The list misses one live update; the next change, or a reload, brings it.
              request.log.warn({ err: error }, 'the alerts of a live update could not be read');
            });
        },
        missed,
      );
      void subscription.ready.then(() => {
        if (closed) return;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx buffers responses unless told not to.
          'x-accel-buffering': 'no',
        });
        res.write('retry: 3000\n: connected\n\n');
        opened();
        // After what was missed, if anything: until it is said, the browser's position is its last one.
        sayPosition();
        keepAlive = setInterval(() => sayPosition(': keep-alive\n'), KEEP_ALIVE_MS);
      });
      /** The position now, once what is being told is said: every change heard until now is then. */
      const sayPosition = (comment = '') => {
        const position = subscription.position();
        told = told.then(() => {
          if (!closed) res.write(`${comment}id: ${position}\n\n`);
        });
      };
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
