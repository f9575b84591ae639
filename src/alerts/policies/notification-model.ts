import { Type, type Static } from 'typebox';
import { parseCriteria } from '../../oncall/conditions.js';
import type { Criteria } from '../../oncall/model.js';
import { StringEnum } from '../../http/schemas.js';
import { invalid, UNPROCESSABLE_BODY } from '../../errors.js';
import { PolicyBodySchema } from './model.js';

/**
 * Opsgenie's notification policies (`/v2/policies`, type `notification`): a team's policies that change how
 * the team is notified of an alert they match. Vigil runs `suppress`, `delayAction` for a duration and
 * `autoCloseAction`; the other actions and delay options are refused by name, never accepted and ignored.
 */

const TIME_UNITS = ['minutes', 'hours', 'days'] as const;
const UNIT_MS: Record<(typeof TIME_UNITS)[number], number> = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
};
/** Longer than any delay or auto-close anyone means; keeps every time computed a valid date. */
const MAX_DURATION_MS = 366 * UNIT_MS.days;

const DurationSchema = Type.Object(
  {
    timeAmount: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    timeUnit: Type.Optional(StringEnum(TIME_UNITS, { description: 'minutes when left out' })),
  },
  { additionalProperties: false },
);
type Duration = Static<typeof DurationSchema>;

const DELAY_OPTIONS = [
  'for-duration',
  'next-time',
  'next-weekday',
  'next-monday',
  'next-tuesday',
  'next-wednesday',
  'next-thursday',
  'next-friday',
  'next-saturday',
  'next-sunday',
] as const;

const DelayActionSchema = Type.Object(
  {
    delayOption: StringEnum(DELAY_OPTIONS, { description: 'Vigil runs for-duration only' }),
    duration: Type.Optional(DurationSchema),
    untilHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23 })),
    untilMinute: Type.Optional(Type.Integer({ minimum: 0, maximum: 59 })),
  },
  { additionalProperties: false },
);

const AutoCloseActionSchema = Type.Object({ duration: DurationSchema }, { additionalProperties: false });

const AutoRestartActionSchema = Type.Object(
  {
    duration: Type.Optional(DurationSchema),
    maxRepeatCount: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  },
  { additionalProperties: false },
);

const DeduplicationActionSchema = Type.Object(
  {
    deduplicationActionType: Type.Optional(StringEnum(['value-based', 'frequency-based'])),
    count: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    duration: Type.Optional(DurationSchema),
  },
  { additionalProperties: false },
);

/** The fields only a notification policy has. */
const NOTIFICATION_FIELDS = {
  suppress: Type.Optional(Type.Boolean()),
  delayAction: Type.Optional(Type.Union([DelayActionSchema, Type.Null()])),
  autoCloseAction: Type.Optional(Type.Union([AutoCloseActionSchema, Type.Null()])),
  autoRestartAction: Type.Optional(
    Type.Union([AutoRestartActionSchema, Type.Null()], { description: 'Not supported: refused' }),
  ),
  deduplicationAction: Type.Optional(
    Type.Union([DeduplicationActionSchema, Type.Null()], { description: 'Not supported: refused' }),
  ),
};

/**
 * The body of `POST`/`PUT /v2/policies`, either kind: one object rather than a union, because the server's
 * validator drops the properties one branch of a union does not know before it tries the next. Which
 * fields belong to which kind is checked after (fieldsOfOtherKind).
 */
export const AnyPolicyBodySchema = Type.Object(
  {
    ...PolicyBodySchema.properties,
    type: StringEnum(['alert', 'notification'], {
      description:
        'alert: changes alerts as they are created; notification: a team’s, changes how it is notified',
    }),
    ...NOTIFICATION_FIELDS,
  },
  { additionalProperties: false },
);
export type AnyPolicyBody = Static<typeof AnyPolicyBodySchema>;

const NOTIFICATION_ONLY = Object.keys(NOTIFICATION_FIELDS);
const SHARED = ['type', 'name', 'policyDescription', 'enabled', 'filter', 'timeRestrictions'];
const ALERT_ONLY = Object.keys(PolicyBodySchema.properties).filter((k) => !SHARED.includes(k));

/** The fields given that the other kind of policy has (a 422 names them), or none. */
export function fieldsOfOtherKind(body: AnyPolicyBody): string[] {
  const foreign = body.type === 'notification' ? ALERT_ONLY : NOTIFICATION_ONLY;
  return foreign.filter((k) => (body as Record<string, unknown>)[k] !== undefined);
}

/** What a notification policy does, as stored (`notification_actions`) and presented. */
export interface NotificationActions {
  suppress: boolean;
  delayAction?: { delayOption: 'for-duration'; duration: Required<Duration> };
  autoCloseAction?: { duration: Required<Duration> };
}

export interface ParsedNotificationPolicy {
  name: string;
  policyDescription: string;
  enabled: boolean;
  filter: Criteria;
  actions: NotificationActions;
}

function durationOf(duration: Duration, field: string, problems: Record<string, string>) {
  const unit = duration.timeUnit ?? 'minutes';
  if (duration.timeAmount * UNIT_MS[unit] > MAX_DURATION_MS) problems[field] = 'must be at most 366 days.';
  return { timeAmount: duration.timeAmount, timeUnit: unit };
}

export function durationMs(duration: Required<Duration>): number {
  return duration.timeAmount * UNIT_MS[duration.timeUnit];
}

/** The body checked; what Vigil does not run is refused by name (a 422), with every problem at once. */
export function parseNotificationPolicy(body: AnyPolicyBody): ParsedNotificationPolicy {
  const problems: Record<string, string> = {};
  for (const field of fieldsOfOtherKind(body))
    problems[field] = 'is a field of alert policies, not of notification policies.';
  const restrictions = body.timeRestrictions as { restrictions?: unknown[]; restriction?: unknown } | null;
  if (
    restrictions &&
    ((restrictions.restrictions?.length ?? 0) > 0 || (restrictions.restriction ?? null) !== null)
  )
    problems.timeRestrictions =
      'Vigil does not support time restrictions on policies yet: leave them out (the policy then always applies).';
  if (body.autoRestartAction)
    problems.autoRestartAction = 'Vigil does not support autoRestartAction: leave it out.';
  if (body.deduplicationAction)
    problems.deduplicationAction = 'Vigil does not support deduplicationAction: leave it out.';
  const actions: NotificationActions = { suppress: body.suppress ?? false };
  const delay = body.delayAction;
  if (delay) {
    if (delay.delayOption !== 'for-duration')
      problems['delayAction.delayOption'] =
        `Vigil supports for-duration only, not ${delay.delayOption}: give a duration instead.`;
    else if (!delay.duration) problems['delayAction.duration'] = 'is required with for-duration.';
    else
      actions.delayAction = {
        delayOption: 'for-duration',
        duration: durationOf(delay.duration, 'delayAction.duration', problems),
      };
  }
  if (body.autoCloseAction)
    actions.autoCloseAction = {
      duration: durationOf(body.autoCloseAction.duration, 'autoCloseAction.duration', problems),
    };
  const doesNothing = !actions.suppress && !actions.delayAction && !actions.autoCloseAction;
  if (doesNothing && Object.keys(problems).length === 0)
    problems.suppress = 'A notification policy must do something: suppress, delayAction or autoCloseAction.';
  let filter: Criteria = { type: 'match-all' };
  try {
    filter = parseCriteria(
      {
        type: body.filter?.type ?? body.filter?.conditionMatchType ?? 'match-all',
        conditions: body.filter?.conditions ?? [],
      },
      'filter',
    );
  } catch (error) {
    if (Object.keys(problems).length === 0) throw error;
    problems.filter = error instanceof Error ? error.message : 'is not a valid filter.';
  }
  if (Object.keys(problems).length > 0) throw invalid(UNPROCESSABLE_BODY, problems);
  return {
    name: body.name,
    policyDescription: body.policyDescription ?? '',
    enabled: body.enabled ?? true,
    filter,
    actions,
  };
}
