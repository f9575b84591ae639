import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type Insertable } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import type { NotificationRepeatsTable, NotificationsTable } from '../db/schema.js';
import { createTestDatabase } from '../testing/harness.js';
import { notificationRepeatsRepository } from './repeats-repository.js';
import { notificationsRepository } from './repository.js';

/**
 * The planner's writes of a page to a team of thousands (or of a flood's 50 alerts to a large team) in
 * one call: more rows than one statement's 65,535 parameters can bind, all stored.
 */

let db: Db;
let orgId: string;
let alertId: string;
const now = new Date('2026-05-01T12:00:00Z');

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 2));
  const org = await sql<{
    id: string;
  }>`INSERT INTO organizations (name) VALUES ('Many') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, 'big-team', 'Disk full') RETURNING id`.execute(
    db,
  );
  alertId = alert.rows[0]?.id ?? '';
});

after(async () => {
  await db?.destroy();
});

/** A planned email to the `n`th of a team's members, as the planner writes it (every column it sets). */
function plannedRow(n: number, key = `page:${n}`): Insertable<NotificationsTable> {
  return {
    idempotency_key: key,
    org_id: orgId,
    alert_id: alertId,
    user_id: null,
    destination_name: `member ${n}`,
    contact_method_id: null,
    method: 'email',
    address: `member${n}@example.com`,
    kind: 'create-alert',
    reason: 'Escalation, on call for Big team',
    escalation_run_id: null,
    rule_id: null,
    rule_step: null,
    stop_on: 'acknowledged',
    context: '{}',
    due_at: now,
  };
}

describe('insertPlanned', () => {
  it('stores the pages of 5,000 recipients planned at once, and skips taken keys across them', async () => {
    const rows = Array.from({ length: 5_000 }, (_, n) => plannedRow(n));
    // Planned twice in the batch, in different statements' share of it: added once.
    rows.push(plannedRow(5_000, 'page:0'));
    const added = await db.transaction().execute((tx) => notificationsRepository.insertPlanned(tx, rows));
    assert.equal(added.length, 5_000);
    assert.deepEqual(new Set(added.map((r) => r.idempotency_key)).size, 5_000);
    assert.ok(added.every((r) => r.due_at.getTime() === now.getTime()));

    const again = await notificationsRepository.insertPlanned(db, rows);
    assert.deepEqual(again, [], 'planned again: nothing added');
    const stored = await sql<{ n: number; first: string | null }>`
      SELECT count(*)::int AS n,
             (SELECT destination_name FROM notifications WHERE idempotency_key = 'page:0') AS first
      FROM notifications WHERE alert_id = ${alertId}`.execute(db);
    assert.deepEqual(stored.rows[0], { n: 5_000, first: 'member 0' });
  });
});

describe('notificationRepeatsRepository.start', () => {
  it('starts the repeats of 7,000 people at once', async () => {
    const user = await sql<{ id: string }>`
      INSERT INTO users (org_id, username, full_name, role)
      VALUES (${orgId}, 'many@example.com', 'Many', 'user') RETURNING id`.execute(db);
    const userId = user.rows[0]?.id ?? '';
    const rule = await sql<{ id: string }>`
      INSERT INTO notification_rules (user_id, name, action_type)
      VALUES (${userId}, 'New alert', 'create-alert') RETURNING id`.execute(db);
    const ruleId = rule.rows[0]?.id ?? '';
    // One person on 7,000 alerts: the table holds one repeat an alert and person either way.
    const alerts = await sql<{ id: string }>`
      INSERT INTO alerts (org_id, alias, message)
      SELECT ${orgId}, 'flood-' || n, 'Flood' FROM generate_series(1, 7000) n RETURNING id`.execute(db);
    const repeats: Insertable<NotificationRepeatsTable>[] = alerts.rows.map((a) => ({
      alert_id: a.id,
      user_id: userId,
      org_id: orgId,
      rule_id: ruleId,
      key_prefix: `page:${a.id}`,
      stop_on: 'acknowledged',
      reason: 'Escalation',
      why: 'on call for Big team',
      escalation_run_id: null,
      next_at: new Date(now.getTime() + 5 * 60_000),
    }));
    await db.transaction().execute((tx) => notificationRepeatsRepository.start(tx, repeats));
    const stored = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM notification_repeats WHERE user_id = ${userId}`.execute(db);
    assert.equal(stored.rows[0]?.n, 7_000);
  });
});
