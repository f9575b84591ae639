import type { Queryable } from '../db/database.js';
import type { TeamRole } from '../db/schema.js';
import { forbidden } from '../errors.js';
import type { Principal } from './service.js';
import { configurationTeamRights, customRoleOf } from './custom-roles/rights.js';
import { nameKey } from '../db/name-key.js';

/**
 * What a principal may do on a team, by Opsgenie's team rights. Every team-scoped permission check asks
 * here: org owners and admins may do everything; a team's admins everything on their team; a member with a
 * custom role what the role grants; a plain member ('user') what plain members could always do.
 */

export function isOrgAdmin(p: Principal): boolean {
  return p.role === 'owner' || p.role === 'admin';
}

/** Opsgenie's team rights, by its names. Some name features Vigil lacks (services): kept, never checked. */
export const TEAM_RIGHTS = [
  'manage-members',
  'edit-team-roles',
  'delete-team',
  'access-logs',
  'edit-team-info',
  'edit-integrations',
  'edit-heartbeats',
  'edit-alert-policies',
  'edit-notification-policies',
  'edit-maintenance',
  'edit-escalations',
  'edit-schedules',
  'edit-routing-rules',
  'edit-services',
] as const;

export type TeamRight = (typeof TEAM_RIGHTS)[number];

const KNOWN = new Set<string>(TEAM_RIGHTS);

export function isTeamRight(name: string): name is TeamRight {
  return KNOWN.has(name);
}

/** A plain member reads the team's log and changes nothing of the team, as before custom roles. */
const PLAIN_MEMBER_RIGHTS: ReadonlySet<TeamRight> = new Set(['access-logs']);
const EVERY_RIGHT: ReadonlySet<TeamRight> = new Set(TEAM_RIGHTS);
const INTEGRATION_KEY_RIGHTS: ReadonlySet<TeamRight> = new Set(
  TEAM_RIGHTS.filter((r) => r !== 'delete-team'),
);

/** The built-in team roles: Opsgenie's names, which no custom role may take. */
export const BUILT_IN_TEAM_ROLES = ['admin', 'user'] as const satisfies readonly TeamRole[];

/**
 * The built-in role `name` names (in any case, folded as names are compared, spaces around it ignored),
 * if it names one.
 */
export function builtInTeamRoleOf(name: string): TeamRole | undefined {
  const normal = nameKey(name.trim());
  return BUILT_IN_TEAM_ROLES.find((role) => role === normal);
}

export function isBuiltInTeamRole(name: string): boolean {
  return builtInTeamRoleOf(name) !== undefined;
}

/** What a member's role grants: a team admin every right; a custom role its own; a plain member little. */
export function rightsOfRole(role: TeamRole, customRights: readonly string[] | null): ReadonlySet<TeamRight> {
  if (role === 'admin') return EVERY_RIGHT;
  if (customRights) return new Set(customRights.filter(isTeamRight));
  return PLAIN_MEMBER_RIGHTS;
}

/** Whether `p` is an API integration's key with configuration access, and `teamId` its owner team. */
function configuresOwnTeam(p: Principal, teamId: string): boolean {
  return p.integration?.access.allowConfigurationAccess === true && p.integration.ownerTeamId === teamId;
}

/** The rights `p` holds on the team `teamId`. */
export async function teamRightsOf(
  q: Queryable,
  p: Principal,
  teamId: string,
): Promise<ReadonlySet<TeamRight>> {
  if (isOrgAdmin(p)) return EVERY_RIGHT;
  // An API integration's key with configuration access acts as an admin of its owner team (Opsgenie's
  // rule), short of deleting the team its own integration belongs to.
  if (p.integration) return configuresOwnTeam(p, teamId) ? INTEGRATION_KEY_RIGHTS : new Set();
  if (p.userId === undefined) return new Set();
  const membership = await q
    .selectFrom('team_members as m')
    .leftJoin('team_roles as r', 'r.id', 'm.team_role_id')
    .select(['m.role', 'r.rights'])
    .where('m.team_id', '=', teamId)
    .where('m.user_id', '=', p.userId)
    .executeTakeFirst();
  const asMember = membership ? rightsOfRole(membership.role, membership.rights) : new Set<TeamRight>();
  // A custom user role with configurations-edit edits every team's configuration (custom-roles/rights.ts).
  const role = asMember === EVERY_RIGHT ? undefined : await customRoleOf(q, p);
  const configures = role && configurationTeamRights(role);
  if (!configures) return asMember;
  return configures === 'edit-and-delete' ? EVERY_RIGHT : new Set([...asMember, ...INTEGRATION_KEY_RIGHTS]);
}

/** Whether `p` holds `right` on the team `teamId`. */
export async function hasTeamRight(
  q: Queryable,
  p: Principal,
  teamId: string,
  right: TeamRight,
): Promise<boolean> {
  return (await teamRightsOf(q, p, teamId)).has(right);
}

/**
 * A 403 saying `refusal` unless `p` holds `right` on `teamId`. What no team owns (`teamId` null) is for
 * org admins only.
 */
export async function requireTeamRight(
  q: Queryable,
  p: Principal,
  teamId: string | null,
  right: TeamRight,
  refusal: string,
): Promise<void> {
  if (isOrgAdmin(p)) return;
  if (teamId !== null && (await hasTeamRight(q, p, teamId, right))) return;
  throw forbidden(refusal);
}

/**
 * The rights `p` may give or take on the team `teamId`: those it holds. An API integration's key with
 * configuration access may give and take all a team admin holds, delete-team too: it lacks that right only
 * so that it cannot delete the team its own integration belongs to, and Opsgenie's clients (Terraform's
 * opsgenie_team with admin members) manage a team's admins with such a key.
 */
async function assignableRightsOf(
  q: Queryable,
  p: Principal,
  teamId: string,
): Promise<ReadonlySet<TeamRight>> {
  return configuresOwnTeam(p, teamId) ? EVERY_RIGHT : teamRightsOf(q, p, teamId);
}

/**
 * Of `rights`, those not `assignable`. access-logs too: a custom role's holders hold only what it grants
 * (rightsOfRole), so one lacking access-logs who granted it to a role could give themselves the log by it.
 */
function lackingOf(assignable: ReadonlySet<TeamRight>, rights: Iterable<string>): TeamRight[] {
  return [...new Set(rights)].filter((r): r is TeamRight => isTeamRight(r) && !assignable.has(r));
}

const lackingRefusal = (rule: string, lacking: readonly TeamRight[]) =>
  forbidden(`${rule}; you lack ${lacking.join(', ')}. Ask an admin of the team.`);

/**
 * A 403 unless `p` may give or take every one of `rights` on the team `teamId`: who may change a team's
 * roles could otherwise grant themselves (or a friend) what they lack. `rule` says what the change needs.
 */
export async function requireHoldsRights(
  q: Queryable,
  p: Principal,
  teamId: string,
  rights: Iterable<string>,
  rule: string,
): Promise<void> {
  const lacking = lackingOf(await assignableRightsOf(q, p, teamId), rights);
  if (lacking.length > 0) throw lackingRefusal(rule, lacking);
}

/**
 * A 403 unless `p` holds every right each of `roles` grants: giving a member a role, or changing or
 * removing a member who holds one, would otherwise let someone with manage-members make themselves (or a
 * friend) a team admin, or strip the team of its admins. `toSelf`: which of `roles` are given to `p`
 * itself.
 */
export async function requireHoldsRolesRights(
  q: Queryable,
  p: Principal,
  team: { id: string; name: string },
  roles: readonly { role: TeamRole; rights: readonly string[] | null; name: string }[],
  toSelf: readonly object[] = [],
): Promise<void> {
  const assignable = await assignableRightsOf(q, p, team.id);
  for (const role of roles) {
    // The built-in user role is what any member may do, no one's to withhold: whoever manages the members
    // gives and takes it, though their own custom role lack the access-logs it grants. Not to themselves:
    // a custom role without access-logs would be a step away from the log.
    if (role.role === 'user' && role.rights === null && !toSelf.includes(role)) continue;
    const lacking = lackingOf(assignable, rightsOfRole(role.role, role.rights));
    if (lacking.length > 0)
      throw lackingRefusal(
        `Giving or taking the role [${role.name}] in team [${team.name}] needs every right it grants`,
        lacking,
      );
  }
}
