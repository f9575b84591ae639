import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AttachmentsService } from '../../alerts/attachments/service.js';
import { createLogger } from '../../logger.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { queryCounter } from '../../testing/query-counter.js';
import { ShiftedClock } from '../../work/clock.js';
import { createIntegrationsService } from '../service.js';
import { createEmailIntake } from './intake.js';

/**
 * What an address at RCPT TO costs the database, and what it leaves in the integrations service's cache
 * (shared with the API keys): anyone may send to made-up addresses, 20 a connection and as many
 * connections as they like. An unknown or disabled address is one read, kept nowhere, so that made-up
 * addresses neither cost twice nor fill the cache until it is emptied of the API keys as well; an
 * enabled one is served from the cache.
 */

const DOMAIN = 'inbound.vigil.test';
const run = randomUUID().slice(0, 8);
let server: TestServer;
let enabled: string;
let disabled: string;
let apiKey: string;

/**
 * An intake wired as the app wires it (its lookup the integrations service's), with a service and a key
 * cache of its own, on the test server's database with its queries counted.
 */
function countedIntake() {
  const queries = queryCounter();
  const db = server.app.context.apiDb.withPlugin(queries.plugin);
  // Its own clock, which a test holds: what the cache keeps is then kept however slowly the test runs.
  const clock = new ShiftedClock();
  const integrations = createIntegrationsService(db, { writebackRolePrefix: 'VigilSecurityHubRole', clock });
  const intake = createEmailIntake({
    db,
    alerts: server.app.context.alerts,
    // RCPT TO makes no alert, so stores no attachment.
    attachments: {} as AttachmentsService,
    domain: DOMAIN,
    log: createLogger('silent'),
    disabledBy: async () => undefined,
    clock,
    lookup: (emailUsername) => integrations.byEmailUsername(emailUsername),
  });
  /** The queries `work` sent. */
  const cost = async (work: () => Promise<unknown>) => {
    const before = queries.count;
    await work();
    return queries.count - before;
  };
  return { intake, integrations, cost, clock };
}

before(async () => {
  server = await startTestServer();
  const team = (await server.callOk('POST', '/v2/teams', { name: `Mail ${run}` })).data.id;
  const email = async (username: string) =>
    (
      await server.callOk('POST', '/v2/integrations', {
        type: 'Email',
        name: `Email ${username}`,
        ownerTeam: { id: team },
        emailUsername: username,
      })
    ).data.id as string;
  enabled = `on-${run}`;
  await email(enabled);
  disabled = `off-${run}`;
  await server.callOk('POST', `/v2/integrations/${await email(disabled)}/disable`);
  apiKey = randomUUID();
  await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name: `Api ${run}`,
    ownerTeam: { id: team },
    apiKey,
  });
});

after(() => server?.stop());

describe('a recipient at RCPT TO', () => {
  it('unknown: refused on one read of the database, kept nowhere (the next time is one read again)', async () => {
    const { intake, cost } = countedIntake();
    const to = `nobody-${run}@${DOMAIN}`;
    for (let i = 0; i < 2; i++) {
      let verdict;
      assert.equal(await cost(async () => (verdict = await intake.recipient(to))), 1, `time ${i + 1}`);
      assert.equal(verdict!.accepted, false);
    }
  });

  it('disabled: refused on one read of the database, kept nowhere', async () => {
    const { intake, cost } = countedIntake();
    const to = `${disabled}@${DOMAIN}`;
    for (let i = 0; i < 2; i++) {
      let verdict;
      assert.equal(await cost(async () => (verdict = await intake.recipient(to))), 1, `time ${i + 1}`);
      assert.equal(verdict!.accepted, false);
    }
  });

  it('enabled: taken, and the next time served from the cache', async () => {
    const { intake, cost } = countedIntake();
    const to = `${enabled}@${DOMAIN}`;
    let verdict;
    assert.equal(await cost(async () => (verdict = await intake.recipient(to))), 1);
    assert.deepEqual(verdict, { accepted: true, emailUsername: enabled });
    assert.equal(await cost(async () => (verdict = await intake.recipient(to))), 0);
    assert.deepEqual(verdict, { accepted: true, emailUsername: enabled });
  });

  it('made-up addresses, however many, do not empty the cache of the API keys', async () => {
    const { intake, integrations, cost, clock } = countedIntake();
    // Thousands of reads take longer than the cache keeps a key (a few seconds).
    const flow = clock.hold();
    assert.equal(await cost(() => integrations.byApiKey(apiKey)), 1, 'the key is read, and kept');
    // More than the cache holds before it is emptied (10,000 entries), a few at a time as connections come.
    const names = Array.from({ length: 10_050 }, (_, i) => `made-up-${i}-${run}@${DOMAIN}`);
    for (let i = 0; i < names.length; i += 10)
      await Promise.all(names.slice(i, i + 10).map((to) => intake.recipient(to)));
    assert.equal(await cost(() => integrations.byApiKey(apiKey)), 0, 'the key is still kept');
    flow();
  });
});

describe('an API key', () => {
  it('made-up keys, however many, do not empty the cache of the keys in use; a miss is kept apart', async () => {
    const { integrations, cost, clock } = countedIntake();
    const flow = clock.hold();
    assert.equal(await cost(() => integrations.byApiKey(apiKey)), 1, 'the key is read, and kept');
    const madeUp = randomUUID();
    assert.equal(await cost(() => integrations.byApiKey(madeUp)), 1);
    assert.equal(await cost(() => integrations.byApiKey(madeUp)), 0, 'a miss is kept too');
    for (let i = 0; i < 10_050; i += 10)
      await Promise.all(Array.from({ length: 10 }, () => integrations.byApiKey(randomUUID())));
    assert.equal(await cost(() => integrations.byApiKey(apiKey)), 0, 'the key is still kept');
    flow();
  });
});
