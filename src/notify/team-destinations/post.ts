import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';
import { TLSSocket } from 'node:tls';
import { storableText } from '../../db/storable.js';
import { OutboundAgent, proxyFor } from '../../http/outbound.js';
import type { OutboundFetch } from '../../http/outbound-fetch.js';
import { guardedLookup, privateNameProblem } from './address-guard.js';

/**
 * One POST to a team destination's URL: https through Vigil's outbound agent (HTTPS_PROXY and NO_PROXY
 * honoured), plain http only to a host the operator allowed. Redirects are not followed (the status is
 * returned as is), the whole exchange has a deadline, and only the start of the answer is read: it goes
 * to the delivery log, and a receiver must not be able to make Vigil read megabytes.
 *
 * Connections are kept open and reused (a storm posts hundreds of alerts a second to the same few
 * receivers: a TCP and TLS handshake each cost both sides more than the post). A name is still checked at
 * every new connection, on the addresses connected to; a kept connection stays with the address it was
 * checked on.
 */

export interface PostOptions {
  timeoutMs: number;
  /** The host is one the operator allowed: plain http and private addresses are fine. */
  allowPrivate: boolean;
  /** Bytes of the answer kept for the log. */
  excerptBytes?: number;
}

export interface PostAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /**
   * The start of the body, as text that PostgreSQL can store: it goes to the delivery log, and a NUL in it
   * (a gzip or UTF-16 answer, any binary one) would fail the write of every outcome of its round.
   */
  excerpt: string;
}

export class PostError extends Error {
  override name = 'PostError';
  /**
   * Whether the request may have been written to the receiver: its connection was made (for https, its
   * TLS handshake done). False for a failure before that (an address the guard refuses, the proxy's or
   * the name's check, a refused or unreachable connection, a certificate refused): the receiver cannot
   * have the alert, so the delivery does not count as having told it (deliveries.ts mayHaveReached).
   */
  readonly mayHaveBeenWritten: boolean;

  constructor(message: string, mayHaveBeenWritten: boolean) {
    super(message);
    this.mayHaveBeenWritten = mayHaveBeenWritten;
  }
}

/**
 * The longest HTTP exchange of the work timingExchanges runs, timed where each request is made (here,
 * and in the fetch timedFetch wraps), from the request to its answer or its failure: how long the
 * receiver kept Vigil waiting, not the work around it (a kind's own database lookups). deliveries.ts
 * holds a receiver slow to answer by it. Kept per async context: a round's sends run side by side.
 */
const exchangeTimes = new AsyncLocalStorage<{ longestMs: number }>();

function exchangeEnded(startedAt: number): void {
  const times = exchangeTimes.getStore();
  if (times) times.longestMs = Math.max(times.longestMs, performance.now() - startedAt);
}

/** Runs `work`, and how long its longest HTTP exchange took (0 without one). */
export async function timingExchanges<T>(
  work: () => Promise<T>,
): Promise<{ value: T; longestExchangeMs: number }> {
  const times = { longestMs: 0 };
  const value = await exchangeTimes.run(times, work);
  return { value, longestExchangeMs: times.longestMs };
}

/** `fetch` whose exchanges timingExchanges counts (the providers' APIs: Slack's Web API). */
export function timedFetch(fetch: OutboundFetch): OutboundFetch {
  return async (input, init) => {
    const startedAt = performance.now();
    try {
      return await fetch(input, init);
    } finally {
      exchangeEnded(startedAt);
    }
  };
}

/** Kept connections: one pool for names checked at connection, one for the hosts the operator allowed. */
const pools = {
  guarded: {
    http: new http.Agent({ keepAlive: true, lookup: guardedLookup() }),
    https: new OutboundAgent({ keepAlive: true, lookup: guardedLookup() }),
  },
  allowed: { http: new http.Agent({ keepAlive: true }), https: new OutboundAgent({ keepAlive: true }) },
};

/**
 * Through a proxy it is the proxy that resolves the name and connects, so the guard on the addresses
 * connected to never runs: the name is resolved here first, and one with a private address is refused.
 * A name this host cannot resolve is left to the proxy (split DNS, where only the proxy sees outside),
 * and the proxy answers for the address it connects to, as docs/destinations.md says.
 */
async function refusePrivateNameBehindProxy(url: URL): Promise<void> {
  const why = await privateNameProblem(url.hostname);
  if (why) throw new PostError(why, false);
}

function agentFor(url: URL, allowPrivate: boolean, signal: AbortSignal): http.Agent {
  const pool = allowPrivate ? pools.allowed : pools.guarded;
  if (url.protocol !== 'https:') return pool.http;
  // Through a proxy, a connection of its own whose CONNECT the deadline can end (a pooled agent's
  // tunnel would wait for a silent proxy as long as the operating system lets it).
  if (proxyFor(url, process.env)) {
    return new OutboundAgent({ signal, ...(allowPrivate ? {} : { lookup: guardedLookup() }) });
  }
  return pool.https;
}

export async function postJson(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<PostAnswer> {
  const startedAt = performance.now();
  const checkFirst = !options.allowPrivate && url.protocol === 'https:' && proxyFor(url, process.env);
  const abort = new AbortController();
  const excerptBytes = options.excerptBytes ?? 1024;
  let timer: NodeJS.Timeout | undefined;
  // Of either request, when a kept connection's reset sends it again: once one may have gone out, it has.
  let mayHaveBeenWritten = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const waited = `no answer within ${Math.round(options.timeoutMs / 1000)} s`;
      reject(new PostError(waited, mayHaveBeenWritten));
      abort.abort();
    }, options.timeoutMs);
  });
  let settled = false;
  const send = (retryOnReset: boolean): Promise<PostAnswer> =>
    new Promise<PostAnswer>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          signal: abort.signal,
          agent: agentFor(url, options.allowPrivate, abort.signal),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const finish = () => {
            settled = true;
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              excerpt: storableText(Buffer.concat(chunks).subarray(0, excerptBytes).toString('utf8')),
            });
          };
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            chunks.push(chunk);
            if (size >= excerptBytes) {
              // Enough for the log: the rest is not read, and the connection is not reused.
              finish();
              res.destroy();
            }
          });
          res.on('end', finish);
          res.on('error', () => finish());
        },
      );
      const written = () => {
        mayHaveBeenWritten = true;
      };
      // Bytes of the request can leave only on a connection made, and over TLS only once its handshake is
      // done (the request is held until then); a kept connection has been both.
      req.on('socket', (socket) => {
        if (req.reusedSocket) written();
        else socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', written);
      });
      req.on('finish', written);
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept connection the receiver closed as this request went out: Node's documented remedy is
        // to send again (the receiver saw nothing of this one).
        if (retryOnReset && req.reusedSocket && error.code === 'ECONNRESET' && !abort.signal.aborted) {
          resolve(send(false));
          return;
        }
        const cause = (error.cause instanceof Error ? error.cause : error).message;
        reject(new PostError(cause, mayHaveBeenWritten));
      });
      req.end(body);
    });
  try {
    // The name's check is part of the exchange, within its deadline: a resolver that never answers must
    // not hold the post (and a thread of libuv's pool) past it.
    if (checkFirst) await Promise.race([refusePrivateNameBehindProxy(url), deadline]);
    return await Promise.race([send(true), deadline]);
  } finally {
    clearTimeout(timer);
    exchangeEnded(startedAt);
    // A request still open (no answer in time, a failure) is ended with its connection; one answered
    // in full leaves its connection to the pool.
    if (!settled) abort.abort();
  }
}
