import type { Queryable, Tx } from '../../db/database.js';
import { lockNames } from '../../db/advisory-locks.js';

/** The cap on a person's codes and tests counts those of the last hour: older sends are of no use. */
export const SENDS_WINDOW_MS = 60 * 60_000;

/** A code or test sent: to whom (the person whose contact it was), by which method, to which address. */
export interface VerificationSend {
  orgId: string;
  userId: string;
  method: string;
  address: string;
  kind: 'code' | 'test';
}

/**
 * The methods whose sends of this kind to one address share its one-a-minute limit. Codes: an SMS and a
 * voice contact on one number ring the same phone, and the limit is per number, not per method. Tests stay
 * per contact method: each checks its own channel (a text, a call), and the refusal says "this contact".
 */
export function sameAddressMethods(method: string, kind: VerificationSend['kind']): string[] {
  return kind === 'code' && (method === 'sms' || method === 'voice') ? ['sms', 'voice'] : [method];
}

/** The name the per-address lock and limit go by: codes to sms and voice share theirs (see sameAddressMethods). */
function addressClass(send: VerificationSend): string {
  return `${send.kind} ${sameAddressMethods(send.method, send.kind).join('+')}`;
}

/**
 * The SQL of `contact_verifications` (the code last sent to each contact method, hashed) and of
 * `verification_sends` (every code and test sent, for their limits).
 */
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

  /**
   * Counts a try at the code before it is compared, in the statement that checks the limit: parallel
   * tries each take one of the `maxTries`, and none is compared once they are spent. Returns the code to
   * compare, with the address it was sent to and the tries so far (this one included), or undefined when
   * no try is left (or no code is waiting).
   */
  async takeAttempt(
    db: Queryable,
    contactMethodId: string,
    maxTries: number,
  ): Promise<{ codeHash: Buffer; address: string | null; attempts: number } | undefined> {
    const row = await db
      .updateTable('contact_verifications')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('contact_method_id', '=', contactMethodId)
      .where('attempts', '<', maxTries)
      .returning(['code_hash', 'address', 'attempts'])
      .executeTakeFirst();
    return row && { codeHash: row.code_hash, address: row.address, attempts: row.attempts };
  },

  async remove(db: Queryable, contactMethodId: string): Promise<void> {
    await db.deleteFrom('contact_verifications').where('contact_method_id', '=', contactMethodId).execute();
  },

  /**
   * Holds, until the transaction ends, the locks under which the sends to this person and to this address
   * are counted and recorded: two requests at the same moment would otherwise both read "none yet".
   */
  async lockSends(tx: Tx, send: VerificationSend): Promise<void> {
    await lockNames(tx, [
      `verification-sends user ${send.userId}`,
      `verification-sends address ${send.orgId} ${addressClass(send)} ${send.address}`,
    ]);
  },

  /**
   * When the last code (or test) went to this address in the organization, if after `since`: a code by any
   * method that reaches the same phone (a code texted and one called to a number are two rings), a test
   * by this method only.
   */
  async lastSendTo(db: Queryable, send: VerificationSend, since: Date): Promise<Date | undefined> {
    const row = await db
      .selectFrom('verification_sends')
      .select((eb) => eb.fn.max('sent_at').as('at'))
      .where('org_id', '=', send.orgId)
      .where('method', 'in', sameAddressMethods(send.method, send.kind))
      .where('address', '=', send.address)
      .where('kind', '=', send.kind)
      .where('sent_at', '>', since)
      .executeTakeFirst();
    return row?.at ?? undefined;
  },

  /** The times of the person's codes and tests since `since`, latest first, at most `limit`. */
  async sendsToUserSince(db: Queryable, userId: string, since: Date, limit: number): Promise<Date[]> {
    const rows = await db
      .selectFrom('verification_sends')
      .select('sent_at')
      .where('user_id', '=', userId)
      .where('sent_at', '>', since)
      .orderBy('sent_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.sent_at);
  },

  async recordSend(db: Queryable, send: VerificationSend, at: Date): Promise<string> {
    const row = await db
      .insertInto('verification_sends')
      .values({
        org_id: send.orgId,
        user_id: send.userId,
        method: send.method,
        address: send.address,
        kind: send.kind,
        sent_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  },

  /** Takes back a send the provider did not make: it rang nobody, so it counts against no wait. */
  async unrecordSend(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('verification_sends').where('id', '=', id).execute();
  },

  /** Expired codes, and sends older than the longest window they count in. */
  async purge(db: Queryable, now: Date): Promise<number> {
    const codes = await db
      .deleteFrom('contact_verifications')
      .where('expires_at', '<', now)
      .executeTakeFirst();
    const sends = await db
      .deleteFrom('verification_sends')
      .where('sent_at', '<', new Date(now.getTime() - SENDS_WINDOW_MS))
      .executeTakeFirst();
    return Number(codes.numDeletedRows) + Number(sends.numDeletedRows);
  },
};
