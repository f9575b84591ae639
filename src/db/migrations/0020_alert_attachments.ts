import { sql, type Kysely } from 'kysely';

/**
 * Alert attachments (Opsgenie's Add / List / Get / Delete Alert Attachment): the file's bytes in the row,
 * with its name, content type, size and SHA-256, who added it and when. An attachment goes with its alert
 * (deleted by the API or by anything else), so nothing is left behind. The id is a number, as Opsgenie's
 * (its SDKs read it as one). The bytes are stored uncompressed out of line: most files worth attaching
 * (images, archives, PDFs) are compressed already, and PostgreSQL would try again on every insert.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE alert_attachments (
      id bigserial PRIMARY KEY,
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
      content_type text NOT NULL,
      size integer NOT NULL CHECK (size >= 0),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      index_file text,
      content bytea NOT NULL,
      added_by text NOT NULL,
      added_by_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
      added_by_integration_id uuid REFERENCES integrations(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (octet_length(content) = size)
    );
    ALTER TABLE alert_attachments ALTER COLUMN content SET STORAGE EXTERNAL;
    CREATE INDEX alert_attachments_alert ON alert_attachments (alert_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE alert_attachments`.execute(db);
}
