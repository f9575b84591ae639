import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { after, before, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';
import { maintenanceRepository } from './repository.js';

/**
 * An integration key's list asks who owns every maintenance of the organization at once
 * (repository.ts ownerTeamsOf): however many there are, that is one statement with a fixed number of
 * parameters, within PostgreSQL's 65,535.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.stop();
});

it("lists an integration key's past maintenances among 33,000 of the organization", async () => {
  const team = (await server.callOk('POST', '/v2/teams', { name: `Payments ${run}` })).data.id;
  const key = (
    await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `Config ${run}`,
      ownerTeam: { id: team },
      allowConfigurationAccess: true,
    })
  ).data as { id: string; apiKey: string };
  const ours = (
    await server.callOk('POST', '/v1/maintenance', {
      description: `ours ${run}`,
      time: { type: 'for-1-hour' },
      rules: [{ entity: { id: key.id, type: 'integration' } }],
    })
  ).data.id as string;
  await server.callOk('POST', `/v1/maintenance/${ours}/cancel`);
  const db = server.app.context.db;
  // Past windows of no team's (they name nothing), in one statement: more than 65,535 / 2.
  await sql`INSERT INTO maintenances (org_id, time_type, start_at, end_at)
    SELECT i.org_id, 'for-5-minutes', now() - interval '2 days' - g * interval '1 minute',
      now() - interval '2 days' - g * interval '1 minute' + interval '5 minutes'
    FROM integrations i, generate_series(1, 33000) g WHERE i.id = ${key.id}`.execute(db);

  const listed = await server.call('GET', '/v1/maintenance?type=past', undefined, key.apiKey);
  assert.equal(listed.status, 200, JSON.stringify(listed.body).slice(0, 500));
  assert.deepEqual(
    (listed.body.data as Json[]).map((m) => m.id),
    [ours],
  );
  const all = await server.callOk('GET', '/v1/maintenance?type=past');
  assert.equal((all.data as Json[]).length, 33_001);
});

it('asks the owners of 40,000 maintenances in one statement', async () => {
  const ids = Array.from({ length: 40_000 }, () => randomUUID());
  const owners = await maintenanceRepository.ownerTeamsOf(server.app.context.db, ids);
  assert.equal(owners.size, 0);
});
