import { parseInstant } from '../schedule/validation.js';
import { inStoredRange, outOfRange } from './input.js';
import { onCallCalendar, scheduleCalendar } from './ics.js';
import { Type } from 'typebox';
import { presentTimeRestriction, TimeRestrictionSchema } from '../time-restriction-input.js';
import { principalOf, envelope, type HttpApp } from '../../http/server.js';
import { invalid, UNPROCESSABLE_QUERY } from '../../errors.js';
import { StringEnum } from '../../http/schemas.js';
import type { Clock } from '../../work/clock.js';
import { MAX_ROTATIONS } from './service.js';
import type {
  IdentifierType,
  OnCallDetail,
  OnCallView,
  OverrideView,
  ParticipantView,
  PeriodView,
  RotationView,
  ScheduleMeta,
  SchedulesService,
  ScheduleView,
  TimelineRotationView,
  UserView,
} from './service.js';

/**
 * Opsgenie's Schedule, Schedule Rotation, Schedule Override and Who Is On Call APIs (v2). Vigil's own
 * additions: `rotationsCombine` on schedules ("all", Opsgenie's way and the default, or "layers"), the
 * `custom` rotation type (length in hours), `order` on rotations (in a "layers" schedule a higher one wins),
 * `nextShift`/`nextShifts` on next-on-calls, and the final-timeline entry for periods of no single rotation.
 */

const TeamRef = Type.Object({ id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) });
/** Opsgenie's rotation participant: a user (id or username), a team or escalation (id or name), or none. */
const ParticipantRef = Type.Object({
  type: StringEnum(['user', 'team', 'escalation', 'none']),
  id: Type.Optional(Type.String({ maxLength: 100 })),
  username: Type.Optional(Type.String({ maxLength: 100 })),
  name: Type.Optional(Type.String({ maxLength: 200 })),
});
const Instant = Type.String({ minLength: 1, maxLength: 64 });
const RotationFields = {
  name: Type.Optional(Type.String({ maxLength: 200 })),
  startDate: Instant,
  endDate: Type.Optional(Type.Union([Instant, Type.Null()])),
  type: StringEnum(['hourly', 'daily', 'weekly', 'custom']),
  length: Type.Optional(Type.Integer({ maximum: 1_000_000 })),
  participants: Type.Array(ParticipantRef, { maxItems: 500 }),
  timeRestriction: Type.Optional(Type.Union([TimeRestrictionSchema, Type.Null()])),
};
const RotationBody = Type.Object(RotationFields);
const RotationPatch = Type.Object({
  name: Type.Optional(RotationFields.name),
  startDate: Type.Optional(Instant),
  endDate: RotationFields.endDate,
  type: Type.Optional(RotationFields.type),
  length: RotationFields.length,
  participants: Type.Optional(RotationFields.participants),
  timeRestriction: RotationFields.timeRestriction,
});
const ScheduleName = Type.String({ minLength: 1, maxLength: 100 });
const Description = Type.String({ maxLength: 10000 });
const TimeZone = Type.String({ minLength: 1, maxLength: 64 });
const Rotations = Type.Array(RotationBody, { maxItems: MAX_ROTATIONS });
const RotationsCombine = StringEnum(['all', 'layers'], {
  description:
    'Vigil extension. "all" (Opsgenie\'s way, the default for new schedules): every rotation\'s participant is on call at once. "layers": the highest rotation with someone wins.',
});
const OverrideRotations = Type.Array(
  Type.Object({ id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) }),
  { maxItems: 50 },
);
/** Opsgenie's override user: a user (id or username), or the reserved word none (nobody on call). */
const OverrideUser = Type.Object({
  type: StringEnum(['user', 'none']),
  id: Type.Optional(Type.String({ maxLength: 100 })),
  username: Type.Optional(Type.String({ maxLength: 100 })),
});
const OverrideFields = {
  user: OverrideUser,
  startDate: Instant,
  endDate: Instant,
  rotations: Type.Optional(OverrideRotations),
};

const ScheduleParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 200 }) });
const RotationParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 200 }),
  rotationId: Type.String({ minLength: 1, maxLength: 100 }),
});
const OverrideParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 200 }),
  alias: Type.String({ minLength: 1, maxLength: 100 }),
});
/** Opsgenie calls it identifierType on schedules and scheduleIdentifierType below them; both work everywhere. */
const IdentifierQueryFields = {
  identifierType: Type.Optional(StringEnum(['id', 'name'])),
  scheduleIdentifierType: Type.Optional(StringEnum(['id', 'name'])),
};
const IdentifierQuery = Type.Object(IdentifierQueryFields);
const OnCallQuery = Type.Object({
  ...IdentifierQueryFields,
  date: Type.Optional(Type.String({ maxLength: 64 })),
  flat: Type.Boolean({ default: false }),
});

function identifierTypeOf(query: {
  identifierType?: IdentifierType;
  scheduleIdentifierType?: IdentifierType;
}): IdentifierType {
  return query.scheduleIdentifierType ?? query.identifierType ?? 'id';
}

/** Opsgenie writes instants without milliseconds when there are none: 2026-03-23T08:00:00Z. */
function iso(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/**
 * The `date` query parameter: an ISO instant with an offset. An unescaped "+" in a query string arrives as a
 * space (Opsgenie's documentation warns of it), so "…T08:00:00 02:00" is read as "+02:00".
 */
function dateQuery(value: string | undefined, now: Date): Date {
  if (value === undefined || value === '') return now;
  const text = value.trim().replace(/ (\d{2}(?::?\d{2})?)$/, '+$1');
  // The schedules' own reading of an instant: a bare date ("2026-03-23" ends like an offset) would be
  // midnight wherever Vigil runs.
  const parsed = parseInstant(text, 'date');
  if (typeof parsed === 'string') {
    throw invalid(UNPROCESSABLE_QUERY, {
      date: `${parsed} (in a query, write "+" as %2B).`,
    });
  }
  // The schedules' own instants lie in these years; far past them the JavaScript dates the on-call
  // computation steps through (a timeline's end, the next handoff) run out and become invalid.
  if (!inStoredRange(parsed)) throw invalid(UNPROCESSABLE_QUERY, { date: `${outOfRange(value)}.` });
  return new Date(parsed);
}

function presentUser(u: UserView) {
  return { type: 'user' as const, id: u.id, username: u.username };
}

/** As Opsgenie reads a rotation's participants back: users with username, teams and escalations with name. */
function presentParticipant(p: ParticipantView) {
  switch (p.type) {
    case 'none':
      return { type: 'none' as const };
    case 'user':
      return presentUser(p);
    default:
      return { type: p.type, id: p.id, name: p.name };
  }
}

function presentRecipient(p: OnCallView) {
  return { id: p.id, type: p.type, name: p.type === 'user' ? p.username : p.name };
}

/** Opsgenie lists whom an on-call escalation notifies under it, with each rule's delay and notify type. */
function presentOnCall(p: OnCallDetail) {
  if (p.type !== 'escalation') return presentRecipient(p);
  return {
    ...presentRecipient(p),
    onCallParticipants: p.rules.map((r) => ({
      id: r.recipient.id,
      type: r.recipient.type,
      name: r.recipient.name,
      escalationTime: r.delayMinutes,
      notifyType: r.notifyType,
    })),
  };
}

function presentRotation(r: RotationView) {
  return {
    id: r.id,
    name: r.name,
    order: r.order,
    startDate: iso(r.startDate),
    ...(r.endDate ? { endDate: iso(r.endDate) } : {}),
    type: r.type,
    length: r.length,
    participants: r.participants.map(presentParticipant),
    ...(r.timeRestriction ? { timeRestriction: presentTimeRestriction(r.timeRestriction) } : {}),
  };
}

function presentSchedule(s: ScheduleView) {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    timezone: s.timezone,
    enabled: s.enabled,
    ...(s.ownerTeam ? { ownerTeam: s.ownerTeam } : {}),
    rotationsCombine: s.rotationsCombine,
    rotations: s.rotations.map(presentRotation),
  };
}

function presentOverride(parent: ScheduleMeta, o: OverrideView) {
  return {
    _parent: parent,
    alias: o.alias,
    user: o.user ? presentUser(o.user) : { type: 'none' as const },
    startDate: iso(o.startDate),
    endDate: iso(o.endDate),
    rotations: o.rotations,
  };
}

function presentPeriod(p: PeriodView) {
  return {
    startDate: iso(p.startDate),
    endDate: iso(p.endDate),
    type: p.type,
    recipient: presentRecipient(p.recipient),
  };
}

function presentTimelineRotation(r: TimelineRotationView) {
  return { id: r.id, name: r.name, order: r.order, periods: r.periods.map(presentPeriod) };
}

/** A download name of letters, digits, dots and dashes, whatever the schedule or user is called. */
function calendarFileName(name: string): string {
  return `${name.replace(/[^\w.-]+/g, '_')}.ics`;
}

/**
 * `clock`: "now" when a request gives no date, and the .ics export's window, read from the same clock as
 * the engine that pages the people these routes name.
 */
export function registerScheduleRoutes(app: HttpApp, schedules: SchedulesService, clock: Clock): void {
  // Schedules

  app.post(
    '/v2/schedules',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Create a schedule, optionally with its rotations',
        body: Type.Object({
          name: ScheduleName,
          description: Type.Optional(Description),
          timezone: Type.Optional(
            Type.String({
              ...TimeZone,
              description:
                "IANA zone; UTC when left out (Opsgenie uses the account's zone, which Vigil does not have)",
            }),
          ),
          enabled: Type.Optional(Type.Boolean()),
          ownerTeam: Type.Optional(TeamRef),
          rotations: Type.Optional(Rotations),
          rotationsCombine: Type.Optional(RotationsCombine),
        }),
      },
    },
    async (request, reply) => {
      // Terraform's opsgenie_schedule leaves timezone out when it is not configured.
      const body = { ...request.body, timezone: request.body.timezone ?? 'UTC' };
      const created = await schedules.createSchedule(principalOf(request), body);
      return reply.status(201).send(envelope(request, { result: 'Created', data: created }));
    },
  );

  app.get(
    '/v2/schedules',
    {
      schema: {
        tags: ['schedules'],
        summary: 'List schedules (expand=rotation includes their rotations)',
        querystring: Type.Object({ expand: Type.Optional(Type.String({ maxLength: 100 })) }),
      },
    },
    async (request) => {
      const expand = (request.query.expand ?? '').split(',').map((s) => s.trim().toLowerCase());
      const list = await schedules.listSchedules(principalOf(request), expand.includes('rotation'));
      return envelope(request, { data: list.map(presentSchedule), expandable: ['rotation'] });
    },
  );

  app.get(
    '/v2/users/:identifier/schedules',
    {
      schema: {
        tags: ['schedules'],
        summary: 'The schedules a user (id or username) takes part in through a rotation',
        params: Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (request) => {
      const list = await schedules.schedulesOfUser(principalOf(request), request.params.identifier);
      return envelope(request, { data: list.map(presentSchedule) });
    },
  );

  app.get(
    '/v2/schedules/:identifier',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Get a schedule with its rotations',
        params: ScheduleParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const schedule = await schedules.getSchedule(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
      );
      return envelope(request, { data: presentSchedule(schedule) });
    },
  );

  app.patch(
    '/v2/schedules/:identifier',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Update a schedule (rotations, when given, replace the current ones)',
        params: ScheduleParams,
        querystring: IdentifierQuery,
        body: Type.Object({
          name: Type.Optional(ScheduleName),
          description: Type.Optional(Description),
          timezone: Type.Optional(TimeZone),
          enabled: Type.Optional(Type.Boolean()),
          ownerTeam: Type.Optional(Type.Union([TeamRef, Type.Null()])),
          rotations: Type.Optional(Rotations),
          rotationsCombine: Type.Optional(RotationsCombine),
        }),
      },
    },
    async (request) => {
      const updated = await schedules.updateSchedule(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.body,
      );
      return envelope(request, { result: 'Updated', data: updated });
    },
  );

  app.delete(
    '/v2/schedules/:identifier',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Delete a schedule',
        params: ScheduleParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      await schedules.deleteSchedule(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
      );
      return envelope(request, { result: 'Deleted' });
    },
  );

  // Rotations

  app.post(
    '/v2/schedules/:identifier/rotations',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Add a rotation as the new top layer',
        params: ScheduleParams,
        querystring: IdentifierQuery,
        body: RotationBody,
      },
    },
    async (request, reply) => {
      const created = await schedules.addRotation(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.body,
      );
      return reply.status(201).send(envelope(request, { result: 'Created', data: created }));
    },
  );

  app.get(
    '/v2/schedules/:identifier/rotations',
    {
      schema: {
        tags: ['schedules'],
        summary: "A schedule's rotations, lowest layer first",
        params: ScheduleParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const rotations = await schedules.listRotations(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
      );
      return envelope(request, { data: rotations.map(presentRotation) });
    },
  );

  app.get(
    '/v2/schedules/:identifier/rotations/:rotationId',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Get a rotation',
        params: RotationParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const rotation = await schedules.getRotation(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.params.rotationId,
      );
      return envelope(request, { data: presentRotation(rotation) });
    },
  );

  app.patch(
    '/v2/schedules/:identifier/rotations/:rotationId',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Update a rotation (participants, when given, replace the current ones; null clears)',
        params: RotationParams,
        querystring: IdentifierQuery,
        body: RotationPatch,
      },
    },
    async (request) => {
      const updated = await schedules.updateRotation(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.params.rotationId,
        request.body,
      );
      return envelope(request, { result: 'Updated', data: updated });
    },
  );

  app.delete(
    '/v2/schedules/:identifier/rotations/:rotationId',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Delete a rotation (overrides of only this rotation go with it)',
        params: RotationParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      await schedules.deleteRotation(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.params.rotationId,
      );
      return envelope(request, { result: 'Deleted' });
    },
  );

  // Overrides

  app.post(
    '/v2/schedules/:identifier/overrides',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Override who is on call for a while (in given rotations, or in the whole schedule)',
        params: ScheduleParams,
        querystring: IdentifierQuery,
        body: Type.Object({
          alias: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          ...OverrideFields,
        }),
      },
    },
    async (request, reply) => {
      const created = await schedules.createOverride(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.body,
        clock.now(),
      );
      return reply.status(201).send(envelope(request, { result: 'Created', data: created }));
    },
  );

  app.get(
    '/v2/schedules/:identifier/overrides',
    {
      schema: {
        tags: ['schedules'],
        summary: "A schedule's overrides, oldest first (a later one wins where they overlap)",
        params: ScheduleParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const { parent, overrides } = await schedules.listOverrides(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
      );
      return envelope(request, { data: overrides.map((o) => presentOverride(parent, o)) });
    },
  );

  app.get(
    '/v2/schedules/:identifier/overrides/:alias',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Get an override',
        params: OverrideParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const { parent, override } = await schedules.getOverride(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.params.alias,
      );
      return envelope(request, { data: presentOverride(parent, override) });
    },
  );

  app.put(
    '/v2/schedules/:identifier/overrides/:alias',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Replace an override',
        params: OverrideParams,
        querystring: IdentifierQuery,
        body: Type.Object(OverrideFields),
      },
    },
    async (request) => {
      const updated = await schedules.updateOverride(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.params.alias,
        request.body,
        clock.now(),
      );
      return envelope(request, { result: 'Updated', data: updated });
    },
  );

  app.delete(
    '/v2/schedules/:identifier/overrides/:alias',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Delete an override',
        params: OverrideParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      await schedules.deleteOverride(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        request.params.alias,
      );
      return envelope(request, { result: 'Deleted' });
    },
  );

  // Who is on call

  app.get(
    '/v2/schedules/on-calls',
    {
      schema: {
        tags: ['who is on call'],
        summary: 'Who is on call at date (default now) in every schedule; flat=true gives usernames',
        querystring: Type.Object({
          date: Type.Optional(Type.String({ maxLength: 64 })),
          flat: Type.Boolean({ default: false }),
        }),
      },
    },
    async (request) => {
      const all = await schedules.onCallsEverywhere(
        principalOf(request),
        dateQuery(request.query.date, clock.now()),
      );
      return envelope(request, {
        data: all.map(({ parent, participants, usernames }) =>
          request.query.flat
            ? { _parent: parent, onCallRecipients: usernames }
            : { _parent: parent, onCallParticipants: participants.map(presentOnCall) },
        ),
      });
    },
  );

  app.get(
    '/v2/schedules/on-calls/:userIdentifier.ics',
    {
      schema: {
        tags: ['who is on call'],
        summary:
          "A user's own on-call shifts in every schedule as one iCalendar feed (a week back, 13 weeks ahead); the user by id or username",
        params: Type.Object({ userIdentifier: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const {
        user,
        schedules: theirs,
        leftOut,
      } = await schedules.exportUserShifts(principalOf(request), request.params.userIdentifier, now);
      const calendar = onCallCalendar(
        `${user.fullName || user.username} on call`,
        theirs.map(({ parent, shifts }) => ({ schedule: parent, shifts })),
        now,
        leftOut.map((l) => l.note),
      );
      return reply
        .type('text/calendar; charset=utf-8')
        .header('content-disposition', `inline; filename="${calendarFileName(user.username)}"`)
        .send(calendar);
    },
  );

  app.get(
    '/v2/schedules/:identifier.ics',
    {
      schema: {
        tags: ['schedules'],
        summary: "The schedule's on-call shifts as an iCalendar feed (a week back, 13 weeks ahead)",
        params: ScheduleParams,
        querystring: Type.Object({ ...IdentifierQueryFields }),
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const { parent, shifts } = await schedules.exportShifts(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        now,
      );
      return reply
        .type('text/calendar; charset=utf-8')
        .header('content-disposition', `inline; filename="${calendarFileName(parent.name)}"`)
        .send(scheduleCalendar(parent, shifts, now));
    },
  );

  app.get(
    '/v2/schedules/:identifier/on-calls',
    {
      schema: {
        tags: ['who is on call'],
        summary: 'Who is on call at date (default now); flat=true gives usernames',
        params: ScheduleParams,
        querystring: OnCallQuery,
      },
    },
    async (request) => {
      const { parent, participants, usernames } = await schedules.onCalls(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        dateQuery(request.query.date, clock.now()),
      );
      return envelope(request, {
        data: request.query.flat
          ? { _parent: parent, onCallRecipients: usernames }
          : { _parent: parent, onCallParticipants: participants.map(presentOnCall) },
      });
    },
  );

  app.get(
    '/v2/schedules/:identifier/next-on-calls',
    {
      schema: {
        tags: ['who is on call'],
        summary:
          'Who comes on call next after date (default now): those not on call then who come on call at the next change (nextOnCallRecipients, shifts in nextShifts), and everyone on call from that change (exactNextOnCallRecipients); flat=true gives their usernames as nextOnCallParticipants and exactNextOnCallParticipants',
        params: ScheduleParams,
        querystring: OnCallQuery,
      },
    },
    async (request) => {
      const { parent, next, exact, usernames, exactUsernames } = await schedules.nextOnCalls(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        dateQuery(request.query.date, clock.now()),
      );
      // nextOnCallRecipients: those who come on call at the next change (and are not on call at date);
      // exactNextOnCallRecipients: everyone on call from then, those staying on included. Flat, Opsgenie
      // answers with the usernames they reach under …Participants instead, as its Go SDK decodes them
      // (strings under …Recipients fail it): a team or escalation comes as its people.
      const shiftOf = (n: (typeof next)[number]) => ({
        user: presentRecipient(n.user),
        startDate: iso(n.startDate),
        endDate: iso(n.endDate),
      });
      const [first] = next;
      return envelope(request, {
        data: {
          _parent: parent,
          ...(request.query.flat
            ? { nextOnCallParticipants: usernames, exactNextOnCallParticipants: exactUsernames }
            : {
                nextOnCallRecipients: next.map((n) => presentRecipient(n.user)),
                exactNextOnCallRecipients: exact.map(presentRecipient),
              }),
          nextShift: first ? shiftOf(first) : null,
          nextShifts: next.map(shiftOf),
        },
      });
    },
  );

  app.get(
    '/v2/schedules/:identifier/timeline',
    {
      schema: {
        tags: ['schedules'],
        summary:
          'The final and base timelines from date (default now) for interval intervalUnits (at most about three months)',
        params: ScheduleParams,
        querystring: Type.Object({
          ...IdentifierQueryFields,
          date: Type.Optional(Type.String({ maxLength: 64 })),
          interval: Type.Integer({ minimum: 1, default: 1 }),
          intervalUnit: StringEnum(['days', 'weeks', 'months'], { default: 'weeks' }),
          expand: Type.Optional(Type.String({ maxLength: 100 })),
        }),
      },
    },
    async (request) => {
      const result = await schedules.timeline(
        principalOf(request),
        request.params.identifier,
        identifierTypeOf(request.query),
        {
          date: dateQuery(request.query.date, clock.now()),
          interval: request.query.interval,
          intervalUnit: request.query.intervalUnit,
        },
      );
      return envelope(request, {
        data: {
          _parent: result.parent,
          startDate: iso(result.startDate),
          endDate: iso(result.endDate),
          finalTimeline: { rotations: result.finalTimeline.map(presentTimelineRotation) },
          baseTimeline: { rotations: result.baseTimeline.map(presentTimelineRotation) },
        },
      });
    },
  );
}
