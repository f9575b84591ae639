import { sql } from 'kysely';
import type { Queryable } from '../../db/database.js';

/**
 * The SQL of alert attachments. Only `contentHead` and `contentChunk` read the bytes, a bounded slice per
 * statement: every other query leaves them in place.
 */

export interface AttachmentMeta {
  id: string;
  alert_id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  added_by: string;
  created_at: Date;
}

/** What a download link names. */
export interface AttachmentLink {
  orgId: string;
  alertId: string;
  attachmentId: string;
}

const META = ['id', 'alert_id', 'name', 'content_type', 'size', 'sha256', 'added_by', 'created_at'] as const;

/** The attachment a download link names: of its organization and alert, as the link says. */
const linked = (db: Queryable, link: AttachmentLink) =>
  db
    .selectFrom('alert_attachments')
    .where('org_id', '=', link.orgId)
    .where('alert_id', '=', link.alertId)
    .where('id', '=', link.attachmentId as never);

export const attachmentsRepository = {
  async insert(
    db: Queryable,
    row: {
      alertId: string;
      orgId: string;
      name: string;
      contentType: string;
      sha256: string;
      indexFile: string | null;
      content: Buffer;
      addedBy: string;
      addedByUserId: string | null;
      addedByIntegrationId: string | null;
    },
  ): Promise<AttachmentMeta> {
    return db
      .insertInto('alert_attachments')
      .values({
        alert_id: row.alertId,
        org_id: row.orgId,
        name: row.name,
        content_type: row.contentType,
        size: row.content.length,
        sha256: row.sha256,
        index_file: row.indexFile,
        content: row.content,
        added_by: row.addedBy,
        added_by_user_id: row.addedByUserId,
        added_by_integration_id: row.addedByIntegrationId,
      })
      .returning(META)
      .executeTakeFirstOrThrow();
  },

  async countOf(db: Queryable, alertId: string): Promise<number> {
    const row = await db
      .selectFrom('alert_attachments')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('alert_id', '=', alertId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** An alert's attachments, oldest first. */
  listOf(db: Queryable, alertId: string): Promise<AttachmentMeta[]> {
    return db
      .selectFrom('alert_attachments')
      .select(META)
      .where('alert_id', '=', alertId)
      .orderBy('id')
      .execute();
  },

  find(db: Queryable, alertId: string, id: string): Promise<AttachmentMeta | undefined> {
    return db
      .selectFrom('alert_attachments')
      .select(META)
      .where('alert_id', '=', alertId)
      .where('id', '=', id as never)
      .executeTakeFirst();
  },

  /** What a download link names, without its bytes (a HEAD request), when it still exists. */
  describe(db: Queryable, link: AttachmentLink) {
    return linked(db, link).select(['name', 'content_type', 'size']).executeTakeFirst();
  },

  /**
   * The attachment a download link names, with its first `length` bytes, when it still exists. Never the
   * whole file: node-postgres receives bytea as hex text, so a file read in one statement is a string of
   * twice its size built and decoded at once on the event loop (and past 256 MiB one longer than a
   * JavaScript string may be). The bytes are stored uncompressed out of line (migration 0020), so
   * PostgreSQL reads only the TOAST chunks a slice covers.
   */
  contentHead(db: Queryable, link: AttachmentLink, length: number) {
    return linked(db, link)
      .select([
        'name',
        'content_type',
        'size',
        sql<Buffer>`substring(content from 1 for ${length})`.as('chunk'),
      ])
      .executeTakeFirst();
  },

  /** `length` bytes of the attachment from `offset` (0 for the first byte), or undefined once it is deleted. */
  async contentChunk(
    db: Queryable,
    link: AttachmentLink,
    offset: number,
    length: number,
  ): Promise<Buffer | undefined> {
    const row = await linked(db, link)
      .select(sql<Buffer>`substring(content from ${offset + 1} for ${length})`.as('chunk'))
      .executeTakeFirst();
    return row?.chunk;
  },

  async delete(db: Queryable, alertId: string, id: string): Promise<AttachmentMeta | undefined> {
    return db
      .deleteFrom('alert_attachments')
      .where('alert_id', '=', alertId)
      .where('id', '=', id as never)
      .returning(META)
      .executeTakeFirst();
  },
};
