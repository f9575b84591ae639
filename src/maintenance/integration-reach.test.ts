import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * An API integration's key with configuration access reaches its owner team's configuration only
 * (integrations/principal.ts): of the maintenances, those whose every rule names an integration or alert
 * policy its team owns. The list leaves the others out; reading one of them is a 403, as for a heartbeat.
 * Users see them all, as before.
 */

const clock = new ShiftedClock();
let server: TestServer;
const run = randomUUID().slice(0, 8);
let teamA: string;
let teamB: string;
let keyA: string;
let ownIntegration: string;
/** The other teams' integrations and policies (and the global one), which no refusal to keyA may name. */
const notOurs: string[] = [];
const made: Record<string, string> = {};

const call = (method: string, path: string, body?: unknown, key?: string) =>
  server.callOk(method, path, body, key);

async function integration(team: string, extra: Json = {}): Promise<{ id: string; apiKey: string }> {
  const answer = await call('POST', '/v2/integrations', {
    type: 'API',
    name: `API ${randomUUID()}`,
    ownerTeam: { id: team },
    ...extra,
  });
  return answer.data as { id: string; apiKey: string };
}

async function policy(teamId?: string): Promise<string> {
  const answer = await call('POST', `/v2/policies${teamId ? `?teamId=${teamId}` : ''}`, {
    type: 'alert',
    name: `Policy ${randomUUID()}`,
    filter: { type: 'match-all' },
    tags: ['x'],
  });
  return answer.data.id as string;
}

async function maintenance(name: string, rules: { id: string; type: 'integration' | 'policy' }[]) {
  const answer = await call('POST', '/v1/maintenance', {
    description: `${name} ${run}`,
    time: { type: 'for-1-hour' },
    rules: rules.map((entity) => ({ entity })),
  });
  made[name] = answer.data.id as string;
}

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  teamA = (await call('POST', '/v2/teams', { name: `Payments ${run}` })).data.id;
  teamB = (await call('POST', '/v2/teams', { name: `Search ${run}` })).data.id;
  const configuring = await integration(teamA, { allowConfigurationAccess: true });
  keyA = configuring.apiKey;
  const ofA = await integration(teamA);
  const alsoOfA = await integration(teamA);
  const ofB = await integration(teamB);
  const policyOfA = await policy(teamA);
  const globalPolicy = await policy();
  ownIntegration = ofA.id;
  notOurs.push(ofB.id, globalPolicy);
  await maintenance('ours', [{ id: ofA.id, type: 'integration' }]);
  await maintenance('our policy', [
    { id: policyOfA, type: 'policy' },
    { id: alsoOfA.id, type: 'integration' },
  ]);
  await maintenance('theirs', [{ id: ofB.id, type: 'integration' }]);
  await maintenance('mixed', [
    { id: ofA.id, type: 'integration' },
    { id: ofB.id, type: 'integration' },
  ]);
  await maintenance('global', [{ id: globalPolicy, type: 'policy' }]);
});

after(async () => {
  await server?.stop();
});

describe("an integration key's maintenances", () => {
  it('lists only those whose rules all name its own team’s integrations and policies', async () => {
    for (const type of ['all', 'non-expired']) {
      const listed = (await call('GET', `/v1/maintenance?type=${type}`, undefined, keyA)).data as Json[];
      assert.deepEqual(
        listed.map((m) => m.id).sort(),
        [made.ours, made['our policy']].sort(),
        `type=${type}`,
      );
    }
    // A user (here the org's owner) still sees every one.
    const all = ((await call('GET', '/v1/maintenance?type=all')).data as Json[]).map((m) => m.id);
    for (const id of Object.values(made)) assert.ok(all.includes(id), id);
  });

  it('reads its own, and is refused the others with a 403', async () => {
    for (const name of ['ours', 'our policy']) {
      const got = await server.call('GET', `/v1/maintenance/${made[name]}`, undefined, keyA);
      assert.equal(got.status, 200, `${name}: ${JSON.stringify(got.body)}`);
    }
    for (const name of ['theirs', 'mixed', 'global']) {
      const got = await server.call('GET', `/v1/maintenance/${made[name]}`, undefined, keyA);
      assert.equal(got.status, 403, `${name}: ${JSON.stringify(got.body)}`);
      assert.match(got.body.message, /reaches only its owner team's configuration/);
      assert.doesNotMatch(JSON.stringify(got.body), new RegExp(`${name} ${run}`));
      const removed = await server.call('DELETE', `/v1/maintenance/${made[name]}`, undefined, keyA);
      assert.equal(removed.status, 403, `${name}: ${JSON.stringify(removed.body)}`);
    }
    // Still there for the org's owner.
    for (const name of ['theirs', 'mixed', 'global'])
      assert.equal((await server.call('GET', `/v1/maintenance/${made[name]}`)).status, 200);
  });

  it('is refused changing or cancelling the others, with the maintenance named and nothing of its rules', async () => {
    const later = new Date(clock.now().getTime() + 2 * 3600_000).toISOString();
    const writes: [string, (id: string) => string, unknown][] = [
      ['POST', (id) => `/v1/maintenance/${id}/cancel`, undefined],
      ['PATCH', (id) => `/v1/maintenance/${id}`, { description: 'taken over' }],
      [
        'PUT',
        (id) => `/v1/maintenance/${id}`,
        {
          description: 'taken over',
          time: { type: 'for-30-minutes' },
          rules: [{ entity: { id: ownIntegration, type: 'integration' } }],
        },
      ],
      ['POST', (id) => `/v1/maintenance/${id}/change-end-date`, { endDate: later }],
    ];
    for (const name of ['theirs', 'mixed', 'global']) {
      const id = made[name] as string;
      for (const [method, path, body] of writes) {
        const what = `${method} ${path('{id}')} on ${name}`;
        const got = await server.call(method, path(id), body, keyA);
        assert.equal(got.status, 403, `${what}: ${JSON.stringify(got.body)}`);
        assert.match(
          got.body.message,
          new RegExp(`reaches only its owner team's configuration, and maintenance with id \\[${id}\\]`),
          what,
        );
        for (const other of notOurs) assert.doesNotMatch(JSON.stringify(got.body), new RegExp(other), what);
      }
      // Left as it was.
      const kept = (await call('GET', `/v1/maintenance/${id}`)).data;
      assert.equal(kept.status, 'active', name);
      assert.equal(kept.description, `${name} ${run}`, name);
      assert.equal(kept.time.type, 'for-1-hour', name);
    }
  });
});
