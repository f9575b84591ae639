import type { Queryable } from '../../db/database.js';

/**
 * Whether a phone is still a contact of a person: an answer from it (a reply to a text, a key pressed on
 * a call) acts as that person only while it is `verified` and enabled, as only then is it paged.
 * `unverified`: a number given to the contact again, not yet proven to reach them; `disabled`: the person
 * (or an admin) turned the contact off, so it must not act either; `gone`: the contact was deleted or
 * given another number. An opted-out number stays verified: it is still theirs.
 */
export type PhoneContact = 'verified' | 'unverified' | 'disabled' | 'gone';

export async function phoneContactOf(
  q: Queryable,
  userId: string,
  method: 'sms' | 'voice',
  phone: string,
): Promise<PhoneContact> {
  const row = await q
    .selectFrom('contact_methods')
    .select(['verified_at', 'enabled'])
    .where('user_id', '=', userId)
    .where('method', '=', method)
    .where('address', '=', phone)
    // At most one: a person has a number once per method (contact_methods_user_address).
    .executeTakeFirst();
  if (row === undefined) return 'gone';
  if (!row.enabled) return 'disabled';
  return row.verified_at === null ? 'unverified' : 'verified';
}
