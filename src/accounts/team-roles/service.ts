import { isUniqueViolation, type Db, type Queryable } from '../../db/database.js';
import type { TeamRoleRow, TeamRow } from '../../db/schema.js';
import { conflict, forbidden, invalid, invalidField, notFound, UNPROCESSABLE_BODY } from '../../errors.js';
import { accountsRepository } from '../repository.js';
import type { Principal } from '../service.js';
import { recordTeamChanges } from '../team-log/log.js';
import {
  isBuiltInTeamRole,
  isOrgAdmin,
  isTeamRight,
  requireHoldsRights,
  requireTeamRight,
  TEAM_RIGHTS,
} from '../team-rights.js';
import { teamRolesRepository as repo } from './repository.js';
import { requireReachesTeamConfiguration } from '../../integrations/principal.js';

/**
 * Opsgenie's Team Role API: a team's own roles, each a name and the team rights it grants. The built-in
 * roles (admin, user) are not among them and can not be made, renamed to or deleted. Changes need the
 * edit-team-roles right on the team, and every right the role grants before and after (nobody grants what
 * they lack, nor weakens or deletes a role stronger than theirs); they go on the team's log.
 */

export interface RightInput {
  right: string;
  granted?: boolean;
}

export interface TeamRoleInput {
  name: string;
  rights: RightInput[];
}

type By = 'id' | 'name';

/** A role as Opsgenie shows one: every right, granted or not. */
export function presentTeamRole(row: TeamRoleRow) {
  const granted = new Set(row.rights);
  return {
    id: row.id,
    name: row.name,
    rights: TEAM_RIGHTS.map((right) => ({ right, granted: granted.has(right) })),
  };
}

/** The rights a request grants and revokes, each by Opsgenie's name; unknown ones are a 422 naming them. */
function rightsOf(input: RightInput[]): Map<string, boolean> {
  const unknown = [...new Set(input.map((r) => r.right).filter((r) => !isTeamRight(r)))];
  if (unknown.length > 0) {
    throw invalid(UNPROCESSABLE_BODY, {
      rights: `Unknown team right${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => JSON.stringify(r)).join(', ')}: Opsgenie's team rights are ${TEAM_RIGHTS.join(', ')}.`,
    });
  }
  // The last word on a right counts, as when a client appends a change to the list it read.
  return new Map(input.map((r) => [r.right, r.granted ?? true]));
}

function roleName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw invalidField('name', 'Give the role a name.');
  if (isBuiltInTeamRole(trimmed)) {
    throw invalidField(
      'name',
      `"${trimmed}" is a built-in team role: a team's own roles take other names (such as "Responder").`,
    );
  }
  return trimmed;
}

function builtInRefusal(identifier: string, what: string) {
  return invalid(
    `[${identifier}] is a built-in team role: it can not be ${what}. Team admins hold every right; users read the team's log.`,
  );
}

/** The lines the team's log says for the rights a role gained and lost. */
function rightsChange(name: string, before: readonly string[], after: readonly string[]): string[] {
  const granted = after.filter((r) => !before.includes(r));
  const revoked = before.filter((r) => !after.includes(r));
  if (granted.length === 0 && revoked.length === 0) return [];
  const parts = [
    ...(granted.length > 0 ? [`granted ${granted.join(', ')}`] : []),
    ...(revoked.length > 0 ? [`revoked ${revoked.join(', ')}`] : []),
  ];
  return [`Team role ${name} rights changed: ${parts.join('; ')}`];
}

export function createTeamRolesService(db: Db) {
  async function teamOf(p: Principal, identifier: string, by: By): Promise<TeamRow> {
    const team = await accountsRepository.findTeam(db, p.orgId, identifier, by);
    if (!team) throw notFound(`No team exists with ${by} [${identifier}].`);
    requireReachesTeamConfiguration(p, team.id, `team with ${by} [${identifier}]`);
    return team;
  }

  async function roleOf(team: TeamRow, identifier: string, by: By): Promise<TeamRoleRow> {
    const role = await repo.find(db, team.id, identifier, by);
    if (!role) throw notFound(`Team [${team.name}] has no role with ${by} [${identifier}].`);
    return role;
  }

  const requireEditor = (p: Principal, team: TeamRow) =>
    requireTeamRight(
      db,
      p,
      team.id,
      'edit-team-roles',
      `Only organization admins and those of team [${team.name}] with the edit-team-roles right (its admins) can change its roles.`,
    );

  /**
   * A 403 unless `p` may make `role` grant `after`: `p` must hold every right it grants, before and after,
   * and not hold the role itself, whose change would change its own rights and those of its fellow holders
   * (a team's admins and org admins hold no custom role).
   */
  async function requireMayChange(
    tx: Queryable,
    p: Principal,
    team: TeamRow,
    role: TeamRoleRow,
    after: readonly string[],
  ) {
    await requireHoldsRights(
      tx,
      p,
      team.id,
      [...role.rights, ...after],
      `Changing the role [${role.name}] in team [${team.name}] needs every right it grants, before and after`,
    );
    if (!isOrgAdmin(p) && p.userId !== undefined && (await repo.isHeldBy(tx, role.id, p.userId))) {
      throw forbidden(
        `You hold the role [${role.name}] in team [${team.name}]: an admin of the team changes it, not its holders.`,
      );
    }
  }

  const clash = (team: TeamRow, name: string) =>
    conflict(`Team [${team.name}] already has a role named [${name}].`);

  return {
    async list(p: Principal, teamIdentifier: string, teamBy: By) {
      const team = await teamOf(p, teamIdentifier, teamBy);
      return repo.list(db, team.id);
    },

    async get(p: Principal, teamIdentifier: string, teamBy: By, identifier: string, by: By) {
      return roleOf(await teamOf(p, teamIdentifier, teamBy), identifier, by);
    },

    async create(p: Principal, teamIdentifier: string, teamBy: By, input: TeamRoleInput) {
      const team = await teamOf(p, teamIdentifier, teamBy);
      await requireEditor(p, team);
      const name = roleName(input.name);
      const rights = [...rightsOf(input.rights)].filter(([, granted]) => granted).map(([right]) => right);
      await requireHoldsRights(
        db,
        p,
        team.id,
        rights,
        `Creating the role [${name}] in team [${team.name}] needs every right it is to grant`,
      );
      try {
        return await db.transaction().execute(async (tx) => {
          const role = await repo.insert(tx, { team_id: team.id, name, rights });
          await recordTeamChanges(tx, p, team.id, [
            `Team role ${name} created with ${rights.length > 0 ? `rights ${rights.join(', ')}` : 'no rights'}`,
          ]);
          return role;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw clash(team, name);
        throw error;
      }
    },

    /** Renames the role and/or grants and revokes the rights given; rights not given stay as they are. */
    async update(
      p: Principal,
      teamIdentifier: string,
      teamBy: By,
      identifier: string,
      by: By,
      changes: { name?: string; rights?: RightInput[] },
    ) {
      const team = await teamOf(p, teamIdentifier, teamBy);
      if (by === 'name' && isBuiltInTeamRole(identifier)) throw builtInRefusal(identifier, 'changed');
      await requireEditor(p, team);
      const name = changes.name === undefined ? undefined : roleName(changes.name);
      const given = changes.rights === undefined ? undefined : rightsOf(changes.rights);
      try {
        return await db.transaction().execute(async (tx) => {
          const current = await repo.find(tx, team.id, identifier, by);
          if (!current) throw notFound(`Team [${team.name}] has no role with ${by} [${identifier}].`);
          let rights = current.rights;
          if (given) {
            const kept = current.rights.filter((r) => given.get(r) !== false);
            const added = [...given].filter(([r, granted]) => granted && !kept.includes(r)).map(([r]) => r);
            rights = [...kept, ...added];
          }
          await requireMayChange(tx, p, team, current, rights);
          const updated = await repo.update(tx, current.id, { name, rights });
          const lines = [
            ...(name !== undefined && name !== current.name
              ? [`Team role ${current.name} renamed to ${name}`]
              : []),
            ...rightsChange(updated.name, current.rights, updated.rights),
          ];
          await recordTeamChanges(tx, p, team.id, lines);
          return updated;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw clash(team, name ?? identifier);
        throw error;
      }
    },

    /** Deletes a role no member holds (as Opsgenie, which refuses to delete one in use). */
    async remove(p: Principal, teamIdentifier: string, teamBy: By, identifier: string, by: By) {
      const team = await teamOf(p, teamIdentifier, teamBy);
      if (by === 'name' && isBuiltInTeamRole(identifier)) throw builtInRefusal(identifier, 'deleted');
      await requireEditor(p, team);
      await db.transaction().execute(async (tx) => {
        const role = await repo.find(tx, team.id, identifier, by);
        if (!role) throw notFound(`Team [${team.name}] has no role with ${by} [${identifier}].`);
        await requireHoldsRights(
          tx,
          p,
          team.id,
          role.rights,
          `Deleting the role [${role.name}] in team [${team.name}] needs every right it grants`,
        );
        const holders = await repo.holders(tx, role.id);
        const inUse = () =>
          invalid(
            `Role [${role.name}] is held by ${holders.length > 0 ? holders.join(', ') : 'a member'} of team [${team.name}]: give them another role first (POST /v2/teams/{id}/members).`,
          );
        if (holders.length > 0) throw inUse();
        try {
          await repo.remove(tx, role.id);
        } catch (error) {
          // Given to someone since the holders were read: the member's reference holds the role.
          if ((error as { code?: string } | null)?.code === '23503') throw inUse();
          throw error;
        }
        await recordTeamChanges(tx, p, team.id, [`Team role ${role.name} deleted`]);
      });
    },
  };
}

export type TeamRolesService = ReturnType<typeof createTeamRolesService>;
