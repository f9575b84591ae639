import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { escalationRepository } from './repository.js';

/** The escalation queue's backlog for the metrics, on real PostgreSQL (no worker runs). */

let db: Db;
let orgId: string;
let alertId: string;
const now = new Date('2026-03-02T10:00:00Z');

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 2));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Backlog') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, 'Disk full')
    RETURNING id`.execute(db);
  alertId = alert.rows[0]?.id ?? '';
});

after(async () => {
  await db?.destroy();
});

async function run(state: string, nextAt: Date): Promise<void> {
  await sql`
    INSERT INTO alert_escalations (alert_id, org_id, source, plan, state, base_at, next_at)
    VALUES (${alertId}, ${orgId}, ${`team:${randomUUID()}`}, '{"rules":[]}'::jsonb, ${state}, ${nextAt},
      ${nextAt})`.execute(db);
}

describe('the escalation backlog', () => {
  it('counts the active runs whose next step is due, and tells when the earliest fell due', async () => {
    assert.deepEqual(await escalationRepository.backlog(db, now, 1000), { due: 0, oldestDueAt: null });
    const dueAt = new Date(now.getTime() - 30_000);
    await run('active', dueAt);
    // Not yet due, and a paused run (a paused run is not claimed, whatever its next_at).
    await run('active', new Date(now.getTime() + 60_000));
    await run('paused', new Date(now.getTime() - 90_000));
    assert.deepEqual(await escalationRepository.backlog(db, now, 1000), { due: 1, oldestDueAt: dueAt });
    // The count stops at its limit.
    await run('active', new Date(now.getTime() - 1000));
    assert.equal((await escalationRepository.backlog(db, now, 1)).due, 1);
    assert.equal((await escalationRepository.backlog(db, now, 1000)).due, 2);
  });
});
