import { sql, type Kysely } from 'kysely';

/**
 * The outbox: alert events written in the transaction of the change they describe. Inserting here is
 * a plain row insert; the relay (engine/relay.ts) moves them to graphile-worker in batches, so a busy
 * intake does not pay for a job-queue NOTIFY on every commit.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE outbox_jobs (
      id bigserial PRIMARY KEY,
      task text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE outbox_jobs`.execute(db);
}
