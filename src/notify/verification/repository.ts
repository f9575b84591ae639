import type { Queryable } from '../../db/database.js';

/** The SQL of `contact_verifications`: the code last sent to each contact method, hashed. */
export const verificationsRepository = {
  async find(db: Queryable, contactMethodId: string) {
    return db
      .selectFrom('contact_verifications')
      .selectAll()
      .where('contact_method_id', '=', contactMethodId)
      .executeTakeFirst();
  },

  async save(
    db: Queryable,
    row: { contactMethodId: string; address: string; codeHash: Buffer; sentAt: Date; expiresAt: Date },
  ): Promise<void> {
    await db
      .insertInto('contact_verifications')
      .values({
        contact_method_id: row.contactMethodId,
        code_hash: row.codeHash,
        address: row.address,
        sent_at: row.sentAt,
        expires_at: row.expiresAt,
        attempts: 0,
      })
      .onConflict((oc) =>
        oc.column('contact_method_id').doUpdateSet({
          code_hash: row.codeHash,
          address: row.address,
          sent_at: row.sentAt,
          expires_at: row.expiresAt,
          attempts: 0,
        }),
      )
      .execute();
  },

  /** Counts a wrong try; returns the tries so far. */
  async countAttempt(db: Queryable, contactMethodId: string): Promise<number> {
    const row = await db
      .updateTable('contact_verifications')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('contact_method_id', '=', contactMethodId)
      .returning('attempts')
      .executeTakeFirst();
    return row?.attempts ?? 0;
  },

  async remove(db: Queryable, contactMethodId: string): Promise<void> {
    await db.deleteFrom('contact_verifications').where('contact_method_id', '=', contactMethodId).execute();
  },

  async purge(db: Queryable, now: Date): Promise<number> {
    const result = await db
      .deleteFrom('contact_verifications')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
