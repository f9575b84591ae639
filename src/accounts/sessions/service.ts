import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.js';
import { principalOfUser } from '../user-principal.js';
import type { Db, Queryable } from '../../db/database.js';
import { lockNames } from '../../db/advisory-locks.js';
import type { OrgPlan, UserRole } from '../../db/schema.js';
import { conflict, forbidden, rateLimited, unauthenticated, type DomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import { QUEUES } from '../../work/queue-names.js';
import type { WorkSignal } from '../../work/runner.js';
import type { AccountsService, Principal } from '../service.js';
import { checkNewPassword, hashPassword, passwordMatches } from '../passwords.js';
import type { AccountMailer } from './account-email.js';
import { addressBucket } from './address-bucket.js';
import { sessionsRepository as repo, type SessionRow, type SignInCandidate } from './repository.js';
import { newSetupCode, newSecretToken, tokenHash } from './tokens.js';

/** What the console knows of whoever is signed in. */
export interface ConsoleSession {
  principal: Principal;
  user: { id: string; username: string; fullName: string; role: UserRole };
  organization: { id: string; name: string; plan: OrgPlan };
}

/** A new session: its secret token goes into the cookie, and nowhere else. */
export interface NewSession {
  token: string;
  session: ConsoleSession;
  maxAgeSeconds: number;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | undefined;
}

// Guessing is slowed per account and per address: 10 wrong passwords for one email, or 100 from one
// address, within 15 minutes, and sign-in waits until the oldest of them is 15 minutes old.
const FAILURE_WINDOW_MS = 15 * 60_000;
const MAX_FAILURES_PER_EMAIL = 10;
const MAX_FAILURES_PER_IP = 100;
const INVITATION_HOURS = 7 * 24;
const RESET_HOURS = 1;
// One reset email a minute per account, so the form cannot be used to flood someone's inbox.
const RESET_EVERY_MS = 60_000;
/** How long a worker holds asked-for resets while it sends them (SMTP may be slow). */
const RESET_LEASE_MS = 120_000;
// A session's last use is written at most this often, so reading pages is not a write per request.
const TOUCH_EVERY_MS = 5 * 60_000;

function consoleSessionOf(row: SessionRow): ConsoleSession {
  return {
    principal: principalOfUser({
      org_id: row.org_id,
      id: row.user_id,
      username: row.username,
      full_name: row.full_name,
      role: row.role,
      custom_role_id: row.custom_role_id,
    }),
    user: { id: row.user_id, username: row.username, fullName: row.full_name, role: row.role },
    organization: { id: row.org_id, name: row.org_name, plan: row.org_plan },
  };
}

/**
 * The first candidate whose password this is. Blocked users and users without a password are never
 * matched, but at least one password is always verified (against a decoy hash when no candidate's was):
 * an email that is unknown, has no password yet, or belongs to a blocked user takes as long to refuse as
 * a wrong password.
 */
export async function matchingCandidate(
  candidates: readonly SignInCandidate[],
  password: string,
  matches: (password: string, hash: string | undefined) => Promise<boolean> = passwordMatches,
): Promise<string | undefined> {
  let verified = false;
  for (const candidate of candidates) {
    if (candidate.blocked || candidate.hash === null) continue;
    verified = true;
    if (await matches(password, candidate.hash)) return candidate.user_id;
  }
  if (!verified) await matches(password, undefined);
  return undefined;
}

/** What authenticating a cookie found: the session, and a fresh cookie lifetime when it was extended. */
export interface AuthenticatedSession {
  session: ConsoleSession;
  /** Set when the session's end moved on: send the cookie again with this Max-Age. */
  renewedMaxAgeSeconds?: number;
}

export type SessionsService = ReturnType<typeof createSessionsService>;

export function createSessionsService(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  config: Pick<Config, 'publicUrl' | 'sessionIdleDays'>;
  accounts: AccountsService;
  mailer: AccountMailer;
  signal: WorkSignal;
  /** How new passwords are hashed (tests count the calls: each costs 19 MiB and tens of milliseconds). */
  hashPassword?: (password: string) => Promise<string>;
}) {
  const { db, clock, log, config, accounts, mailer, signal } = deps;
  const hashNewPassword = deps.hashPassword ?? hashPassword;
  const idleMs = config.sessionIdleDays * 86_400_000;

  /**
   * `passwordHash`: the hash a password sign-in matched, checked again under lock. A promotion to owner
   * that dropped the password (a link handed to an admin set it) or a new password committed while the
   * password was being checked would otherwise be followed by a session the dropped password opened.
   */
  async function startSession(
    userId: string,
    client: ClientInfo,
    passwordHash?: string,
  ): Promise<NewSession> {
    const written = await db.transaction().execute(async (tx) => {
      // Checked before the session is written, the user's row locked until it is: a block committed
      // meanwhile would not delete a session written after it, and unblocking would bring that back.
      const [standing] = await repo.lockStandingOf(tx, [userId]);
      if (!standing || standing.blocked) return undefined;
      if (passwordHash !== undefined && (await repo.lockPasswordHash(tx, userId)) !== passwordHash)
        return 'password changed' as const;
      return writeSession(tx, userId, client);
    });
    if (!written) throw accountBlocked();
    if (written === 'password changed')
      throw unauthenticated(
        'Your password was changed or removed while you signed in: sign in with the new one, or use "Forgot password?".',
      );
    return written;
  }

  /**
   * A new session of the user, written in `tx` (whose caller has locked the user's row); undefined when it
   * is not found once written (the user gone).
   */
  async function writeSession(
    tx: Queryable,
    userId: string,
    client: ClientInfo,
  ): Promise<NewSession | undefined> {
    const token = newSecretToken();
    const now = clock.now();
    await repo.insertSession(tx, {
      tokenHash: tokenHash(token),
      userId,
      now,
      expiresAt: new Date(now.getTime() + idleMs),
      userAgent: client.userAgent,
    });
    const row = await repo.sessionByToken(tx, tokenHash(token), now);
    return row && { token, session: consoleSessionOf(row), maxAgeSeconds: Math.floor(idleMs / 1000) };
  }

  /**
   * Counts this attempt as failed before its password is checked, under a lock on its email and its
   * address: requests sent side by side would otherwise all read the count before any had failed, and
   * each get a guess. A right password takes the attempt back (with the email's other failures).
   */
  async function emailPasswordReset(email: string): Promise<void> {
    const candidates = await repo.usersByEmail(db, email);
    for (const candidate of candidates) {
      if (candidate.blocked) continue;
      const last = await repo.latestTokenAt(db, candidate.user_id, 'password-reset');
      if (last && clock.now().getTime() - last.getTime() < RESET_EVERY_MS) continue;
      // Checked again under the user's lock: a block since the read above spent the links it saw, not this.
      const issued = await issueLink(candidate.user_id, 'password-reset', RESET_HOURS, {
        unlessBlocked: true,
      });
      if (!issued) continue;
      const { link } = issued;
      const org = await accounts.organizationOf(candidate.org_id);
      await mailer.send({
        to: candidate.username,
        kind: 'password-reset',
        organization: org?.name ?? 'Vigil',
        link,
        hoursValid: RESET_HOURS,
      });
    }
  }

  async function takeAttempt(email: string, ip: string): Promise<void> {
    // An IPv6 client counts by its /64 (address-bucket.ts), and so takes the lock of its /64.
    const address = addressBucket(ip);
    await db.transaction().execute(async (tx) => {
      await lockNames(tx, [`sign-in email ${email.toLowerCase()}`, `sign-in address ${address}`]);
      await refuseWhileGuessing(tx, email, address);
      await repo.recordFailure(tx, email, address, clock.now());
    });
  }

  /** `address` is the client's bucket (an IPv4 address, or an IPv6 /64), as failures are recorded. */
  async function refuseWhileGuessing(q: Queryable, email: string, address: string): Promise<void> {
    const now = clock.now().getTime();
    const failures = await repo.failuresSince(q, email, address, new Date(now - FAILURE_WINDOW_MS));
    const waitUntil = (oldest: Date | null) =>
      Math.max(1, Math.ceil(((oldest?.getTime() ?? now) + FAILURE_WINDOW_MS - now) / 1000));
    if (failures.byEmail >= MAX_FAILURES_PER_EMAIL) {
      const seconds = waitUntil(failures.oldestByEmail);
      throw rateLimited(
        `Too many wrong passwords for this email: try again in ${Math.ceil(seconds / 60)} minutes, or set a new password with "Forgot password?".`,
        seconds,
      );
    }
    if (failures.byIp >= MAX_FAILURES_PER_IP) {
      const seconds = waitUntil(failures.oldestByIp);
      throw rateLimited(
        `Too many failed sign-ins from your address: try again in ${Math.ceil(seconds / 60)} minutes.`,
        seconds,
      );
    }
  }

  function linkTo(token: string): string {
    return `${config.publicUrl}/set-password?token=${encodeURIComponent(token)}`;
  }

  /**
   * A new link for the user; `spendOthers` makes it the only one that works (a new invitation). Undefined
   * when the user is gone, or blocked and `unlessBlocked`. Written with the user's row locked (FOR SHARE),
   * as a block locks it before it spends their links: a block in flight is waited for and seen, or waits
   * and spends this link too, rather than leaving one that works once they are unblocked.
   */
  async function issueLink(
    userId: string,
    purpose: 'invitation' | 'password-reset',
    hours: number,
    options: { spendOthers?: boolean; unlessBlocked?: boolean } = {},
  ): Promise<{ link: string; hash: Buffer } | undefined> {
    const token = newSecretToken();
    const hash = tokenHash(token);
    const now = clock.now();
    const issued = await db.transaction().execute(async (tx) => {
      const [standing] = await repo.lockStandingOf(tx, [userId]);
      if (!standing || (options.unlessBlocked && standing.blocked)) return false;
      if (options.spendOthers) await repo.spendAccountTokensOfUser(tx, userId, now);
      await repo.insertAccountToken(tx, {
        tokenHash: hash,
        userId,
        purpose,
        now,
        expiresAt: new Date(now.getTime() + hours * 3_600_000),
      });
      return true;
    });
    return issued ? { link: linkTo(token), hash } : undefined;
  }

  /** Whether this is a set-up code some process logged, compared in constant time with every one kept. */
  async function isSetupCode(code: string | undefined): Promise<boolean> {
    if (!code) return false;
    const given = tokenHash(code);
    let found = false;
    for (const kept of await repo.setupCodeHashes(db)) {
      if (kept.length === given.length && timingSafeEqual(kept, given)) found = true;
    }
    return found;
  }

  /**
   * Records who a link that could not be emailed is handed to: the caller, and for an API key everyone who
   * holds it. Whoever has the link can set the person's password without signing in, so it is spent when
   * one of them is blocked, deleted or demoted (accounts/service.ts). Checked with their rows, the key's and
   * the invitee's locked: one let go since the request was authenticated, the key deleted meanwhile (as
   * blocking a holder deletes it) or an invitee made an owner meanwhile would leave a link in hands nothing
   * spends it for; it is spent now instead.
   */
  async function handOver(p: Principal, hash: Buffer, userId: string): Promise<void> {
    const isId = (id: string | null): id is string => id !== null;
    // Only whose rows to lock: who holds the key is read again below, with it locked.
    const lockFirst = [...new Set([...(await accounts.holdersOf(p)).filter(isId), userId])];
    const refusal = await db.transaction().execute(async (tx) => {
      const standing = new Map((await repo.lockStandingOf(tx, lockFirst)).map((u) => [u.id, u]));
      // The key after the people, as a block or demotion locks them before it deletes the keys they hold.
      const givenTo = await accounts.lockHoldersOf(tx, p);
      const token = await repo.lockAccountToken(tx, hash);
      const refuse = async (error: DomainError) => {
        await repo.spendAccountToken(tx, hash, clock.now());
        return error;
      };
      // The invitee's role now, not as read before the link existed: a promotion to owner since then spent
      // the links it saw, not this one.
      const invitee = standing.get(userId);
      if (!token || token.used_at !== null || !invitee) return refuse(linkSpent());
      if (!givenTo) return refuse(keyRevoked());
      // As invite's own checks: owners and admins may hold an invitation's link, only owners an owner's.
      const mayHold = (role: UserRole) => role === 'owner' || (role === 'admin' && invitee.role !== 'owner');
      // A holder not locked above is one deleted meanwhile.
      const letGo = (id: string) => {
        const holder = standing.get(id);
        return !holder || holder.blocked || !mayHold(holder.role);
      };
      if (givenTo.filter(isId).some(letGo)) return refuse(mayNotHold());
      await repo.giveAccountToken(tx, hash, givenTo);
      return undefined;
    });
    if (refusal) throw refusal;
  }

  const linkSpent = () =>
    conflict(
      'The invitation could not be emailed, and its link was replaced or spent meanwhile (another invitation, or the person made an owner): invite them again.',
    );
  const keyRevoked = () =>
    forbidden(
      'The invitation could not be emailed, and its link is not handed over: the API key used was revoked meanwhile. Ask an admin.',
    );
  const mayNotHold = () =>
    forbidden(
      'The invitation could not be emailed, and its link is not handed over: this key or account may no longer invite people. Ask an admin.',
    );

  const linkUnusable = () =>
    unauthenticated(
      'This link has expired or has been used already: ask for a new one with "Forgot password?", or ask an admin to invite you again.',
    );

  const accountBlocked = () => unauthenticated('The account cannot sign in: it is blocked. Ask an admin.');

  const alreadySetUp = () =>
    conflict('Vigil is already set up: sign in, or ask an admin of the organization to invite you.');

  return {
    async setupRequired(): Promise<boolean> {
      return accounts.organizationIsEmpty();
    },

    /**
     * A new code that the first visit must give, for a start on an empty database to log: Vigil may
     * listen where others reach it before its operator, and whoever set it up first would own it. Only
     * its hash is kept, with the shared secrets; each process that starts keeps its own, and any works
     * until the organization exists.
     */
    async issueSetupCode(): Promise<string> {
      const code = newSetupCode();
      await repo.insertSetupCodeHash(db, tokenHash(code));
      return code;
    },

    /**
     * The first visit to an empty database: the organization and its first admin, signed in. Anyone may
     * call it, so what refuses is checked before the password is hashed (the costly part).
     */
    async setUp(
      input: {
        organizationName: string;
        fullName: string;
        email: string;
        password: string;
        setupCode?: string;
      },
      client: ClientInfo,
    ): Promise<NewSession> {
      checkNewPassword(input.password);
      if (!(await accounts.organizationIsEmpty())) throw alreadySetUp();
      if (!(await isSetupCode(input.setupCode)))
        throw forbidden(
          'Setting up Vigil needs its set-up code: open the link in Vigil\'s start-up log (the line "There is no organization yet"), or copy the code at its end ("code=...") into Setup code.',
        );
      const passwordHash = await hashNewPassword(input.password);
      // Checked again under bootstrap's lock: two visits may both have got this far.
      const result = await accounts.bootstrap({
        orgName: input.organizationName,
        admin: { username: input.email, fullName: input.fullName, passwordHash, now: clock.now() },
      });
      if (!result.created || !result.userId) throw alreadySetUp();
      // Spent: nothing accepts them now the organization exists, and they need not be kept.
      await repo.deleteSetupCodeHashes(db);
      return startSession(result.userId, client);
    },

    async signIn(input: { email: string; password: string }, client: ClientInfo): Promise<NewSession> {
      await takeAttempt(input.email, client.ip);
      const candidates = await repo.usersByEmail(db, input.email);
      // The same work whether the email is unknown, has no password yet, is blocked, or the password is wrong.
      const match = await matchingCandidate(candidates, input.password);
      if (!match) {
        throw unauthenticated(
          'Wrong email or password. Try again, or use "Forgot password?" to set a new one.',
        );
      }
      await repo.clearFailures(db, input.email);
      log.info({ userId: match }, 'signed in to the console');
      // The hash it matched, checked again under lock as the session is written.
      return startSession(match, client, candidates.find((c) => c.user_id === match)?.hash ?? '');
    },

    /** Signs a user in whom another way has proved (single sign-on). */
    signInAs: (userId: string, client: ClientInfo) => startSession(userId, client),

    /**
     * The session a cookie's token stands for, or undefined when it has ended. When its end moves on (at
     * most every few minutes), the cookie's must too, or the browser would drop it while the session
     * lives: the answer then says the cookie's new lifetime.
     */
    /**
     * The session a cookie's token stands for. A use moves the session's end on (`renew`), except a check
     * that is no use of it: an open event stream asking whether its caller may still read it, whose
     * renewed cookie could never reach the browser.
     */
    async authenticate(
      token: string,
      options: { renew?: boolean } = {},
    ): Promise<AuthenticatedSession | undefined> {
      const now = clock.now();
      const row = await repo.sessionByToken(db, tokenHash(token), now);
      if (!row) return undefined;
      if (options.renew !== false && now.getTime() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) {
        await repo.touchSession(db, row.session_id, now, new Date(now.getTime() + idleMs));
        return { session: consoleSessionOf(row), renewedMaxAgeSeconds: Math.floor(idleMs / 1000) };
      }
      return { session: consoleSessionOf(row) };
    },

    async signOut(token: string): Promise<void> {
      await repo.deleteSession(db, tokenHash(token));
    },

    /**
     * Asks for a link to set a new password to be emailed to every account with this email. Only stores
     * the email, the same one statement whether or not an account has it, so neither the answer nor its
     * time tells who has an account: a worker looks the email up and sends ({@link sendAskedPasswordResets}).
     */
    async requestPasswordReset(email: string): Promise<void> {
      await repo.askPasswordReset(db, email, clock.now());
      signal.wake(QUEUES.passwordResets);
    },

    /**
     * Sends up to `batch` asked-for password resets, each to every account with its email (at most one
     * link a minute per account), and forgets them. How many it took: as many as asked, more may wait.
     */
    async sendAskedPasswordResets(now: Date, batch: number): Promise<number> {
      const claimedUntil = new Date(now.getTime() + RESET_LEASE_MS);
      const emails = await repo.claimPasswordResets(db, now, claimedUntil, batch);
      for (const email of emails) {
        // Still ours? A slow relay can outlast the batch's lease, and another worker take the rest over.
        const sendingUntil = new Date(clock.now().getTime() + RESET_LEASE_MS);
        if (!(await repo.keepPasswordReset(db, email, claimedUntil, sendingUntil))) continue;
        try {
          await emailPasswordReset(email);
        } catch (error) {
          // One email the database or the relay trips on must not hold back the others, nor come back
          // for ever: the person can ask again.
          log.error({ err: error }, 'an asked-for password reset could not be sent');
        }
        await repo.forgetPasswordReset(db, email);
      }
      return emails.length;
    },

    /** When an asked-for reset a worker holds becomes free again, if any is held. */
    nextPasswordResetLeaseEnd: () => repo.nextPasswordResetLeaseEnd(db),

    /**
     * Sets a password from an invitation or reset link, once, and signs in. Other sessions of the account
     * end: a reset is often because someone else may know the old password.
     */
    async setPassword(input: { token: string; password: string }, client: ClientInfo): Promise<NewSession> {
      checkNewPassword(input.password);
      const hashOfToken = tokenHash(input.token);
      // Anyone may call this: a link that cannot work is refused before the password is hashed (the
      // costly part). It is taken below, once, whatever happened to it meanwhile.
      const usable = await repo.usableAccountToken(db, hashOfToken, clock.now());
      if (!usable) throw linkUnusable();
      if (usable.blocked) throw accountBlocked();
      const passwordHash = await hashNewPassword(input.password);
      const now = clock.now();
      const written = await db.transaction().execute(async (tx) => {
        // The person's row locked before anything is written, as a block locks it: one blocked meanwhile is
        // refused with their link left as it is (blocking spends it), and a block waits for this to end.
        // A password set for a blocked person would work as soon as they were unblocked.
        const [standing] = await repo.lockStandingOf(tx, [usable.user_id]);
        if (!standing) return undefined;
        if (standing.blocked) return 'blocked' as const;
        const taken = await repo.takeAccountToken(tx, hashOfToken, now);
        if (!taken) return undefined;
        await repo.spendAccountTokensOfUser(tx, taken.user_id, now);
        // A link handed to others (an invitation that could not be emailed) may have been used by one of
        // them: the password remembers who, so that the keys made in its sessions count them among their
        // holders, and a promotion to owner or letting one of them go drops it (accounts/service.ts).
        await repo.setPasswordFromLink(tx, taken.user_id, passwordHash, now, taken.given_to);
        await repo.deleteSessionsOfUser(tx, taken.user_id);
        // Whoever locked the email out with wrong passwords must not keep its owner out after a reset.
        await repo.clearFailuresOfUser(tx, taken.user_id);
        // The session in the same transaction, the person's row still locked: a promotion or a holder let go
        // that committed in between would end the sessions and drop the password before this one existed.
        return writeSession(tx, taken.user_id, client);
      });
      if (written === 'blocked') throw accountBlocked();
      if (!written) throw linkUnusable();
      return written;
    },

    /**
     * An admin adds a person (or invites again one who has no password yet), who gets an email with a link
     * to choose a password. When the email cannot be sent, the admin gets the link to hand over. A new
     * person's role is `user` unless one is given; inviting again changes neither role nor name (the
     * answer's `unchanged` says so when another was asked for).
     */
    async invite(
      p: Principal,
      input: { email: string; fullName: string; role?: UserRole },
    ): Promise<{ userId: string; emailed: boolean; link?: string; unchanged?: string }> {
      if (p.role !== 'owner' && p.role !== 'admin')
        throw forbidden('Only organization admins can invite people. Ask an admin.');
      const existing = (await repo.usersByEmail(db, input.email)).find((c) => c.org_id === p.orgId);
      let userId: string;
      let unchanged: string | undefined;
      if (existing) {
        if (existing.hash !== null)
          throw conflict(
            `${input.email} can already sign in: they can set a new password with "Forgot password?".`,
          );
        // The link may come back to the admin to hand over: it would set an owner's password.
        if (existing.role === 'owner' && p.role !== 'owner')
          throw forbidden('Only an owner can invite an owner again.');
        // Inviting again only sends a link. Another role or name asked for is not refused (the console's
        // form always sends both, and an owner whose password was dropped is invited again from it), but
        // the answer says it was not taken, rather than let it pass for done. (A custom role is a user
        // role: `user` names it here, as the console's form can.)
        const stored = await accounts.getUser(p, existing.user_id);
        if ((input.role !== undefined && input.role !== stored.role) || input.fullName !== stored.full_name)
          unchanged = `${stored.username} was invited already, as "${stored.full_name}" with the role ${stored.role}: inviting again only sends a new link, so their name and role stay as they are. Change them in the console (People → the person) or with PATCH /v2/users/${stored.id}.`;
        userId = existing.user_id;
      } else {
        const role = input.role ?? 'user';
        userId = (await accounts.createUser(p, { username: input.email, fullName: input.fullName, role })).id;
      }
      // Earlier links may have gone to a mistyped address, or to someone since let go: only this one works.
      // A blocked person may be invited (the link works once they are unblocked), so a block is not a refusal.
      const issued = await issueLink(userId, 'invitation', INVITATION_HOURS, { spendOthers: true });
      if (!issued) throw conflict(`${input.email} was deleted meanwhile: invite them again.`);
      const { link, hash } = issued;
      const org = await accounts.organizationOf(p.orgId);
      const emailed = await mailer.send({
        to: input.email,
        kind: 'invitation',
        organization: org?.name ?? 'Vigil',
        link,
        hoursValid: INVITATION_HOURS,
      });
      const said = unchanged ? { unchanged } : {};
      if (emailed) return { userId, emailed, ...said };
      await handOver(p, hash, userId);
      return { userId, emailed, link, ...said };
    },

    async organizationOfPrincipal(p: Principal): Promise<ConsoleSession['organization']> {
      const org = await accounts.organizationOf(p.orgId);
      if (!org) throw unauthenticated('The organization of this key no longer exists.');
      return { id: org.id, name: org.name, plan: org.plan };
    },

    purge: (now: Date) => repo.purge(db, now),
  };
}
