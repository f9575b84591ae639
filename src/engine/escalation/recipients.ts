import type { Queryable } from '../../db/database.js';
import type { EscalationRule } from '../../oncall/model.js';
import {
  ChangeSearchTooCostly,
  nextOnCalls,
  nextOnCallsReach,
  onCallsAt,
  onCallsReach,
  previousOnCalls,
  previousOnCallsReach,
  type OverrideReach,
} from '../../oncall/schedule.js';
import { loadSchedule } from '../../oncall/schedules/load.js';
import { refOfKey } from '../../oncall/schedules/participants.js';
import type { PlanRecipient } from '../../notify/planner.js';

/**
 * Whom an escalation rule notifies at an instant: a user, those on call in a schedule (or the next or
 * previous ones: everyone each rotation has in an "all" schedule, one in a "layers" one), a team's
 * members or admins, or whom a team's routing rules choose (`routedBy`). A schedule's on-call
 * participant may be a team (its members are notified, as Opsgenie does) or an escalation (that policy
 * runs: `escalations`, for the runner to start). Schedules (for an instant) and teams are read once per
 * resolver, so a batch of alerts on one policy costs one load each.
 */
export interface ResolvedRecipients {
  recipients: PlanRecipient[];
  /** What the rule targeted, for the activity log when nobody came of it. */
  target: string;
  /** Escalations on call in the schedule the rule targeted: each runs for the alert, as a responder would. */
  escalations?: { id: string; why: string }[];
  /**
   * The team whose routing rules decide whom the rule notifies (notifyType default), as they would for the
   * team as a responder. Routing matches the alert, which the resolver does not have: the runner routes it.
   */
  routedBy?: { teamId: string; teamName: string };
}

type ScheduleQuestion = 'now' | 'next' | 'previous';

/**
 * The people of the next or previous change of who is on call (`look` finds it), none if there is none;
 * undefined if it was not found within the work allowed (see ChangeSearchTooCostly), which is no one to
 * notify either, but the log says so.
 */
function changeOrUnknown(look: () => { shifts: { user: string }[] } | undefined): string[] | undefined {
  try {
    return (look()?.shifts ?? []).map((s) => s.user);
  } catch (error) {
    if (error instanceof ChangeSearchTooCostly) return undefined;
    throw error;
  }
}

const REACH_OF: Record<ScheduleQuestion, (at: Date) => OverrideReach> = {
  now: onCallsReach,
  next: (at) => nextOnCallsReach(at),
  previous: (at) => previousOnCallsReach(at),
};

export function createRecipientResolver(q: Queryable, orgId: string) {
  const schedules = new Map<string, Awaited<ReturnType<typeof loadSchedule>>>();
  const teams = new Map<string, { name: string; members: { id: string; role: string }[] } | undefined>();

  // Only the overrides that can bear on what the rule asks at `at`: a schedule's ended overrides pile up for
  // ever, and a step must not read them all. Who is on call now needs those of the instant; next and
  // previous, those of the years they may look through. Keyed by the instant and the question, as the
  // reach is theirs.
  async function schedule(id: string, at: Date, asked: ScheduleQuestion) {
    const key = `${id}@${at.getTime()}@${asked}`;
    if (!schedules.has(key)) schedules.set(key, await loadSchedule(q, orgId, id, REACH_OF[asked](at)));
    return schedules.get(key);
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

  /**
   * Whom the participant on call (a key of the schedule's results, if anyone is) comes to. `nobody`: what
   * the log says of the schedule when there is no one (on call now, next or before, as the rule asks).
   */
  async function onCallIn(
    key: string | undefined,
    why: string,
    target: string,
    nobody: string,
  ): Promise<ResolvedRecipients> {
    if (key === undefined) return { recipients: [], target: `${target} (${nobody})` };
    const ref = refOfKey(key);
    switch (ref.type) {
      case 'user':
        return { recipients: [{ id: ref.id, why }], target };
      case 'team': {
        const found = await team(ref.id);
        const name = found ? `team ${found.name}` : 'a team that no longer exists';
        return {
          recipients: (found?.members ?? []).map((m) => ({ id: m.id, why: `member of ${name}, ${why}` })),
          target: `${target} (${name} is on call, and has no members)`,
        };
      }
      case 'escalation':
        return { recipients: [], target, escalations: [{ id: ref.id, why }] };
    }
  }

  /** Whom everyone on call (keys of the schedule's results) comes to, each person once. */
  async function onCallAmong(
    keys: readonly string[],
    why: string,
    target: string,
    nobody: string,
  ): Promise<ResolvedRecipients> {
    if (keys.length <= 1) return onCallIn(keys[0], why, target, nobody);
    const each = await Promise.all(keys.map((key) => onCallIn(key, why, target, nobody)));
    const recipients = new Map<string, PlanRecipient>();
    for (const r of each.flatMap((e) => e.recipients)) if (!recipients.has(r.id)) recipients.set(r.id, r);
    const escalations = each.flatMap((e) => e.escalations ?? []);
    return {
      recipients: [...recipients.values()],
      target,
      ...(escalations.length > 0 ? { escalations } : {}),
    };
  }

  return async function resolve(rule: EscalationRule, at: Date): Promise<ResolvedRecipients> {
    const { recipient, notifyType } = rule;
    switch (recipient.type) {
      case 'user':
        return { recipients: [{ id: recipient.id, why: 'named in the escalation' }], target: 'a user' };
      case 'schedule': {
        const found = await schedule(
          recipient.id,
          at,
          notifyType === 'next' || notifyType === 'previous' ? notifyType : 'now',
        );
        if (!found) return { recipients: [], target: 'a schedule that no longer exists' };
        const target = `schedule ${found.name}`;
        if (!found.enabled) return { recipients: [], target: `${target} (disabled)` };
        if (notifyType === 'next') {
          const users = changeOrUnknown(() => nextOnCalls(found.schedule, at));
          return onCallAmong(
            users ?? [],
            `next on call in ${target}`,
            target,
            users ? 'nobody comes on call next' : 'the next on call was not found within the work allowed',
          );
        }
        if (notifyType === 'previous') {
          const users = changeOrUnknown(() => previousOnCalls(found.schedule, at));
          return onCallAmong(
            users ?? [],
            `previously on call in ${target}`,
            target,
            users
              ? 'nobody was on call before'
              : 'the previous on call was not found within the work allowed',
          );
        }
        const now = onCallsAt(found.schedule, at);
        return onCallAmong(
          now.map((o) => o.user),
          `on call in ${target}`,
          target,
          'nobody is on call in it',
        );
      }
      case 'team': {
        const found = await team(recipient.id);
        if (!found) return { recipients: [], target: 'a team that no longer exists' };
        // Opsgenie: a team "as its responder" goes through the team's routing rules; every member is "all".
        if (notifyType === 'default') {
          return {
            recipients: [],
            target: `team ${found.name}`,
            routedBy: { teamId: recipient.id, teamName: found.name },
          };
        }
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
