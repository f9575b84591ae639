import { customRoleOf, userHolds } from '../accounts/custom-roles/rights.js';
import { accountsRepository } from '../accounts/repository.js';
import type { Principal } from '../accounts/service.js';
import type { Queryable } from '../db/database.js';
import { alertsRepository, type AlertScope } from './repository.js';

/**
 * The alerts `p` may see and act on. As in Opsgenie:
 * - the key of a team's integration only its team's alerts and those it made (repository.ts,
 *   `isIntegrations`): the others answer as if they did not exist, so it learns nothing of them;
 * - a user only "their" alerts (repository.ts, `isTheirs`) unless they hold the alerts-access-all right
 *   ("Access All Alerts"), which Opsgenie's default user role lacks and a custom role may grant;
 * - org owners and admins, and keys of no user, every alert of the organization.
 * A user's scope costs a query for their teams, one for how many alerts a member of a team was notified
 * of (a bound read, once per request: how their scope is tested, repository.ts `FEW_NOTIFIED`), and one
 * for their custom role when they hold one.
 */
export async function alertScopeOf(q: Queryable, p: Principal): Promise<AlertScope> {
  if (p.integration) {
    return { orgId: p.orgId, integration: { id: p.integration.id, teamId: p.integration.teamId } };
  }
  if (p.role !== 'user' || p.userId === undefined) return { orgId: p.orgId };
  if (userHolds(await customRoleOf(q, p), 'alerts-access-all')) return { orgId: p.orgId };
  const teams = await accountsRepository.teamsOfUser(q, p.userId);
  // Only a team's member sees enough alerts for a plan to walk them (repository.ts FEW_NOTIFIED): for a
  // user without teams the notified alerts as a list keep their scope on its indexes, any number of them.
  const notifiedOfMany = teams.length > 0 && (await alertsRepository.notifiedOfMany(q, p.userId));
  return {
    orgId: p.orgId,
    viewer: {
      userId: p.userId,
      username: p.username || undefined,
      teamIds: teams.map((t) => t.id),
      notifiedOfMany,
    },
  };
}
