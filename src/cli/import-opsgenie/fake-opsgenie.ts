import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A local Opsgenie for the importer's tests, serving answers shaped as Opsgenie's API reference documents
 * them (test/fixtures/opsgenie, see SOURCES.md), and what a test serves instead of them.
 */

export const OPSGENIE_KEY = 'c2b4e6f8-0a1b-4c3d-9e5f-7a8b9c0d1e2f';
export const SRE_API_KEY = '2f9c0e3a-6b1d-4e8f-9a7c-5d4b3e2f1a0b';
export const JANE = 'e07c63f0-dd8c-4ad4-983e-4ee7dc600463';
export const SRE = '90098alp9-f0e3-41d3-a060-0ea895027630';
export const MAIL_ALERTS = '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
export const ESCALATION_COVER = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
export const fixtures = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../../test/fixtures/opsgenie',
);

/** Path (and query, where it matters) → fixture file. */
function fixtureFor(url: URL): string | undefined {
  const p = decodeURIComponent(url.pathname);
  const users = /^\/v2\/users\/([^/]+)\/(contacts|notification-rules)$/.exec(p);
  if (users) return users[1] === JANE ? `${users[2]}-jane.json` : 'contacts-empty.json';
  const routes: Record<string, string> = {
    '/v2/account': 'account.json',
    '/v2/roles': 'roles.json',
    '/v2/users': url.searchParams.get('offset') === '2' ? 'users-page-2.json' : 'users-page-1.json',
    [`/v2/users/${JANE}/notification-rules/1b8fc1b9-3bd4-4b4c-a33a-53f5b1bb3b2a`]:
      'notification-rule-new-alert.json',
    [`/v2/users/${JANE}/notification-rules/8d3c1a5e-2f4b-4a6c-9d8e-0f1a2b3c4d5e`]:
      'notification-rule-working-hours.json',
    '/v2/teams': 'teams.json',
    [`/v2/teams/${SRE}`]: 'team-sre.json',
    [`/v2/teams/${SRE}/routing-rules`]: 'routing-rules-sre.json',
    [`/v2/teams/${SRE}/roles`]: 'team-roles-sre.json',
    '/v2/schedules': 'schedules.json',
    '/v2/schedules/d875alp4-9b4e-4219-alp3-0c26936d18de/overrides': 'overrides-sre.json',
    '/v2/schedules/c569c016-alp9-4e20-8a28-bd5dc33b798e/overrides': 'overrides-empty.json',
    [`/v2/schedules/${ESCALATION_COVER}/overrides`]: 'overrides-escalation-cover.json',
    '/v2/escalations': 'escalations.json',
    '/v2/heartbeats': 'heartbeats.json',
    '/v1/maintenance': 'maintenance.json',
    '/v1/maintenance/8418d193-2dab-4490-b331-8c02cdd196b7': 'maintenance-8418.json',
    '/v2/integrations': 'integrations.json',
    '/v2/integrations/073e8e6a-a481-4b9b-8619-5c31d9a6e5da': 'integration-default-api.json',
    '/v2/integrations/3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a': 'integration-sre-api.json',
    '/v2/integrations/3163a9f9-5950-4e73-b99f-92562956e39c': 'integration-datadog.json',
    '/v2/integrations/073e8e6a-a481-4b9b-8619-5c31d9a6e5da/actions': 'integration-actions-default-api.json',
    [`/v2/integrations/${MAIL_ALERTS}`]: 'integration-mail-alerts.json',
    [`/v2/integrations/${MAIL_ALERTS}/actions`]: 'integration-actions-mail-alerts.json',
    '/v2/integrations/3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a/actions': 'integration-actions-sre-api.json',
    '/v2/policies/8a1f3c2e-5b4d-4e6f-9a0b-1c2d3e4f5a6b': 'policy-raise-prod.json',
    '/v2/policies/9b2e4d3f-6c5e-4f7a-8b1c-2d3e4f5a6b7c': 'policy-route-db.json',
    '/v2/policies/ac3f5e4a-7d6f-4a8b-9c2d-3e4f5a6b7c8d': 'policy-night-shift.json',
    '/v2/policies/bd4a6f5b-8e7a-4b9c-8d3e-4f5a6b7c8d9e': 'policy-tag-sre.json',
    '/v2/policies/ce5b7a6c-9f8b-4cad-9e4f-5a6b7c8d9e0f': 'policy-quiet-low.json',
    '/v2/policies/df6c8b7d-0a9c-4dbe-8f5a-6b7c8d9e0f1a': 'policy-deduplicate-flapping.json',
  };
  const teamId = url.searchParams.get('teamId');
  if (p === '/v2/policies/alert') return teamId === SRE ? 'policies-alert-sre.json' : 'policies-alert.json';
  if (p === '/v2/policies/notification' && teamId === SRE) return 'policies-notification-sre.json';
  return routes[p];
}

export interface FakeOpsgenie {
  url: string;
  requests: { method: string; url: string }[];
  /** The next GET of this path answers 429 once. */
  rateLimitOnce: Set<string>;
  /** Answers to serve instead of a fixture, by path. */
  instead: Map<string, unknown>;
  /** Paths whose GETs answer 500 while they are in it (Opsgenie having a bad minute). */
  failing: Set<string>;
  close(): Promise<void>;
}

export async function startFakeOpsgenie(): Promise<FakeOpsgenie> {
  const requests: FakeOpsgenie['requests'] = [];
  const rateLimitOnce = new Set<string>();
  const instead = new Map<string, unknown>();
  const failing = new Set<string>();
  let base = '';
  const send = async (res: http.ServerResponse, status: number, file: string, headers = {}) => {
    const body = (await readFile(path.join(fixtures, file), 'utf8')).replaceAll('{{base}}', base);
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    requests.push({ method: req.method ?? '', url: url.pathname + url.search });
    void (async () => {
      if (req.headers.authorization !== `GenieKey ${OPSGENIE_KEY}`)
        return send(res, 401, 'unauthorized.json');
      if (req.method !== 'GET') return res.writeHead(405).end();
      if (rateLimitOnce.delete(url.pathname))
        return send(res, 429, 'rate-limited.json', { 'retry-after': '1' });
      if (failing.has(url.pathname))
        return res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal error"}');
      if (instead.has(url.pathname))
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(instead.get(url.pathname)));
      const file = fixtureFor(url);
      if (!file)
        return res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not found"}');
      return send(res, 200, file);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    rateLimitOnce,
    instead,
    failing,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
