import type { Principal } from '../accounts/service.js';
import { DomainError } from '../errors.js';
import { ApiError, apiErrorOf } from '../http/errors.js';
import { credentialOf, principalOf, SEND_A_KEY, type Credential, type HttpApp } from '../http/server.js';
import { systemClock, type Clock } from '../work/clock.js';
import { Type } from 'typebox';
import {
  isForAnyone,
  type AlertFeed,
  type AlertsChanged,
  type AlertVisibility,
  type MissedChanges,
} from './live.js';
import type { AlertScope } from './repository.js';

export const LIVE_ALERTS_ROUTE = '/api/console/events';

// Proxies and load balancers close a connection that says nothing for a minute or so. Each keep-alive
// also authenticates the stream's caller again.
export const KEEP_ALIVE_MS = 25_000;

/**
 * How long a stream uses its caller's alert scope, and who its caller is, before reading them again:
 * a keep-alive reads them sooner, but one that is late does not leave the stream on an old answer.
 */
export const SCOPE_MAX_AGE_MS = 30_000;

/**
 * The streams one user (whatever their sessions and keys) or one key may have open on a process: a new
 * one beyond ends the caller's oldest (most likely a browser that is gone without the server knowing yet).
 */
export const STREAMS_PER_CALLER = 5;
/** The streams a process serves at once. */
export const STREAMS_PER_PROCESS = 1_000;

/** Changes waiting to be told beyond this many: the stream says `more` (read everything) instead. */
const BACKLOG_MAX = 10;

/** A browser this far behind in reading is dropped; it reconnects with `?after=` and loses nothing. */
const UNREAD_MAX_BYTES = 64 * 1024;

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

/** The event that tells a browser its stream was ended for a newer one of its caller's. */
export const EVICTED_EVENT = 'evicted';

/**
 * Whether authenticating a stream's caller again failed because they may no longer read it (401, 403),
 * rather than for a moment (the database down): only then does the stream end.
 */
function refusedBy(error: unknown): boolean {
  const status =
    error instanceof ApiError
      ? error.statusCode
      : error instanceof DomainError
        ? apiErrorOf(error).statusCode
        : undefined;
  return status === 401 || status === 403;
}

/** Whose streams a stream counts among: a user's, whichever session or key, else the key's. */
function callerOf(p: Principal): string {
  if (p.userId !== undefined) return `user:${p.userId}`;
  if (p.integration) return `integration:${p.integration.id}`;
  return `key:${p.apiKeyId}`;
}

export interface LiveAlertOptions {
  /**
   * Who a stream's credential stands for now, as a request's is authenticated (http/server.ts): it
   * throws once the caller may no longer read the stream (signed out, blocked, key deleted).
   */
  authenticate(credential: Credential): Promise<Principal>;
  visibility: AlertVisibility;
  /** Times the scope's age and the keep-alives (a test's clock makes a keep-alive due by moving on). */
  clock?: Clock;
  streamsPerCaller?: number;
  streamsPerProcess?: number;
}

type Queued = { change: AlertsChanged; position: string } | { position: string };

/**
 * Whether a change of who sees what is the caller's: theirs, their custom role's, their integration's
 * (its key's), or anyone's.
 */
function concerns(scope: NonNullable<AlertsChanged['scope']>, caller: Principal): boolean {
  if (isForAnyone(scope)) return true;
  if (caller.userId !== undefined && scope.users?.includes(caller.userId)) return true;
  if (caller.integration && scope.integrations?.includes(caller.integration.id)) return true;
  return Boolean(caller.customRoleId && scope.roles?.includes(caller.customRoleId));
}

/**
 * The console's live alert list: a server-sent event `alerts` with the ids of alerts created or changed in
 * the caller's organization, whichever Vigil process changed them, and only those the caller may see
 * (`visibility`: a user who sees only their own alerts hears of no other). The browser then reads what
 * it shows through the API as usual, so the stream carries no alert data.
 *
 * A caller has at most {@link STREAMS_PER_CALLER} streams open (a newer one ends their oldest, told
 * `evicted` first), and a process {@link STREAMS_PER_PROCESS}. A stream ends once its caller no longer authenticates (checked at each
 * keep-alive), and when its browser stops reading; it tells a backlog of changes as one `more`.
 */
export function registerLiveAlertRoutes(app: HttpApp, feed: AlertFeed, options: LiveAlertOptions): void {
  const {
    authenticate,
    visibility,
    clock = systemClock,
    streamsPerCaller = STREAMS_PER_CALLER,
    streamsPerProcess = STREAMS_PER_PROCESS,
  } = options;
  const now = () => clock.now().getTime();
  /**
   * The open streams, oldest first: whose each is, how to end it (or make room with it for a newer one
   * of its caller's), and its keep-alive once due on the clock (a test's moves on).
   */
  const open = new Set<{ caller: string; close(): void; evict(): void; keepAliveIfDue(): void }>();
  const openBy = new Map<string, number>();
  // A stream never ends by itself: end them all, or closing the server would wait for the browsers.
  app.addHook('preClose', async () => {
    for (const stream of open) stream.close();
  });
  clock.onAdvance?.(() => {
    for (const stream of open) stream.keepAliveIfDue();
  });

  app.get(
    LIVE_ALERTS_ROUTE,
    {
      schema: {
        tags: ['console'],
        summary:
          'Server-sent events: `alerts` with {ids, more, position} when alerts are created or changed, ' +
          'and `position`',
        description:
          'With `after` (a position the last stream gave) or `replay` (milliseconds), the stream first ' +
          'tells what changed since, or `more` when this process cannot tell it all. ' +
          `A user or key has at most ${streamsPerCaller} streams open: a newer one ends the oldest, ` +
          `which is told \`${EVICTED_EVENT}\` first.`,
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
      let principal = principalOf(request);
      const credential = credentialOf(request.headers);
      if (!credential) throw new ApiError(401, `Could not authenticate: ${SEND_A_KEY}.`);
      const caller = callerOf(principal);
      // The browser may have left while the request was being authenticated: its close is not told again.
      if (request.raw.destroyed || reply.raw.destroyed || reply.raw.closed || reply.raw.socket?.destroyed) {
        reply.hijack();
        reply.raw.destroy();
        return;
      }
      // A caller at the limit: their oldest stream makes room (its browser may be gone without the server
      // knowing yet, a sleeping laptop, a network changed), told to wait a while before connecting again.
      if ((openBy.get(caller) ?? 0) >= streamsPerCaller) {
        for (const stream of open) {
          if (stream.caller !== caller) continue;
          stream.evict();
          break;
        }
      }
      if (open.size >= streamsPerProcess) {
        throw new ApiError(
          503,
          'This server has as many live alert feeds open as it serves: the console tries again shortly.',
          undefined,
          10,
        );
      }
      const missed = missedOf(request.query);
      reply.hijack();
      const res = reply.raw;
      let closed = false;
      let keepAlive: NodeJS.Timeout | undefined;
      /** When the last keep-alive was (or the stream opened), on the clock. */
      let keptAliveAt = now();
      let authenticatedAt = now();
      let scope: { value: AlertScope; at: number } | undefined;
      let reauthenticating: Promise<boolean> | undefined;
      /**
       * How many announcements that who sees what changed this stream has told, and how many of them
       * had been when its caller was last authenticated: a caller read before the last may have another
       * role or custom role now, or be blocked.
       */
      let scopeChanges = 0;
      let authenticatedAfter = 0;

      const write = (text: string) => {
        if (closed) return;
        // A browser that does not read: its data would pile up here without end.
        if (!res.write(text) && res.writableLength > UNREAD_MAX_BYTES) {
          request.log.info('a live alert feed was ended: its browser did not read it');
          drop();
        }
      };
      const send = (event: string, data: unknown) =>
        write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

      /** Authenticates the stream's credential again: false (the stream ended) when it no longer does. */
      const reauthenticate = () =>
        (reauthenticating ??= (async () => {
          const after = scopeChanges;
          try {
            const fresh = await authenticate(credential);
            if (fresh.orgId !== principal.orgId)
              throw new ApiError(403, 'the credential is of another organization now');
            principal = fresh;
            authenticatedAt = now();
            authenticatedAfter = after;
            // Read again for the principal as it is now (a role or teams may have changed).
            scope = undefined;
            return !closed;
          } catch (error) {
            // Not known to be refused (the database down for a moment): the stream goes on as its caller
            // was, and tries again at its next keep-alive, rather than every stream reconnecting at once.
            if (!refusedBy(error)) {
              if (!closed)
                request.log.warn(
                  { err: error },
                  'the caller of a live alert feed could not be authenticated again: tried at the next keep-alive',
                );
              return !closed;
            }
            if (!closed)
              request.log.info(
                { err: error },
                'a live alert feed was ended: its caller no longer authenticates',
              );
            drop();
            return false;
          } finally {
            reauthenticating = undefined;
          }
        })());

      /** The caller's alert scope, read at most every SCOPE_MAX_AGE_MS; undefined when the stream ended. */
      const scopeNow = async (): Promise<AlertScope | undefined> => {
        // Twice at most: a keep-alive's authentication begun before who sees what changed is awaited
        // first, and may have read the caller as they were.
        for (let tries = 0; tries < 2; tries++) {
          const stale = authenticatedAfter !== scopeChanges || now() - authenticatedAt >= SCOPE_MAX_AGE_MS;
          if (!stale) break;
          if (!(await reauthenticate())) return undefined;
        }
        if (scope && now() - scope.at < SCOPE_MAX_AGE_MS) return scope.value;
        const at = now();
        const of = principal;
        const value = await visibility.scopeOf(of);
        // Kept only if the caller was not authenticated again meanwhile (their role may have changed).
        if (of === principal) scope = { value, at };
        return value;
      };

      // Each change carries the feed's position once it is told, for the browser to resume from.
      const tell = async (change: AlertsChanged, position: string) => {
        if (closed) return;
        if (change.scope) {
          // Who sees what changed (migrations 0067, 0068). For this caller: what comes after is filtered
          // against a fresh read, and the `more` has the console read again the alerts that came into or left
          // their sight. For someone else: nothing to tell (every console of a large organization reading
          // everything again at each team change would be a storm).
          if (!concerns(change.scope, principal)) return;
          scopeChanges++;
          scope = undefined;
        }
        let ids: string[] = [];
        if (change.ids.length > 0) {
          try {
            const within = await scopeNow();
            if (!within) return;
            ids = await visibility.among(within, change.ids);
          } catch (error) {
            // The browser fetches everything again rather than miss this change.
            request.log.warn({ err: error }, 'the alerts of a live update could not be read');
            send('alerts', { ids: [], more: true, position });
            return;
          }
        }
        // Told only against the alerts as they are now: one that left the caller's sight without being
        // deleted (assigned away, responders, teams or visibleTo changed) is not told to them. The console
        // drops it from its list at the list's next read (another change told to it, the window's focus,
        // the page opened again), and its page, read again, says it does not exist. Telling them would
        // need each alert's former state on every update, and would have every such caller read
        // everything again whenever any alert's owner changed (migration 0062).
        if (ids.length > 0 || change.more) send('alerts', { ids, more: change.more, position });
      };

      // One change at a time, so that the browser hears of them in the order they happened; and only
      // once the stream is open, which waits until the database announces changes to this process. A
      // backlog (a slow database) is told as one `more`, at the position of its last change.
      const queue: Queued[] = [];
      let opened = false;
      let telling = false;
      const pump = async () => {
        if (telling || !opened) return;
        telling = true;
        try {
          for (let next = queue.shift(); next; next = queue.shift()) {
            if ('change' in next) await tell(next.change, next.position);
            else send('position', next.position);
          }
        } finally {
          telling = false;
        }
      };
      const enqueue = (item: Queued) => {
        if (closed) return;
        queue.push(item);
        if (queue.length > BACKLOG_MAX) {
          const { position } = item;
          // A change of who sees what among those dropped must still drop the scope kept: whoever it was
          // for, as anyone's (the `more` is told anyway).
          const scoped = queue.some((queued) => 'change' in queued && queued.change.scope);
          queue.length = 0;
          queue.push({ change: { ids: [], more: true, ...(scoped ? { scope: {} } : {}) }, position });
        }
        void pump();
      };

      const subscription = feed.subscribe(
        principal.orgId,
        (change, position) => enqueue({ change, position }),
        missed,
      );
      /** The position now, once what is being told is said: every change heard until now is then. */
      const sayPosition = () => enqueue({ position: subscription.position() });

      const keepAliveNow = () => {
        if (closed) return;
        keptAliveAt = now();
        write(': keep-alive\n\n');
        void reauthenticate().then((still) => {
          if (still) sayPosition();
        });
      };
      /** The stream's headers, once. */
      const head = () => {
        if (res.headersSent) return;
        // A hijacked reply sends only these headers: the session cookie the request renewed must be here.
        const renewedCookie = reply.getHeader('set-cookie');
        res.writeHead(200, {
          ...(typeof renewedCookie === 'string' || Array.isArray(renewedCookie)
            ? { 'set-cookie': renewedCookie }
            : {}),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          // nginx buffers responses unless told not to.
          'x-accel-buffering': 'no',
        });
      };
      void subscription.ready.then(() => {
        if (closed) return;
        head();
        write(': connected\n\n');
        // Where the browser resumes from should the stream end before it hears more.
        if (subscription.from) send('position', subscription.from);
        opened = true;
        keptAliveAt = now();
        sayPosition();
        keepAlive = setInterval(keepAliveNow, KEEP_ALIVE_MS);
      });

      const stream = {
        caller,
        close: () => {
          end();
          res.end();
        },
        /** Ends the stream for a newer one of its caller's, telling its browser not to come back at once. */
        evict: () => {
          if (closed) return;
          request.log.info('a live alert feed was ended: its caller opened one more than they may');
          head();
          send(EVICTED_EVENT, {
            message: `A newer console tab or window took this live alert feed: a user or API key has at most ${streamsPerCaller} open.`,
          });
          stream.close();
        },
        keepAliveIfDue: () => {
          if (opened && now() - keptAliveAt >= KEEP_ALIVE_MS) keepAliveNow();
        },
      };
      const end = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepAlive);
        subscription.unsubscribe();
        open.delete(stream);
        const left = (openBy.get(caller) ?? 1) - 1;
        if (left > 0) openBy.set(caller, left);
        else openBy.delete(caller);
      };
      /** Ends the stream at once, whatever the browser has not read yet. */
      const drop = () => {
        end();
        res.destroy();
      };
      open.add(stream);
      openBy.set(caller, (openBy.get(caller) ?? 0) + 1);
      request.raw.on('close', end);
      res.on('close', end);
      res.on('error', end);
    },
  );
}
