import { sql } from 'kysely';
import type { Queryable } from '../../db/database.js';
import { accountsRepository } from '../repository.js';
import type { AccountTokenPurpose, OrgPlan, UserRole } from '../../db/schema.js';

/** The SQL of console sign-in: passwords, sessions, failed attempts and link tokens. Rules: service.ts. */

export interface SignInCandidate {
  user_id: string;
  /** The email as the account has it (the look-up ignores case; mail goes to this). */
  username: string;
  org_id: string;
  role: UserRole;
  blocked: boolean;
  hash: string | null;
}

export interface SessionRow {
  session_id: string;
  last_seen_at: Date;
  user_id: string;
  org_id: string;
  username: string;
  full_name: string;
  role: UserRole;
  custom_role_id: string | null;
  org_name: string;
  org_plan: OrgPlan;
}

// The set-up codes' hashes live among the shared secrets, one row per code (several processes may each
// have made one), under names no other secret starts with.
const SETUP_CODE_PREFIX = 'setup code ';

export const sessionsRepository = {
  async setPassword(q: Queryable, userId: string, hash: string, now: Date): Promise<void> {
    await q
      .insertInto('user_passwords')
      .values({ user_id: userId, hash, updated_at: now })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: now }))
      .execute();
  },

  /**
   * Sets the password chosen through a link, with who was handed that link (`given_to`, migration 0077):
   * null for an emailed one. A password set otherwise (setPassword) keeps no holders.
   */
  async setPasswordFromLink(
    q: Queryable,
    userId: string,
    hash: string,
    now: Date,
    givenTo: (string | null)[] | null,
  ): Promise<void> {
    await q
      .insertInto('user_passwords')
      .values({ user_id: userId, hash, updated_at: now, given_to: givenTo })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ hash, updated_at: now, given_to: givenTo }))
      .execute();
  },

  /**
   * Who was handed the link the user's password was set through; undefined when it was not set through a
   * handed link (or there is none). `lock` 'share' holds the row until the transaction ends: a new
   * password, or one dropped, waits for it.
   */
  async passwordGivenTo(
    q: Queryable,
    userId: string,
    lock?: 'share',
  ): Promise<(string | null)[] | undefined> {
    const query = q.selectFrom('user_passwords').select('given_to').where('user_id', '=', userId);
    const row = await (lock === 'share' ? query.forShare() : query).executeTakeFirst();
    return row?.given_to ?? undefined;
  },

  /**
   * Drops the user's password when it was set through a link handed to someone else than `owners` (an
   * owner may hold an owner's link), who may know it; whether it did. The person sets a new one with
   * "Forgot password?".
   */
  async dropHandedPassword(q: Queryable, userId: string, owners: string[] = []): Promise<boolean> {
    const dropped = await q
      .deleteFrom('user_passwords')
      .where('user_id', '=', userId)
      .where('given_to', 'is not', null)
      // A NULL element, someone not known, is in no array.
      .where(sql<boolean>`NOT coalesce(given_to <@ ${owners}::uuid[], false)`)
      .returning('user_id')
      .executeTakeFirst();
    return dropped !== undefined;
  },

  /**
   * Drops the passwords set through links handed to this person, and ends the sessions of their users
   * (who may be that person); `ofOwners` only owners' passwords. The users whose password went.
   */
  async dropPasswordsGivenTo(
    q: Queryable,
    holderId: string,
    options: { ofOwners?: boolean } = {},
  ): Promise<string[]> {
    const { rows } = await sql<{ user_id: string }>`
      DELETE FROM user_passwords
      WHERE ${holderId}::uuid = ANY (given_to)
        AND (NOT ${options.ofOwners === true}
          OR user_id IN (SELECT id FROM users WHERE role = 'owner'))
      RETURNING user_id`.execute(q);
    const users = rows.map((r) => r.user_id);
    if (users.length > 0) await q.deleteFrom('console_sessions').where('user_id', 'in', users).execute();
    return users;
  },

  /**
   * Uses a link's token once: the user it was for and who the link was handed to (null for an emailed
   * link), or undefined when it is unknown, used or expired.
   */
  async takeAccountToken(q: Queryable, tokenHash: Buffer, now: Date) {
    return q
      .updateTable('account_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['user_id', 'purpose', 'given_to'])
      .executeTakeFirst();
  },

  /** The user's password hash, the row share-locked until the transaction ends; undefined for none. */
  async lockPasswordHash(q: Queryable, userId: string): Promise<string | undefined> {
    const row = await q
      .selectFrom('user_passwords')
      .select('hash')
      .where('user_id', '=', userId)
      .forShare()
      .executeTakeFirst();
    return row?.hash;
  },

  async hasPassword(q: Queryable, userId: string): Promise<boolean> {
    const row = await q
      .selectFrom('user_passwords')
      .select('user_id')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Every user with this email (usernames are unique per organization, not across them). */
  async usersByEmail(q: Queryable, email: string): Promise<SignInCandidate[]> {
    return q
      .selectFrom('users as u')
      .leftJoin('user_passwords as p', 'p.user_id', 'u.id')
      .select(['u.id as user_id', 'u.username', 'u.org_id', 'u.role', 'u.blocked', 'p.hash'])
      .where(sql`lower(u.username)`, '=', email.toLowerCase())
      .orderBy('u.created_at')
      .limit(20)
      .execute();
  },

  async insertSession(
    q: Queryable,
    row: { tokenHash: Buffer; userId: string; now: Date; expiresAt: Date; userAgent: string | undefined },
  ): Promise<void> {
    await q
      .insertInto('console_sessions')
      .values({
        token_hash: row.tokenHash,
        user_id: row.userId,
        created_at: row.now,
        last_seen_at: row.now,
        expires_at: row.expiresAt,
        user_agent: row.userAgent?.slice(0, 300) ?? null,
      })
      .execute();
  },

  /** The live session with this token, with its user and organization; blocked users have none. */
  async sessionByToken(q: Queryable, tokenHash: Buffer, now: Date): Promise<SessionRow | undefined> {
    return q
      .selectFrom('console_sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .innerJoin('organizations as o', 'o.id', 'u.org_id')
      .select([
        's.id as session_id',
        's.last_seen_at',
        'u.id as user_id',
        'u.org_id',
        'u.username',
        'u.full_name',
        'u.role',
        'u.custom_role_id',
        'o.name as org_name',
        'o.plan as org_plan',
      ])
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', now)
      .where('u.blocked', '=', false)
      .executeTakeFirst();
  },

  async touchSession(q: Queryable, sessionId: string, now: Date, expiresAt: Date): Promise<void> {
    await q
      .updateTable('console_sessions')
      .set({ last_seen_at: now, expires_at: expiresAt })
      .where('id', '=', sessionId)
      .execute();
  },

  async deleteSession(q: Queryable, tokenHash: Buffer): Promise<void> {
    await q.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).execute();
  },

  async deleteSessionsOfUser(q: Queryable, userId: string): Promise<void> {
    await q.deleteFrom('console_sessions').where('user_id', '=', userId).execute();
  },

  /**
   * A failed sign-in, counted against the email and `address`: the client's bucket, an IPv4 address or an
   * IPv6 /64 such as "2001:db8:1:2::/64" (address-bucket.ts). Rows written before addresses were bucketed
   * hold the full address: IPv4 ones still match; IPv6 ones (IPv4-mapped too) no longer count against
   * the address, only their email, and leave the 15-minute window, then the table (purge, after a day).
   */
  async recordFailure(q: Queryable, email: string, address: string, now: Date): Promise<void> {
    await q
      .insertInto('sign_in_failures')
      .values({ email: email.toLowerCase().slice(0, 320), ip: address, failed_at: now })
      .execute();
  },

  /** Failed attempts since `since`, for this email and from this address bucket, and the oldest of each. */
  async failuresSince(q: Queryable, email: string, address: string, since: Date) {
    const row = await q
      .selectFrom('sign_in_failures')
      .select([
        sql<number>`count(*) FILTER (WHERE email = ${email.toLowerCase()})::int`.as('by_email'),
        sql<Date | null>`min(failed_at) FILTER (WHERE email = ${email.toLowerCase()})`.as('oldest_email'),
        sql<number>`count(*) FILTER (WHERE ip = ${address})::int`.as('by_ip'),
        sql<Date | null>`min(failed_at) FILTER (WHERE ip = ${address})`.as('oldest_ip'),
      ])
      .where('failed_at', '>', since)
      .where((eb) => eb.or([eb('email', '=', email.toLowerCase()), eb('ip', '=', address)]))
      .executeTakeFirstOrThrow();
    return {
      byEmail: row.by_email,
      oldestByEmail: row.oldest_email,
      byIp: row.by_ip,
      oldestByIp: row.oldest_ip,
    };
  },

  async clearFailures(q: Queryable, email: string): Promise<void> {
    await q.deleteFrom('sign_in_failures').where('email', '=', email.toLowerCase()).execute();
  },

  /** Forgets the failed sign-ins of the user's login email (when the user has set a new password). */
  async clearFailuresOfUser(q: Queryable, userId: string): Promise<void> {
    await q
      .deleteFrom('sign_in_failures')
      .where(
        'email',
        '=',
        q
          .selectFrom('users')
          .select(sql<string>`lower(username)`.as('email'))
          .where('id', '=', userId),
      )
      .execute();
  },

  async insertAccountToken(
    q: Queryable,
    row: { tokenHash: Buffer; userId: string; purpose: AccountTokenPurpose; now: Date; expiresAt: Date },
  ): Promise<void> {
    await q
      .insertInto('account_tokens')
      .values({
        token_hash: row.tokenHash,
        user_id: row.userId,
        purpose: row.purpose,
        created_at: row.now,
        expires_at: row.expiresAt,
      })
      .execute();
  },

  async latestTokenAt(q: Queryable, userId: string, purpose: AccountTokenPurpose): Promise<Date | undefined> {
    const row = await q
      .selectFrom('account_tokens')
      .select((eb) => eb.fn.max('created_at').as('at'))
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    return row?.at ?? undefined;
  },

  /** Stores a password reset someone asked for; one already waiting for the email absorbs it. */
  async askPasswordReset(q: Queryable, email: string, now: Date): Promise<void> {
    await q
      .insertInto('password_reset_requests')
      .values({ email: email.toLowerCase(), requested_at: now })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute();
  },

  /**
   * Leases up to `limit` asked-for resets no other worker holds (SKIP LOCKED), oldest first, until
   * `leaseUntil`: a worker that dies while sending leaves them to the next one once the lease ends.
   */
  async claimPasswordResets(q: Queryable, now: Date, leaseUntil: Date, limit: number): Promise<string[]> {
    const rows = await q
      .updateTable('password_reset_requests')
      .set({ leased_until: leaseUntil })
      .where(
        'email',
        'in',
        q
          .selectFrom('password_reset_requests')
          .select('email')
          .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
          .orderBy('requested_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .returning('email')
      .execute();
    return rows.map((r) => r.email);
  },

  /**
   * Renews the lease of one asked-for reset, only while this claim (`leasedUntil`) still holds it: a
   * worker that took long over a batch must not send what another worker has taken over since.
   */
  async keepPasswordReset(
    q: Queryable,
    email: string,
    leasedUntil: Date,
    leaseUntil: Date,
  ): Promise<boolean> {
    const row = await q
      .updateTable('password_reset_requests')
      .set({ leased_until: leaseUntil })
      .where('email', '=', email)
      .where('leased_until', '=', leasedUntil)
      .returning('email')
      .executeTakeFirst();
    return row !== undefined;
  },

  async forgetPasswordReset(q: Queryable, email: string): Promise<void> {
    await q.deleteFrom('password_reset_requests').where('email', '=', email).execute();
  },

  /** When the earliest lease of an asked-for reset runs out (a worker may have died holding it). */
  async nextPasswordResetLeaseEnd(q: Queryable): Promise<Date | undefined> {
    const row = await q
      .selectFrom('password_reset_requests')
      .select((eb) => eb.fn.min('leased_until').as('at'))
      .executeTakeFirst();
    return row?.at ?? undefined;
  },

  /**
   * The person of a link's token that would still work (unknown, used and expired ones would not), and
   * whether they are blocked; changes nothing.
   */
  async usableAccountToken(
    q: Queryable,
    tokenHash: Buffer,
    now: Date,
  ): Promise<{ user_id: string; blocked: boolean } | undefined> {
    return q
      .selectFrom('account_tokens as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select(['t.user_id', 'u.blocked'])
      .where('t.token_hash', '=', tokenHash)
      .where('t.used_at', 'is', null)
      .where('t.expires_at', '>', now)
      .executeTakeFirst();
  },

  /** Keeps the hash of a set-up code a process made (each keeps its own, named after it). */
  async insertSetupCodeHash(q: Queryable, hash: Buffer): Promise<void> {
    await q
      .insertInto('app_secrets')
      .values({ name: `${SETUP_CODE_PREFIX}${hash.toString('hex')}`, value: hash })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  },

  async setupCodeHashes(q: Queryable): Promise<Buffer[]> {
    const rows = await q
      .selectFrom('app_secrets')
      .select('value')
      .where('name', 'like', `${SETUP_CODE_PREFIX}%`)
      .execute();
    return rows.map((r) => r.value);
  },

  async deleteSetupCodeHashes(q: Queryable): Promise<void> {
    await q.deleteFrom('app_secrets').where('name', 'like', `${SETUP_CODE_PREFIX}%`).execute();
  },

  /** Spends every unused link of the user: once a password is set, no other link may set another. */
  async spendAccountTokensOfUser(q: Queryable, userId: string, now: Date): Promise<void> {
    await q
      .updateTable('account_tokens')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .execute();
  },

  /**
   * Spends the unused links handed to this person (`given_to`, migration 0061); `ofOwners` only those
   * that would set an owner's password.
   */
  async spendAccountTokensGivenTo(
    q: Queryable,
    userId: string,
    now: Date,
    options: { ofOwners?: boolean } = {},
  ): Promise<void> {
    await sql`
      UPDATE account_tokens SET used_at = ${now}
      WHERE ${userId}::uuid = ANY (given_to) AND used_at IS NULL
        AND (NOT ${options.ofOwners === true}
          OR user_id IN (SELECT id FROM users WHERE role = 'owner'))`.execute(q);
  },

  /** Records who a link was handed to (could not be emailed): see spendAccountTokensGivenTo. */
  async giveAccountToken(q: Queryable, tokenHash: Buffer, givenTo: (string | null)[]): Promise<void> {
    await sql`UPDATE account_tokens SET given_to = ${givenTo}::uuid[] WHERE token_hash = ${tokenHash}`.execute(
      q,
    );
  },

  /** Spends one link (never handed over after all). */
  async spendAccountToken(q: Queryable, tokenHash: Buffer, now: Date): Promise<void> {
    await q
      .updateTable('account_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .execute();
  },

  /**
   * The role and blocked state of these users, their rows locked (FOR SHARE) until the transaction ends:
   * a block, demotion or delete waits for it, or it for them (in the order they lock users).
   */
  lockStandingOf: (q: Queryable, userIds: string[]) =>
    accountsRepository.lockUsersOwnersFirst(q, userIds, 'share'),

  /** A link's person and whether it was used, its row locked (FOR UPDATE) until the transaction ends. */
  async lockAccountToken(q: Queryable, tokenHash: Buffer) {
    return q
      .selectFrom('account_tokens')
      .select(['user_id', 'used_at'])
      .where('token_hash', '=', tokenHash)
      .forUpdate()
      .executeTakeFirst();
  },

  /** Removes ended sessions, old failures and spent or expired link tokens; how many rows went. */
  async purge(q: Queryable, now: Date): Promise<number> {
    const dayAgo = new Date(now.getTime() - 86_400_000);
    const sessions = await q.deleteFrom('console_sessions').where('expires_at', '<', now).executeTakeFirst();
    const failures = await q
      .deleteFrom('sign_in_failures')
      .where('failed_at', '<', dayAgo)
      .executeTakeFirst();
    const tokens = await q
      .deleteFrom('account_tokens')
      .where((eb) => eb.or([eb('expires_at', '<', dayAgo), eb('used_at', '<', dayAgo)]))
      .executeTakeFirst();
    return [sessions, failures, tokens].reduce((n, r) => n + Number(r.numDeletedRows), 0);
  },
};
