import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../database.js';
import { MIGRATION_NAMES } from '../migrate.js';
import { createTestDatabase } from '../../testing/harness.js';

/**
 * Upgrading a database with closes scheduled: they keep their alert and time, with no policy (so they close
 * the alert as they did), and new closes of other policies stand beside them; going back keeps each
 * alert's earliest close.
 */

const THIS = '0046_auto_close_policy';
let db: Db;
let migrator: Migrator;
let orgId: string;
let alertId: string;
const closeAt = new Date('2030-01-01T10:00:00Z');

before(async () => {
  db = createDb(createPool(await createTestDatabase(), 2));
  const migrations: Record<string, Migration> = {};
  for (const name of MIGRATION_NAMES) migrations[name] = (await import(`./${name}.js`)) as Migration;
  migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const before = MIGRATION_NAMES[MIGRATION_NAMES.indexOf(THIS) - 1];
  assert.ok(before);
  assert.equal((await migrator.migrateTo(before)).error, undefined);
  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  orgId = org.rows[0]!.id;
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, 'a', 'a') RETURNING id`.execute(db);
  alertId = alert.rows[0]!.id;
  await sql`
    INSERT INTO alert_auto_closes (alert_id, org_id, close_at, policy_name)
    VALUES (${alertId}, ${orgId}, ${closeAt}, 'Old')`.execute(db);
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
});

after(async () => {
  await db?.destroy();
});

describe('migration 0046: a scheduled close records its policy', () => {
  it('keeps a close from before without a policy, and one row per alert and policy after it', async () => {
    const kept = await sql<{ policy_id: string | null; policy_name: string; close_at: Date }>`
      SELECT policy_id, policy_name, close_at FROM alert_auto_closes WHERE alert_id = ${alertId}`.execute(db);
    assert.deepEqual(kept.rows, [{ policy_id: null, policy_name: 'Old', close_at: closeAt }]);

    const [a, b] = [randomUUID(), randomUUID()];
    for (const [policy, hours] of [
      [a, 1],
      [b, -1],
    ] as const) {
      await sql`
        INSERT INTO alert_auto_closes (alert_id, org_id, close_at, policy_id, policy_name)
        VALUES (${alertId}, ${orgId}, ${new Date(closeAt.getTime() + hours * 3_600_000)}, ${policy}, 'New')`.execute(
        db,
      );
    }
    await assert.rejects(
      sql`
        INSERT INTO alert_auto_closes (alert_id, org_id, close_at, policy_id, policy_name)
        VALUES (${alertId}, ${orgId}, ${closeAt}, ${a}, 'Again')`.execute(db),
      /alert_auto_closes_alert_policy/,
    );

    const back = MIGRATION_NAMES[MIGRATION_NAMES.indexOf(THIS) - 1]!;
    assert.equal((await migrator.migrateTo(back)).error, undefined);
    const earliest = await sql<{ close_at: Date }>`
      SELECT close_at FROM alert_auto_closes WHERE alert_id = ${alertId}`.execute(db);
    assert.deepEqual(
      earliest.rows.map((r) => r.close_at),
      [new Date(closeAt.getTime() - 3_600_000)],
    );
    assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  });
});
