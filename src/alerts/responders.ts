import { accountsRepository } from '../accounts/repository.js';
import type { Queryable } from '../db/database.js';
import type { AlertRow, ResponderRef } from '../db/schema.js';
import { invalidField } from '../errors.js';
import type { Principal } from '../accounts/service.js';
import { requireReachesNamed } from '../integrations/principal.js';
import { notificationsRepository } from '../notify/repository.js';
import { escalationsRepository } from '../oncall/escalations/repository.js';
import { schedulesRepository } from '../oncall/schedules/repository.js';
import type { MatchableResponder } from '../oncall/conditions.js';
import type { Clock } from '../work/clock.js';

/**
 * Opsgenie's Add Responder and Add Team (the responder, found and named for the log) and Get Recipients
 * (who the alert reached, from the pages sent and who acknowledged or closed it).
 */

/** A responder as Opsgenie clients name it: by id, or by name (a team, escalation, schedule) or username. */
export interface ResponderName {
  type: 'team' | 'user' | 'escalation' | 'schedule';
  id?: string;
  name?: string;
  username?: string;
}

/** A responder found: what it is, how the log names it, and the team whose configuration it is. */
export interface ResolvedResponder {
  ref: ResponderRef;
  label: string;
  /** A team's own id, an escalation's or schedule's owner team (null: no team's); null for a user. */
  owner: string | null;
}

const TYPE_LABEL: Record<ResponderRef['type'], string> = {
  team: 'Team',
  user: 'User',
  escalation: 'Escalation',
  schedule: 'Schedule',
};

/** The responder `r` names in the organization, and how the log names it; an unknown one is a 422 on `field`. */
export async function resolveResponder(
  q: Queryable,
  orgId: string,
  r: ResponderName,
  field: string,
): Promise<ResolvedResponder> {
  const given = JSON.stringify(r.id ?? (r.type === 'user' ? (r.username ?? r.name) : r.name) ?? '');
  const missing = () => invalidField(field, `No ${r.type} ${given} in this organization.`);
  const label = (name: string) => `${TYPE_LABEL[r.type]} ${name}`;
  switch (r.type) {
    case 'team': {
      const team = await accountsRepository.findTeam(
        q,
        orgId,
        r.id ?? r.name ?? '',
        r.id !== undefined ? 'id' : 'name',
      );
      if (!team) throw missing();
      return { ref: { type: 'team', id: team.id }, label: label(team.name), owner: team.id };
    }
    case 'user': {
      const user = await accountsRepository.findUser(q, orgId, r.id ?? r.username ?? r.name ?? '');
      if (!user) throw missing();
      return { ref: { type: 'user', id: user.id }, label: label(user.username), owner: null };
    }
    case 'escalation': {
      const ref = { id: r.id, name: r.name };
      const policy = await escalationsRepository.find(
        q,
        orgId,
        ref.id ?? ref.name ?? '',
        ref.id !== undefined ? 'id' : 'name',
      );
      if (!policy) throw missing();
      return {
        ref: { type: 'escalation', id: policy.id },
        label: label(policy.name),
        owner: policy.owner_team_id,
      };
    }
    case 'schedule': {
      const schedule = await schedulesRepository.findScheduleByRef(q, orgId, { id: r.id, name: r.name });
      if (!schedule) throw missing();
      return {
        ref: { type: 'schedule', id: schedule.id },
        label: label(schedule.name),
        owner: schedule.owner_team_id,
      };
    }
  }
}

/**
 * That `p` may have its team's configuration (an alert policy, an integration's actions) page the
 * responder `given` names: an integration's key only its owner team and that team's escalations and
 * schedules (otherwise the 403 reading it answers: the team's alerts would page another team); anyone may
 * name a user. One of `kept` (what the configuration had before this change, an organization admin's
 * say) may be sent again as it shows it, by its id or the name stored with it: a read-modify-write goes on
 * working, and no name the configuration does not show is confirmed.
 */
export function requireReachesResponder(
  p: Principal,
  given: ResponderName,
  resolved: ResolvedResponder,
  kept: readonly { type: string; id?: string; name?: string }[],
): void {
  const { ref, owner } = resolved;
  if (!p.integration || ref.type === 'user') return;
  const asStored = (s: (typeof kept)[number]) =>
    s.type === ref.type &&
    s.id === ref.id &&
    (given.id !== undefined || (given.name !== undefined && given.name === s.name));
  requireReachesNamed(p, ref.type, given, owner, kept.some(asStored));
}

/** The escalation policy a request names as {id} or {name}. */
export function findEscalation(q: Queryable, orgId: string, ref: { id?: string; name?: string }) {
  return escalationsRepository.find(q, orgId, ref.id ?? ref.name ?? '', ref.id !== undefined ? 'id' : 'name');
}

/** What an entry is looked up by: a user by id, username or name; anything else by id or name. */
export function lookupKeyOf(entry: ResponderName): string {
  const r = namedBy(entry);
  return (r.type === 'user' ? (r.id ?? r.username ?? r.name) : (r.id ?? r.name)) ?? '';
}

/**
 * The entry without its empty fields: an empty id, name or username names nothing (hand-written senders
 * send `"id": ""` beside the name they mean).
 */
function namedBy<R extends ResponderName>(r: R): R {
  if (r.id !== '' && r.name !== '' && r.username !== '') return r;
  const named = { ...r };
  for (const field of ['id', 'name', 'username'] as const) if (named[field] === '') delete named[field];
  return named;
}

/**
 * The team, user, escalation or schedule one entry names, or undefined when the organization has none
 * by that id or name. An entry that names nothing is a 422 at `where`: a request's mistake, not a name
 * gone stale.
 */
export async function findResponder(
  tx: Queryable,
  orgId: string,
  entry: ResponderName,
  where: string,
): Promise<ResponderRef | undefined> {
  const r = namedBy(entry);
  const key = lookupKeyOf(r);
  if (key === '')
    throw invalidField(
      where,
      r.type === 'user' ? 'Name the user by id or username.' : `Name the ${r.type} by id or name.`,
    );
  if (r.type === 'team') {
    const team = await accountsRepository.findTeam(tx, orgId, key, r.id !== undefined ? 'id' : 'name');
    return team && { type: 'team', id: team.id };
  }
  if (r.type === 'user') {
    const user = await accountsRepository.findUser(tx, orgId, key);
    return user && { type: 'user', id: user.id };
  }
  // Opsgenie's escalation and schedule responders: the policy runs, or the schedule's on-call is paged.
  const found =
    r.type === 'escalation'
      ? await findEscalation(tx, orgId, r)
      : await schedulesRepository.findScheduleByRef(tx, orgId, r);
  return found && { type: r.type, id: found.id };
}

/** One entry of Get Recipients, in Opsgenie's shape. */
export interface Recipient {
  user: { id: string; username: string };
  state: 'notified' | 'acknowledged' | 'closed';
  method: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * The people the alert reached: each person a page was sent to, by the destination type of their last
 * page. The one who acknowledged (while it is acknowledged) or closed the alert is in that state, told
 * apart by the name the alert records for them (their full name or username). `clock` is the engine's,
 * which the pages were sent on.
 */
export async function recipientsOf(q: Queryable, alert: AlertRow, clock: Clock): Promise<Recipient[]> {
  const people = await notificationsRepository.pagedPeople(q, alert.id);
  const isNamed = (name: string | null, p: { username: string; full_name: string }) =>
    name !== null && (name === p.username || (p.full_name !== '' && name === p.full_name));
  const after = (ms: number | string | bigint | null) =>
    ms === null ? undefined : new Date(alert.created_at.getTime() + Number(ms));
  return people.map((p) => {
    const closed = alert.status === 'closed' && isNamed(alert.closed_by, p);
    const acked = !closed && alert.acknowledged && isNamed(alert.acknowledged_by, p);
    const actedAt = closed ? after(alert.close_time) : acked ? after(alert.ack_time) : undefined;
    // On the system clock, as the alert's own times: a page's time on a clock ahead of it would come
    // after the acknowledgement it led to.
    const firstAt = clock.toSystemTime(p.first_at);
    const lastAt = clock.toSystemTime(p.last_at);
    const last = actedAt && actedAt.getTime() > lastAt.getTime() ? actedAt : lastAt;
    return {
      user: { id: p.user_id, username: p.username },
      state: closed ? 'closed' : acked ? 'acknowledged' : 'notified',
      method: p.method,
      createdAt: firstAt.toISOString(),
      updatedAt: last.toISOString(),
    };
  });
}

/**
 * The alert's responders named as `teams` and `recipients` conditions read them (oncall/conditions.ts): a
 * user by username, the others by name. One query per kind present; a responder deleted since is left out.
 */
export async function namedResponders(
  q: Queryable,
  refs: readonly ResponderRef[],
): Promise<MatchableResponder[]> {
  const idsOf = (type: ResponderRef['type']) => refs.filter((r) => r.type === type).map((r) => r.id);
  const named = new Map<string, string>();
  const read = async (type: ResponderRef['type'], rows: Promise<{ id: string; name: string }[]>) => {
    for (const row of await rows) named.set(`${type}:${row.id}`, row.name);
  };
  const reads: Promise<void>[] = [];
  const teams = idsOf('team');
  if (teams.length > 0)
    reads.push(read('team', q.selectFrom('teams').select(['id', 'name']).where('id', 'in', teams).execute()));
  const users = idsOf('user');
  if (users.length > 0)
    reads.push(
      read(
        'user',
        q.selectFrom('users').select(['id', 'username as name']).where('id', 'in', users).execute(),
      ),
    );
  const escalations = idsOf('escalation');
  if (escalations.length > 0)
    reads.push(
      read(
        'escalation',
        q.selectFrom('escalations').select(['id', 'name']).where('id', 'in', escalations).execute(),
      ),
    );
  const schedules = idsOf('schedule');
  if (schedules.length > 0)
    reads.push(
      read(
        'schedule',
        q.selectFrom('schedules').select(['id', 'name']).where('id', 'in', schedules).execute(),
      ),
    );
  await Promise.all(reads);
  return refs.flatMap((r) => {
    const name = named.get(`${r.type}:${r.id}`);
    return name === undefined ? [] : [{ type: r.type, name }];
  });
}
