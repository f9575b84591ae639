import type { Queryable } from '../../db/database.js';
import type { EscalationRow } from '../../db/schema.js';
import { matchesCriteria, type MatchableAlert } from '../conditions.js';
import type { EscalationNotifyType, EscalationPlan, EscalationRecipient } from '../model.js';
import { withinTimeRestriction } from '../schedule.js';
import { escalationsRepository } from '../escalations/repository.js';
import { routingRepository, type RoutingRow } from './repository.js';

/**
 * The routing decision for a new alert of a team: the first rule (by position, the default rule last) whose
 * criteria match the alert and whose time restriction contains `at` decides what it notifies. Two queries at
 * most: the team's rules, then the escalation the chosen rule names.
 *
 * - 'escalation': the policy as it is now (the engine keeps this copy for the alert's whole escalation).
 * - 'schedule': a one-rule policy paging whoever is on call in the schedule at once, until acknowledged.
 * - 'none': the rule says not to notify anyone.
 * - 'team-members': no rule applies (the team has set no default rule), or the rule's escalation or schedule
 *   has since been deleted: every member of the team is paged at once, so that the alert never goes
 *   unseen through a gap in the routing.
 *
 * `ruleName` is what the alert's activity log calls the rule: its name, or "(unnamed)" for one without.
 */
type Decision =
  | { kind: 'escalation'; ruleId: string; ruleName: string; escalationId: string; plan: EscalationPlan }
  | { kind: 'schedule'; ruleId: string; ruleName: string; scheduleId: string; plan: EscalationPlan }
  | { kind: 'none'; ruleId: string; ruleName: string }
  | { kind: 'team-members'; plan: EscalationPlan };

/**
 * The decision, and the team's name (for the activity log, without asking again). `teamGone`: the team was
 * deleted since the alert named it, so it has no rules and no members left; the decision is then
 * 'team-members' (nobody), and the caller says that nobody is paged rather than that every member is.
 */
export type RouteDecision = Decision & { teamName: string; teamGone?: true };

/** "Security team members"; a team called "Platform team" gives "Platform team members". */
function teamMembersPlanName(teamName: string): string {
  return /\bteam$/i.test(teamName) ? `${teamName} members` : `${teamName} team members`;
}

/** A policy of one rule: notify the recipient at once, until the alert is acknowledged. */
export function oneRulePlan(
  name: string,
  recipient: EscalationRecipient,
  notifyType: EscalationNotifyType = 'default',
): EscalationPlan {
  return {
    name,
    rules: [{ condition: 'if-not-acked', notifyType, delayMinutes: 0, recipient }],
    repeat: null,
  };
}

export function teamMembersPlan(teamId: string, teamName: string, why?: string): EscalationPlan {
  const name = why ? `${teamMembersPlanName(teamName)} (${why})` : teamMembersPlanName(teamName);
  return oneRulePlan(name, { type: 'team', id: teamId }, 'all');
}

/** What an escalation runs of a stored policy: its rules and repeat, as they are now. */
export function planOf(escalation: Pick<EscalationRow, 'name' | 'rules' | 'repeat'>): EscalationPlan {
  const repeat = escalation.repeat;
  return {
    name: escalation.name,
    rules: escalation.rules,
    // Only the engine's fields: the stored value also keeps Opsgenie's resetRecipientStates.
    repeat: repeat
      ? {
          waitIntervalMinutes: repeat.waitIntervalMinutes,
          count: repeat.count,
          closeAlertAfterAll: repeat.closeAlertAfterAll,
        }
      : null,
  };
}

export function schedulePlan(scheduleId: string, scheduleName: string): EscalationPlan {
  return oneRulePlan(`On call in schedule ${scheduleName}`, { type: 'schedule', id: scheduleId });
}

type StoredRule = RoutingRow & {
  id: string;
  name: string;
  criteria: NonNullable<RoutingRow['criteria']>;
  timezone: string;
  notify_type: NonNullable<RoutingRow['notify_type']>;
};

function applies(rule: StoredRule, alert: MatchableAlert, at: Date): boolean {
  if (!matchesCriteria(rule.criteria, alert)) return false;
  if (rule.time_restriction === null) return true;
  try {
    return withinTimeRestriction(rule.time_restriction, rule.timezone, at);
  } catch {
    // Checked when saved, so only a time zone dropped from the tz database gets here: rather than fail
    // the alert's routing on every retry, the rule applies at all times.
    return true;
  }
}

/**
 * What routing reads: a team's rules and an escalation policy. The engine routes a batch of alerts with
 * reads it caches for the batch (most alerts of a burst go to the same few teams); alone, straight from
 * the repositories.
 */
export interface RoutingReads {
  rules(teamId: string): Promise<RoutingRow[]>;
  escalation(id: string): ReturnType<typeof escalationsRepository.byId>;
}

export function routingReads(q: Queryable): RoutingReads {
  return {
    rules: (teamId) => routingRepository.forRouting(q, teamId),
    escalation: (id) => escalationsRepository.byId(q, id),
  };
}

export async function routeAlert(
  q: Queryable,
  teamId: string,
  alert: MatchableAlert,
  at: Date,
  reads: RoutingReads = routingReads(q),
): Promise<RouteDecision> {
  const rows = await reads.rules(teamId);
  const [first] = rows;
  if (!first) {
    const teamName = '(deleted)';
    return { kind: 'team-members', plan: teamMembersPlan(teamId, teamName), teamName, teamGone: true };
  }
  const teamName = first.team_name;
  return { ...(await decide(reads, teamId, teamName, rows, alert, at)), teamName };
}

async function decide(
  reads: RoutingReads,
  teamId: string,
  teamName: string,
  rows: RoutingRow[],
  alert: MatchableAlert,
  at: Date,
): Promise<Decision> {
  const rules = rows.filter((r): r is StoredRule => r.id !== null);
  const rule = rules.find((r) => applies(r, alert, at));
  if (!rule) return { kind: 'team-members', plan: teamMembersPlan(teamId, teamName) };

  const ruleName = rule.name === '' ? '(unnamed)' : rule.name;
  const decided = { ruleId: rule.id, ruleName };
  switch (rule.notify_type) {
    case 'none':
      return { kind: 'none', ...decided };
    case 'schedule': {
      if (rule.target_id === null || rule.schedule_name === null) {
        const why = `the schedule of routing rule ${ruleName} no longer exists`;
        return { kind: 'team-members', plan: teamMembersPlan(teamId, teamName, why) };
      }
      return {
        kind: 'schedule',
        ...decided,
        scheduleId: rule.target_id,
        plan: schedulePlan(rule.target_id, rule.schedule_name),
      };
    }
    case 'escalation': {
      const escalation = rule.target_id === null ? undefined : await reads.escalation(rule.target_id);
      if (!escalation) {
        const why = `the escalation of routing rule ${ruleName} no longer exists`;
        return { kind: 'team-members', plan: teamMembersPlan(teamId, teamName, why) };
      }
      return {
        kind: 'escalation',
        ...decided,
        escalationId: escalation.id,
        plan: planOf(escalation),
      };
    }
  }
}
