import { sql, type Kysely } from 'kysely';

/**
 * Whether an attempt of a team destination's delivery may have reached its receiver (an answer of 2xx, or
 * none once the request may have gone out: a timeout, a lease that ran out mid-send). An added team's own
 * destination told of the alert gets no Create (notify/team-destinations/repository.ts insertDeliveries);
 * its error text cannot say so: a delivery recorded "not sent" this time may have reached the receiver at
 * an earlier attempt, and one that failed before any request went out told it nothing. The rows already
 * there: those not sent but attempted, as no more is known of them (a second Create is what the column is
 * for avoiding). A sent row counts as told by its state (insertDeliveries), so it is left as it is: an
 * UPDATE of every sent row (most of the table) would hold this transaction's lock on it, and on the tables
 * the migrations before it altered, for as long. A default with no expression adds the column without
 * rewriting the table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE team_destination_deliveries ADD COLUMN may_have_reached boolean NOT NULL DEFAULT false
  `.execute(db);
  await sql`
    UPDATE team_destination_deliveries SET may_have_reached = true WHERE state <> 'sent' AND attempts > 0
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE team_destination_deliveries DROP COLUMN may_have_reached`.execute(db);
}
