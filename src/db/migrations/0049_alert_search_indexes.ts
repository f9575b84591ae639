import { sql, type Kysely } from 'kysely';

/**
 * An index for the alert search's `alias:x` (alerts/query.ts): the term matches without regard to case,
 * `lower(alias) = lower(x)`, which alerts_org_alias (on alias itself, for the exact look-ups of
 * de-duplication) can not serve, so each such term read every alert of the organization.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX alerts_org_lower_alias ON alerts (org_id, lower(alias))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX alerts_org_lower_alias`.execute(db);
}
