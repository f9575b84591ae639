import { customRoleOf, roleHolds, userRightRefusal } from '../../accounts/custom-roles/rights.js';
import { accountsRepository } from '../../accounts/repository.js';
import type { Principal } from '../../accounts/service.js';
import type { Queryable } from '../../db/database.js';
import type { StoredParticipant } from './participants.js';

/**
 * Opsgenie's who-is-on-call-show-all right ("Display All On-Call Users"): the holder of a custom role
 * without it sees who is on call only in the schedules they are part of, those a team of theirs owns and
 * those with a rotation they take part in, themselves or through a team of theirs. Whoever holds no
 * custom role (plain users, org owners and admins, integration keys) sees every schedule's it reaches: an
 * integration's key reaches only its owner team's schedules (integrations/principal.ts).
 */

/** What decides whether someone is part of a schedule. */
export interface ScheduleMembership {
  name: string;
  owner_team_id: string | null;
  rotations: readonly { participants: readonly StoredParticipant[] }[];
}

export interface OnCallVisibility {
  /** Whether who is on call in the schedule may be shown. */
  sees(schedule: ScheduleMembership): boolean;
  /** A 403 naming the role and the right it lacks, unless the schedule's on-calls may be shown. */
  require(schedule: ScheduleMembership): void;
}

const SEES_ALL: OnCallVisibility = { sees: () => true, require: () => undefined };

/** What `p` sees of who is on call. Costs no query for a principal without a custom role. */
export async function onCallVisibility(q: Queryable, p: Principal): Promise<OnCallVisibility> {
  const role = await customRoleOf(q, p);
  if (!role || roleHolds(role, 'who-is-on-call-show-all')) return SEES_ALL;
  const userId = p.userId;
  if (userId === undefined) throw new Error('unreachable: only a user holds a custom role');
  const teams = new Set((await accountsRepository.teamsOfUser(q, userId)).map((t) => t.id));
  const isParticipant = (x: StoredParticipant) =>
    (x.type === 'user' && x.id === userId) || (x.type === 'team' && teams.has(x.id));
  const sees = (schedule: ScheduleMembership) =>
    (schedule.owner_team_id !== null && teams.has(schedule.owner_team_id)) ||
    schedule.rotations.some((r) => r.participants.some(isParticipant));
  return {
    sees,
    require(schedule) {
      if (sees(schedule)) return;
      throw userRightRefusal(
        role,
        'who-is-on-call-show-all',
        `see who is on call in schedules you are not part of, such as [${schedule.name}]`,
      );
    },
  };
}
