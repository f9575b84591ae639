import type { Queryable } from '../../db/database.js';
import { durationMs, type NotificationActions } from '../../alerts/policies/notification-model.js';
import { policiesRepository } from '../../alerts/policies/repository.js';
import { maintenanceRepository } from '../../maintenance/repository.js';
import { isOpenAt } from '../../maintenance/service.js';
import { matchesCriteria, parseCriteria, type MatchableAlert } from '../../oncall/conditions.js';
import type { Criteria } from '../../oncall/model.js';

/**
 * What a team's notification policies (alerts/policies/notification-model.ts) do to a new alert's
 * escalation of that team: read once per organization and engine transaction (SetupReads), so a batch of
 * alerts costs one read per organization whatever its size. As in Opsgenie, a team's policies are tried in
 * their order and the first enabled one whose filter matches applies; a maintenance that disables a policy
 * (maintenance/) keeps it from applying while active.
 */

interface TeamPolicy {
  name: string;
  filter: Criteria;
  actions: NotificationActions;
  /** The maintenances that disable it (not over when read), as start and end. */
  maintenances: { start_at: Date; end_at: Date | null }[];
}

export type NotificationPolicies = ReadonlyMap<string, readonly TeamPolicy[]>;

/** What the policy that applies to a team's escalation of an alert does. */
export interface NotificationDecision {
  policyName: string;
  suppress: boolean;
  /** The escalation starts this long after it would have. */
  delayMs?: number;
  /** The alert is closed this long after its creation, if still open. */
  autoCloseMs?: number;
}

export async function loadNotificationPolicies(
  db: Queryable,
  orgId: string,
  now: Date,
): Promise<NotificationPolicies> {
  const rows = await policiesRepository.enabled(db, orgId, 'notification');
  if (rows.length === 0) return new Map();
  const windows = await maintenanceRepository.policyWindows(db, orgId, now);
  const byTeam = new Map<string, TeamPolicy[]>();
  for (const row of rows) {
    if (!row.team_id || !row.notification_actions) continue;
    let filter: Criteria;
    try {
      filter = parseCriteria(row.filter, 'filter');
    } catch {
      // Checked when saved; a filter that no longer parses matches nothing.
      continue;
    }
    const policy: TeamPolicy = {
      name: row.name,
      filter,
      actions: row.notification_actions as unknown as NotificationActions,
      maintenances: windows.filter((w) => w.policy_id === row.id),
    };
    byTeam.set(row.team_id, [...(byTeam.get(row.team_id) ?? []), policy]);
  }
  return byTeam;
}

/** The first of the team's policies that applies to the alert at `now`, as what it does; or undefined. */
export function decideForTeam(
  policies: NotificationPolicies,
  teamId: string,
  alert: MatchableAlert,
  now: Date,
): NotificationDecision | undefined {
  for (const policy of policies.get(teamId) ?? []) {
    if (policy.maintenances.some((w) => isOpenAt(w, now))) continue;
    if (!matchesCriteria(policy.filter, alert)) continue;
    const { suppress, delayAction, autoCloseAction } = policy.actions;
    return {
      policyName: policy.name,
      suppress,
      ...(delayAction ? { delayMs: durationMs(delayAction.duration) } : {}),
      ...(autoCloseAction ? { autoCloseMs: durationMs(autoCloseAction.duration) } : {}),
    };
  }
  return undefined;
}
