/**
 * Alert creates per second through the real API (POST /v2/alerts, each a new alert, so every request
 * writes the alert, its log line, its event job and its request record in one transaction), against a
 * bare Fastify route answering the same body in the same run. Without a flag it also measures, just
 * after, creates through a team's API integration key, whose alerts page the team (the bootstrap key's
 * have no responders). Not a test: prints numbers.
 *
 *   npm run bench:alerts [-- --seconds 10 --connections 20] [--integration | --shaping]
 *
 * --integration sends through a plain API integration's key; --shaping through one whose actions (an
 * ignore and a create action) and three alert policies all run on each create, to measure what shaping
 * costs over --integration.
 */
import { load, non2xxNote } from './lib/load.js';
import { reportBench, type BenchRow } from './lib/report.js';
import Fastify from 'fastify';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { arg } from './lib/bench-app.js';
import { stopLeftoverPostgresOnExit } from './lib/leftover-postgres.js';

const seconds = arg('seconds', 10);
const connections = arg('connections', 20);
const body = JSON.stringify({
  message: 'bench: disk usage above 90%',
  description: 'The root volume of web-1 is filling up.',
  tags: ['disk', 'prod'],
  details: { host: 'web-1', usage: '93%' },
  priority: 'P3',
  source: 'bench',
});

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-bench-'));
stopLeftoverPostgresOnExit(dataDir);
const key = randomUUID();
const config = loadConfig({
  ...process.env,
  PORT: '0',
  HOST: '127.0.0.1',
  VIGIL_DATA_DIR: dataDir,
  VIGIL_BOOTSTRAP_API_KEY: key,
});
console.log(`starting Vigil (${config.databaseUrl ? 'DATABASE_URL' : 'embedded PostgreSQL'}) ...`);
const role = process.argv.includes('--api-only') ? 'api' : 'all';
const app = await startApp(config, { role, log: createLogger('warn') });

const bare = Fastify();
bare.post('/v2/alerts', async (request, reply) => {
  void request.body;
  return reply.status(202).send({ result: 'Request will be processed', took: 0, requestId: randomUUID() });
});
const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

/** An API integration with actions, and alert policies, that every create runs; its key. */
async function shapingKey(): Promise<string> {
  const post = async (method: string, url: string, payload: unknown) => {
    const response = await fetch(`${app.url}${url}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `GenieKey ${key}` },
      body: JSON.stringify(payload),
    });
    const answer = (await response.json()) as { data: { id: string; apiKey?: string } };
    if (!response.ok) throw new Error(`${method} ${url}: ${JSON.stringify(answer)}`);
    return answer.data;
  };
  const team = await post('POST', '/v2/teams', { name: 'Bench' });
  const integration = await post('POST', '/v2/integrations', {
    type: 'API',
    name: 'Bench shaping',
    ownerTeam: { id: team.id },
  });
  const tagged = (tag: string) => ({
    conditionMatchType: 'match-all-conditions',
    conditions: [{ field: 'tags', operation: 'contains', expectedValue: tag }],
  });
  await post('PUT', `/v2/integrations/${integration.id}/actions`, {
    ignore: [{ name: 'Drop tests', filter: tagged('test') }],
    create: [
      {
        name: 'Shape',
        filter: tagged('prod'),
        message: '[{{details.host}}] {{message}}',
        tags: ['shaped'],
        extraProperties: { seen: '{{source}}' },
      },
    ],
  });
  for (const [i, tag] of ['none-1', 'none-2', 'shaped'].entries()) {
    await post('POST', '/v2/policies', {
      type: 'alert',
      name: `Bench ${i}`,
      filter: { type: tagged(tag).conditionMatchType, conditions: tagged(tag).conditions },
      tags: [`policy-${i}`],
      continue: true,
    });
  }
  if (!integration.apiKey) throw new Error('the integration was made without a key');
  return integration.apiKey;
}

/** A plain API integration's key (no actions, no policies): what --shaping compares against. */
async function integrationKey(): Promise<string> {
  const headers = { 'content-type': 'application/json', authorization: `GenieKey ${key}` };
  const team = await fetch(`${app.url}/v2/teams`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'Bench' }),
  });
  const teamId = ((await team.json()) as { data: { id: string } }).data.id;
  const made = await fetch(`${app.url}/v2/integrations`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ type: 'API', name: 'Bench plain', ownerTeam: { id: teamId } }),
  });
  return ((await made.json()) as { data: { apiKey: string } }).data.apiKey;
}

const senderKey = process.argv.includes('--shaping')
  ? await shapingKey()
  : process.argv.includes('--integration')
    ? await integrationKey()
    : key;
console.log(`warming up, then ${seconds} s at ${connections} connections each ...`);
const vigilHeaders = { 'content-type': 'application/json', authorization: `GenieKey ${senderKey}` };
await load(`${app.url}/v2/alerts`, { body, headers: vigilHeaders, seconds: 3, connections });
const baseline = await load(`${bareUrl}/v2/alerts`, {
  body,
  headers: { 'content-type': 'application/json' },
  seconds,
  connections,
});
const vigil = await load(`${app.url}/v2/alerts`, { body, headers: vigilHeaders, seconds, connections });
// The bootstrap key belongs to no team, so its alerts have no responders and the escalation engine only
// notes that. Through a team's integration key each alert pages the team: the path most alerts take.
const paging = senderKey === key ? await integrationKey() : undefined;
const throughTeam = paging
  ? await load(`${app.url}/v2/alerts`, {
      body,
      headers: { ...vigilHeaders, authorization: `GenieKey ${paging}` },
      seconds,
      connections,
    })
  : undefined;

const row = (route: string, { statuses: _statuses, ...r }: typeof vigil) => ({ route, ...r });
const table = [row('bare Fastify route', baseline), row('Vigil POST /v2/alerts', vigil)];
if (throughTeam) table.push(row("Vigil POST /v2/alerts, a team's key", throughTeam));
console.table(table);
if (vigil.non2xx > 0) console.log(`Vigil: ${non2xxNote(vigil)}`);
console.log(`Vigil / bare = ${(vigil.rps / baseline.rps).toFixed(3)}`);

await bare.close();
await app.stop();
await fs.rm(dataDir, { recursive: true, force: true });

// Requests answered 2xx per second (a refused create is not a create).
const okRate = (r: typeof vigil) => Math.round(r.total > 0 ? (r.rps * (r.total - r.non2xx)) / r.total : 0);
const bareBaseline = {
  label: `bare Fastify route, same body, ${connections} connections`,
  value: Math.round(baseline.rps),
  unit: 'req/s',
};
// What the creates went through, and its target: the same for every way of sending them.
const createsRow = (through: string, r: typeof vigil): BenchRow => ({
  measure: `alert creates through ${through}, ${connections} connections`,
  value: okRate(r),
  unit: 'creates/s',
  baseline: bareBaseline,
  target: '≥ 2,000/s at 20 connections',
  met: connections === 20 ? okRate(r) >= 2000 : undefined,
  ...(r.non2xx > 0 ? { note: non2xxNote(r) } : {}),
});
const sender =
  senderKey === key
    ? 'the bootstrap key: no responders'
    : process.argv.includes('--shaping')
      ? "an API integration's key with actions and alert policies"
      : "a team's API integration key: each pages the team";
reportBench('alerts', [
  createsRow(`POST /v2/alerts (${sender})`, vigil),
  {
    measure: `alert create latency p99, ${connections} connections`,
    value: vigil.p99,
    unit: 'ms',
    baseline: { ...bareBaseline, value: baseline.p99, unit: 'ms' },
  },
  ...(throughTeam ? [createsRow("a team's API integration key (each pages the team)", throughTeam)] : []),
]);
