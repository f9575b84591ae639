import { Counter, Histogram, type Registry } from 'prom-client';
import type { HttpApp } from '../http/server.js';

/**
 * Requests by route pattern (`/v2/alerts/:identifier`), never by URL: ids and keys in URLs would make a
 * series per alert, and the intake URL carries its key.
 */
export function observeHttpRequests(app: HttpApp, registry: Registry): void {
  const requests = new Counter({
    name: 'vigil_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'vigil_http_request_duration_seconds',
    help: 'How long HTTP requests took to answer, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // A request no route matched (a scan for /wp-login.php) counts under one name, not its own URL.
    const route = request.routeOptions.url ?? 'unmatched';
    // Methods outside HTTP's own (a scanner's FOO) count as one.
    const method = KNOWN_METHODS.has(request.method) ? request.method : 'other';
    requests.inc({ method, route, status: String(reply.statusCode) });
    duration.observe({ method, route }, reply.elapsedTime / 1000);
  });
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
