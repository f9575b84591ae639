import { sql, type Kysely } from 'kysely';

/**
 * Each claim of write-back changes (`securityhub_writebacks`) names itself in `claim_id`: a sender whose
 * lease ran out while its changes waited their turn (or AWS was slow) could still send them and settle
 * them, after another process had taken them over, sent a later change of the same finding and settled
 * theirs. A sender now renews its lease on a request's changes right before sending them, only while
 * they are still `sending` under its own claim, and sends only those; it settles only changes still
 * its own. Rows from before this migration have no claim: a lease of theirs that runs out is taken
 * over as before, and their old sender (gone with the upgrade) settles nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE securityhub_writebacks ADD COLUMN claim_id uuid`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE securityhub_writebacks DROP COLUMN claim_id`.execute(db);
}
