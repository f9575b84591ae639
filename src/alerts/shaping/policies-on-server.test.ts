import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { DETAILS_LIMITS, detailsSize } from '../limits.js';

/**
 * Alert policies on the real server, where shaping (shape.ts) meets what is stored: the details policies
 * add stay within the alert's details limits (1,000 keys and 1 MiB of JSON, however many policies and
 * templates add them), and a filter may name Opsgenie's and Terraform's `responders` field.
 */

let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
});

after(async () => {
  await db?.end();
  await server?.stop();
});

const about = (token: string) => ({
  type: 'match-all-conditions',
  conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
});

const keys = (prefix: string, n: number, value: string) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, value]));

/** Creates an alert and returns it as stored. */
async function alert(body: Json): Promise<Json> {
  const alias = `a-${randomUUID()}`;
  const answer = await server.call('POST', '/v2/alerts', { alias, ...body });
  assert.equal(answer.status, 202, JSON.stringify(answer.body).slice(0, 300));
  const { rows } = await db.query('SELECT * FROM alerts WHERE alias = $1', [alias]);
  assert.ok(rows[0], 'the alert was made');
  return rows[0];
}

function assertWithin(details: Record<string, string>) {
  const size = detailsSize(details);
  assert.ok(size.keys <= DETAILS_LIMITS.keys, `${size.keys} keys`);
  assert.ok(size.bytes <= DETAILS_LIMITS.bytes, `${size.bytes} bytes`);
}

describe('details alert policies add', () => {
  it('stay within the alert’s 1,000 keys: the alert keeps its own, and takes Add Details', async () => {
    await server.callOk('POST', '/v2/policies', {
      type: 'alert',
      name: `Adds many ${run}`,
      filter: about(`many-${run}`),
      details: keys('pk', 1000, 'v'.repeat(900)),
    });
    const own = keys('k', 1000, 'w'.repeat(900));
    const made = await alert({ message: `many-${run}`, details: own });
    assertWithin(made.details);
    assert.deepEqual(made.details, own);
    const logs = (await server.callOk('GET', `/v2/alerts/${made.id}/logs`)).data.map((l: Json) => l.log);
    assert.ok(
      logs.some((l: string) =>
        l.includes(`1000 details of policy 'Adds many ${run}' left out: the alert's details are full`),
      ),
      logs.join('\n'),
    );
    const replaced = await server.call('POST', `/v2/alerts/${made.id}/details`, { details: { k0: 'new' } });
    assert.equal(replaced.status, 202, JSON.stringify(replaced.body));
    const got = (await server.callOk('GET', `/v2/alerts/${made.id}`)).data;
    assert.equal(got.details.k0, 'new');
  });

  it('stay within 1 MiB however many policies expand long fields into them', async () => {
    for (let i = 0; i < 5; i++)
      await server.callOk('POST', '/v2/policies', {
        type: 'alert',
        name: `Amplifies ${i} ${run}`,
        filter: about(`amplify-${run}`),
        details: keys(`p${i}-`, 1000, '{{description}}'),
        continue: true,
      });
    const made = await alert({ message: `amplify-${run}`, description: 'd'.repeat(15_000) });
    assertWithin(made.details);
    assert.equal(made.details['p0-0'], 'd'.repeat(8000));
    const logs = await db.query<{ log: string }>('SELECT log FROM alert_logs WHERE alert_id = $1', [made.id]);
    assert.match(
      logs.rows.map((r) => r.log).join('\n'),
      new RegExp(`Modified by policy 'Amplifies 4 ${run}'`),
    );
  });
});

describe('a policy filter on responders', () => {
  it('is taken, read back as sent, and matches by any responder’s name, as recipients', async () => {
    const team = `Payments ${run}`;
    await server.callOk('POST', '/v2/teams', { name: team });
    const filter = {
      type: 'match-all-conditions',
      conditions: [
        { field: 'message', not: false, operation: 'contains', expectedValue: `who-${run}`, order: 0 },
        { field: 'responders', not: false, operation: 'contains', expectedValue: team, order: 1 },
      ],
    };
    const made = await server.call('POST', '/v2/policies', {
      type: 'alert',
      name: `Responders ${run}`,
      filter,
      tags: ['payments'],
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const got = (await server.callOk('GET', `/v2/policies/${made.body.data.id}`)).data;
    assert.deepEqual(got.filter, filter);
    const theirs = await alert({ message: `who-${run} one`, responders: [{ type: 'team', name: team }] });
    assert.deepEqual(theirs.tags, ['payments']);
    const nobody = await alert({ message: `who-${run} two` });
    assert.deepEqual(nobody.tags, []);
  });
});
