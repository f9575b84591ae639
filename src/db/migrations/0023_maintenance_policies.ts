import { sql, type Kysely } from 'kysely';

/**
 * Maintenance on alert policies (Opsgenie's rules on `policy` entities): while a maintenance is active, the
 * policies it names do not run on alert creation. Integrations keep their own table (`maintenance_rules`);
 * `position` here and there shares one sequence per maintenance, so its rules read back in the order they
 * were given, the two kinds interleaved. A rule goes with its policy when that is deleted; the index on
 * `policy_id` serves that cascade.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE maintenance_policy_rules (
      maintenance_id uuid NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
      policy_id uuid NOT NULL REFERENCES alert_policies(id) ON DELETE CASCADE,
      state text NOT NULL DEFAULT 'disabled' CHECK (state = 'disabled'),
      position integer NOT NULL,
      PRIMARY KEY (maintenance_id, policy_id)
    );
    CREATE INDEX maintenance_policy_rules_policy ON maintenance_policy_rules (policy_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE maintenance_policy_rules`.execute(db);
}
