import { resolveTeamRef, resolveUserRef, type Principal } from '../../accounts/service.js';
import type { Queryable } from '../../db/database.js';
import type { RotationParticipantColumn } from '../../db/schema.js';
import { invalidField } from '../../errors.js';
import { requireReachesNamed } from '../../integrations/principal.js';
import { escalationsRepository } from '../escalations/repository.js';

/**
 * Rotation participants of every type Opsgenie has: a user, a team (its members are notified), an
 * escalation (that policy runs) or `none` (nobody is on call in that turn). src/oncall/schedule.ts computes
 * with participant keys: a user is its id (as override users are), a team or an escalation its type and id,
 * and `none` is null.
 */

export type StoredParticipant = RotationParticipantColumn;
export type ParticipantType = StoredParticipant['type'];

/** A participant as a request gives it: users by id or username, teams and escalations by id or name. */
export interface ParticipantInput {
  type?: ParticipantType;
  id?: string;
  username?: string;
  name?: string;
}

/** Who a key of a schedule's results stands for. */
export type OnCallRef = { type: 'user' | 'team' | 'escalation'; id: string };

const KEY_PREFIX = { team: 'team:', escalation: 'escalation:' } as const;

export function participantKey(p: StoredParticipant): string | null {
  if (p.type === 'none') return null;
  return p.type === 'user' ? p.id : `${KEY_PREFIX[p.type]}${p.id}`;
}

/** The participant a key of onCallAt / timeline stands for (user ids are UUIDs, so never prefixed). */
export function refOfKey(key: string): OnCallRef {
  for (const type of ['team', 'escalation'] as const) {
    if (key.startsWith(KEY_PREFIX[type])) return { type, id: key.slice(KEY_PREFIX[type].length) };
  }
  return { type: 'user', id: key };
}

/**
 * The stored form of a request's participant; a 422 naming `field` when it names nothing in the org. An
 * integration's key may name only its owner team and that team's escalations (a 403, as reading another
 * one answers, otherwise): its schedule would page another team. One of `kept` (the rotation's
 * participants before this change, an organization admin's say) is taken whatever `p` reaches: a key of
 * the schedule's team may send it back.
 */
export async function resolveParticipant(
  q: Queryable,
  p: Principal,
  input: ParticipantInput,
  field: string,
  kept: readonly StoredParticipant[] = [],
): Promise<StoredParticipant> {
  const { orgId } = p;
  // Opsgenie's SDKs send the fields they do not use as empty strings.
  const id = input.id || undefined;
  const name = input.name || undefined;
  const reach = (type: 'team' | 'escalation', found: string, owner: string | null) =>
    requireReachesNamed(
      p,
      type,
      { id, name },
      owner,
      kept.some((k) => k.type === type && k.id === found),
    );
  switch (input.type ?? 'user') {
    case 'none':
      return { type: 'none' };
    case 'team': {
      const team = await resolveTeamRef(q, orgId, id !== undefined ? { id } : { name: name ?? '' }, field);
      reach('team', team.id, team.id);
      return { type: 'team', id: team.id };
    }
    case 'escalation': {
      const identifier = id ?? name;
      if (!identifier) {
        throw invalidField(field, 'Give the escalation as {"type": "escalation", "id" or "name": ...}.');
      }
      const found = await escalationsRepository.find(q, orgId, identifier, id !== undefined ? 'id' : 'name');
      if (!found)
        throw invalidField(field, `No escalation ${JSON.stringify(identifier)} in this organization.`);
      reach('escalation', found.id, found.owner_team_id);
      return { type: 'escalation', id: found.id };
    }
    case 'user': {
      const user = await resolveUserRef(
        q,
        orgId,
        input,
        field,
        'Give the user as {"type": "user", "username": ...} or {"type": "user", "id": ...}.',
      );
      return { type: 'user', id: user.id };
    }
  }
}
