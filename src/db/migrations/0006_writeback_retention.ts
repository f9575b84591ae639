import { sql, type Kysely } from 'kysely';

/**
 * Finished write-backs are now purged after the payload retention, and the "is there a later change of
 * this field" check reads done rows as well as waiting ones: its index covers every status, by seq.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX securityhub_writebacks_finding;
    CREATE INDEX securityhub_writebacks_finding
      ON securityhub_writebacks (integration_id, product_arn, finding_id, field, seq);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX securityhub_writebacks_finding;
    CREATE INDEX securityhub_writebacks_finding ON securityhub_writebacks (integration_id, product_arn, finding_id, field)
      WHERE status IN ('pending', 'sending');
  `.execute(db);
}
