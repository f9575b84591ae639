import { Type, type Static } from 'typebox';
import { parseCriteria } from '../../oncall/conditions.js';
import type { Criteria } from '../../oncall/model.js';
import { StringEnum } from '../../http/schemas.js';
import { invalid, UNPROCESSABLE_BODY } from '../../errors.js';
import { POLICY_CONDITIONS } from '../../oncall/conditions.js';
import { PolicyBodySchema } from './model.js';
import { parsePolicyTiming, type PolicyTiming, type UntilOption } from './timing.js';

/**
 * Opsgenie's notification policies (`/v2/policies`, type `notification`): a team's policies that change how
 * the team is notified of an alert they match: `suppress`, `delayAction` (for a duration, or until a time
 * of day), `deduplicationAction` (only once the alert occurred often enough), `autoRestartAction` (the
 * escalation starts over while nobody acknowledges) and `autoCloseAction`. The engine runs them
 * (engine/escalation/notification-policies.ts); what is checked here is that each is one it can run.
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
    delayOption: StringEnum(DELAY_OPTIONS, {
      description:
        'for-duration: for duration; next-time: until the next untilHour:untilMinute; next-weekday: until then on a weekday; next-<day>: until then on that day (in the policy’s timezone)',
    }),
    duration: Type.Optional(DurationSchema),
    untilHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23 })),
    untilMinute: Type.Optional(Type.Integer({ minimum: 0, maximum: 59 })),
  },
  { additionalProperties: false },
);

const AutoCloseActionSchema = Type.Object({ duration: DurationSchema }, { additionalProperties: false });

// Counts are checked by parseNotificationPolicy, whose messages say what to give; these bounds only keep
// them numbers.
const AutoRestartActionSchema = Type.Object(
  {
    duration: Type.Optional(DurationSchema),
    maxRepeatCount: Type.Optional(Type.Integer({ minimum: -1_000_000_000, maximum: 1_000_000_000_000 })),
  },
  { additionalProperties: false },
);

const DeduplicationActionSchema = Type.Object(
  {
    deduplicationActionType: Type.Optional(StringEnum(['value-based', 'frequency-based'])),
    count: Type.Optional(Type.Integer({ minimum: -1_000_000_000, maximum: 1_000_000_000_000 })),
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
    Type.Union([AutoRestartActionSchema, Type.Null()], {
      description:
        'While the alert is open and unacknowledged, its escalation starts over every duration, at most maxRepeatCount times',
    }),
  ),
  deduplicationAction: Type.Optional(
    Type.Union([DeduplicationActionSchema, Type.Null()], {
      description:
        'The team is notified only once the alert occurred count times (value-based), or count times within duration (frequency-based)',
    }),
  ),
  deduplicationActionAction: Type.Optional(
    Type.Union([DeduplicationActionSchema, Type.Null()], {
      description:
        "deduplicationAction as the Go SDK's UpdateNotificationPolicyRequest (so Terraform's update) misspells it; read as deduplicationAction when that is left out",
    }),
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
const SHARED = ['type', 'name', 'policyDescription', 'enabled', 'filter', 'timeRestrictions', 'timezone'];
const ALERT_ONLY = Object.keys(PolicyBodySchema.properties).filter((k) => !SHARED.includes(k));

/** The fields given that the other kind of policy has (a 422 names them), or none. */
export function fieldsOfOtherKind(body: AnyPolicyBody): string[] {
  const foreign = body.type === 'notification' ? ALERT_ONLY : NOTIFICATION_ONLY;
  return foreign.filter((k) => (body as Record<string, unknown>)[k] !== undefined);
}

export type DelayAction =
  | { delayOption: 'for-duration'; duration: Required<Duration> }
  | { delayOption: UntilOption; untilHour: number; untilMinute: number };

export interface DeduplicationAction {
  deduplicationActionType: 'value-based' | 'frequency-based';
  count: number;
  /** Frequency-based only: the occurrences counted are those within it. */
  duration?: Required<Duration>;
}

export interface AutoRestartAction {
  duration: Required<Duration>;
  maxRepeatCount: number;
}

/** What a notification policy does, as stored (`notification_actions`) and presented. */
export interface NotificationActions {
  suppress: boolean;
  delayAction?: DelayAction;
  deduplicationAction?: DeduplicationAction;
  autoRestartAction?: AutoRestartAction;
  autoCloseAction?: { duration: Required<Duration> };
}

export interface ParsedNotificationPolicy {
  name: string;
  policyDescription: string;
  enabled: boolean;
  filter: Criteria;
  timing: PolicyTiming;
  actions: NotificationActions;
}

/** Opsgenie's dedupe counts; 1 would notify on the first occurrence, as with no action. */
const MAX_DEDUPLICATION_COUNT = 100_000;
/**
 * Frequency-based counts keep that many occurrence times per held alert, rewritten on each occurrence
 * (engine/notification-holds.ts): fewer than value-based, which keeps none.
 */
const MAX_FREQUENCY_COUNT = 1_000;
const MAX_REPEAT_COUNT = 100;

function durationOf(duration: Duration, field: string, problems: Record<string, string>) {
  const unit = duration.timeUnit ?? 'minutes';
  if (duration.timeAmount * UNIT_MS[unit] > MAX_DURATION_MS) problems[field] = 'must be at most 366 days.';
  return { timeAmount: duration.timeAmount, timeUnit: unit };
}

export function durationMs(duration: Required<Duration>): number {
  return duration.timeAmount * UNIT_MS[duration.timeUnit];
}

/** The body checked, with every problem at once (a 422 naming each field). */
export function parseNotificationPolicy(body: AnyPolicyBody): ParsedNotificationPolicy {
  const problems: Record<string, string> = {};
  for (const field of fieldsOfOtherKind(body))
    problems[field] = 'is a field of alert policies, not of notification policies.';
  const timing = parsePolicyTiming(body, problems);
  const actions: NotificationActions = { suppress: body.suppress ?? false };
  const delay = body.delayAction;
  if (delay) {
    if (delay.delayOption === 'for-duration') {
      if (!delay.duration) problems['delayAction.duration'] = 'is required with for-duration.';
      else
        actions.delayAction = {
          delayOption: 'for-duration',
          duration: durationOf(delay.duration, 'delayAction.duration', problems),
        };
    } else if (delay.untilHour === undefined) {
      problems['delayAction.untilHour'] =
        `is required with ${delay.delayOption}: the hour (0-23) notifications wait until, with untilMinute.`;
    } else if (delay.duration !== undefined) {
      problems['delayAction.duration'] =
        `is for for-duration only: ${delay.delayOption} waits until untilHour:untilMinute.`;
    } else
      actions.delayAction = {
        delayOption: delay.delayOption,
        untilHour: delay.untilHour,
        untilMinute: delay.untilMinute ?? 0,
      };
  }
  const dedupe = body.deduplicationAction ?? body.deduplicationActionAction;
  if (dedupe) {
    const type = dedupe.deduplicationActionType;
    if (type === undefined)
      problems['deduplicationAction.deduplicationActionType'] =
        'is required: value-based or frequency-based.';
    if (dedupe.count === undefined)
      problems['deduplicationAction.count'] = 'is required: how many times the alert must occur.';
    else if (dedupe.count < 2 || dedupe.count > MAX_DEDUPLICATION_COUNT)
      problems['deduplicationAction.count'] =
        `must be from 2 to ${MAX_DEDUPLICATION_COUNT} (1 would notify on the first occurrence, as without the action).`;
    else if (type === 'frequency-based' && dedupe.count > MAX_FREQUENCY_COUNT)
      problems['deduplicationAction.count'] =
        `must be from 2 to ${MAX_FREQUENCY_COUNT} with frequency-based (up to ${MAX_DEDUPLICATION_COUNT} with value-based).`;
    if (type === 'frequency-based' && !dedupe.duration)
      problems['deduplicationAction.duration'] =
        'is required with frequency-based: the time the occurrences must fall within.';
    if (type === 'value-based' && dedupe.duration)
      problems['deduplicationAction.duration'] =
        'is for frequency-based only: value-based counts every occurrence.';
    const window = dedupe.duration
      ? durationOf(dedupe.duration, 'deduplicationAction.duration', problems)
      : undefined;
    if (type && dedupe.count !== undefined)
      actions.deduplicationAction = {
        deduplicationActionType: type,
        count: dedupe.count,
        ...(type === 'frequency-based' && window ? { duration: window } : {}),
      };
  }
  const restart = body.autoRestartAction;
  if (restart) {
    if (!restart.duration)
      problems['autoRestartAction.duration'] =
        'is required: how long after each start the escalation starts over.';
    if (restart.maxRepeatCount === undefined)
      problems['autoRestartAction.maxRepeatCount'] =
        `is required: how many times at most (1 to ${MAX_REPEAT_COUNT}).`;
    else if (restart.maxRepeatCount < 1 || restart.maxRepeatCount > MAX_REPEAT_COUNT)
      problems['autoRestartAction.maxRepeatCount'] = `must be from 1 to ${MAX_REPEAT_COUNT}.`;
    if (restart.duration && restart.maxRepeatCount !== undefined)
      actions.autoRestartAction = {
        duration: durationOf(restart.duration, 'autoRestartAction.duration', problems),
        maxRepeatCount: restart.maxRepeatCount,
      };
  }
  if (body.autoCloseAction)
    actions.autoCloseAction = {
      duration: durationOf(body.autoCloseAction.duration, 'autoCloseAction.duration', problems),
    };
  const doesNothing =
    !actions.suppress &&
    !actions.delayAction &&
    !actions.deduplicationAction &&
    !actions.autoRestartAction &&
    !actions.autoCloseAction;
  if (doesNothing && Object.keys(problems).length === 0)
    problems.suppress =
      'A notification policy must do something: suppress, delayAction, deduplicationAction, autoRestartAction or autoCloseAction.';
  let filter: Criteria = { type: 'match-all' };
  try {
    filter = parseCriteria(
      {
        type: body.filter?.type ?? body.filter?.conditionMatchType ?? 'match-all',
        conditions: body.filter?.conditions ?? [],
      },
      'filter',
      POLICY_CONDITIONS,
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
    timing,
    actions,
  };
}
