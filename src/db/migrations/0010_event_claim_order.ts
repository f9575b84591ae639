import { sql, type Kysely } from 'kysely';

/**
 * A consumer claims its alert events oldest change first (`ORDER BY seq`): an index in that order lets a
 * claim read the first due deliveries instead of sorting all of them, which, with a backlog of tens of
 * thousands, cost more than handling the batch.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX event_deliveries_order ON event_deliveries (consumer, seq) WHERE dead_at IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX event_deliveries_order`.execute(db);
}
