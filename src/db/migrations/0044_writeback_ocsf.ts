import { sql, type Kysely } from 'kysely';

/**
 * Findings of the new Security Hub (OCSF, "Findings Imported V2") are written back through
 * BatchUpdateFindingsV2, which names a finding by its account as well as by its product and uid, and must
 * never share a request with ASFF findings (BatchUpdateFindings). So each finding, and each change waiting
 * to be written to one, keeps its format and its account.
 *
 * The format is a column of its own rather than read from whether an account is known: an OCSF finding
 * without cloud.account.uid is still OCSF (it must not go to BatchUpdateFindings, it cannot be written at
 * all), and an ASFF finding has an account too (AwsAccountId).
 *
 * Rows from before this migration: a finding whose product is one of the new Security Hub's
 * (`…:productv2/…`, the form of OCSF's metadata.product.uid) becomes OCSF, without its account until it
 * is seen again (a change to it meanwhile fails on its own, saying why, rather than sharing a request with
 * ASFF findings that the V1 API would then refuse with it); all others become ASFF. A finding's format and
 * account are set again each time it is seen. A change to such a finding still waiting was written for the
 * V1 API, which cannot apply it: it ends failed, with why.
 */
const OCSF_PRODUCT = '%:productv2/%';

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['securityhub_findings', 'securityhub_writebacks']) {
    await sql`
      ALTER TABLE ${sql.table(table)}
        ADD COLUMN format text NOT NULL DEFAULT 'asff' CHECK (format IN ('asff', 'ocsf')),
        ADD COLUMN aws_account_id text`.execute(db);
    await sql`UPDATE ${sql.table(table)} SET format = 'ocsf' WHERE product_arn LIKE ${OCSF_PRODUCT}`.execute(
      db,
    );
  }
  await sql`
    UPDATE securityhub_writebacks
    SET status = 'failed', lease_until = NULL, updated_at = now(),
        last_error = 'recorded for BatchUpdateFindings, which cannot update a finding of the new Security Hub (OCSF); the next change to it goes through BatchUpdateFindingsV2'
    WHERE format = 'ocsf' AND status IN ('pending', 'sending')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['securityhub_findings', 'securityhub_writebacks']) {
    await sql`ALTER TABLE ${sql.table(table)} DROP COLUMN format, DROP COLUMN aws_account_id`.execute(db);
  }
}
