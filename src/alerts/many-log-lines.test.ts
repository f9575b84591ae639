import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { createTestDatabase } from '../testing/harness.js';
import { alertsRepository } from './repository.js';

/**
 * The engine's activity-log lines of one transaction, written at once: a line for each person paged, so
 * 50 alerts paging a team of 400 give more lines than one statement's 65,535 parameters, four a line,
 * could bind.
 */

let db: Db;

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 2));
});

after(async () => {
  await db?.destroy();
});

describe('addLogs', () => {
  it('writes 20,000 lines for 50 alerts in one call, in the order given', async () => {
    const org = await sql<{
      id: string;
    }>`INSERT INTO organizations (name) VALUES ('Logs') RETURNING id`.execute(db);
    const orgId = org.rows[0]?.id ?? '';
    const alerts = await sql<{ id: string }>`
      INSERT INTO alerts (org_id, alias, message)
      SELECT ${orgId}, 'flood-' || n, 'Flood' FROM generate_series(1, 50) n RETURNING id`.execute(db);
    const lines = Array.from({ length: 20_000 }, (_, n) => ({
      alertId: alerts.rows[n % alerts.rows.length]?.id ?? '',
      type: 'escalation',
      log: `Notifying member ${n} (on call for Big team) by rule "New alert": email at once`,
      owner: 'Vigil',
    }));
    await db.transaction().execute((tx) => alertsRepository.addLogs(tx, lines));
    const stored = await sql<{ alert_id: string; log: string }>`
      SELECT alert_id, log FROM alert_logs WHERE type = 'escalation' ORDER BY id`.execute(db);
    assert.equal(stored.rows.length, 20_000);
    assert.deepEqual(
      stored.rows.map((r) => [r.alert_id, r.log]),
      lines.map((l) => [l.alertId, l.log]),
    );
  });
});
