import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { createTestDatabase } from '../testing/harness.js';
import { insertHubIntegrations } from '../testing/securityhub-writeback.js';
import { integrationsRepository } from './repository.js';

/** The stored deliveries' backlog for the metrics, on real PostgreSQL (no processor runs). */

let db: Db;
let integrations: string[];

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 2));
  integrations = await insertHubIntegrations(db, ['First', 'Second']);
});

after(async () => {
  await db?.destroy();
});

async function payload(integrationId: string, verdict: string, receivedAt: Date): Promise<void> {
  await sql`
    INSERT INTO integration_payloads (integration_id, kind, verdict, content_type, body, received_at)
    VALUES (${integrationId}, 'imported', ${verdict}, 'application/json', '{"detail":{"findings":[]}}',
      ${receivedAt})`.execute(db);
}

describe('the delivery backlog', () => {
  it('counts the queued deliveries, and tells when the oldest was received', async () => {
    const [first, second] = integrations as [string, string];
    assert.deepEqual(await integrationsRepository.deliveryBacklog(db, 1000), { due: 0, oldestDueAt: null });
    const received = new Date('2026-03-02T10:00:00Z');
    await payload(first, 'queued', received);
    // Settled earlier: waits for nothing.
    await payload(first, 'ignored', new Date(received.getTime() - 60_000));
    assert.deepEqual(await integrationsRepository.deliveryBacklog(db, 1000), {
      due: 1,
      oldestDueAt: received,
    });
    // Another integration's delivery, stored later but received earlier: the oldest is found across them.
    const earlier = new Date(received.getTime() - 30_000);
    await payload(second, 'queued', earlier);
    await payload(first, 'queued', new Date(received.getTime() + 1000));
    assert.deepEqual(await integrationsRepository.deliveryBacklog(db, 1000), {
      due: 3,
      oldestDueAt: earlier,
    });
    assert.equal((await integrationsRepository.deliveryBacklog(db, 2)).due, 2);
  });
});
