import { sql, type Kysely } from 'kysely';

/**
 * A maintenance's rule on an alert policy may switch it on as well as off, as Opsgenie's may: `enabled`
 * makes a disabled policy run while the maintenance is open, `disabled` (what every rule before this
 * migration is, and stays) keeps it from running. Rules on integrations can still only disable them, so
 * their table is left alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE maintenance_policy_rules DROP CONSTRAINT maintenance_policy_rules_state_check;
    ALTER TABLE maintenance_policy_rules
      ADD CONSTRAINT maintenance_policy_rules_state_check CHECK (state IN ('enabled', 'disabled'));
  `.execute(db);
}

/**
 * The rules that switch a policy on go: the schema before could only disable, and turning them into
 * disabling rules would do the opposite of what was asked.
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM maintenance_policy_rules WHERE state = 'enabled';
    ALTER TABLE maintenance_policy_rules DROP CONSTRAINT maintenance_policy_rules_state_check;
    ALTER TABLE maintenance_policy_rules
      ADD CONSTRAINT maintenance_policy_rules_state_check CHECK (state = 'disabled');
  `.execute(db);
}
