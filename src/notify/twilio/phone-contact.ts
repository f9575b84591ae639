import type { Queryable } from '../../db/database.js';

/**
 * Whether a phone is still a contact of a person: an answer from it (a reply to a text, a key pressed on
 * a call) acts as that person only while it is `verified`, as only then is it paged. `unverified`: a
 * number given to the contact again, not yet proven to reach them; `gone`: the contact was deleted or
 * given another number. An opted-out number stays verified: it is still theirs.
 */
export type PhoneContact = 'verified' | 'unverified' | 'gone';

export async function phoneContactOf(
  q: Queryable,
  userId: string,
  method: 'sms' | 'voice',
  phone: string,
): Promise<PhoneContact> {
  const row = await q
    .selectFrom('contact_methods')
    .select('verified_at')
    .where('user_id', '=', userId)
    .where('method', '=', method)
    .where('address', '=', phone)
    // At most one: a person has a number once per method (contact_methods_user_address).
    .executeTakeFirst();
  return row === undefined ? 'gone' : row.verified_at === null ? 'unverified' : 'verified';
}
