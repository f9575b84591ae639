import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../database.js';
import { MIGRATION_NAMES } from '../migrate.js';
import { createTestDatabase } from '../../testing/harness.js';

/** Upgrading a database whose maintenances disable policies: they keep doing so, and may now enable. */

const THIS = '0051_maintenance_policy_rule_state';
let db: Db;
let migrator: Migrator;
let maintenanceId: string;
let policyId: string;

const states = async () =>
  (
    await sql<{ state: string }>`
      SELECT state FROM maintenance_policy_rules WHERE maintenance_id = ${maintenanceId}`.execute(db)
  ).rows.map((r) => r.state);

before(async () => {
  db = createDb(createPool(await createTestDatabase(), 2));
  const migrations: Record<string, Migration> = {};
  for (const name of MIGRATION_NAMES) migrations[name] = (await import(`./${name}.js`)) as Migration;
  migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const previous = MIGRATION_NAMES[MIGRATION_NAMES.indexOf(THIS) - 1];
  assert.ok(previous);
  assert.equal((await migrator.migrateTo(previous)).error, undefined);
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

    const previous = MIGRATION_NAMES[MIGRATION_NAMES.indexOf(THIS) - 1]!;
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
