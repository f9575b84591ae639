import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/**
 * A scrape whose metrics take longer than this to collect (a database that does not answer the backlog
 * reads) is answered 503 rather than held open: just under Prometheus's own default timeout of 10 s, so
 * it sees why. The read goes on, shared with the next scrapes (work.ts).
 */
export const COLLECT_TIMEOUT_MS = 9_000;

/** How long a client may take to send its request. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Serves the registry at GET /metrics on its own port, in the text format Prometheus scrapes. A plain
 * HTTP server rather than a route of the API: a worker process serves no API, and the metrics need none
 * of its authentication, parsing or console.
 */
export async function startMetricsListener(options: {
  registry: Registry;
  port: number;
  host: string;
  log: Logger;
  collectTimeoutMs?: number;
}): Promise<MetricsListener> {
  const { registry, log } = options;
  const collectTimeoutMs = options.collectTimeoutMs ?? COLLECT_TIMEOUT_MS;
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('Not found: the metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      response.end('Method not allowed: scrape /metrics with GET\n');
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `not collected within ${collectTimeoutMs / 1000} s (the process may be too busy to answer)`,
            ),
          ),
        collectTimeoutMs,
      );
    });
    Promise.race([registry.metrics(), timedOut])
      .then(
        (text) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(request.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => {
          log.warn({ err: error }, 'the metrics could not be collected');
          response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
          response.end(`The metrics could not be collected: ${(error as Error).message}\n`);
        },
      )
      .finally(() => clearTimeout(timer));
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a failed accept() (out of files) must not end the process: logged, and serving goes on.
  server.on('error', (error) =>
    log.warn({ err: error }, 'the metrics listener could not accept a connection'),
  );
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
