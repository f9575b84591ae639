import type { Queryable } from '../../db/database.js';
import type { EscalationRule } from '../../oncall/model.js';
import { nextOnCall, onCallAt, previousOnCall } from '../../oncall/schedule.js';
import { loadSchedule } from '../../oncall/schedules/load.js';
import type { PlanRecipient } from '../../notify/planner.js';

/**
 * Whom an escalation rule notifies at an instant: a user, the person on call in a schedule (or the next
 * or previous one), or a team's members or admins. Schedules and teams are read once per resolver, so a
 * batch of alerts on one policy costs one load each.
 */
export interface ResolvedRecipients {
  recipients: PlanRecipient[];
  /** What the rule targeted, for the activity log when nobody came of it. */
  target: string;
}

export function createRecipientResolver(q: Queryable, orgId: string) {
  const schedules = new Map<string, Awaited<ReturnType<typeof loadSchedule>>>();
  const teams = new Map<string, { name: string; members: { id: string; role: string }[] } | undefined>();

  async function schedule(id: string) {
    if (!schedules.has(id)) schedules.set(id, await loadSchedule(q, orgId, id));
    return schedules.get(id);
  }

  async function team(id: string) {
    if (!teams.has(id)) {
      const row = await q
        .selectFrom('teams')
        .select(['name'])
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .executeTakeFirst();
      const members = row
        ? await q
            .selectFrom('team_members as m')
            .innerJoin('users as u', 'u.id', 'm.user_id')
            .select(['m.user_id as id', 'm.role'])
            .where('m.team_id', '=', id)
            .where('u.blocked', '=', false)
            .orderBy('u.username')
            .execute()
        : [];
      teams.set(id, row ? { name: row.name, members } : undefined);
    }
    return teams.get(id);
  }

  return async function resolve(rule: EscalationRule, at: Date): Promise<ResolvedRecipients> {
    const { recipient, notifyType } = rule;
    switch (recipient.type) {
      case 'user':
        return { recipients: [{ id: recipient.id, why: 'named in the escalation' }], target: 'a user' };
      case 'schedule': {
        const found = await schedule(recipient.id);
        if (!found) return { recipients: [], target: 'a schedule that no longer exists' };
        const target = `schedule ${found.name}`;
        if (!found.enabled) return { recipients: [], target: `${target} (disabled)` };
        if (notifyType === 'next') {
          const shift = nextOnCall(found.schedule, at);
          return { recipients: shift ? [{ id: shift.user, why: `next on call in ${target}` }] : [], target };
        }
        if (notifyType === 'previous') {
          const shift = previousOnCall(found.schedule, at);
          return {
            recipients: shift ? [{ id: shift.user, why: `previously on call in ${target}` }] : [],
            target,
          };
        }
        const now = onCallAt(found.schedule, at);
        return { recipients: now ? [{ id: now.user, why: `on call in ${target}` }] : [], target };
      }
      case 'team': {
        const found = await team(recipient.id);
        if (!found) return { recipients: [], target: 'a team that no longer exists' };
        const admins = notifyType === 'admins';
        const members = found.members.filter((m) => !admins || m.role === 'admin');
        return {
          recipients: members.map((m) => ({
            id: m.id,
            why: `${admins ? 'admin' : 'member'} of team ${found.name}`,
          })),
          target: `team ${found.name}${admins ? "'s admins" : ''}`,
        };
      }
    }
  };
}
