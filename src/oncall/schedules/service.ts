import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import {
  isOrgAdmin,
  resolveTeamRef,
  resolveUserRef,
  type Principal,
  type TeamRef,
} from '../../accounts/service.js';
import { requireTeamRight } from '../../accounts/team-rights.js';
import { reachesTeamConfiguration, requireReachesTeamConfiguration } from '../../integrations/principal.js';
import { type Db, type Queryable, isUniqueViolation } from '../../db/database.js';
import type { ScheduleRotationRow } from '../../db/schema.js';
import { conflict, forbidden, invalid, notFound } from '../../errors.js';
import {
  ChangeSearchTooCostly,
  MAX_CHANGE_SEARCH_PIECES,
  nextOnCalls,
  nextOnCallsReach,
  onCallsAt,
  onCallsReach,
  planShiftsFrom,
  planTimeline,
  shiftsFromReach,
  type RotationsCombine,
  type Schedule,
  type Shift,
  type TimeRestriction,
} from '../schedule.js';
import {
  checkOverrideWindow,
  checkRotation,
  checkTimezone,
  FieldErrors,
  instant,
  type RotationInput,
  type UserRef,
} from './input.js';
import { timeRestrictionOf } from '../time-restriction-input.js';
import {
  emptySchedule,
  loadManyScheduleParts,
  loadScheduleParts,
  noParts,
  participantsNamed,
  scheduleOf,
  stillExists,
  type OverrideSelection,
  type ScheduleParts,
} from './load.js';
import { participantKey, refOfKey, resolveParticipant, type StoredParticipant } from './participants.js';
import { onCallVisibility } from './on-call-visibility.js';
import type { IcsShift } from './ics.js';
import type { EscalationNotifyType, EscalationRecipient } from '../model.js';
import { schedulesRepository as repo, type OverrideValues, type RotationValues } from './repository.js';
import { accountsRepository } from '../../accounts/repository.js';
import { escalationsRepository } from '../escalations/repository.js';
import { routingRepository } from '../routing/repository.js';

export { loadSchedule } from './load.js';

/** Schedules, their rotations (layers) and overrides, and who is on call in them. */

export type IdentifierType = 'id' | 'name';

export type { TeamRef };

export interface ScheduleInput {
  name: string;
  description?: string;
  timezone: string;
  enabled?: boolean;
  ownerTeam?: TeamRef;
  rotations?: RotationInput[];
  /** Vigil's extension: "all" (Opsgenie's, the default) or "layers". */
  rotationsCombine?: RotationsCombine;
}

export interface ScheduleChanges {
  name?: string;
  description?: string;
  timezone?: string;
  enabled?: boolean;
  /** null makes it a schedule of no team (org admins only). */
  ownerTeam?: TeamRef | null;
  /** When given, replaces every rotation (Opsgenie's update schedule does so). */
  rotations?: RotationInput[];
  rotationsCombine?: RotationsCombine;
}

export type RotationChanges = Partial<RotationInput>;

export interface OverrideInput {
  alias?: string;
  /** `none` (Opsgenie's reserved word): nobody is on call in the override's window. */
  user: UserRef | { type: 'none' };
  startDate: string;
  endDate: string;
  /** Only these rotations' people are replaced; absent or empty means the whole schedule. */
  rotations?: { id?: string; name?: string }[];
}

export interface UserView {
  id: string;
  username: string;
  fullName: string;
}

export interface ScheduleMeta {
  id: string;
  name: string;
  enabled: boolean;
}

/** Whom a turn belongs to; `none` is a turn with nobody on call. */
export type ParticipantView =
  | ({ type: 'user' } & UserView)
  | { type: 'team'; id: string; name: string }
  | { type: 'escalation'; id: string; name: string }
  | { type: 'none' };

/** Someone (or a team, or an escalation) on call. */
export type OnCallView = Exclude<ParticipantView, { type: 'none' }>;

/** An on-call escalation, with whom its rules notify (Opsgenie lists them under it). */
export type OnCallDetail =
  | Exclude<OnCallView, { type: 'escalation' }>
  | {
      type: 'escalation';
      id: string;
      name: string;
      rules: {
        recipient: { type: EscalationRecipient['type']; id: string; name: string };
        notifyType: EscalationNotifyType;
        delayMinutes: number;
      }[];
    };

export interface RotationView {
  id: string;
  name: string;
  /** The position: 0 is the lowest; in a "layers" schedule a higher one wins where it has someone. */
  order: number;
  type: ScheduleRotationRow['type'];
  length: number;
  startDate: Date;
  endDate: Date | null;
  participants: ParticipantView[];
  timeRestriction: TimeRestriction | null;
}

export interface ScheduleView extends ScheduleMeta {
  description: string;
  timezone: string;
  ownerTeam: { id: string; name: string } | null;
  rotationsCombine: RotationsCombine;
  rotations: RotationView[];
}

export interface OverrideView {
  alias: string;
  /** null: nobody (Opsgenie's `none`). */
  user: UserView | null;
  startDate: Date;
  endDate: Date;
  rotations: { id: string; name: string }[];
}

export interface PeriodView {
  startDate: Date;
  endDate: Date;
  type: 'default' | 'override';
  recipient: OnCallView;
}

export interface TimelineRotationView {
  /** null for the entry holding final periods that belong to no single rotation (see timelineOf). */
  id: string | null;
  name: string;
  order: number;
  periods: PeriodView[];
}

export type IntervalUnit = 'days' | 'weeks' | 'months';

/** The longest timeline one request may ask for, per unit (about three months each). */
export const TIMELINE_LIMITS: Record<IntervalUnit, number> = { days: 93, weeks: 13, months: 3 };

/**
 * The most shifts one timeline or calendar export may work through and give (as TimelinePlan.pieces
 * in src/oncall/schedule.ts counts them, each rotation's and the final ones, before the work): it is
 * computed in one go, on the event loop, and a schedule of 50 hourly rotations would otherwise make three
 * months of it some 220,000, seconds of work and megabytes of answer. Three months (or a calendar's 14
 * weeks) of ten hourly rotations fit, as do three months of 50 daily ones and a week of 50 hourly ones.
 */
export const MAX_TIMELINE_PIECES = 50_000;

/** A count as messages write it (25,000). */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The most rotations a schedule has, and the most overrides not yet ended: who is on call now and next
 * is computed from all of them on every page and every look at the schedule (see timelineOf in
 * src/oncall/schedule/combine.ts), so these bound what one schedule costs. Ended overrides are not
 * counted: a computation loads only the overrides overlapping its reach (see OverrideReach in
 * src/oncall/schedule.ts), so they cost only those looking back over them, and there each is looked up
 * by a binary search (override-index.ts), not checked at every change point.
 */
export const MAX_ROTATIONS = 50;
export const MAX_OPEN_OVERRIDES = 1000;

/** The name of the final-timeline entry for periods that belong to no single rotation. */
export const FINAL_ONLY_ENTRY = 'Overrides and merged';

type ScheduleRowWithTeam = NonNullable<Awaited<ReturnType<typeof repo.findSchedule>>>;

function userView(u: { id: string; username: string; full_name: string }): UserView {
  return { id: u.id, username: u.username, fullName: u.full_name };
}

/** The view of a user, team or escalation participant, if it still exists. */
function onCallViewOf(
  parts: ScheduleParts,
  ref: Exclude<StoredParticipant, { type: 'none' }>,
): OnCallView | undefined {
  switch (ref.type) {
    case 'user': {
      const user = parts.users.get(ref.id);
      return user && { type: 'user', ...userView(user) };
    }
    case 'team': {
      const team = parts.teams.get(ref.id);
      return team && { type: 'team', id: team.id, name: team.name };
    }
    case 'escalation': {
      const escalation = parts.escalations.get(ref.id);
      return escalation && { type: 'escalation', id: escalation.id, name: escalation.name };
    }
  }
}

function metaOf(row: ScheduleRowWithTeam): ScheduleMeta {
  return { id: row.id, name: row.name, enabled: row.enabled };
}

/** The schedule as configured, whether or not it is enabled. */
function configuredOf(row: ScheduleRowWithTeam, parts: ScheduleParts): Schedule {
  return scheduleOf(row.timezone, parts, row.rotations_combine);
}

/** Whom the schedule has on call: nobody while it is disabled. */
function effectiveOf(row: ScheduleRowWithTeam, parts: ScheduleParts): Schedule {
  return row.enabled ? configuredOf(row, parts) : emptySchedule(row.timezone);
}

/** The calendar export's window: a week back (a shift under way is still in it) to 13 weeks ahead. */
function exportWindow(now: Date): { from: Date; to: Date } {
  return {
    from: DateTime.fromJSDate(now).minus({ weeks: 1 }).toJSDate(),
    to: DateTime.fromJSDate(now).plus({ weeks: 13 }).toJSDate(),
  };
}

export function createSchedulesService(db: Db) {
  async function findSchedule(p: Principal, identifier: string, by: IdentifierType) {
    const row = await repo.findSchedule(db, p.orgId, identifier, by);
    if (!row) throw notFound(`Schedule with ${by} [${identifier}] does not exist.`);
    requireReachesTeamConfiguration(p, row.owner_team_id, `schedule with ${by} [${identifier}]`);
    return row;
  }

  /** The organization's schedules `p` reaches: an integration's key only its owner team's. */
  async function listReachable(p: Principal) {
    const rows = await repo.listSchedules(db, p.orgId);
    return rows.filter((row) => reachesTeamConfiguration(p, row.owner_team_id));
  }

  /** Org admins change every schedule; those with edit-schedules on a team (its admins) its own. */
  const requireManager = (p: Principal, ownerTeamId: string | null) =>
    requireTeamRight(
      db,
      p,
      ownerTeamId,
      'edit-schedules',
      ownerTeamId
        ? "Only organization admins and those of the schedule's owner team with the edit-schedules right (its admins) can change it. Ask one of them, or use their API key."
        : "Only organization admins can change a schedule that no team owns. Ask an admin, or use an admin's API key.",
    );

  const resolveTeam = (orgId: string, ref: TeamRef, field: string) => resolveTeamRef(db, orgId, ref, field);

  const resolveUser = async (q: Queryable, orgId: string, ref: UserRef, field: string) =>
    (
      await resolveUserRef(
        q,
        orgId,
        ref,
        field,
        'Give the user as {"type": "user", "username": ...} or {"type": "user", "id": ...}.',
      )
    ).id;

  /**
   * A rotation from the request, checked, with its participants resolved; errors name `prefix` fields.
   * `kept`: the participants of the rotation the request changes (resolveParticipant).
   */
  async function rotationValues(
    q: Queryable,
    p: Principal,
    input: RotationInput,
    prefix: string,
    defaultName: string,
    kept: readonly StoredParticipant[] = [],
  ): Promise<RotationValues> {
    const errors = new FieldErrors();
    const participants: StoredParticipant[] = [];
    for (const [j, ref] of input.participants.entries()) {
      try {
        participants.push(await resolveParticipant(q, p, ref, `${prefix}participants[${j}]`, kept));
      } catch (error) {
        errors.merge(error);
      }
    }
    let restriction: TimeRestriction | undefined;
    let form: 'restriction' | 'restrictions' = 'restrictions';
    if (input.timeRestriction) {
      try {
        ({ restriction, form } = timeRestrictionOf(input.timeRestriction, `${prefix}timeRestriction`));
      } catch (error) {
        errors.merge(error);
      }
    }
    const endDate = input.endDate ?? undefined;
    try {
      checkRotation(
        {
          type: input.type,
          length: input.length ?? 1,
          participants: participants.map(participantKey),
          startDate: input.startDate,
          ...(endDate !== undefined ? { endDate } : {}),
          ...(restriction ? { timeRestriction: restriction } : {}),
        },
        prefix,
        form,
      );
    } catch (error) {
      errors.merge(error);
    }
    errors.throwIfAny();
    const start = instant(input.startDate, `${prefix}startDate`, errors);
    const end = endDate === undefined ? null : instant(endDate, `${prefix}endDate`, errors);
    if (!start || end === undefined) throw errors.error();
    return {
      name: input.name?.trim() || defaultName,
      type: input.type,
      length: input.length ?? 1,
      participants,
      start_date: start,
      end_date: end,
      time_restriction: restriction ?? null,
    };
  }

  /**
   * The default name of a rotation given without one: "Rotation <n>", n from `from` up, the first that no
   * name in `taken` is (case aside, as overrides look rotations up by name). Counting the rotations alone
   * gave, after a delete, the name of one still there, and an override naming it took the first of them.
   */
  function unusedRotationName(taken: Iterable<string>, from: number): string {
    const names = new Set([...taken].map((n) => n.trim().toLowerCase()));
    let n = from;
    while (names.has(`rotation ${n}`)) n++;
    return `Rotation ${n}`;
  }

  /** Every rotation of a request body, with every field at fault named in one 422. */
  async function rotationsValues(q: Queryable, p: Principal, inputs: RotationInput[]) {
    const errors = new FieldErrors();
    const values: RotationValues[] = [];
    // Defaults go by position, past the names given and the defaults before them.
    const taken = inputs.flatMap((input) => (input.name?.trim() ? [input.name] : []));
    for (const [i, input] of inputs.entries()) {
      const fallback = unusedRotationName(taken, i + 1);
      if (!input.name?.trim()) taken.push(fallback);
      try {
        values.push(await rotationValues(q, p, input, `rotations[${i}].`, fallback));
      } catch (error) {
        errors.merge(error);
      }
    }
    errors.throwIfAny();
    return values;
  }

  function rotationViews(parts: ScheduleParts): RotationView[] {
    return parts.rotations.map((r, order) => ({
      id: r.id,
      name: r.name,
      order,
      type: r.type,
      length: r.length,
      startDate: r.start_date,
      endDate: r.end_date,
      participants: r.participants.flatMap((p): ParticipantView[] => {
        if (p.type === 'none') return [{ type: 'none' }];
        const found = onCallViewOf(parts, p);
        return found ? [found] : [];
      }),
      timeRestriction: r.time_restriction,
    }));
  }

  function scheduleView(row: ScheduleRowWithTeam, rotations: RotationView[]): ScheduleView {
    return {
      ...metaOf(row),
      description: row.description,
      timezone: row.timezone,
      ownerTeam:
        row.owner_team_id && row.owner_team_name
          ? { id: row.owner_team_id, name: row.owner_team_name }
          : null,
      rotationsCombine: row.rotations_combine,
      rotations,
    };
  }

  function overrideViews(parts: ScheduleParts): OverrideView[] {
    const names = new Map(parts.rotations.map((r) => [r.id, r.name]));
    return parts.overrides.flatMap((o) => {
      const user = o.user_id === null ? null : parts.users.get(o.user_id);
      if (user === undefined) return [];
      return [
        {
          alias: o.alias,
          user: user && userView(user),
          startDate: o.start_date,
          endDate: o.end_date,
          rotations: (o.rotation_ids ?? []).flatMap((id) => {
            const name = names.get(id);
            return name === undefined ? [] : [{ id, name }];
          }),
        },
      ];
    });
  }

  async function overrideValues(
    q: Queryable,
    p: Principal,
    scheduleId: string,
    input: OverrideInput,
  ): Promise<OverrideValues> {
    const errors = new FieldErrors();
    let userId: string | null = null;
    if (input.user.type !== 'none') {
      try {
        userId = await resolveUser(q, p.orgId, input.user, 'user');
      } catch (error) {
        errors.merge(error);
      }
    }
    let rotationIds: string[] | null = null;
    if (input.rotations && input.rotations.length > 0) {
      const rotations = await repo.rotationsOf(q, [scheduleId]);
      rotationIds = [];
      for (const [i, ref] of input.rotations.entries()) {
        // Opsgenie's Go SDK sends both fields, the unused one empty: {"id": "", "name": "Primary"}.
        const id = ref.id || undefined;
        const name = ref.name || undefined;
        const matches = rotations.filter((r) =>
          id !== undefined ? r.id === id : r.name.toLowerCase() === name?.toLowerCase(),
        );
        const [found] = matches;
        if (matches.length > 1) {
          // Taking the first would replace the person of whichever rotation happens to come first.
          errors.add(
            `rotations[${i}]`,
            `The rotation name ${JSON.stringify(name)} is ambiguous: ${matches.length} rotations in this schedule have it; give its id ({"id": ...}, as GET /v2/schedules/{identifier}/rotations lists them), or rename one.`,
          );
        } else if (found) rotationIds.push(found.id);
        else {
          errors.add(
            `rotations[${i}]`,
            id === undefined && name === undefined
              ? 'Give the rotation as {"id": ...} or {"name": ...}.'
              : `No rotation ${JSON.stringify(id ?? name)} in this schedule.`,
          );
        }
      }
      rotationIds = [...new Set(rotationIds)];
    }
    try {
      checkOverrideWindow(input.startDate, input.endDate);
    } catch (error) {
      errors.merge(error);
    }
    errors.throwIfAny();
    const start = instant(input.startDate, 'startDate', errors);
    const end = instant(input.endDate, 'endDate', errors);
    if (!start || !end) throw errors.error();
    return {
      user_id: userId,
      start_date: start,
      end_date: end,
      rotation_ids: rotationIds,
    };
  }

  /**
   * A 422 when the override would be open (end after `now`) in a schedule that already has
   * MAX_OPEN_OVERRIDES open ones besides `except`. Ended ones are not counted: who is on call now or
   * next never loads them, and looking back loads only those in its window (see MAX_OPEN_OVERRIDES).
   * The caller holds the schedule's lock, so two requests cannot both take the last place.
   */
  async function requireRoomForOverride(
    q: Queryable,
    row: { id: string; name: string },
    values: OverrideValues,
    now: Date,
    except?: string,
  ): Promise<void> {
    if (values.end_date <= now) return;
    const open = await repo.countOpenOverrides(q, row.id, now, except);
    if (open >= MAX_OPEN_OVERRIDES) {
      throw invalid(
        `Schedule [${row.name}] already has ${open} overrides that have not ended, the most one schedule may have (${MAX_OPEN_OVERRIDES}): delete some first, or wait for them to end.`,
      );
    }
  }

  function nameTaken(name: string | undefined) {
    return conflict(`Schedule with name [${name ?? ''}] already exists.`);
  }

  /** The schedule and its parts; `overrides` may depend on the schedule (a window in its zone). */
  async function withParts(
    p: Principal,
    identifier: string,
    by: IdentifierType,
    overrides: OverrideSelection | ((row: ScheduleRowWithTeam) => OverrideSelection),
  ) {
    const row = await findSchedule(p, identifier, by);
    const selection = typeof overrides === 'function' ? overrides(row) : overrides;
    return { row, parts: await loadScheduleParts(db, p.orgId, row.id, selection) };
  }

  /** As withParts, once `p` may see who is on call in the schedule (see on-call-visibility.ts). */
  async function withVisibleOnCalls(
    p: Principal,
    identifier: string,
    by: IdentifierType,
    overrides: OverrideSelection | ((row: ScheduleRowWithTeam) => OverrideSelection),
  ) {
    const found = await withParts(p, identifier, by, overrides);
    (await onCallVisibility(db, p)).require({ ...found.row, rotations: found.parts.rotations });
    return found;
  }

  /** Who a key of the schedule's results stands for: loaded with it, since rotationOf kept only those. */
  function onCallOf(parts: ScheduleParts, key: string): OnCallView {
    const found = onCallViewOf(parts, refOfKey(key));
    if (!found) throw new Error(`unreachable: participant ${key} was loaded with the schedule`);
    return found;
  }

  /**
   * Why the next change of who is on call after `after` was not found (see MAX_CHANGE_SEARCH_PIECES in
   * src/oncall/schedule.ts), how far the look got, and what to read instead.
   */
  function tooBusyToSearch(row: ScheduleRowWithTeam, after: Date, stopped: ChangeSearchTooCostly): string {
    const instant = (d: Date | string) => new Date(d).toISOString().replace('.000Z', 'Z');
    const reached = instant(stopped.reached);
    return `Schedule [${row.name}] has nobody new coming on call from ${instant(after)} until at least ${reached}, and looking further would work through more than the ${count(MAX_CHANGE_SEARCH_PIECES)} shifts one look may (the same people stay on call through many busy rotations). Read who comes on call after that from its timeline, a few days at a time (GET /v2/schedules/{identifier}/timeline?date=${reached}&interval=1&intervalUnit=days, paging on with a later date).`;
  }

  /**
   * Why a schedule that changes hands too often for it is not in a calendar export (see
   * MAX_TIMELINE_PIECES), and what to read instead.
   */
  function tooBusyToExport(row: ScheduleRowWithTeam, pieces: number): string {
    return `Schedule [${row.name}] changes hands too often to export as a calendar: about ${count(pieces)} shifts in the 14 weeks a calendar covers, over the ${count(MAX_TIMELINE_PIECES)} an export holds at most. Read its shifts from its timeline a few days at a time instead (GET /v2/schedules/{identifier}/timeline with a shorter interval).`;
  }

  /**
   * The schedule's final shifts from `from` to `to` as the calendar export writes them, planned: `pieces`
   * is the work it takes (see MAX_TIMELINE_PIECES), checked by the caller before `compute` does it.
   */
  function exportPlan(
    row: ScheduleRowWithTeam,
    parts: ScheduleParts,
    from: Date,
    to: Date,
    configured = configuredOf(row, parts),
  ) {
    if (!row.enabled) return { pieces: 0, compute: () => [] };
    const plan = planShiftsFrom(configured, from, to);
    return { pieces: plan.pieces, compute: () => exportedShifts(parts, plan.compute()) };
  }

  /** Shifts of the final timeline as the calendar export writes them, each with its participant key. */
  function exportedShifts(parts: ScheduleParts, final: readonly Shift[]) {
    return final.map((s) => {
      const who = onCallOf(parts, s.user);
      const shift: IcsShift = {
        start: new Date(s.start),
        end: new Date(s.end),
        username: who.type === 'user' ? who.username : who.name,
        fullName: who.type === 'user' ? who.fullName || undefined : `${who.type} ${who.name}`,
        override: s.override === true,
        ...(s.clipped ? { clipped: true } : {}),
      };
      return { key: s.user, shift };
    });
  }

  /**
   * Those on call as Opsgenie's on-calls show them (an escalation with whom its rules notify), and the
   * usernames they come to (flat=true): a team's members, an escalation's users and teams' members. An
   * escalation's schedules are not followed into (their people change with time, and may lead back here).
   */
  async function onCallDetails(
    orgId: string,
    parts: ScheduleParts,
    keys: readonly string[],
  ): Promise<{ participants: OnCallDetail[]; usernames: string[] }> {
    const views = keys.map((key) => onCallOf(parts, key));
    const escalations = views.flatMap((v) => (v.type === 'escalation' ? [v.id] : []));
    const rules = escalations.flatMap((id) => parts.escalations.get(id)?.rules ?? []);
    const names = await escalationsRepository.recipientNames(
      db,
      orgId,
      rules.map((r) => r.recipient),
    );
    const teamIds = [
      ...views.flatMap((v) => (v.type === 'team' ? [v.id] : [])),
      ...rules.flatMap((r) => (r.recipient.type === 'team' ? [r.recipient.id] : [])),
    ];
    const members = await repo.teamMembers(db, teamIds);
    const membersOf = (teamId: string) => members.filter((m) => m.team_id === teamId).map((m) => m.username);
    const usernames: string[] = [];
    const participants = views.map((v): OnCallDetail => {
      if (v.type === 'user') usernames.push(v.username);
      if (v.type === 'team') usernames.push(...membersOf(v.id));
      if (v.type !== 'escalation') return v;
      const policyRules = (parts.escalations.get(v.id)?.rules ?? []).flatMap((rule) => {
        const { type, id } = rule.recipient;
        const name = (type === 'user' ? names.users : type === 'team' ? names.teams : names.schedules).get(
          id,
        );
        if (name === undefined) return [];
        if (type === 'user') usernames.push(name);
        if (type === 'team') usernames.push(...membersOf(id));
        return [
          { recipient: { type, id, name }, notifyType: rule.notifyType, delayMinutes: rule.delayMinutes },
        ];
      });
      return { ...v, rules: policyRules };
    });
    return { participants, usernames: [...new Set(usernames)] };
  }

  return {
    async createSchedule(p: Principal, input: ScheduleInput): Promise<ScheduleMeta> {
      const team = input.ownerTeam ? await resolveTeam(p.orgId, input.ownerTeam, 'ownerTeam') : undefined;
      // Opsgenie gives a schedule made with a team integration's key that team when the request names none.
      const ownerTeamId = team?.id ?? p.integration?.ownerTeamId ?? null;
      await requireManager(p, ownerTeamId);
      checkTimezone(input.timezone);
      const rotations = await rotationsValues(db, p, input.rotations ?? []);
      try {
        return await db.transaction().execute(async (tx) => {
          const row = await repo.insertSchedule(tx, {
            org_id: p.orgId,
            name: input.name,
            description: input.description ?? '',
            timezone: input.timezone,
            enabled: input.enabled ?? true,
            owner_team_id: ownerTeamId,
            ...(input.rotationsCombine ? { rotations_combine: input.rotationsCombine } : {}),
          });
          await repo.insertRotations(tx, row.id, rotations);
          return { id: row.id, name: row.name, enabled: row.enabled };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(input.name);
        throw error;
      }
    },

    async listSchedules(p: Principal, expandRotations: boolean): Promise<ScheduleView[]> {
      const rows = await listReachable(p);
      if (!expandRotations) return rows.map((row) => scheduleView(row, []));
      const rotations = await repo.rotationsOf(
        db,
        rows.map((r) => r.id),
      );
      const named = await participantsNamed(db, p.orgId, rotations);
      return rows.map((row) =>
        scheduleView(
          row,
          rotationViews({
            rotations: rotations.filter((r) => r.schedule_id === row.id),
            overrides: [],
            ...named,
          }),
        ),
      );
    },

    /** The schedules with a rotation this user takes part in (Opsgenie's List User Schedules). */
    async schedulesOfUser(p: Principal, userIdentifier: string): Promise<ScheduleView[]> {
      const user = await accountsRepository.findUser(db, p.orgId, userIdentifier);
      if (!user) throw notFound(`User [${userIdentifier}] does not exist.`);
      const rows = await listReachable(p);
      const rotations = await repo.rotationsOf(
        db,
        rows.map((r) => r.id),
      );
      const theirs = new Set(
        rotations
          .filter((r) => r.participants.some((x) => x.type === 'user' && x.id === user.id))
          .map((r) => r.schedule_id),
      );
      return rows.filter((row) => theirs.has(row.id)).map((row) => scheduleView(row, []));
    },

    async getSchedule(p: Principal, identifier: string, by: IdentifierType): Promise<ScheduleView> {
      const { row, parts } = await withParts(p, identifier, by, 'none');
      return scheduleView(row, rotationViews(parts));
    },

    async updateSchedule(
      p: Principal,
      identifier: string,
      by: IdentifierType,
      changes: ScheduleChanges,
    ): Promise<ScheduleMeta> {
      const row = await findSchedule(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      let ownerTeamId: string | null | undefined;
      if (changes.ownerTeam === null) {
        if (!isOrgAdmin(p))
          throw forbidden('Only organization admins can make a schedule belong to no team.');
        ownerTeamId = null;
      } else if (changes.ownerTeam !== undefined) {
        ownerTeamId = (await resolveTeam(p.orgId, changes.ownerTeam, 'ownerTeam')).id;
        if (ownerTeamId !== row.owner_team_id) await requireManager(p, ownerTeamId);
      }
      if (changes.timezone !== undefined) checkTimezone(changes.timezone);
      const rotations = changes.rotations && (await rotationsValues(db, p, changes.rotations));
      try {
        return await db.transaction().execute(async (tx) => {
          await repo.lockSchedule(tx, row.id);
          await repo.updateSchedule(tx, row.id, {
            name: changes.name,
            description: changes.description,
            timezone: changes.timezone,
            enabled: changes.enabled,
            owner_team_id: ownerTeamId,
            rotations_combine: changes.rotationsCombine,
          });
          if (rotations) {
            const old = (await repo.rotationsOf(tx, [row.id])).map((r) => r.id);
            await repo.deleteRotations(tx, row.id);
            await repo.forgetRotationsInOverrides(tx, row.id, old);
            await repo.insertRotations(tx, row.id, rotations);
          }
          return {
            id: row.id,
            name: changes.name ?? row.name,
            enabled: changes.enabled ?? row.enabled,
          };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(changes.name);
        throw error;
      }
    },

    async deleteSchedule(p: Principal, identifier: string, by: IdentifierType): Promise<void> {
      const row = await findSchedule(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      // A policy or a routing rule pointing at nothing would page nobody: refuse, and say what uses it.
      await db.transaction().execute(async (tx) => {
        await tx.selectFrom('schedules').select('id').where('id', '=', row.id).forUpdate().execute();
        const policies = await escalationsRepository.usingRecipient(tx, p.orgId, {
          type: 'schedule',
          id: row.id,
        });
        const rules = await routingRepository.usingTarget(tx, 'schedule', row.id);
        const uses = [
          ...policies.map((e) => `escalation [${e.name}]`),
          ...rules.map((r) =>
            r.is_default
              ? `the default rule of team [${r.team_name}]`
              : `rule [${r.name}] of team [${r.team_name}]`,
          ),
        ];
        if (uses.length > 0) {
          throw conflict(
            `Schedule [${row.name}] is used by ${uses.join(', ')}: change those first, then delete it.`,
          );
        }
        await repo.deleteSchedule(tx, row.id);
      });
    },

    // Rotations

    async addRotation(p: Principal, identifier: string, by: IdentifierType, input: RotationInput) {
      const row = await findSchedule(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      return db.transaction().execute(async (tx) => {
        await repo.lockSchedule(tx, row.id);
        const existing = await repo.rotationsOf(tx, [row.id]);
        const count = existing.length;
        if (count >= MAX_ROTATIONS) {
          throw invalid(
            `Schedule [${row.name}] already has ${count} rotations, the most one schedule may have (${MAX_ROTATIONS}): delete one first.`,
          );
        }
        const fallback = unusedRotationName(
          existing.map((r) => r.name),
          count + 1,
        );
        const values = await rotationValues(tx, p, input, '', fallback);
        const [created] = await repo.insertRotations(tx, row.id, [values]);
        if (!created) throw new Error('unreachable: the rotation was inserted');
        return { id: created.id, name: created.name };
      });
    },

    async listRotations(p: Principal, identifier: string, by: IdentifierType): Promise<RotationView[]> {
      const { parts } = await withParts(p, identifier, by, 'none');
      return rotationViews(parts);
    },

    async getRotation(p: Principal, identifier: string, by: IdentifierType, rotationId: string) {
      const { parts } = await withParts(p, identifier, by, 'none');
      const rotation = rotationViews(parts).find((r) => r.id === rotationId);
      if (!rotation) throw notFound(`Rotation with id [${rotationId}] does not exist in this schedule.`);
      return rotation;
    },

    async updateRotation(
      p: Principal,
      identifier: string,
      by: IdentifierType,
      rotationId: string,
      changes: RotationChanges,
    ) {
      const row = await findSchedule(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      return db.transaction().execute(async (tx) => {
        await repo.lockSchedule(tx, row.id);
        const current = await repo.findRotation(tx, row.id, rotationId);
        if (!current) throw notFound(`Rotation with id [${rotationId}] does not exist in this schedule.`);
        // Participants deleted since the rotation was saved drop out of it, as they do when it is loaded.
        // Those that stay are kept whatever `p` reaches, left out of the request or sent again (as the
        // rotation shows them, as Terraform does): an organization admin may have added another team,
        // which a key of the schedule's team may not name anew (resolveParticipant) but may keep.
        const named = await participantsNamed(tx, p.orgId, [current]);
        const participants = current.participants.filter((x) => stillExists(x, named));
        const merged: RotationInput = {
          name: changes.name ?? current.name,
          type: changes.type ?? current.type,
          length: changes.length ?? current.length,
          startDate: changes.startDate ?? current.start_date.toISOString(),
          endDate: changes.endDate === undefined ? current.end_date?.toISOString() : changes.endDate,
          participants:
            changes.participants ??
            participants.map((x) => (x.type === 'none' ? { type: 'none' } : { type: x.type, id: x.id })),
          timeRestriction:
            changes.timeRestriction === undefined ? current.time_restriction : changes.timeRestriction,
        };
        const values = await rotationValues(tx, p, merged, '', current.name, participants);
        await repo.updateRotation(tx, current.id, values);
        return { id: current.id, name: values.name };
      });
    },

    async deleteRotation(p: Principal, identifier: string, by: IdentifierType, rotationId: string) {
      const row = await findSchedule(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      await db.transaction().execute(async (tx) => {
        await repo.lockSchedule(tx, row.id);
        const current = await repo.findRotation(tx, row.id, rotationId);
        if (!current) throw notFound(`Rotation with id [${rotationId}] does not exist in this schedule.`);
        await repo.deleteRotations(tx, row.id, [current.id]);
        await repo.forgetRotationsInOverrides(tx, row.id, [current.id]);
      });
    },

    // Overrides

    async createOverride(
      p: Principal,
      identifier: string,
      by: IdentifierType,
      input: OverrideInput,
      now: Date,
    ) {
      const row = await findSchedule(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      const alias = input.alias ?? randomUUID();
      try {
        return await db.transaction().execute(async (tx) => {
          await repo.lockSchedule(tx, row.id);
          const values = await overrideValues(tx, p, row.id, input);
          await requireRoomForOverride(tx, row, values, now);
          const created = await repo.insertOverride(tx, row.id, alias, values);
          return { alias: created.alias };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`Override with alias [${alias}] already exists.`);
        throw error;
      }
    },

    async listOverrides(p: Principal, identifier: string, by: IdentifierType) {
      const { row, parts } = await withParts(p, identifier, by, 'all');
      return { parent: metaOf(row), overrides: overrideViews(parts) };
    },

    async getOverride(p: Principal, identifier: string, by: IdentifierType, alias: string) {
      const { row, parts } = await withParts(p, identifier, by, 'all');
      const override = overrideViews(parts).find((o) => o.alias === alias);
      if (!override) throw notFound(`Override with alias [${alias}] does not exist in this schedule.`);
      return { parent: metaOf(row), override };
    },

    /** Opsgenie's PUT: the override's user, window and rotations are all replaced. */
    async updateOverride(
      p: Principal,
      identifier: string,
      by: IdentifierType,
      alias: string,
      input: Omit<OverrideInput, 'alias'>,
      now: Date,
    ) {
      const row = await findSchedule(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      return db.transaction().execute(async (tx) => {
        await repo.lockSchedule(tx, row.id);
        const current = await repo.findOverride(tx, row.id, alias);
        if (!current) throw notFound(`Override with alias [${alias}] does not exist in this schedule.`);
        const values = await overrideValues(tx, p, row.id, input);
        // Moving an ended override into the future is as good as a new one.
        await requireRoomForOverride(tx, row, values, now, current.id);
        await repo.updateOverride(tx, current.id, values);
        return { alias };
      });
    },

    async deleteOverride(p: Principal, identifier: string, by: IdentifierType, alias: string) {
      const row = await findSchedule(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      const current = await repo.findOverride(db, row.id, alias);
      if (!current) throw notFound(`Override with alias [${alias}] does not exist in this schedule.`);
      await repo.deleteOverride(db, current.id);
    },

    // Who is on call

    async onCalls(p: Principal, identifier: string, by: IdentifierType, at: Date) {
      const { row, parts } = await withVisibleOnCalls(p, identifier, by, onCallsReach(at));
      const now = onCallsAt(effectiveOf(row, parts), at).map((o) => o.user);
      return { parent: metaOf(row), ...(await onCallDetails(p.orgId, parts, now)) };
    },

    /**
     * Who is on call at `at` in every schedule of the organization (Opsgenie's List On Calls), or, for a
     * custom role without who-is-on-call-show-all, in those its holder is part of; for an integration's
     * key, in its owner team's.
     */
    async onCallsEverywhere(p: Principal, at: Date) {
      const rows = await listReachable(p);
      const partsById = await loadManyScheduleParts(
        db,
        p.orgId,
        rows.map((r) => r.id),
        onCallsReach(at),
      );
      const visibility = await onCallVisibility(db, p);
      const partsOf = (id: string) => partsById.get(id) ?? noParts();
      const visible = rows.filter((row) => visibility.sees({ ...row, rotations: partsOf(row.id).rotations }));
      return Promise.all(
        visible.map(async (row) => {
          const parts = partsOf(row.id);
          const now = onCallsAt(effectiveOf(row, parts), at).map((o) => o.user);
          return { parent: metaOf(row), ...(await onCallDetails(p.orgId, parts, now)) };
        }),
      );
    },

    /**
     * The final shifts from a week before `now` to 13 weeks after, for the calendar export; one under way a
     * week ago keeps its real start, which names it in the feed (see shiftsFrom).
     */
    async exportShifts(p: Principal, identifier: string, by: IdentifierType, now: Date) {
      const { from, to } = exportWindow(now);
      const { row, parts } = await withVisibleOnCalls(p, identifier, by, shiftsFromReach(from, to));
      const plan = exportPlan(row, parts, from, to);
      if (plan.pieces > MAX_TIMELINE_PIECES) throw invalid(tooBusyToExport(row, plan.pieces));
      return { parent: metaOf(row), shifts: plan.compute().map((s) => s.shift) };
    },

    /**
     * A user's own final shifts in the calendar export's window, per schedule whose final timeline names
     * them (Opsgenie's Export On-Call User), among the schedules whose on-calls `p` may see. Shifts of a
     * team or escalation the user belongs to are the team's, not theirs, so only schedules whose
     * rotations or overrides name the user themselves are computed. One of those that changes hands too
     * often to export is left out, with a note saying so in `leftOut`, rather than failing the feed:
     * one busy schedule would otherwise break the calendar of everyone who can see it.
     */
    async exportUserShifts(p: Principal, userIdentifier: string, now: Date) {
      const user = await accountsRepository.findUser(db, p.orgId, userIdentifier);
      if (!user) throw notFound(`User [${userIdentifier}] does not exist.`);
      const { from, to } = exportWindow(now);
      const rows = await listReachable(p);
      const partsById = await loadManyScheduleParts(
        db,
        p.orgId,
        rows.map((r) => r.id),
        shiftsFromReach(from, to),
      );
      const visibility = await onCallVisibility(db, p);
      const partsOf = (id: string) => partsById.get(id) ?? noParts();
      const key = participantKey({ type: 'user', id: user.id });
      const names = (configured: Schedule) =>
        configured.rotations.some((r) => r.participants.includes(key)) ||
        configured.overrides.some((o) => o.user === key);
      const schedules: { parent: ScheduleMeta; shifts: IcsShift[] }[] = [];
      const leftOut: { parent: ScheduleMeta; note: string }[] = [];
      for (const row of rows) {
        if (!row.enabled) continue;
        const configured = configuredOf(row, partsOf(row.id));
        if (!names(configured)) continue;
        if (!visibility.sees({ ...row, rotations: partsOf(row.id).rotations })) continue;
        const plan = exportPlan(row, partsOf(row.id), from, to, configured);
        if (plan.pieces > MAX_TIMELINE_PIECES) {
          leftOut.push({ parent: metaOf(row), note: tooBusyToExport(row, plan.pieces) });
          continue;
        }
        const shifts = plan.compute().flatMap((s) => (s.key === key ? [s.shift] : []));
        if (shifts.length > 0) schedules.push({ parent: metaOf(row), shifts });
      }
      return { user: userView(user), schedules, leftOut };
    },

    /**
     * The next change of who is on call after `after` (see nextOnCalls in src/oncall/schedule.ts): `next` are
     * those who come on call then and are not on call at `after`, each with their shift; `exact` is everyone
     * on call then. Usernames are those they come to (a team's members, an escalation's people). A 422
     * if the look would take more work than one may (see tooBusyToSearch).
     */
    async nextOnCalls(p: Principal, identifier: string, by: IdentifierType, after: Date) {
      const { row, parts } = await withVisibleOnCalls(p, identifier, by, nextOnCallsReach(after));
      let change: ReturnType<typeof nextOnCalls>;
      try {
        change = nextOnCalls(effectiveOf(row, parts), after);
      } catch (error) {
        if (error instanceof ChangeSearchTooCostly) throw invalid(tooBusyToSearch(row, after, error));
        throw error;
      }
      const newcomers = change?.shifts ?? [];
      const everyone = change?.onCall.map((o) => o.user) ?? [];
      const [{ usernames }, { usernames: exactUsernames }] = await Promise.all([
        onCallDetails(
          p.orgId,
          parts,
          newcomers.map((s) => s.user),
        ),
        onCallDetails(p.orgId, parts, everyone),
      ]);
      return {
        parent: metaOf(row),
        usernames,
        exactUsernames,
        next: newcomers.map((s) => ({
          user: onCallOf(parts, s.user),
          startDate: new Date(s.start),
          endDate: new Date(s.end),
        })),
        exact: everyone.map((key) => onCallOf(parts, key)),
      };
    },

    /**
     * The final timeline (rotations combined, overrides applied) and the base one (each rotation's own shifts, restrictions
     * applied) from `date` for `interval` units in the schedule's zone. Final periods with a single rotation
     * go under that rotation; those without one (an override of the whole schedule, or pieces of one person
     * from several layers merged into one) go under an extra entry with id null named FINAL_ONLY_ENTRY,
     * after the rotations. A disabled schedule's final timeline is empty; its base timeline still shows
     * the rotations.
     */
    async timeline(
      p: Principal,
      identifier: string,
      by: IdentifierType,
      window: { date: Date; interval: number; intervalUnit: IntervalUnit },
    ) {
      const limit = TIMELINE_LIMITS[window.intervalUnit];
      // Not only too many: -Infinity or NaN would reach Luxon, which throws (a 500) on a unit value it
      // cannot add.
      if (!Number.isFinite(window.interval) || window.interval < 1 || window.interval > limit) {
        const advice =
          window.interval > limit
            ? `A timeline covers at most 3 months (or 13 weeks, or 93 days) at a time, not ${window.interval} ${window.intervalUnit}: ask for less, and page on with a later date.`
            : `A timeline covers from 1 to ${limit} ${window.intervalUnit}, not ${window.interval}.`;
        throw invalid(advice, { interval: advice });
      }
      const endOf = (timezone: string) =>
        DateTime.fromJSDate(window.date, { zone: timezone })
          .plus({ [window.intervalUnit]: window.interval })
          .toJSDate();
      const { row, parts } = await withVisibleOnCalls(p, identifier, by, (found) => ({
        from: window.date,
        to: endOf(found.timezone),
      }));
      const end = endOf(row.timezone);
      const plan = planTimeline(configuredOf(row, parts), window.date, end);
      const pieces = plan.pieces;
      if (pieces > MAX_TIMELINE_PIECES) {
        const days = (end.getTime() - window.date.getTime()) / 86_400_000;
        const fits = Math.max(1, Math.floor((days * MAX_TIMELINE_PIECES) / pieces));
        const advice = `This schedule changes hands too often for a timeline of ${window.interval} ${window.intervalUnit}: about ${count(pieces)} shifts, over the ${count(MAX_TIMELINE_PIECES)} one timeline holds at most. Ask for a shorter interval (about ${fits} days at most, intervalUnit=days), and page on with a later date.`;
        // The advice is the message too: clients (the console among them) show the message alone.
        throw invalid(advice, { interval: advice });
      }
      const computed = plan.compute();
      const final = row.enabled ? computed.final : [];
      const rotationsById = new Map(parts.rotations.map((r, order) => [r.id, { row: r, order }]));
      const period = (s: { user: string; start: string; end: string; override?: boolean }): PeriodView => ({
        startDate: new Date(s.start),
        endDate: new Date(s.end),
        type: s.override ? 'override' : 'default',
        recipient: onCallOf(parts, s.user),
      });
      const entries = (periodsOf: (rotationId: string) => PeriodView[]): TimelineRotationView[] =>
        parts.rotations.map((r, order) => ({ id: r.id, name: r.name, order, periods: periodsOf(r.id) }));
      const finalRotations = entries((id) => final.filter((s) => s.rotationId === id).map(period));
      const unattributed = final.filter(
        (s) => s.rotationId === undefined || !rotationsById.has(s.rotationId),
      );
      if (unattributed.length > 0) {
        finalRotations.push({
          id: null,
          name: FINAL_ONLY_ENTRY,
          order: parts.rotations.length,
          periods: unattributed.map(period),
        });
      }
      const baseRotations = entries(
        (id) => computed.rotations.find((r) => r.rotationId === id)?.shifts.map(period) ?? [],
      );
      return {
        parent: metaOf(row),
        startDate: window.date,
        endDate: end,
        finalTimeline: finalRotations,
        baseTimeline: baseRotations,
      };
    },
  };
}

export type SchedulesService = ReturnType<typeof createSchedulesService>;
