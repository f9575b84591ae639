import type { Queryable } from '../../db/database.js';
import type { AlertRow } from '../../db/schema.js';
import {
  durationMs,
  type AutoRestartAction,
  type DeduplicationAction,
  type DelayAction,
  type NotificationActions,
} from '../../alerts/policies/notification-model.js';
import { maintenanceRepository, type PolicyRuleWindow } from '../../maintenance/repository.js';
import { policyOnAt } from '../../maintenance/service.js';
import { policiesRepository } from '../../alerts/policies/repository.js';
import { appliesAt, nextUntil, type PolicyTiming } from '../../alerts/policies/timing.js';
import {
  matchesCriteria,
  parseCriteria,
  POLICY_CONDITIONS,
  usesResponders,
  type MatchableAlert,
} from '../../oncall/conditions.js';
import type { Criteria } from '../../oncall/model.js';

/**
 * What a team's notification policies (alerts/policies/notification-model.ts) do to a new alert's
 * escalation of that team: read once per organization and engine transaction (SetupReads), so a batch of
 * alerts costs one read per organization whatever its size. As in Opsgenie, a team's policies are tried in
 * their order and the first enabled one whose filter matches the alert and whose time restrictions hold
 * when the alert reached the team (its creation, or when the team was added as a responder) applies; a
 * maintenance that disables a policy (maintenance/) keeps it from applying while active, one that enables a
 * disabled policy has it apply.
 */

interface TeamPolicy {
  id: string;
  name: string;
  filter: Criteria;
  actions: NotificationActions;
  timing: PolicyTiming;
  enabled: boolean;
  /** The maintenances that disable or enable it (not over when read). */
  maintenances: PolicyRuleWindow[];
}

export interface NotificationPolicies {
  byTeam: ReadonlyMap<string, readonly TeamPolicy[]>;
  /** Whether some filter looks at the alert's teams or recipients (the alert's responders must be named). */
  usesResponders: boolean;
}

/** What the policy that applies to a team's escalation of an alert does. */
export interface NotificationDecision {
  policyId: string;
  policyName: string;
  suppress: boolean;
  /** When the escalation starts instead, given when it would have. */
  delayUntil?: (base: Date) => Date;
  deduplication?: DeduplicationAction;
  autoRestart?: AutoRestartAction;
  /** The alert is closed this long after its creation, if still open. */
  autoCloseMs?: number;
}

/** When a delayed escalation starts, given when it would have. */
function delayEnd(delay: DelayAction, timezone: string, base: Date): Date {
  return delay.delayOption === 'for-duration'
    ? new Date(base.getTime() + durationMs(delay.duration))
    : nextUntil(delay.delayOption, delay.untilHour, delay.untilMinute, timezone, base);
}

export async function loadNotificationPolicies(
  db: Queryable,
  orgId: string,
  now: Date,
): Promise<NotificationPolicies> {
  const rows = await policiesRepository.runnable(db, orgId, 'notification', now);
  if (rows.length === 0) return { byTeam: new Map(), usesResponders: false };
  const windows = await maintenanceRepository.policyWindows(db, orgId, now);
  const byTeam = new Map<string, TeamPolicy[]>();
  for (const row of rows) {
    if (!row.team_id || !row.notification_actions) continue;
    let filter: Criteria;
    try {
      filter = parseCriteria(row.filter, 'filter', { ...POLICY_CONDITIONS, stored: true });
    } catch {
      // Checked when saved; a filter that no longer parses matches nothing.
      continue;
    }
    const policy: TeamPolicy = {
      id: row.id,
      name: row.name,
      filter,
      actions: row.notification_actions as unknown as NotificationActions,
      timing: { timeRestriction: row.time_restriction, timezone: row.timezone },
      enabled: row.enabled,
      maintenances: windows.filter((w) => w.policy_id === row.id),
    };
    byTeam.set(row.team_id, [...(byTeam.get(row.team_id) ?? []), policy]);
  }
  const all = [...byTeam.values()].flat();
  return { byTeam, usesResponders: all.some((p) => usesResponders(p.filter)) };
}

/**
 * Whether a team's notification policies apply to the alert at all. As Opsgenie's team policies, they
 * apply only to an alert of the team's policy scope, decided when it was created (alerts/service.ts,
 * PolicyScope: made with the team's integration, routed to that team alone by a global one, or made from
 * an incident the team owns or responds to), kept as `policy_team_ids`: another team responder of it (one
 * named in the payload, or added later) is paged by its routing whatever its own policies say. An alert
 * made before that column (null) has every team responder's policies apply, as they did.
 */
export function teamPoliciesApply(alert: Pick<AlertRow, 'policy_team_ids'>, teamId: string): boolean {
  return alert.policy_team_ids === null || alert.policy_team_ids.includes(teamId);
}

/**
 * The first of the team's policies that applies to the alert (which reached the team at `reachedAt`,
 * engine clock) at `now`, as what it does; or undefined.
 */
export function decideForTeam(
  policies: NotificationPolicies,
  teamId: string,
  alert: MatchableAlert,
  reachedAt: Date,
  now: Date,
): NotificationDecision | undefined {
  for (const policy of policies.byTeam.get(teamId) ?? []) {
    if (!policyOnAt(policy.enabled, policy.maintenances, now)) continue;
    if (!appliesAt(policy.timing, reachedAt)) continue;
    if (!matchesCriteria(policy.filter, alert)) continue;
    return decisionOf(policy.id, policy.name, policy.actions, policy.timing.timezone);
  }
  return undefined;
}

/** What a policy with these actions does, its `next-*` delays read in `timezone`. */
export function decisionOf(
  policyId: string,
  policyName: string,
  actions: NotificationActions,
  timezone: string,
): NotificationDecision {
  const { suppress, delayAction, deduplicationAction, autoRestartAction, autoCloseAction } = actions;
  return {
    policyId,
    policyName,
    suppress: suppress === true,
    ...(delayAction ? { delayUntil: (base: Date) => delayEnd(delayAction, timezone, base) } : {}),
    ...(deduplicationAction ? { deduplication: deduplicationAction } : {}),
    ...(autoRestartAction ? { autoRestart: autoRestartAction } : {}),
    ...(autoCloseAction ? { autoCloseMs: durationMs(autoCloseAction.duration) } : {}),
  };
}
