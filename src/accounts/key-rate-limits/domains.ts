/**
 * Opsgenie limits each key's requests per domain, so that a script hammering one API does not starve the
 * key's others (a monitor's alert creates are not refused because its heartbeat pings ran ahead). The
 * domains are Opsgenie's own, as far as Vigil serves them; everything else is configuration.
 */
export type RequestDomain = 'alert' | 'search' | 'heartbeat' | 'incident' | 'oncall' | 'configuration';

/** Listing and counting alerts and users: Opsgenie's "search" domain, apart from the alert changes. */
const SEARCHES = new Set(['/v2/alerts', '/v1/alerts', '/v2/alerts/count', '/v2/alerts/counts', '/v2/users']);

/** The domain of a request, from its method and its route's pattern (`/v2/alerts/:identifier`). */
export function requestDomainOf(method: string, route: string): RequestDomain {
  const path = route.length > 1 && route.endsWith('/') ? route.slice(0, -1) : route;
  if ((method === 'GET' || method === 'HEAD') && SEARCHES.has(path)) return 'search';
  if (under(path, '/v2/alerts') || under(path, '/v1/alerts') || under(path, '/v2/bulk/alerts'))
    return 'alert';
  if (under(path, '/v2/heartbeats')) return 'heartbeat';
  if (under(path, '/v1/incidents')) return 'incident';
  if (under(path, '/v2/schedules') && path.includes('on-calls')) return 'oncall';
  return 'configuration';
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}
