import { principalOf, type HttpApp } from '../http/server.js';
import { Type } from 'typebox';
import type { AlertFeed, AlertsChanged, MissedChanges } from './live.js';
import type { AlertsService } from './service.js';

// Proxies and load balancers close a connection that says nothing for a minute or so.
const KEEP_ALIVE_MS = 25_000;

/** The longest `replay` asked for: a day (a process keeps far less, and then says `more`). */
const REPLAY_MAX_MS = 86_400_000;

/**
 * What the browser missed: since a position its last stream gave it (`after`), or in the last `replay`
 * milliseconds (a page whose first stream this is: since the page started). Neither: a plain stream
 * of what changes from now on.
 */
function missedOf(query: { after?: string; replay?: number }): MissedChanges | undefined {
  if (query.after !== undefined) return { after: query.after };
  if (query.replay !== undefined) return { pastMs: query.replay };
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
        summary:
          'Server-sent events: `alerts` with {ids, more, position} when alerts are created or changed, ' +
          'and `position`',
        description:
          'With `after` (a position the last stream gave) or `replay` (milliseconds), the stream first ' +
          'tells what changed since, or `more` when this process cannot tell it all.',
        querystring: Type.Object(
          {
            after: Type.Optional(Type.String({ maxLength: 64 })),
            replay: Type.Optional(Type.Integer({ minimum: 0, maximum: REPLAY_MAX_MS })),
          },
          { additionalProperties: false },
        ),
        produces: ['text/event-stream'],
      },
    },
    (request, reply) => {
      const principal = principalOf(request);
      const missed = missedOf(request.query);
      reply.hijack();
      const res = reply.raw;
      let closed = false;
      let keepAlive: NodeJS.Timeout | undefined;
      const send = (event: string, data: unknown) => {
        if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      // Each change carries the feed's position once it is told, for the browser to resume from.
      const tell = async (change: AlertsChanged, position: string) => {
        let ids: string[];
        try {
          ids = await alerts.visibleAmong(principal, change.ids);
        } catch (error) {
          // The browser fetches everything again rather than miss this change.
          request.log.warn({ err: error }, 'the alerts of a live update could not be read');
          send('alerts', { ids: [], more: true, position });
          return;
        }
        if (ids.length > 0 || change.more) send('alerts', { ids, more: change.more, position });
      };
      // One change at a time, so that the browser hears of them in the order they happened; and only
      // once the stream is open, which waits until the database announces changes to this process.
      let opened!: () => void;
      let told = new Promise<void>((resolve) => (opened = resolve));
      const subscription = feed.subscribe(
        principal.orgId,
        (change, position) => {
          told = told.then(() => tell(change, position));
        },
        missed,
      );
      /** The position now, once what is being told is said: every change heard until now is then. */
      const sayPosition = () => {
        const position = subscription.position();
        told = told.then(() => send('position', position));
      };
      void subscription.ready.then(() => {
        if (closed) return;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx buffers responses unless told not to.
          'x-accel-buffering': 'no',
        });
        res.write(': connected\n\n');
        // Where the browser resumes from should the stream end before it hears more.
        if (subscription.from) send('position', subscription.from);
        opened();
        sayPosition();
        keepAlive = setInterval(() => {
          if (!closed) res.write(': keep-alive\n\n');
          sayPosition();
        }, KEEP_ALIVE_MS);
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
