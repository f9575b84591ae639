import { builtInTeamRoleOf, isBuiltInTeamRole } from '../../accounts/team-rights.js';
import { eachItem, enc, isRecord, readList, resolveUser, Skip, type ImportContext } from './context.js';
import { shaped, TeamShape, TeamSummaryShape } from './shapes.js';
import { importTeamRoles } from './team-roles.js';
import { nameKey } from '../../db/name-key.js';

/**
 * Teams, their custom roles and their members, matched by name. Members Opsgenie has are added (or given
 * Opsgenie's role: admin, user or one of the team's roles); members only Vigil has stay.
 */

const TEAM_NAME = /^[\w .-]{1,100}$/;

/** Opsgenie team id → what Vigil has of it: for routing rules. */
export interface ImportedTeam {
  sourceId: string;
  name: string;
  existsInVigil: boolean;
}

async function vigilTeam(ctx: ImportContext, name: string) {
  const team = await ctx.target.get(`/v2/teams/${enc(name)}?identifierType=name`);
  const members = new Map<string, string>();
  const description = isRecord(team) && typeof team.description === 'string' ? team.description : '';
  if (isRecord(team) && Array.isArray(team.members))
    for (const m of team.members as unknown[])
      if (isRecord(m) && isRecord(m.user) && typeof m.user.username === 'string')
        members.set(m.user.username.toLowerCase(), typeof m.role === 'string' ? m.role : 'user');
  return { members, description };
}

export async function importTeams(ctx: ImportContext): Promise<ImportedTeam[]> {
  const items = await readList(ctx, 'team', 'teams', async () => {
    const got = await ctx.source.get('/v2/teams');
    return Array.isArray(got) ? got : [];
  });
  if (!items) return [];
  const targetList = await ctx.target.get('/v2/teams');
  const existing = new Map<string, string>();
  for (const t of Array.isArray(targetList) ? targetList : [])
    if (isRecord(t) && typeof t.name === 'string') existing.set(t.name.toLowerCase(), t.name);
  const imported: ImportedTeam[] = [];
  await eachItem(ctx, 'team', TeamSummaryShape, items, async (summary) => {
    if (!TEAM_NAME.test(summary.name))
      throw new Skip('Vigil team names are letters, digits, spaces, dots, hyphens and underscores');
    const got = shaped(TeamShape, await ctx.source.get(`/v2/teams/${enc(summary.id)}`));
    if (!got.ok) throw new Skip(got.why);
    const team = got.value;
    // Opsgenie's role names as given: admin, user, or one of the team's own roles.
    const given: { username: string; role: string }[] = [];
    const missing: string[] = [];
    for (const m of team.members ?? []) {
      const user = resolveUser(ctx, m.user);
      if (!user.ok) missing.push(m.user.username ?? m.user.id ?? '?');
      else given.push({ username: user.value, role: m.role ?? 'user' });
    }
    /** Each member with the role Vigil can give them, once the team's roles are in. */
    const membersWith = (roles: Map<string, string>) =>
      given.map((m) => ({
        username: m.username,
        role: builtInTeamRoleOf(m.role) ?? roles.get(nameKey(m.role)) ?? 'user',
      }));
    const notesWith = (roles: Map<string, string>) => {
      const lost = given.filter((m) => !isBuiltInTeamRole(m.role) && !roles.has(nameKey(m.role)));
      return [
        ...(missing.length > 0 ? [`members not imported: ${missing.join(', ')}`] : []),
        ...(lost.length > 0
          ? [
              `made users, their role not imported: ${lost.map((m) => `${m.username} (${m.role})`).join(', ')}`,
            ]
          : []),
      ].join('; ');
    };
    const description = team.description ?? '';
    const haveName = existing.get(team.name.toLowerCase());
    if (!haveName) {
      // Vigil lists members in the order they were added, and one given another role keeps their place:
      // so every member comes with the team, in Opsgenie's order (holders of the team's own roles, which
      // do not exist yet, as users), and gets their role once the roles are made.
      if (!ctx.dryRun)
        await ctx.target.post('/v2/teams', {
          name: team.name,
          description,
          members: given.map((m) => ({
            user: { username: m.username },
            role: builtInTeamRoleOf(m.role) ?? 'user',
          })),
        });
      const roles = await importTeamRoles(ctx, team, ctx.dryRun ? undefined : team.name);
      if (!ctx.dryRun)
        for (const m of membersWith(roles).filter((m) => !isBuiltInTeamRole(m.role)))
          await ctx.target.post(`/v2/teams/${enc(team.name)}/members?identifierType=name`, {
            user: { username: m.username },
            role: m.role,
          });
      ctx.report.record('team', team.name, 'created', notesWith(roles));
      ctx.teams.set(team.id, team.name);
      imported.push({ sourceId: team.id, name: team.name, existsInVigil: false });
      return;
    }
    const current = await vigilTeam(ctx, haveName);
    const roles = await importTeamRoles(ctx, team, haveName);
    const notes = notesWith(roles);
    const toAdd = membersWith(roles).filter(
      (m) => current.members.get(m.username.toLowerCase())?.toLowerCase() !== m.role.toLowerCase(),
    );
    const descriptionChanged = description !== '' && current.description !== description;
    if (!ctx.dryRun) {
      if (descriptionChanged)
        await ctx.target.patch(`/v2/teams/${enc(haveName)}?identifierType=name`, { description });
      for (const m of toAdd)
        await ctx.target.post(`/v2/teams/${enc(haveName)}/members?identifierType=name`, {
          user: { username: m.username },
          role: m.role,
        });
    }
    const changes = [
      ...(descriptionChanged ? ['description'] : []),
      ...(toAdd.length > 0 ? [`members ${toAdd.map((m) => `${m.username} (${m.role})`).join(', ')}`] : []),
    ];
    ctx.report.record(
      'team',
      team.name,
      changes.length > 0 ? 'updated' : 'unchanged',
      [changes.join('; '), notes].filter(Boolean).join('; '),
    );
    ctx.teams.set(team.id, haveName);
    imported.push({ sourceId: team.id, name: haveName, existsInVigil: true });
  });
  return imported;
}
