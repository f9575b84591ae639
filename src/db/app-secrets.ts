import type { Db } from './database.js';

/**
 * A secret every Vigil process must share (the key that signs action links, the VAPID key of Web Push):
 * the first process to need it makes it, and all read the one stored, however many start at once.
 */
export async function sharedSecret(db: Db, name: string, make: () => Buffer): Promise<Buffer> {
  await db
    .insertInto('app_secrets')
    .values({ name, value: make() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('app_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.value;
}
