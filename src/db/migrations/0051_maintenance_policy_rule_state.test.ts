import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/** Upgrading a database whose maintenances disable policies: they keep doing so, and may now enable. */

const THIS = '0051_maintenance_policy_rule_state';
let db: Db;
let migrator: Migrator;
let previous: string;
let maintenanceId: string;
let policyId: string;

const states = async () =>
  (
    await sql<{ state: string }>`
      SELECT state FROM maintenance_policy_rules WHERE maintenance_id = ${maintenanceId}`.execute(db)
  ).rows.map((r) => r.state);

before(async () => {
  ({ db, migrator, previous } = await databaseBefore(THIS));
  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  const orgId = org.rows[0]!.id;
  const policy = await sql<{ id: string }>`
    INSERT INTO alert_policies (org_id, name, position, filter, modifications)
    VALUES (${orgId}, 'Quiet nights', 0, '{"type":"match-all"}', '{}') RETURNING id`.execute(db);
  policyId = policy.rows[0]!.id;
  const maintenance = await sql<{ id: string }>`
    INSERT INTO maintenances (org_id, description, time_type, start_at, end_at)
    VALUES (${orgId}, 'deploy', 'indefinitely', now(), NULL) RETURNING id`.execute(db);
  maintenanceId = maintenance.rows[0]!.id;
  await sql`
    INSERT INTO maintenance_policy_rules (maintenance_id, policy_id, position)
    VALUES (${maintenanceId}, ${policyId}, 0)`.execute(db);
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
});

after(async () => {
  await db?.destroy();
});

describe('migration 0051: a maintenance may enable a policy', () => {
  it('keeps existing rules disabling, takes enabled ones, and goes back and forth', async () => {
    assert.deepEqual(await states(), ['disabled']);
    await sql`UPDATE maintenance_policy_rules SET state = 'enabled' WHERE maintenance_id = ${maintenanceId}`.execute(
      db,
    );
    assert.deepEqual(await states(), ['enabled']);
    await assert.rejects(
      sql`UPDATE maintenance_policy_rules SET state = 'paused' WHERE maintenance_id = ${maintenanceId}`.execute(
        db,
      ),
      /maintenance_policy_rules_state_check/,
    );

    assert.equal((await migrator.migrateTo(previous)).error, undefined);
    // The old schema can only disable: a rule that enabled is dropped rather than turned into its opposite.
    assert.deepEqual(await states(), []);
    await assert.rejects(
      sql`INSERT INTO maintenance_policy_rules (maintenance_id, policy_id, state, position)
          VALUES (${maintenanceId}, ${policyId}, 'enabled', 0)`.execute(db),
      /maintenance_policy_rules_state_check/,
    );
    await sql`INSERT INTO maintenance_policy_rules (maintenance_id, policy_id, position)
              VALUES (${maintenanceId}, ${policyId}, 0)`.execute(db);

    assert.equal((await migrator.migrateTo(THIS)).error, undefined);
    assert.deepEqual(await states(), ['disabled']);
  });
});
