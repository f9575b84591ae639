import { sql } from 'kysely';
import type { Db, Queryable } from '../../db/database.js';

/**
 * The codes people answer an SMS with ("1a"): one per text that can be answered, unique per phone among
 * the alerts still open, and as small as possible so that they are quick to type. A code whose alerts
 * are all closed is free again.
 */
export const replyCodesRepository = {
  /**
   * The code for these alerts on this phone: the one they already have (a page sent again), or the
   * smallest free one. Runs in its own transaction, serialized per phone.
   */
  async assign(
    db: Db,
    input: { orgId: string; phone: string; userId: string; alertIds: string[] },
    now: Date,
  ): Promise<number> {
    const alertIds = [...new Set(input.alertIds)].sort();
    return db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${'vigil:sms-codes:' + input.phone}, 0))`.execute(
        tx,
      );
      // Free the codes whose alerts are all closed or gone.
      await sql`
        DELETE FROM sms_reply_codes c
        WHERE c.phone = ${input.phone}
          AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = ANY(c.alert_ids) AND a.status = 'open')`.execute(
        tx,
      );
      const same = await sql<{ code: number }>`
        SELECT code FROM sms_reply_codes
        WHERE phone = ${input.phone} AND user_id = ${input.userId}
          AND alert_ids = ${alertIds}::uuid[]`.execute(tx);
      const existing = same.rows[0]?.code;
      if (existing !== undefined) return existing;
      const free = await sql<{ code: number }>`
        SELECT min(n)::int AS code FROM generate_series(1, (SELECT count(*) + 1 FROM sms_reply_codes WHERE phone = ${input.phone})::int) AS n
        WHERE n NOT IN (SELECT code FROM sms_reply_codes WHERE phone = ${input.phone})`.execute(tx);
      const code = free.rows[0]?.code ?? 1;
      await tx
        .insertInto('sms_reply_codes')
        .values({
          org_id: input.orgId,
          phone: input.phone,
          code,
          user_id: input.userId,
          alert_ids: alertIds,
          created_at: now,
        })
        .execute();
      return code;
    });
  },

  /** Drops codes whose alerts are all closed or gone (a phone that is not paged again keeps none). */
  async purge(db: Queryable): Promise<number> {
    const result = await sql`
      DELETE FROM sms_reply_codes c
      WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = ANY(c.alert_ids) AND a.status = 'open')`.execute(
      db,
    );
    return Number(result.numAffectedRows ?? 0);
  },

  /** What a code on this phone stands for, if anything. */
  async find(
    db: Queryable,
    phone: string,
    code: number,
  ): Promise<{ orgId: string; userId: string; alertIds: string[] } | undefined> {
    const row = await db
      .selectFrom('sms_reply_codes')
      .select(['org_id', 'user_id', 'alert_ids'])
      .where('phone', '=', phone)
      .where('code', '=', code)
      .executeTakeFirst();
    return row ? { orgId: row.org_id, userId: row.user_id, alertIds: row.alert_ids } : undefined;
  },
};
