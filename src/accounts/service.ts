import { systemClock, type Clock } from '../work/clock.js';
import { sql } from 'kysely';
import { type Db, type Queryable, isUniqueViolation, isUuid } from '../db/database.js';
import type { OrgPlan, TeamRow, UserAddress, UserRole, UserRow } from '../db/schema.js';
import { conflict, forbidden, invalid, invalidField, notFound, unauthenticated } from '../errors.js';
import type { Logger } from '../logger.js';
import { apiKeyMatches, generateApiKey, hashApiKey } from './apikeys.js';
import { accountsRepository as repo } from './repository.js';
import { sessionsRepository } from './sessions/repository.js';
import { alertsRepository } from '../alerts/repository.js';
import { createDefaultNotificationSetup } from '../oncall/people/defaults.js';
import { peopleRepository } from '../oncall/people/repository.js';
import { escalationsRepository } from '../oncall/escalations/repository.js';
import { slackRepository } from '../notify/slack/repository.js';
import { memberChanges, recordTeamChanges } from './team-log/log.js';
import {
  isOrgAdmin,
  requireHoldsRolesRights,
  requireTeamRight,
  TEAM_RIGHTS,
  teamRightsOf,
  type TeamRight,
} from './team-rights.js';
import { customRoleOf, requireUserRight, roleHolds, userRightRefusal } from './custom-roles/rights.js';
import { memberRolesOf, resolveMemberRole, type MemberRole } from './team-roles/member-role.js';
import { reachesTeamConfiguration, requireReachesTeamConfiguration } from '../integrations/principal.js';

/** Who is calling: the organization, and the user the API key belongs to (if any). */
export interface Principal {
  orgId: string;
  apiKeyId: string;
  userId: string | undefined;
  username: string | undefined;
  fullName: string | undefined;
  role: UserRole | undefined;
  /**
   * The custom user role the user held when the principal was read (custom-roles/rights.ts): null for
   * none, so that checking a right asks the database nothing; left out where it was not read.
   */
  customRoleId?: string | null;
  /** Set when the key is an API integration's: alerts it creates carry the integration and go to its team. */
  integration?: IntegrationPrincipal;
}

/** What an API integration's key may do: Opsgenie's access flags (integrations/types.ts). */
export interface IntegrationAccess {
  allowReadAccess: boolean;
  allowWriteAccess: boolean;
  allowDeleteAccess: boolean;
  allowConfigurationAccess: boolean;
}

export interface IntegrationPrincipal {
  id: string;
  name: string;
  type: string;
  /** The one team whose alerts the key sees and acts on: the assignee team, else the owner team. */
  teamId: string;
  /** With configuration access, the key has the rights of an admin of this team (and of no other). */
  ownerTeamId: string;
  access: IntegrationAccess;
  /** The integration's actions as stored (integrations/actions/); null when never set. */
  actions?: Record<string, unknown> | null;
}

export { isOrgAdmin };

export function requireOrgAdmin(p: Principal, what: string): void {
  if (!isOrgAdmin(p)) {
    throw forbidden(`Only organization admins can ${what}. Ask an admin, or use an admin's API key.`);
  }
}

/**
 * A user with the admin role in the team; or the key of an API integration with configuration access,
 * for its owner team (Opsgenie gives such keys the rights of that team's admins).
 */
export async function isTeamAdmin(q: Queryable, p: Principal, teamId: string): Promise<boolean> {
  if (p.integration)
    return p.integration.access.allowConfigurationAccess && p.integration.ownerTeamId === teamId;
  return p.userId !== undefined && (await repo.memberRole(q, teamId, p.userId)) === 'admin';
}

/** Whether `p` is an admin of some team the user belongs to. */
export async function administersTeamOf(q: Queryable, p: Principal, userId: string): Promise<boolean> {
  if (p.integration) {
    const { ownerTeamId } = p.integration;
    return (
      (await isTeamAdmin(q, p, ownerTeamId)) && (await repo.memberRole(q, ownerTeamId, userId)) !== undefined
    );
  }
  if (!p.userId) return false;
  const [mine, theirs] = await Promise.all([repo.teamsOfUser(q, p.userId), repo.teamsOfUser(q, userId)]);
  const administered = new Set(mine.filter((t) => t.role === 'admin').map((t) => t.id));
  return theirs.some((t) => administered.has(t.id));
}

export interface UserRef {
  id?: string;
  username?: string;
}

export interface TeamRef {
  id?: string;
  name?: string;
}

/** A member as a request gives one: the user, and their role's name ('user' when none is given). */
export interface MemberInput {
  user: UserRef;
  role?: string;
}

/** The user a request names as {id} or {username}; a 422 naming `field` when there is none. */
export async function resolveUserRef(
  q: Queryable,
  orgId: string,
  ref: UserRef,
  field: string,
  howToName = 'Give the user as {"id": ...} or {"username": ...}.',
  lock?: 'key share',
): Promise<UserRow> {
  const identifier = ref.id ?? ref.username;
  if (!identifier) throw invalidField(field, howToName);
  const user = await repo.findUser(q, orgId, identifier, lock);
  if (!user) throw invalidField(field, `No user ${JSON.stringify(identifier)} in this organization.`);
  return user;
}

/**
 * A 409 when an escalation rule notifies the user or team about to be deleted: the rule would page
 * nobody, so the policies to change are named first (as Opsgenie refuses).
 */
async function refuseIfNotified(
  q: Queryable,
  orgId: string,
  recipient: { type: 'user' | 'team'; id: string },
  named: string,
): Promise<void> {
  const policies = await escalationsRepository.usingRecipient(q, orgId, recipient);
  if (policies.length === 0) return;
  throw conflict(
    `${named} is a recipient of ${policies.map((e) => `escalation [${e.name}]`).join(', ')}: change those first, then delete the ${recipient.type}.`,
  );
}

/**
 * A 409 when the team owns heartbeats: deleting it would leave them without an owner team (ON DELETE SET
 * NULL), and an expired heartbeat without one raises its alert with no responders, so nobody is paged.
 * Under the team's UPDATE lock, as deleteTeam calls it: a heartbeat being given to the team meanwhile is
 * waited for (and seen), and none can be given to it after.
 */
async function refuseIfOwnsHeartbeats(q: Queryable, team: Pick<TeamRow, 'id' | 'name'>): Promise<void> {
  const shown = 3;
  const { names, count } = await repo.heartbeatsOwnedBy(q, team.id, shown);
  if (count === 0) return;
  const listed = names.map((n) => `[${n}]`);
  const some =
    count > names.length
      ? `${listed.join(', ')} and ${count - names.length} more`
      : listed.length > 1
        ? `${listed.slice(0, -1).join(', ')} and ${listed.at(-1)}`
        : listed[0];
  throw conflict(
    `Team [${team.name}] owns ${count} heartbeat${count === 1 ? '' : 's'} (${some}), which would page nobody when ${count === 1 ? 'it expires' : 'they expire'}: move ${count === 1 ? 'it' : 'them'} to another team (PATCH /v2/heartbeats/{name} with an ownerTeam) or delete ${count === 1 ? 'it' : 'them'} first.`,
  );
}

/** The team a request names as {id} or {name}; a 422 naming `field` when there is none. */
export async function resolveTeamRef(
  q: Queryable,
  orgId: string,
  ref: TeamRef,
  field: string,
  lock?: 'key share',
): Promise<TeamRow> {
  const identifier = ref.id ?? ref.name;
  if (!identifier) throw invalidField(field, 'Give the team as {"id": ...} or {"name": ...}.');
  const team = await repo.findTeam(q, orgId, identifier, ref.id !== undefined ? 'id' : 'name', lock);
  if (!team) throw invalidField(field, `No team ${JSON.stringify(identifier)} in this organization.`);
  return team;
}

/**
 * The team a path names by id or name, for a caller that may see it: a 404 when there is none, and the
 * 403 an integration's key gets for a team other than its owner team (it is not told the team's name).
 */
export async function findReachedTeam(
  q: Queryable,
  p: Principal,
  identifier: string,
  by: 'id' | 'name',
): Promise<TeamRow> {
  const team = await repo.findTeam(q, p.orgId, identifier, by);
  if (!team) throw notFound(`No team exists with ${by} [${identifier}].`);
  requireReachesTeamConfiguration(p, team.id, `team with ${by} [${identifier}]`);
  return team;
}

/** The fields of a user Vigil keeps only to give them back, as Opsgenie does. */
export interface UserProfileInput {
  tags?: string[];
  skypeUsername?: string;
  /** The whole address: a field left out is empty (an address given replaces the one stored). */
  userAddress?: Partial<UserAddress>;
}

/** The columns for the profile fields given; those not given are left out, so an update keeps them. */
function profileColumns(input: UserProfileInput) {
  const address = input.userAddress;
  return {
    tags: input.tags && [...new Set(input.tags)],
    skype_username: input.skypeUsername,
    user_address:
      address &&
      JSON.stringify({
        country: address.country ?? '',
        state: address.state ?? '',
        city: address.city ?? '',
        line: address.line ?? '',
        zipCode: address.zipCode ?? '',
      } satisfies UserAddress),
  };
}

/** What an update of a user may change. */
type UserChanges = {
  username?: string;
  fullName?: string;
  role?: UserRole;
  /** With `role`: a custom user role of the organization (role is then 'user'), or none. */
  customRoleId?: string | null;
  timeZone?: string;
  locale?: string;
  blocked?: boolean;
} & UserProfileInput;

/** The fields of a user's own profile (Opsgenie's profile-edit right). */
const PROFILE_FIELDS = [
  'fullName',
  'timeZone',
  'locale',
  'tags',
  'skypeUsername',
  'userAddress',
] as const satisfies readonly (keyof UserChanges)[];

const onlyAdminsChange = () =>
  forbidden('Only organization admins can change other users, roles, usernames or blocking.');

/**
 * That `p`, no org admin, may make these changes to `user`: only to themselves, never their role or
 * blocking; their profile unless a custom role takes profile-edit away; their username (login email)
 * only when a custom role grants login-email-edit, as an Opsgenie user changes it only so.
 */
async function requireMayChangeOwn(
  q: Queryable,
  p: Principal,
  user: UserRow,
  changes: UserChanges,
): Promise<void> {
  if (user.id !== p.userId || changes.role !== undefined || changes.blocked !== undefined)
    throw onlyAdminsChange();
  if (changes.username !== undefined) {
    const role = await customRoleOf(q, p);
    if (!role) throw onlyAdminsChange();
    if (!roleHolds(role, 'login-email-edit'))
      throw userRightRefusal(role, 'login-email-edit', 'change your username (login email)');
  }
  if (PROFILE_FIELDS.some((field) => changes[field] !== undefined))
    await requireUserRight(q, p, 'profile-edit', 'change your profile');
}

/**
 * Refuses when `user` is an owner and no other unblocked owner would be left: only an owner makes an owner,
 * so an organization without one could never have one again. `owners` are the organization's owners as
 * lockOwners locked them, and `user` the row read after that, locked too. The owners' lock comes first in
 * every path that takes both: two owners removing each other at once then take turns, the second seeing
 * the first's change, rather than each holding the row the other waits for. An owner made since is not
 * in `owners`, which only leaves fewer others to count.
 */
function requireAnotherOwner(
  owners: readonly { id: string; blocked: boolean }[],
  user: UserRow,
  what: string,
): void {
  if (user.role !== 'owner') return;
  if (owners.some((o) => o.id !== user.id && !o.blocked)) return;
  throw invalid(
    `The organization's last owner can not be ${what}: make another person an owner first (PATCH /v2/users/{identifier} with "role": {"name": "Owner"}).`,
  );
}

/**
 * After a change of login email, in the same transaction: the email contact at the old address (the one
 * every user is given, createDefaultNotificationSetup) now pages the new one, keeping its id and its
 * rules' steps. The old address is one the person no longer answers to, often a mistyped one, and a page
 * mailed there hands whoever reads it the alert and links that act as the person. When the person already
 * has a contact at the new address, the old one goes and its steps move to it. Pages planned for the old
 * address are then not sent (the sender finds the contact changed or gone). A change of case only is the
 * same mailbox and leaves the contact as it is; contacts at other addresses are the person's own.
 */
async function followLoginEmail(tx: Queryable, userId: string, from: string, to: string): Promise<void> {
  if (from.toLowerCase() === to.toLowerCase()) return;
  const old = await peopleRepository.findContactByAddress(tx, userId, 'email', from);
  if (!old) return;
  const existing = await peopleRepository.findContactByAddress(tx, userId, 'email', to);
  if (!existing) {
    // An address that is the username needs no verification, and what was wrong with the old one is gone.
    await peopleRepository.updateContact(tx, old.id, {
      address: to,
      given_to: null,
      verified_at: null,
      problem: null,
      problem_at: null,
    });
    return;
  }
  for (const rule of await peopleRepository.listRules(tx, userId)) {
    if (!rule.steps.some((step) => step.contactId === old.id)) continue;
    const steps = rule.steps.flatMap((step) => {
      if (step.contactId !== old.id) return [step];
      // A step the rule already has for the new address at the same delay (and on, if this one is) would
      // only send the same page twice.
      const twin = rule.steps.some(
        (other) =>
          other.contactId === existing.id &&
          other.sendAfterMinutes === step.sendAfterMinutes &&
          (other.enabled || !step.enabled),
      );
      return twin ? [] : [{ ...step, contactId: existing.id }];
    });
    await peopleRepository.updateRule(tx, rule.id, { steps });
  }
  await peopleRepository.deleteContact(tx, old.id);
}

/** Whether the role makes an organization admin (as isOrgAdmin, for a role rather than a principal). */
const isAdminRole = (role: UserRole) => role === 'owner' || role === 'admin';
/** A user given a custom role that was deleted between its lookup and the write. */
const isForeignKeyViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23503';
const customRoleGone = () =>
  invalidField('role.name', 'That custom role was deleted just now: give another (GET /v2/roles).');

/** How long an authenticated key is trusted without asking the database again (per process). */
const AUTH_CACHE_MS = 5_000;

/** `clock` times the key cache (a test moves it on rather than waiting AUTH_CACHE_MS). */
export function createAccountsService(db: Db, log: Logger, clock: Clock = systemClock) {
  // Every API request authenticates; senders hammer one key. A short cache keeps that off the database,
  // and any change to users or keys made through this process empties it at once. A miss is kept too,
  // apart (so that a flood of unknown keys empties only the misses): an integration's key is not a
  // user's, and without it every request through one asked the database first, which planned the
  // query afresh each time. A new key's value is random, so no miss can be kept for it before it exists.
  const authCache = new Map<string, { principal: Principal; until: number }>();
  const authMisses = new Map<string, number>();
  // A lookup that was in flight across a change must not keep what it read before the change.
  let generation = 0;
  const lastTouched = new Map<string, number>();
  /** After a change to users or keys has been written (not before: a lookup meanwhile would keep the old). */
  const forgetKeys = () => {
    authCache.clear();
    authMisses.clear();
    generation++;
  };
  const resolveUser = (q: Queryable, orgId: string, ref: UserRef, field: string) =>
    resolveUserRef(q, orgId, ref, field);

  const requireOnTeam = (p: Principal, team: TeamRow, right: TeamRight, what: string) =>
    requireTeamRight(
      db,
      p,
      team.id,
      right,
      `Only organization admins and those of team [${team.name}] with the ${right} right (its admins) can ${what}.`,
    );

  /**
   * The members a request gives, each found and with their role in `teamId` resolved. `q` is the
   * transaction that saves them: the users are locked FOR KEY SHARE (as deleteUser asks of writers that
   * save a reference to a user), so a delete in flight is waited for and its user is then not found (the
   * 422 of one already gone), rather than the insert failing the foreign key after it commits (a 500).
   * Locked all at once in id order, not one by one as listed: listed otherwise, a request held one owner
   * while waiting for another that lockOwners (a demotion, block or delete of an owner) held, waiting in
   * turn for the first: a deadlock.
   */
  async function membersOf(q: Queryable, orgId: string, teamId: string, given: MemberInput[]) {
    const found = [];
    const listedAt = new Map<string, number>();
    for (const [i, m] of given.entries()) {
      const user = await resolveUserRef(q, orgId, m.user, `members[${i}].user`);
      const earlier = listedAt.get(user.id);
      // A team holds a person once: a second listing is a mistake in the request, not a name clash.
      if (earlier !== undefined)
        throw invalid(`User [${user.username}] is listed twice in members (${earlier} and ${i}).`, {
          [`members[${i}].user`]: `User [${user.username}] is already members[${earlier}].`,
        });
      listedAt.set(user.id, i);
      const role = await resolveMemberRole(q, teamId, m.role, `members[${i}].role`);
      found.push({ userId: user.id, identifier: m.user.id ?? m.user.username, role });
    }
    const locked = await repo.lockUsersOwnersFirst(q, [...listedAt.keys()], 'key share');
    const usernames = new Map(locked.map((u) => [u.id, u.username]));
    return found.map(({ userId, identifier, role }, i) => {
      const username = usernames.get(userId);
      if (username === undefined)
        throw invalidField(
          `members[${i}].user`,
          `No user ${JSON.stringify(identifier)} in this organization.`,
        );
      return { userId, username, role };
    });
  }
  const shown = (members: { username: string; role: MemberRole }[]) =>
    members.map((m) => ({ username: m.username, role: m.role.name }));

  /** The roles given or taken when a team's members go from `before` to `after`. */
  function rolesChanged(before: Map<string, MemberRole>, after: { userId: string; role: MemberRole }[]) {
    const same = (a: MemberRole, b: MemberRole) => a.role === b.role && a.teamRoleId === b.teamRoleId;
    const changed: MemberRole[] = [];
    const kept = new Set<string>();
    for (const m of after) {
      kept.add(m.userId);
      const was = before.get(m.userId);
      if (!was) changed.push(m.role);
      else if (!same(was, m.role)) changed.push(m.role, was);
    }
    for (const [userId, was] of before) if (!kept.has(userId)) changed.push(was);
    return changed;
  }

  /**
   * Who sees the value of a key `p` makes: the person of a console session, and when their password was
   * set through a link handed to others (an invitation that could not be emailed) those others, who may
   * have chosen it and be the ones signed in; for an API key, its user and everyone who could use that key
   * (an admin holds the key they made for a person, so a key made with it is theirs too). A key from
   * before keys had holders adds someone not known (null), and so does a key no longer found.
   */
  async function holdersOf(p: Principal): Promise<(string | null)[]> {
    return (await readHolders(db, p)) ?? [...new Set([null, p.userId ?? null])];
  }

  /**
   * holdersOf, read in `q`'s transaction with `p`'s key locked (FOR KEY SHARE) until it ends, so that
   * deleting it (blocking a holder does) waits, or for a session the person's password (FOR SHARE), so
   * that a new one or its drop waits; undefined when the key is gone, deleted since the request was
   * authenticated: its holders are no longer known, and one of them may be the person let go.
   */
  function lockHoldersOf(q: Queryable, p: Principal): Promise<(string | null)[] | undefined> {
    return readHolders(q, p, 'key share');
  }

  /** The holders of `p`'s key and `p`'s person (undefined when the key is gone). */
  async function readHolders(
    q: Queryable,
    p: Principal,
    lock?: 'key share',
  ): Promise<(string | null)[] | undefined> {
    const caller = p.userId ?? null;
    if (p.apiKeyId === '') {
      if (caller === null) return [caller];
      const handed = await sessionsRepository.passwordGivenTo(q, caller, lock && 'share');
      return [...new Set([caller, ...(handed ?? [])])];
    }
    const used = await repo.findKey(q, p.orgId, p.apiKeyId, lock);
    if (!used) return undefined;
    // A key from before keys had holders: someone not known holds it.
    return [...new Set([...(used.holders ?? [null]), caller])];
  }

  return {
    holdersOf,
    lockHoldersOf,

    /** Empties the key cache: another process changed who a key's holder is (alerts/live.ts hears it). */
    forgetCachedKeys: forgetKeys,

    /** Finds the principal for an API key, or undefined. Blocked users' keys do not authenticate. */
    async authenticate(key: string): Promise<Principal | undefined> {
      const { lookup, hash } = hashApiKey(key);
      const cacheKey = hash.toString('base64');
      const cached = authCache.get(cacheKey);
      const now = clock.now().getTime();
      if (cached && cached.until > now) return cached.principal;
      if ((authMisses.get(cacheKey) ?? 0) > now) return undefined;
      const readIn = generation;
      const rows = await repo.keysByLookup(db, lookup);
      const row = rows.find((r) => apiKeyMatches(key, r.key_hash));
      const keep = readIn === generation;
      if (!row || row.blocked) {
        authCache.delete(cacheKey);
        if (keep) {
          if (authMisses.size > 10_000) authMisses.clear();
          authMisses.set(cacheKey, now + AUTH_CACHE_MS);
        }
        return undefined;
      }
      if ((lastTouched.get(row.api_key_id) ?? 0) < now - 60_000) {
        lastTouched.set(row.api_key_id, now);
        void repo.touchKey(db, row.api_key_id, new Date(now)).catch(() => {});
      }
      const principal: Principal = {
        orgId: row.org_id,
        apiKeyId: row.api_key_id,
        userId: row.user_id ?? undefined,
        username: row.username ?? undefined,
        fullName: row.full_name ?? undefined,
        role: row.role ?? undefined,
        ...(row.user_id ? { customRoleId: row.custom_role_id } : {}),
      };
      if (keep) {
        if (authCache.size > 10_000) authCache.clear();
        authCache.set(cacheKey, { principal, until: now + AUTH_CACHE_MS });
      }
      return principal;
    },

    /**
     * On an empty database: the first organization and its owner, with an API key of exactly the given
     * value and/or a console password (its hash). Several processes may start at once; a
     * transaction-level advisory lock makes exactly one do it.
     */
    async bootstrap(options: {
      apiKey?: string;
      orgName?: string;
      admin?: { username: string; fullName?: string; passwordHash?: string; now?: Date };
    }): Promise<{ created: boolean; orgId?: string; userId?: string; username?: string }> {
      return db.transaction().execute(async (tx) => {
        await sql`SELECT pg_advisory_xact_lock(7669676902)`.execute(tx);
        if ((await repo.countOrganizations(tx)) > 0) return { created: false };
        const org = await repo.insertOrganization(tx, options.orgName ?? 'Vigil');
        const username = options.admin?.username ?? 'admin@vigil.local';
        const user = await repo.insertUser(tx, {
          org_id: org.id,
          username,
          full_name: options.admin?.fullName ?? 'Administrator',
          role: 'owner',
        });
        await createDefaultNotificationSetup(tx, user.id, username);
        if (options.apiKey !== undefined) {
          const { lookup, hash } = hashApiKey(options.apiKey);
          await repo.insertKey(tx, {
            org_id: org.id,
            user_id: user.id,
            name: 'bootstrap',
            lookup,
            key_hash: hash,
            // The installation's operator, who chose it, is this owner.
            holders: [user.id],
          });
        }
        if (options.admin?.passwordHash !== undefined) {
          await sessionsRepository.setPassword(
            tx,
            user.id,
            options.admin.passwordHash,
            options.admin.now ?? new Date(),
          );
        }
        log.info({ orgId: org.id, username }, 'created the first organization and its owner');
        return { created: true, orgId: org.id, userId: user.id, username };
      });
    },

    async organizationIsEmpty(): Promise<boolean> {
      return (await repo.countOrganizations(db)) === 0;
    },

    /** An organization by id, for messages sent on its behalf (no caller to check). */
    organizationOf: (orgId: string) => repo.getOrganization(db, orgId),

    async getOrganization(p: Principal) {
      const org = await repo.getOrganization(db, p.orgId);
      if (!org) throw notFound('Organization does not exist.');
      return org;
    },

    /** Opsgenie's account view: the organization, its plan and how many users it has. */
    async getAccount(p: Principal) {
      const org = await repo.getOrganization(db, p.orgId);
      if (!org) throw notFound('Organization does not exist.');
      return { org, userCount: await repo.countUsers(db, p.orgId) };
    },

    async updateOrganization(p: Principal, changes: { name?: string; plan?: OrgPlan }) {
      requireOrgAdmin(p, 'change the organization');
      // An empty body (or one of fields validation dropped) is answered with the organization as it is, as
      // the other PATCHes answer one: an UPDATE with nothing to set is not SQL.
      const org =
        changes.name === undefined && changes.plan === undefined
          ? await repo.getOrganization(db, p.orgId)
          : await repo.updateOrganization(db, p.orgId, { name: changes.name, plan: changes.plan });
      if (!org) throw notFound('Organization does not exist.');
      return org;
    },

    // Users

    async createUser(
      p: Principal,
      input: {
        username: string;
        fullName: string;
        role: UserRole;
        /** A custom user role of the organization (role is then 'user'). */
        customRoleId?: string | null;
        timeZone?: string;
        locale?: string;
      } & UserProfileInput,
    ) {
      requireOrgAdmin(p, 'add users');
      if (input.role === 'owner' && p.role !== 'owner')
        throw forbidden('Only an owner can add another owner.');
      try {
        return await db.transaction().execute(async (tx) => {
          const user = await repo.insertUser(tx, {
            org_id: p.orgId,
            username: input.username,
            full_name: input.fullName,
            role: input.role,
            custom_role_id: input.customRoleId ?? null,
            time_zone: input.timeZone,
            locale: input.locale,
            ...profileColumns(input),
          });
          await createDefaultNotificationSetup(tx, user.id, user.username);
          return user;
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw conflict(`User with username [${input.username}] already exists.`);
        if (isForeignKeyViolation(error)) throw customRoleGone();
        throw error;
      }
    },

    async getUser(p: Principal, identifier: string) {
      const user = await repo.findUser(db, p.orgId, identifier);
      if (!user) throw notFound(`User [${identifier}] does not exist.`);
      return user;
    },

    listUsers: (p: Principal, page: Parameters<typeof repo.listUsers>[2]) =>
      repo.listUsers(db, p.orgId, page),

    async updateUser(p: Principal, identifier: string, changes: UserChanges) {
      const user = await repo.findUser(db, p.orgId, identifier);
      if (!user) throw notFound(`User [${identifier}] does not exist.`);
      if (!isOrgAdmin(p)) await requireMayChangeOwn(db, p, user, changes);
      if (changes.role === 'owner' && p.role !== 'owner')
        throw forbidden('Only an owner can make another owner.');
      // Demoting or blocking takes an owner away; the check and the write share the owners' lock.
      const removesOwner =
        (changes.role !== undefined && changes.role !== 'owner') || changes.blocked === true;
      try {
        const updated = await db.transaction().execute(async (tx) => {
          // A new login email moves the person's email contact (followLoginEmail): their contacts and rules
          // are locked first, as the people service locks them before it touches the user's row.
          if (changes.username !== undefined) await peopleRepository.lockUser(tx, user.id);
          // A promotion reads the owners too (an owner may hold an owner's keys and link): locked, a demotion
          // of one of them waits, and then finds what it must take away from them as the owner's.
          const owners = removesOwner || changes.role === 'owner' ? await repo.lockOwners(tx, p.orgId) : [];
          // The user as they are now, locked: a rename or a promotion may have committed since the read
          // above. The alerts owned under the login must follow it, and the owner checks must see the role.
          const current = await repo.findUser(tx, p.orgId, user.id, 'update');
          if (!current) throw notFound(`User [${identifier}] does not exist.`);
          // An admin who could demote, block or rename an owner could then delete them or take their account.
          if (current.role === 'owner' && p.role !== 'owner')
            throw forbidden('Only an owner can change an owner.');
          if (removesOwner) requireAnotherOwner(owners, current, changes.blocked ? 'blocked' : 'demoted');
          const becomesOwner = changes.role === 'owner' && current.role !== 'owner';
          const row = await repo.updateUser(tx, user.id, {
            username: changes.username,
            full_name: changes.fullName,
            role: changes.role,
            custom_role_id: changes.role === undefined ? undefined : (changes.customRoleId ?? null),
            time_zone: changes.timeZone,
            locale: changes.locale,
            blocked: changes.blocked,
            ...profileColumns(changes),
          });
          const renamed = changes.username !== undefined && changes.username !== current.username;
          if (renamed) {
            const username = changes.username ?? '';
            await alertsRepository.renameOwner(tx, p.orgId, current.username, username);
            await followLoginEmail(tx, user.id, current.username, username);
            // The email match vouched for the old address, perhaps mistyped and someone else's Slack
            // account's: its links go, as the sessions do below. Those an admin made stay.
            await slackRepository.unlinkLinksOfUser(tx, user.id, false);
          }
          // Blocking ends the console sessions, so unblocking does not bring them back. So does a new login
          // email, as in Opsgenie: a session signed in through a link sent to a mistyped address must not
          // outlive its correction, and the person signs in again as the new address.
          if (changes.blocked === true || renamed) await sessionsRepository.deleteSessionsOfUser(tx, user.id);
          // Invitation and reset links were sent to the old login email: they must not set a password now.
          // Nor once the person is an owner: an admin may hold their invitation's link (handed back when
          // it could not be emailed) or a key made for them, refused for an owner, and act as the owner.
          // Nor once they are blocked: the mailbox that has them is often why, and a password set through
          // one would sign in as soon as the person is unblocked.
          if (renamed || becomesOwner || changes.blocked === true)
            await sessionsRepository.spendAccountTokensOfUser(tx, user.id, clock.now());
          // Those only owners held stay: an owner may hold an owner's key, and loses it when no longer one.
          const mayHold = owners.filter((o) => !o.blocked && o.id !== user.id).map((o) => o.id);
          const keysRemoved = becomesOwner ? await repo.deleteKeysHeldByOthersOf(tx, user.id, mayHold) : [];
          // And their console sessions end: one may be an admin's, signed in with a password they chose
          // through the invitation's link handed back to them (the keys made in it count them among their
          // holders, and went above). That password goes too, unless only owners were handed its link: the
          // person sets a new one with "Forgot password?", or an owner invites them again.
          if (becomesOwner) await sessionsRepository.deleteSessionsOfUser(tx, user.id);
          const passwordDropped =
            becomesOwner && (await sessionsRepository.dropHandedPassword(tx, user.id, mayHold));
          // Only an owner links an owner's Slack user: one an admin linked to them (the admin's own, it may be)
          // would act as the owner from Slack. Who made a link is not kept, so every link made by hand goes;
          // those the email match made are the person's own.
          if (becomesOwner) await slackRepository.unlinkLinksOfUser(tx, user.id, true);
          // A key acts as its user, not its maker: one of someone else's that a blocked person saw would go
          // on working for them, and one of an admin's would keep a demoted admin an admin. So would an
          // invitation's link handed back to them: it sets its person's password. Unblocking or promoting
          // again does not bring them back. An owner made an admin loses only what acts as an owner.
          const losesAdmin =
            changes.blocked === true ||
            (isAdminRole(current.role) && changes.role !== undefined && !isAdminRole(changes.role));
          const losesOwner = !losesAdmin && current.role === 'owner' && changes.role === 'admin';
          const keysMadeRemoved =
            losesAdmin || losesOwner
              ? await repo.deleteKeysForOthersHeldBy(tx, user.id, { ofOwners: losesOwner })
              : [];
          if (losesAdmin || losesOwner)
            await sessionsRepository.spendAccountTokensGivenTo(tx, user.id, clock.now(), {
              ofOwners: losesOwner,
            });
          // And the passwords set through such links, which they may have chosen, with those sessions.
          const passwordsDropped =
            losesAdmin || losesOwner
              ? await sessionsRepository.dropPasswordsGivenTo(tx, user.id, { ofOwners: losesOwner })
              : [];
          return { row, keysRemoved, keysMadeRemoved, passwordDropped, passwordsDropped };
        });
        forgetKeys();
        if (updated.keysRemoved.length > 0)
          log.info(
            { orgId: p.orgId, userId: user.id, keys: updated.keysRemoved },
            'made an owner: the API keys of theirs that others saw are deleted',
          );
        if (updated.passwordDropped)
          log.info(
            { orgId: p.orgId, userId: user.id },
            'made an owner: their password, set through an invitation link handed to others, is dropped (they set a new one with "Forgot password?")',
          );
        if (updated.keysMadeRemoved.length > 0)
          log.info(
            { orgId: p.orgId, userId: user.id, keys: updated.keysMadeRemoved },
            'blocked or demoted: the API keys of others they saw are deleted',
          );
        if (updated.passwordsDropped.length > 0)
          log.info(
            { orgId: p.orgId, userId: user.id, users: updated.passwordsDropped },
            'blocked or demoted: the passwords set through invitation links handed to them are dropped, and those sessions ended',
          );
        if (!updated.row) throw notFound(`User [${identifier}] does not exist.`);
        return updated.row;
      } catch (error) {
        if (isUniqueViolation(error))
          throw conflict(`User with username [${changes.username}] already exists.`);
        if (isForeignKeyViolation(error)) throw customRoleGone();
        throw error;
      }
    },

    async deleteUser(p: Principal, identifier: string): Promise<void> {
      requireOrgAdmin(p, 'delete users');
      const user = await repo.findUser(db, p.orgId, identifier);
      if (!user) throw notFound(`User [${identifier}] does not exist.`);
      if (user.id === p.userId) throw invalid('You can not delete yourself: ask another admin.');
      /**
       * Deleted, the keys of others they saw and the users whose password went with them (set through a link
       * handed to them); or `promoted` when they became an owner since the read.
       */
      const attempt = (asOwner: boolean) =>
        db
          .transaction()
          .execute(async (tx): Promise<{ keys: string[]; passwords: string[] } | 'promoted'> => {
            // The owners' lock first, for one who is (or was read as) an owner: the delete must leave another.
            // Not for everyone: held on every delete, it would make an assign of this person's alert to an
            // owner (alert, then owner) and the delete (owners, then the alert) wait on each other.
            const owners = asOwner ? await repo.lockOwners(tx, p.orgId) : undefined;
            // Locked as deleteSchedule locks its row: a change that holds KEY SHARE on the user while it saves a
            // reference to them (findUser's 'key share') waits for the delete, or the delete for it. Read again
            // under the lock: a rename or a promotion may have committed since.
            const current = await repo.findUser(tx, p.orgId, user.id, 'update');
            if (!current) throw notFound(`User [${identifier}] does not exist.`);
            // Made an owner since the read: again, with the owners locked first (never after their row).
            if (current.role === 'owner' && !owners) return 'promoted';
            if (current.role === 'owner' && p.role !== 'owner')
              throw forbidden('Only an owner can delete an owner.');
            if (owners) requireAnotherOwner(owners, current, 'deleted');
            await refuseIfNotified(tx, p.orgId, { type: 'user', id: user.id }, `User [${current.username}]`);
            // Before the row goes, with the keys that are theirs; and the links handed to them, which name
            // them in an array that no foreign key empties.
            const removed = await repo.deleteKeysForOthersHeldBy(tx, user.id);
            await sessionsRepository.spendAccountTokensGivenTo(tx, user.id, clock.now());
            const passwords = await sessionsRepository.dropPasswordsGivenTo(tx, user.id);
            await alertsRepository.renameOwner(tx, p.orgId, current.username, '');
            await repo.deleteUser(tx, user.id);
            return { keys: removed, passwords };
          });
      // At most twice: the second attempt locks the owners, and so never answers `promoted`.
      let removed: { keys: string[]; passwords: string[] } | 'promoted' = 'promoted';
      for (let asOwner = user.role === 'owner'; removed === 'promoted'; asOwner = true)
        removed = await attempt(asOwner);
      forgetKeys();
      if (removed.keys.length > 0)
        log.info(
          { orgId: p.orgId, userId: user.id, keys: removed.keys },
          'deleted: the API keys of others they saw are deleted',
        );
      if (removed.passwords.length > 0)
        log.info(
          { orgId: p.orgId, userId: user.id, users: removed.passwords },
          'deleted: the passwords set through invitation links handed to them are dropped, and those sessions ended',
        );
    },

    async teamsOfUser(p: Principal, identifier: string) {
      const user = await repo.findUser(db, p.orgId, identifier);
      if (!user) throw notFound(`User [${identifier}] does not exist.`);
      // An integration's key sees only its owner team, here as in the team list.
      const teams = await repo.teamsOfUser(db, user.id);
      return teams.filter((team) => reachesTeamConfiguration(p, team.id));
    },

    // Teams

    async createTeam(p: Principal, input: { name: string; description?: string; members?: MemberInput[] }) {
      requireOrgAdmin(p, 'create teams');
      try {
        return await db.transaction().execute(async (tx) => {
          const team = await repo.insertTeam(tx, {
            org_id: p.orgId,
            name: input.name,
            description: input.description,
          });
          // A new team has no custom roles yet: its members are admins or users.
          const members = await membersOf(tx, p.orgId, team.id, input.members ?? []);
          await repo.replaceMembers(tx, team.id, members);
          await recordTeamChanges(tx, p, team.id, [
            `Team ${team.name} created`,
            ...memberChanges([], shown(members)),
          ]);
          return team;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`Team with name [${input.name}] already exists.`);
        throw error;
      }
    },

    async getTeam(p: Principal, identifier: string, by: 'id' | 'name') {
      const team = await findReachedTeam(db, p, identifier, by);
      return { team, members: await repo.teamMembers(db, team.id) };
    },

    /**
     * The team rights the caller holds on a team, by the code every team-scoped check asks (teamRightsOf),
     * in Opsgenie's order: for the console, which hides what the server would refuse.
     */
    async myTeamRights(p: Principal, identifier: string, by: 'id' | 'name'): Promise<TeamRight[]> {
      // As getTeam: an integration's key that may not see the team is not told it exists.
      const team = await findReachedTeam(db, p, identifier, by);
      const held = await teamRightsOf(db, p, team.id);
      return TEAM_RIGHTS.filter((r) => held.has(r));
    },

    /** The organization's teams `p` reaches: an integration's key only its owner team. */
    async listTeams(p: Principal) {
      const teams = await repo.listTeams(db, p.orgId);
      return teams.filter((team) => reachesTeamConfiguration(p, team.id));
    },

    async updateTeam(
      p: Principal,
      identifier: string,
      by: 'id' | 'name',
      changes: { name?: string; description?: string; members?: MemberInput[] },
    ) {
      const team = await findReachedTeam(db, p, identifier, by);
      const info = changes.name !== undefined || changes.description !== undefined;
      // A change of nothing needs the right a change of the name or description does: answered to anyone,
      // it told those who may not see the team its id and name.
      if (info || changes.members === undefined)
        await requireOnTeam(p, team, 'edit-team-info', "change the team's name or description");
      if (changes.members !== undefined) await requireOnTeam(p, team, 'manage-members', 'change its members');
      // Nothing to write: the team as it is, its updated_at kept.
      if (!info && changes.members === undefined) return team;
      try {
        return await db.transaction().execute(async (tx) => {
          await repo.lockTeam(tx, team.id);
          const updated = await repo.updateTeam(tx, team.id, {
            name: changes.name,
            description: changes.description,
          });
          const changed: string[] = [];
          if (changes.name !== undefined && changes.name !== team.name)
            changed.push(`Team renamed from ${team.name} to ${changes.name}`);
          if (changes.description !== undefined && changes.description !== team.description)
            changed.push('Team description changed');
          if (changes.members) {
            const before = await repo.teamMembers(tx, team.id);
            const members = await membersOf(tx, p.orgId, team.id, changes.members);
            const was = await memberRolesOf(tx, team.id);
            const own = members.find((m) => m.userId === p.userId);
            await requireHoldsRolesRights(tx, p, team, rolesChanged(was, members), own ? [own.role] : []);
            await repo.replaceMembers(tx, team.id, members);
            changed.push(...memberChanges(before, shown(members)));
          }
          await recordTeamChanges(tx, p, team.id, changed);
          return updated ?? team;
        });
      } catch (error) {
        // Only a name can clash: members take turns behind the team's lock.
        if (changes.name !== undefined && isUniqueViolation(error))
          throw conflict(`Team with name [${changes.name}] already exists.`);
        throw error;
      }
    },

    async deleteTeam(p: Principal, identifier: string, by: 'id' | 'name'): Promise<void> {
      const team = await findReachedTeam(db, p, identifier, by);
      await requireOnTeam(p, team, 'delete-team', 'delete it');
      try {
        await db.transaction().execute(async (tx) => {
          // The row lock waits for escalation changes naming the team (they hold KEY SHARE on it).
          if (!(await repo.findTeam(tx, p.orgId, team.id, 'id', 'update')))
            throw notFound(`No team exists with ${by} [${identifier}].`);
          await refuseIfNotified(tx, p.orgId, { type: 'team', id: team.id }, `Team [${team.name}]`);
          await refuseIfOwnsHeartbeats(tx, team);
          await repo.deleteTeam(tx, team.id);
        });
      } catch (error) {
        // The integrations' owner team is ON DELETE RESTRICT: PostgreSQL says 23001 for that, not 23503.
        const code = (error as { code?: string } | null)?.code;
        if (code === '23503' || code === '23001') {
          throw conflict(
            `Team [${team.name}] owns integrations: give them another owner team or delete them first.`,
          );
        }
        throw error;
      }
    },

    /** Adds a member, or gives a member another role: 'admin', 'user' or one of the team's own roles. */
    async addTeamMember(
      p: Principal,
      identifier: string,
      by: 'id' | 'name',
      user: UserRef,
      roleName: string | undefined,
    ) {
      const team = await findReachedTeam(db, p, identifier, by);
      await requireOnTeam(p, team, 'manage-members', 'change its members');
      const member = await db.transaction().execute(async (tx) => {
        // The team before the user, as updateTeam locks it before its members: the other way round, this
        // (holding the user, waiting for the team), a PATCH of the team (holding it, waiting for an owner
        // it lists) and a block of the user (holding the owners, waiting for the user) wait on each other.
        await repo.lockTeam(tx, team.id);
        // Read in the transaction that saves them, FOR KEY SHARE (as membersOf): a delete of the user in
        // flight is waited for, and they are then not found, rather than the insert failing the foreign key.
        const member = await resolveUserRef(tx, p.orgId, user, 'user', undefined, 'key share');
        const role = await resolveMemberRole(tx, team.id, roleName, 'role');
        const before = (await memberRolesOf(tx, team.id)).get(member.id);
        await requireHoldsRolesRights(
          tx,
          p,
          team,
          before ? [role, before] : [role],
          member.id === p.userId ? [role] : [],
        );
        await repo.upsertMember(tx, team.id, member.id, role);
        const was = before ? [{ username: member.username, role: before.name }] : [];
        await recordTeamChanges(
          tx,
          p,
          team.id,
          memberChanges(was, [{ username: member.username, role: role.name }]),
        );
        return member;
      });
      return { team, user: member };
    },

    async removeTeamMember(p: Principal, identifier: string, by: 'id' | 'name', memberIdentifier: string) {
      const team = await findReachedTeam(db, p, identifier, by);
      await requireOnTeam(p, team, 'manage-members', 'change its members');
      const member = await repo.findUser(db, p.orgId, memberIdentifier);
      const removed =
        member &&
        (await db.transaction().execute(async (tx) => {
          await repo.lockTeam(tx, team.id);
          const before = (await memberRolesOf(tx, team.id)).get(member.id);
          if (before) await requireHoldsRolesRights(tx, p, team, [before]);
          if (!(await repo.removeMember(tx, team.id, member.id))) return false;
          await recordTeamChanges(tx, p, team.id, [`${member.username} removed from the team`]);
          return true;
        }));
      if (!removed) {
        throw notFound(`User [${memberIdentifier}] is not a member of team [${team.name}].`);
      }
    },

    // API keys

    async createApiKey(p: Principal, input: { name: string; user?: UserRef }) {
      // A key made with an integration's key would belong to nobody and escape the integration's team.
      if (p.integration) {
        throw forbidden(
          `API keys belong to users: the key of integration [${p.integration.name}] can not make them. Use a user's API key.`,
        );
      }
      // Read before the transaction only to know whose rows to lock: both are read again under the locks.
      const holders = await holdersOf(p);
      const target = input.user ? await resolveUser(db, p.orgId, input.user, 'user') : undefined;
      const key = generateApiKey();
      const { lookup, hash } = hashApiKey(key);
      const row = await db.transaction().execute(async (tx) => {
        // Everyone the new key is for or given to, locked FOR SHARE before the key in use (as handOver
        // does): a block, demotion or delete of one of them, which locks them and then deletes the keys
        // they hold, either waits until this key is saved and deletes it with the others, or committed
        // before and is seen here. A delete of the key's user, rather than failing the insert's foreign
        // key once it commits (a 500), leaves them not found.
        const people = [...new Set([...holders, target?.id ?? null].filter((id) => id !== null))];
        const standing = new Map((await sessionsRepository.lockStandingOf(tx, people)).map((u) => [u.id, u]));
        const givenTo = await lockHoldersOf(tx, p);
        const letGo = (id: string | null) => id !== null && (standing.get(id)?.blocked ?? true);
        if (!givenTo || givenTo.some(letGo))
          throw unauthenticated(
            'The API key this request used was revoked while it ran (its user, or one who holds it, was blocked or deleted): use another key.',
          );
        // A console session whose person was made an owner since it was read: the promotion ended it, with
        // the keys others held and a password someone else may have chosen, before this key existed.
        if (p.apiKeyId === '' && p.userId && p.role !== 'owner' && standing.get(p.userId)?.role === 'owner')
          throw unauthenticated(
            'You were made an owner while this request ran, which signed you out: sign in again.',
          );
        if (!target) return repo.insertKey(tx, keyRow(p.userId ?? null, givenTo));
        const user = standing.get(target.id);
        if (!user)
          throw invalidField('user', `No user ${JSON.stringify(target.username)} in this organization.`);
        // The caller's role as locked, not as authenticated: one demoted meanwhile is an admin (or an owner)
        // no more, and the demotion's clean-up ran before this key existed. (A caller not locked is refused
        // above: they hold the key in use.)
        const caller: Principal = { ...p, role: p.userId ? standing.get(p.userId)?.role : p.role };
        if (target.id !== p.userId) requireOrgAdmin(caller, 'create API keys for other users');
        // A key acts as its user: an admin with an owner's key would be an owner.
        if (user.role === 'owner' && caller.role !== 'owner')
          throw forbidden('Only an owner can create API keys for an owner.');
        // Whoever it is given to must be one a demotion's clean-up would leave it with (updateUser: an admin
        // made a user loses the keys of others they hold, an owner made an admin those of owners).
        const mayHold = (id: string | null) => {
          const role = id === null || id === target.id ? undefined : standing.get(id)?.role;
          return role === undefined || role === 'owner' || (role === 'admin' && user.role !== 'owner');
        };
        if (!givenTo.every(mayHold))
          throw forbidden(
            "One who holds the API key this request used may no longer hold another user's key: use another key.",
          );
        return repo.insertKey(tx, keyRow(target.id, givenTo));
      });
      function keyRow(userId: string | null, givenTo: (string | null)[]) {
        return {
          org_id: p.orgId,
          user_id: userId,
          name: input.name,
          lookup,
          key_hash: hash,
          holders: givenTo,
        };
      }
      return { ...row, key };
    },

    // An integration's key owns no API keys, so it sees none (without a user, the filter would be none).
    listApiKeys: async (p: Principal) =>
      p.integration ? [] : repo.listKeys(db, p.orgId, isOrgAdmin(p) ? undefined : p.userId),

    async deleteApiKey(p: Principal, id: string): Promise<void> {
      const key = isUuid(id) ? await repo.findKey(db, p.orgId, id) : undefined;
      if (!key) throw notFound(`API key [${id}] does not exist.`);
      if (key.user_id !== p.userId) {
        requireOrgAdmin(p, "delete other users' API keys");
        // As updateUser: an admin could otherwise cut an owner off from the API (or from the console).
        const owner = key.user_id === null ? undefined : await repo.findUser(db, p.orgId, key.user_id);
        if (owner?.role === 'owner' && p.role !== 'owner')
          throw forbidden("Only an owner can delete an owner's API keys.");
      }
      await repo.deleteKey(db, p.orgId, id);
      forgetKeys();
    },

    resolveUser: (orgId: string, ref: UserRef, field: string) => resolveUser(db, orgId, ref, field),
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
