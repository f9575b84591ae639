import type { Queryable } from '../../db/database.js';
import type { Principal } from '../service.js';

/**
 * A team's log (Opsgenie's List Team Logs): the one way its lines are written. Whatever changes a team,
 * its members, its roles or its routing rules writes its lines here, in the transaction of the change,
 * so the log says what happened and nothing that did not.
 */

/** Who the log names: a person by their username, as Opsgenie does; an integration's key by its name. */
export function teamLogOwner(p: Principal): string {
  return p.username ?? (p.integration ? `integration ${p.integration.name}` : p.fullName) ?? 'API';
}

export async function recordTeamChanges(
  q: Queryable,
  p: Principal,
  teamId: string,
  lines: readonly string[],
): Promise<void> {
  if (lines.length === 0) return;
  const owner = teamLogOwner(p);
  await q
    .insertInto('team_logs')
    .values(lines.map((log) => ({ team_id: teamId, log: `${log} by ${owner}`, owner })))
    .execute();
}

/** The lines that say how a team's members went from `before` to `after` (roles by their shown names). */
export function memberChanges(
  before: readonly { username: string; role: string }[],
  after: readonly { username: string; role: string }[],
): string[] {
  const was = new Map(before.map((m) => [m.username, m.role]));
  const is = new Map(after.map((m) => [m.username, m.role]));
  const lines: string[] = [];
  for (const [username, role] of is) {
    const old = was.get(username);
    if (old === undefined) lines.push(`${username} added to the team as ${role}`);
    else if (old !== role) lines.push(`${username}'s role in the team changed from ${old} to ${role}`);
  }
  for (const username of was.keys()) {
    if (!is.has(username)) lines.push(`${username} removed from the team`);
  }
  return lines;
}

/** A page of a team's log, by id as the cursor (Opsgenie's `offset`). */
export async function teamLogPage(
  q: Queryable,
  teamId: string,
  page: { after?: string; order: 'asc' | 'desc'; limit: number },
) {
  let query = q
    .selectFrom('team_logs')
    .select(['id', 'log', 'owner', 'created_at'])
    .where('team_id', '=', teamId);
  if (page.after !== undefined)
    query = query.where('id', page.order === 'asc' ? '>' : '<', page.after as never);
  return query.orderBy('id', page.order).limit(page.limit).execute();
}
