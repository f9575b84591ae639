import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/** A scrape that takes longer than this is cut off: Prometheus's own default timeout is 10 s. */
const SCRAPE_TIMEOUT_MS = 10_000;

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
}): Promise<MetricsListener> {
  const { registry, log } = options;
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
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        log.warn({ err: error }, 'the metrics could not be collected');
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`The metrics could not be collected: ${(error as Error).message}\n`);
      },
    );
  });
  server.requestTimeout = SCRAPE_TIMEOUT_MS;
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
