import { sql } from 'kysely';
import type { Db, Queryable } from '../../db/database.js';
import { phoneContactOf, type PhoneContact } from './phone-contact.js';

/**
 * The codes people answer an SMS with ("1a"): one per text that can be answered, unique per phone, and
 * as small as possible so that they are quick to type. A code whose alerts are all closed (or gone) is
 * spent, not freed: a reply to the old text must not act on another alert that got the same code, so it
 * is given again only SPENT_FOR_MS after it was first seen spent, and until then a reply with it is
 * answered "already closed". A code outlives its person too (user_id set null when they are deleted): it
 * is still the old text's, and is freed only as above.
 */

/** How long a spent code is kept from the phone's new texts: a day covers a late answer to an old text. */
export const SPENT_FOR_MS = 24 * 60 * 60_000;
/** Marks spent, at `at`, the codes (of one phone, or all) whose alerts are all closed or gone. */
async function markSpent(q: Queryable, at: Date, phone?: string): Promise<void> {
  await sql`
    UPDATE sms_reply_codes c SET spent_at = ${at}
    WHERE c.spent_at IS NULL ${phone === undefined ? sql`` : sql`AND c.phone = ${phone}`}
      AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = ANY(c.alert_ids) AND a.status = 'open')`.execute(q);
}

export const replyCodesRepository = {
  /**
   * The code for these alerts on this phone: the one they already have (a page sent again), or the
   * smallest free one, at `now` on the engine's clock (as purge). Runs in its own transaction,
   * serialized per phone.
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
      await markSpent(tx, now, input.phone);
      // Only codes spent a day ago are free again: the smallest code free at once would be the one of
      // the alert just closed, and "1c" sent late for it would close the new one.
      await sql`
        DELETE FROM sms_reply_codes
        WHERE phone = ${input.phone} AND spent_at <= ${new Date(now.getTime() - SPENT_FOR_MS)}`.execute(tx);
      const same = await sql<{ code: number }>`
        SELECT code FROM sms_reply_codes
        WHERE phone = ${input.phone} AND user_id = ${input.userId} AND spent_at IS NULL
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

  /**
   * Marks the codes whose alerts are all closed or gone spent, and drops those spent a day ago (a phone
   * that is not paged again keeps none), at `now` on the engine's clock.
   */
  async purge(db: Queryable, now: Date): Promise<number> {
    await markSpent(db, now);
    const result = await db
      .deleteFrom('sms_reply_codes')
      .where('spent_at', '<=', new Date(now.getTime() - SPENT_FOR_MS))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  /**
   * What a code on this phone stands for, if anything; `spent` when its alerts were all closed (or
   * deleted) since, and the code is not given to another alert yet; `contact`, whether the phone is still
   * an SMS contact of the code's person. `userId` is null once that person was deleted: the code stays
   * taken (it was the text's, and is freed as any other), but acts as nobody.
   */
  async find(
    db: Queryable,
    phone: string,
    code: number,
  ): Promise<
    | {
        orgId: string;
        userId: string | null;
        alertIds: string[];
        spent: boolean;
        contact: PhoneContact;
      }
    | undefined
  > {
    const row = await db
      .selectFrom('sms_reply_codes')
      .select(['org_id', 'user_id', 'alert_ids', 'spent_at'])
      .where('phone', '=', phone)
      .where('code', '=', code)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      orgId: row.org_id,
      userId: row.user_id,
      alertIds: row.alert_ids,
      spent: row.spent_at !== null,
      contact: row.user_id === null ? 'gone' : await phoneContactOf(db, row.user_id, 'sms', phone),
    };
  },
};
