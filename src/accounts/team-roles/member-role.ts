import type { Queryable } from '../../db/database.js';
import type { TeamRole } from '../../db/schema.js';
import { invalidField } from '../../errors.js';
import { builtInTeamRoleOf } from '../team-rights.js';
import { teamRolesRepository } from './repository.js';

/** A member's role as stored: a built-in role, or a custom role of the team (then `role` is 'user'). */
export interface MemberRole {
  role: TeamRole;
  teamRoleId: string | null;
  /** The custom role's rights; null for the built-in roles. */
  rights: string[] | null;
  /** As the API shows it: 'admin', 'user' or the custom role's name. */
  name: string;
}

/**
 * The role a request gives a member, by name: 'admin' or 'user' (any case), else a custom role of the team
 * (`teamId`); none given is 'user'. A name the team has no role of is a 422 on `field`.
 */
export async function resolveMemberRole(
  q: Queryable,
  teamId: string,
  name: string | undefined,
  field: string,
): Promise<MemberRole> {
  const builtIn = builtInTeamRoleOf(name ?? 'user');
  if (builtIn) return { role: builtIn, teamRoleId: null, rights: null, name: builtIn };
  const custom = await teamRolesRepository.find(q, teamId, (name ?? '').trim(), 'name');
  if (!custom) {
    throw invalidField(
      field,
      `The team has no role ${JSON.stringify(name)}: give "admin", "user" or one of the team's roles (GET /v2/teams/{id}/roles).`,
    );
  }
  return { role: 'user', teamRoleId: custom.id, rights: custom.rights, name: custom.name };
}

/** The roles of the team's members, by user id. */
export async function memberRolesOf(q: Queryable, teamId: string): Promise<Map<string, MemberRole>> {
  const rows = await q
    .selectFrom('team_members as m')
    .leftJoin('team_roles as r', 'r.id', 'm.team_role_id')
    .select(['m.user_id', 'm.role', 'm.team_role_id', 'r.rights', 'r.name'])
    .where('m.team_id', '=', teamId)
    .execute();
  return new Map(
    rows.map((r) => [
      r.user_id,
      { role: r.role, teamRoleId: r.team_role_id, rights: r.rights, name: r.name ?? r.role },
    ]),
  );
}
