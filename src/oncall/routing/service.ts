import { IANAZone } from 'luxon';
import { accountsRepository } from '../../accounts/repository.js';
import type { Principal } from '../../accounts/service.js';
import { requireTeamRight } from '../../accounts/team-rights.js';
import { recordTeamChanges } from '../../accounts/team-log/log.js';
import type { Db, Queryable } from '../../db/database.js';
import { invalid, invalidField, notFound, UNPROCESSABLE_BODY } from '../../errors.js';
import { parseCriteria, presentCriteria } from '../conditions.js';
import { escalationsRepository } from '../escalations/repository.js';
import { schedulesRepository } from '../schedules/repository.js';
import type { RoutingNotifyType, TimeRestriction } from '../model.js';
import { validateTimeRestriction } from '../schedule.js';
import { fieldOfProblem } from '../schedules/input.js';
import {
  presentTimeRestriction,
  timeRestrictionOf,
  type TimeRestrictionInput,
} from '../time-restriction-input.js';
import {
  routingRepository as repo,
  type RoutingRuleValues,
  type RoutingRuleWithTarget,
} from './repository.js';
import { requireReachesNamed, requireReachesTeamConfiguration } from '../../integrations/principal.js';

/**
 * A team's routing rules: which escalation (or schedule, or nobody) an alert for the team notifies. Rules are
 * tried in order; the default rule, which matches everything, comes last. A team without a default rule
 * notifies every member at once when no rule applies.
 */

export const MAX_ROUTING_RULES = 100;
export const DEFAULT_RULE_NAME = 'Default rule';
/** The path segment that names a team's default rule, whether it is stored yet or not. */
export const DEFAULT_RULE_ID = 'default';

/**
 * How the team's log names a rule. A rule made without a name keeps none (Terraform's `name` is optional
 * and not computed: a name Vigil made up would be a change on every plan).
 */
export function ruleTitle(name: string): string {
  return name === '' ? 'Unnamed routing rule' : `Routing rule ${name}`;
}

export interface NotifyInput {
  type: RoutingNotifyType;
  id?: string;
  name?: string;
}

export interface RoutingRuleInput {
  name?: string;
  order?: number;
  timezone?: string;
  criteria?: unknown;
  timeRestriction?: TimeRestrictionInput | null;
  notify: NotifyInput;
}

export type RoutingRuleChanges = Partial<RoutingRuleInput>;

export interface TeamIdentifier {
  identifier: string;
  by: 'id' | 'name';
}

export function presentRoutingRule(row: RoutingRuleWithTarget, order: number) {
  return {
    id: row.id,
    name: row.name,
    isDefault: row.is_default,
    order,
    criteria: presentCriteria(row.criteria),
    timezone: row.timezone,
    ...(row.time_restriction ? { timeRestriction: presentTimeRestriction(row.time_restriction) } : {}),
    notify:
      row.notify_type === 'none'
        ? { type: 'none' as const }
        : { type: row.notify_type, id: row.target_id, name: row.target_name },
  };
}

/** What a team without a stored default rule does when no rule applies (see route.ts). */
export function syntheticDefaultRule(order: number) {
  return {
    id: DEFAULT_RULE_ID,
    name: DEFAULT_RULE_NAME,
    isDefault: true,
    order,
    criteria: { type: 'match-all' as const },
    timezone: 'UTC',
    notify: { type: 'team-members' as const },
  };
}

export type PresentedRoutingRule =
  ReturnType<typeof presentRoutingRule> | ReturnType<typeof syntheticDefaultRule>;

/** Criteria that match every alert: {"type": "match-all"}, with no conditions or an empty list of them. */
function isMatchAllWithoutConditions(criteria: unknown): boolean {
  if (typeof criteria !== 'object' || criteria === null) return false;
  const { type, conditions } = criteria as { type?: unknown; conditions?: unknown };
  const noConditions = conditions === undefined || (Array.isArray(conditions) && conditions.length === 0);
  return (type === undefined || type === 'match-all') && noConditions;
}

function isTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

export function checkTimezone(zone: string): void {
  if (!isTimeZone(zone)) {
    throw invalidField(
      'timezone',
      `"${zone}" is not an IANA time zone, such as Europe/Berlin or America/New_York.`,
    );
  }
}

/** The stored shape, checked: days only (and always) on weekday windows; the zone must exist. */
export function toTimeRestriction(
  input: TimeRestrictionInput,
  timezone: string,
  field = 'timeRestriction',
): TimeRestriction {
  const { restriction, form } = timeRestrictionOf(input, field);
  const windows = restriction.restrictions;
  if (windows.length === 0) {
    throw invalidField(
      field,
      'has no window: give "restriction": {"startHour", "startMin", "endHour", "endMin"} or "restrictions": [...], or leave timeRestriction out to apply at all times.',
    );
  }
  const where = (i: number) =>
    form === 'restrictions' ? `${field}.restrictions[${i}]` : `${field}.restriction`;
  for (const [i, w] of windows.entries()) {
    for (const day of ['startDay', 'endDay'] as const) {
      if (input.type === 'weekday-and-time-of-day' && w[day] === undefined) {
        throw invalidField(`${where(i)}.${day}`, 'is required for a weekday-and-time-of-day restriction.');
      }
      if (input.type === 'time-of-day' && w[day] !== undefined) {
        throw invalidField(
          `${where(i)}.${day}`,
          'is not used by a time-of-day restriction: remove it, or use the weekday-and-time-of-day type.',
        );
      }
    }
  }
  // The schedule module evaluates it; let it have the last word on what it can evaluate.
  const problems = validateTimeRestriction(restriction, timezone);
  if (problems.length > 0) {
    // Named as schedules name them: timeRestriction.restriction.endHour and the like.
    const errors: Record<string, string> = {};
    for (const problem of problems) {
      const named = fieldOfProblem(problem.replace(/^timeRestriction: /, ''), '', form);
      const at = named.field.replace(/^timeRestriction/, field);
      const { message } = named;
      errors[at] = errors[at] ? `${errors[at]}; ${message}` : message;
    }
    throw invalid(UNPROCESSABLE_BODY, errors);
  }
  return restriction;
}

export function createRoutingService(db: Db) {
  const record = (tx: Queryable, p: Principal, teamId: string, line: string) =>
    recordTeamChanges(tx, p, teamId, [line]);

  async function loadTeam(p: Principal, team: TeamIdentifier) {
    const row = await accountsRepository.findTeam(db, p.orgId, team.identifier, team.by);
    if (!row) throw notFound(`No team exists with ${team.by} [${team.identifier}].`);
    requireReachesTeamConfiguration(p, row.id, `team with ${team.by} [${team.identifier}]`);
    return row;
  }

  const requireTeamAdmin = (p: Principal, teamId: string, teamName: string) =>
    requireTeamRight(
      db,
      p,
      teamId,
      'edit-routing-rules',
      `Only organization admins and those of team [${teamName}] with the edit-routing-rules right (its admins) can change its routing rules.`,
    );

  /**
   * The escalation or schedule a rule notifies, found in the organization, as stored. Read with KEY SHARE
   * inside the caller's transaction, so that deleting it waits for this change and then sees the rule. An
   * integration's key may name only its owner team's (what reading it answers, a 403, otherwise): it would
   * page another team with its alerts, and keep that team from deleting its own escalation. `kept`: the
   * rule's target before this change, which may be sent again as the rule shows it (by id, or by the name
   * stored with it) whatever `p` reaches: an organization admin may have pointed the team's rule at another
   * team's escalation, which the team's key may not name anew but may keep (Terraform sends the whole rule
   * on every change).
   */
  async function resolveNotify(
    q: Queryable,
    p: Principal,
    notify: NotifyInput,
    kept?: RoutingRuleWithTarget,
  ): Promise<Pick<RoutingRuleValues, 'notify_type' | 'target_id'>> {
    if (notify.type === 'none') return { notify_type: 'none', target_id: null };
    const identifier = notify.id ?? notify.name;
    if (identifier === undefined) {
      throw invalidField(
        'notify',
        `Give the ${notify.type} as {"type": "${notify.type}", "id" or "name": ...}.`,
      );
    }
    const by = notify.id !== undefined ? 'id' : 'name';
    const target =
      notify.type === 'escalation'
        ? await escalationsRepository.find(q, p.orgId, identifier, by, 'key share')
        : await schedulesRepository.findSchedule(q, p.orgId, identifier, by, 'key share');
    if (!target) {
      throw invalidField(
        'notify',
        `No ${notify.type} with ${by} ${JSON.stringify(identifier)} in this organization.`,
      );
    }
    const asStored =
      kept?.notify_type === notify.type &&
      kept.target_id === target.id &&
      (notify.id !== undefined || notify.name === kept.target_name);
    requireReachesNamed(p, notify.type, notify, target.owner_team_id, asStored);
    return { notify_type: notify.type, target_id: target.id };
  }

  function values(input: RoutingRuleChanges, current?: RoutingRuleWithTarget) {
    const timezone = input.timezone ?? current?.timezone ?? 'UTC';
    if (input.timezone !== undefined) checkTimezone(input.timezone);
    const out: Partial<Omit<RoutingRuleValues, 'notify_type' | 'target_id'>> = {};
    if (input.name !== undefined) out.name = input.name;
    if (input.timezone !== undefined) out.timezone = input.timezone;
    if (input.criteria !== undefined) out.criteria = parseCriteria(input.criteria, 'criteria');
    if (input.timeRestriction === null) out.time_restriction = null;
    else if (input.timeRestriction !== undefined) {
      out.time_restriction = toTimeRestriction(input.timeRestriction, timezone);
    }
    return out;
  }

  /**
   * The default rule matches every alert at any time and always comes last. Clients that send those values
   * back with every change (the Terraform provider sends criteria match-all on each update, and older ones
   * then the rule's own order) change nothing, so only a different value is refused.
   */
  async function refuseChangesToDefault(q: Queryable, teamId: string, input: RoutingRuleChanges) {
    const refuse = (field: 'criteria' | 'timeRestriction' | 'order') =>
      invalidField(
        field,
        'The default rule matches every alert at any time and always comes last: only its name and notify can change.',
      );
    if (input.criteria !== undefined && !isMatchAllWithoutConditions(input.criteria))
      throw refuse('criteria');
    if (input.timeRestriction !== undefined && input.timeRestriction !== null)
      throw refuse('timeRestriction');
    if (input.order !== undefined && input.order !== (await repo.countOrdinary(q, teamId))) {
      throw refuse('order');
    }
  }

  async function findRule(q: Queryable, teamId: string, teamName: string, ruleId: string) {
    const rule =
      ruleId === DEFAULT_RULE_ID ? await repo.findDefault(q, teamId) : await repo.find(q, teamId, ruleId);
    if (!rule) throw notFound(`Team [${teamName}] has no routing rule [${ruleId}].`);
    return rule;
  }

  async function moveTo(q: Queryable, teamId: string, ruleId: string, order: number): Promise<void> {
    const ids = (await repo.orderedIds(q, teamId)).filter((id) => id !== ruleId);
    if (order > ids.length) {
      throw invalidField(
        'order',
        `must be from 0 to ${ids.length}: the team has ${ids.length + 1} rules besides the default one.`,
      );
    }
    ids.splice(order, 0, ruleId);
    await repo.renumber(q, teamId, ids);
  }

  async function update(p: Principal, team: TeamIdentifier, ruleId: string, input: RoutingRuleChanges) {
    const row = await loadTeam(p, team);
    await requireTeamAdmin(p, row.id, row.name);
    return db.transaction().execute(async (tx) => {
      await accountsRepository.lockTeam(tx, row.id);
      const rule =
        ruleId === DEFAULT_RULE_ID
          ? await repo.findDefault(tx, row.id)
          : await findRule(tx, row.id, row.name, ruleId);
      const isDefault = !rule || rule.is_default;
      if (isDefault) await refuseChangesToDefault(tx, row.id, input);
      const changes = values(input, rule);
      const target = input.notify ? await resolveNotify(tx, p, input.notify, rule) : {};
      if (!rule) {
        // The team's default rule is made the first time it is given something to notify.
        if (!input.notify) {
          throw invalidField('notify', `Team [${row.name}] has no default rule yet: give notify to set one.`);
        }
        await record(tx, p, row.id, 'Default routing rule set');
        return repo.insert(tx, {
          team_id: row.id,
          name: changes.name ?? DEFAULT_RULE_NAME,
          criteria: { type: 'match-all' },
          timezone: changes.timezone ?? 'UTC',
          time_restriction: null,
          notify_type: 'none',
          target_id: null,
          ...target,
          position: 0,
          is_default: true,
        });
      }
      await repo.update(tx, rule.id, { ...changes, ...target });
      if (input.order !== undefined && !isDefault) await moveTo(tx, row.id, rule.id, input.order);
      await record(
        tx,
        p,
        row.id,
        rule.is_default ? 'Default routing rule changed' : `${ruleTitle(rule.name)} changed`,
      );
      return { id: rule.id, name: changes.name ?? rule.name };
    });
  }

  return {
    async list(p: Principal, team: TeamIdentifier): Promise<PresentedRoutingRule[]> {
      const row = await loadTeam(p, team);
      const rules = await repo.list(db, row.id);
      const ordinary = rules.filter((r) => !r.is_default);
      const presented: PresentedRoutingRule[] = ordinary.map((r, i) => presentRoutingRule(r, i));
      const stored = rules.find((r) => r.is_default);
      presented.push(
        stored ? presentRoutingRule(stored, ordinary.length) : syntheticDefaultRule(ordinary.length),
      );
      return presented;
    },

    async get(p: Principal, team: TeamIdentifier, ruleId: string): Promise<PresentedRoutingRule> {
      const row = await loadTeam(p, team);
      if (ruleId === DEFAULT_RULE_ID) {
        const stored = await repo.findDefault(db, row.id);
        const count = await repo.countOrdinary(db, row.id);
        return stored ? presentRoutingRule(stored, count) : syntheticDefaultRule(count);
      }
      const rule = await findRule(db, row.id, row.name, ruleId);
      const ids = await repo.orderedIds(db, row.id);
      return presentRoutingRule(rule, rule.is_default ? ids.length : ids.indexOf(rule.id));
    },

    update,

    async create(p: Principal, team: TeamIdentifier, input: RoutingRuleInput) {
      const row = await loadTeam(p, team);
      await requireTeamAdmin(p, row.id, row.name);
      const changes = values(input);
      return db.transaction().execute(async (tx) => {
        await accountsRepository.lockTeam(tx, row.id);
        const count = await repo.countOrdinary(tx, row.id);
        if (count >= MAX_ROUTING_RULES) {
          throw invalid(
            `Team [${row.name}] already has ${MAX_ROUTING_RULES} routing rules: combine some with match-any-condition criteria.`,
          );
        }
        const order = input.order ?? count;
        if (order > count) {
          throw invalidField('order', `must be from 0 to ${count} (the number of rules the team has now).`);
        }
        const target = await resolveNotify(tx, p, input.notify);
        await repo.shiftFrom(tx, row.id, order);
        const name = changes.name ?? '';
        await record(tx, p, row.id, `${ruleTitle(name)} added`);
        return repo.insert(tx, {
          team_id: row.id,
          name,
          criteria: changes.criteria ?? { type: 'match-all' },
          timezone: changes.timezone ?? 'UTC',
          time_restriction: changes.time_restriction ?? null,
          ...target,
          position: order,
          is_default: false,
        });
      });
    },

    /** Vigil's convenience: sets (making it if need be) the rule that applies when no other one does. */
    async setDefault(p: Principal, team: TeamIdentifier, input: { name?: string; notify: NotifyInput }) {
      return update(p, team, DEFAULT_RULE_ID, input);
    },

    async changeOrder(p: Principal, team: TeamIdentifier, ruleId: string, order: number) {
      const row = await loadTeam(p, team);
      await requireTeamAdmin(p, row.id, row.name);
      return db.transaction().execute(async (tx) => {
        await accountsRepository.lockTeam(tx, row.id);
        const rule = await findRule(tx, row.id, row.name, ruleId);
        if (rule.is_default) {
          await refuseChangesToDefault(tx, row.id, { order });
          return { id: rule.id, name: rule.name };
        }
        await moveTo(tx, row.id, rule.id, order);
        await record(tx, p, row.id, `${ruleTitle(rule.name)} moved to position ${order}`);
        return { id: rule.id, name: rule.name };
      });
    },

    async delete(p: Principal, team: TeamIdentifier, ruleId: string): Promise<void> {
      const row = await loadTeam(p, team);
      await requireTeamAdmin(p, row.id, row.name);
      await db.transaction().execute(async (tx) => {
        await accountsRepository.lockTeam(tx, row.id);
        const rule = ruleId === DEFAULT_RULE_ID ? undefined : await findRule(tx, row.id, row.name, ruleId);
        if (!rule || rule.is_default) {
          throw invalid(
            `The default rule of team [${row.name}] can not be deleted: to stop notifying anyone when no other rule applies, set its notify to {"type": "none"}.`,
          );
        }
        await repo.delete(tx, rule.id);
        await repo.renumber(tx, row.id, await repo.orderedIds(tx, row.id));
        await record(tx, p, row.id, `${ruleTitle(rule.name)} deleted`);
      });
    },
  };
}

export type RoutingService = ReturnType<typeof createRoutingService>;
