import { sql, type Kysely } from 'kysely';

/**
 * `alerts.policy_team_ids`: the teams whose policies the alert is in scope of, as its create decided
 * (alerts/service.ts, PolicyScope: its integration's team, the one team a global integration routed it
 * to, or its incident's teams). The engine applies a team's notification policies only to the escalation
 * of a team in it, as Opsgenie applies a team's policies. NULL for an alert made before this column: every
 * team responder's policies apply to it, as they did. Adding a nullable column without a default rewrites
 * nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE alerts ADD COLUMN policy_team_ids uuid[];`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE alerts DROP COLUMN policy_team_ids;`.execute(db);
}
