import { Type } from 'typebox';
import { isBuiltInTeamRole, isTeamRight, TEAM_RIGHTS } from '../../accounts/team-rights.js';
import { eachItem, enc, errorText, isRecord, Skip, type ImportContext } from './context.js';
import { nameKey } from '../../db/name-key.js';

/**
 * A team's custom roles (Opsgenie's Team Role API), matched by name: made where Vigil lacks them, their
 * rights brought to Opsgenie's where they differ. Read before the team's members, who may hold them.
 */

const RoleShape = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  rights: Type.Optional(
    Type.Array(
      Type.Object({ right: Type.String({ maxLength: 200 }), granted: Type.Optional(Type.Boolean()) }),
      { maxItems: 1000 },
    ),
  ),
});

function grantedOf(rights: readonly { right: string; granted?: boolean }[] | undefined): string[] {
  return [...new Set((rights ?? []).filter((r) => r.granted !== false).map((r) => r.right))];
}

/** Vigil's roles of the team, by lower-case name; none when the team is not in Vigil (yet). */
async function vigilRoles(ctx: ImportContext, teamName: string | undefined) {
  const roles = new Map<string, { name: string; granted: string[] }>();
  if (teamName === undefined) return roles;
  const got = await ctx.target.get(`/v2/teams/${enc(teamName)}/roles?teamIdentifierType=name`);
  for (const r of Array.isArray(got) ? got : [])
    if (isRecord(r) && typeof r.name === 'string' && Array.isArray(r.rights))
      roles.set(nameKey(r.name), { name: r.name, granted: grantedOf(r.rights as never) });
  return roles;
}

/**
 * Imports the roles of Opsgenie's team `source` into Vigil's team `teamName` (undefined: a team a dry run
 * would create). Answers the roles members can be given there, by lower-case name.
 */
export async function importTeamRoles(
  ctx: ImportContext,
  source: { id: string; name: string },
  teamName: string | undefined,
): Promise<Map<string, string>> {
  const usable = new Map<string, string>();
  let items: unknown[];
  try {
    const got = await ctx.source.get(`/v2/teams/${enc(source.id)}/roles`);
    items = Array.isArray(got) ? got : [];
  } catch (error) {
    // Opsgenie plans without custom roles answer with an error: the members keep the built-in roles.
    ctx.report.record(
      'team role',
      `(roles of ${source.name})`,
      'skipped',
      `could not read them: ${errorText(error)}`,
    );
    return usable;
  }
  const current = await vigilRoles(ctx, teamName);
  const path = `/v2/teams/${enc(teamName ?? source.name)}/roles`;
  await eachItem(
    ctx,
    'team role',
    RoleShape,
    items,
    async (role) => {
      const label = `${source.name}/${role.name}`;
      if (isBuiltInTeamRole(role.name)) throw new Skip('a built-in role: Vigil has it');
      const granted = grantedOf(role.rights);
      const unknown = granted.filter((r) => !isTeamRight(r));
      const rights = granted.filter(isTeamRight);
      const notes = unknown.length > 0 ? `rights Vigil does not know left out: ${unknown.join(', ')}` : '';
      const have = current.get(nameKey(role.name));
      if (!have) {
        if (!ctx.dryRun)
          await ctx.target.post(`${path}?teamIdentifierType=name`, {
            name: role.name,
            rights: rights.map((right) => ({ right, granted: true })),
          });
        ctx.report.record('team role', label, 'created', notes);
        usable.set(nameKey(role.name), role.name);
        return;
      }
      const same = have.granted.length === rights.length && rights.every((r) => have.granted.includes(r));
      if (!same && !ctx.dryRun)
        await ctx.target.patch(`${path}/${enc(have.name)}?teamIdentifierType=name&identifierType=name`, {
          rights: TEAM_RIGHTS.map((right) => ({ right, granted: rights.includes(right) })),
        });
      ctx.report.record('team role', label, same ? 'unchanged' : 'updated', notes);
      usable.set(nameKey(role.name), have.name);
    },
    (raw) => `${source.name}/${typeof raw.name === 'string' ? raw.name : '?'}`,
  );
  return usable;
}
