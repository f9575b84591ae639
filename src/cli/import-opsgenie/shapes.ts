import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The parts of Opsgenie's answers an import reads, as its REST API reference documents them. Other fields
 * are allowed and ignored; an object without what is needed here is skipped with the reason.
 */

const Str = Type.String({ maxLength: 10_000 });
const OptStr = Type.Optional(Type.Union([Str, Type.Null()]));
const Ref = Type.Object({ id: OptStr, name: OptStr });

export const UserShape = Type.Object({
  id: Str,
  username: Str,
  fullName: OptStr,
  role: Type.Optional(Type.Object({ name: Str })),
  timeZone: OptStr,
  locale: OptStr,
  blocked: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Type.Union([Type.Array(Str, { maxItems: 1000 }), Type.Null()])),
  skypeUsername: OptStr,
  userAddress: Type.Optional(
    Type.Union([
      Type.Object({ country: OptStr, state: OptStr, city: OptStr, line: OptStr, zipCode: OptStr }),
      Type.Null(),
    ]),
  ),
});

/** A custom user role (Custom User Role API, List Custom User Roles). */
export const CustomUserRoleShape = Type.Object({
  id: OptStr,
  name: Str,
  extendedRole: OptStr,
  grantedRights: Type.Optional(Type.Union([Type.Array(Str, { maxItems: 1000 }), Type.Null()])),
  disallowedRights: Type.Optional(Type.Union([Type.Array(Str, { maxItems: 1000 }), Type.Null()])),
});

export const ContactShape = Type.Object({
  id: OptStr,
  method: Str,
  to: Str,
  status: Type.Optional(Type.Object({ enabled: Type.Optional(Type.Boolean()) })),
});

export const RuleSummaryShape = Type.Object({
  id: Str,
  name: OptStr,
  actionType: Str,
  order: Type.Optional(Type.Integer()),
});

const Condition = Type.Object({
  field: Str,
  key: OptStr,
  not: Type.Optional(Type.Boolean()),
  operation: Str,
  expectedValue: OptStr,
  order: Type.Optional(Type.Integer()),
});
export const CriteriaShape = Type.Object({
  type: Type.Optional(Str),
  conditions: Type.Optional(Type.Array(Condition, { maxItems: 1000 })),
});

const Window = Type.Object({
  startDay: Type.Optional(Str),
  startHour: Type.Integer(),
  startMin: Type.Optional(Type.Integer()),
  endDay: Type.Optional(Str),
  endHour: Type.Integer(),
  endMin: Type.Optional(Type.Integer()),
});
export const TimeRestrictionShape = Type.Object({
  type: Str,
  restriction: Type.Optional(Window),
  restrictions: Type.Optional(Type.Array(Window, { maxItems: 1000 })),
});

export const RuleShape = Type.Object({
  id: Str,
  name: OptStr,
  actionType: Str,
  order: Type.Optional(Type.Integer()),
  enabled: Type.Optional(Type.Boolean()),
  criteria: Type.Optional(CriteriaShape),
  steps: Type.Optional(
    Type.Array(
      Type.Object({
        contact: Type.Union([Type.Object({ method: Str, to: Str }), Type.Null()]),
        sendAfter: Type.Optional(Type.Object({ timeAmount: Type.Integer(), timeUnit: Type.Optional(Str) })),
        enabled: Type.Optional(Type.Boolean()),
      }),
      { maxItems: 1000 },
    ),
  ),
  timeRestriction: Type.Optional(Type.Union([TimeRestrictionShape, Type.Null()])),
  notificationTime: Type.Optional(Type.Array(Str)),
  repeat: Type.Optional(Type.Unknown()),
  schedules: Type.Optional(Type.Array(Type.Unknown())),
});

export const TeamSummaryShape = Type.Object({ id: Str, name: Str, description: OptStr });
export const TeamShape = Type.Object({
  id: Str,
  name: Str,
  description: OptStr,
  members: Type.Optional(
    Type.Array(
      Type.Object({
        user: Type.Object({ id: OptStr, username: OptStr }),
        role: OptStr,
      }),
      { maxItems: 10_000 },
    ),
  ),
});

const Participant = Type.Object({ type: Str, id: OptStr, username: OptStr, name: OptStr });
export const RotationShape = Type.Object({
  id: OptStr,
  name: OptStr,
  startDate: Str,
  endDate: OptStr,
  type: Str,
  length: Type.Optional(Type.Integer()),
  participants: Type.Optional(Type.Array(Participant, { maxItems: 10_000 })),
  timeRestriction: Type.Optional(Type.Union([TimeRestrictionShape, Type.Null()])),
});
export const ScheduleShape = Type.Object({
  id: Str,
  name: Str,
  description: OptStr,
  timezone: OptStr,
  enabled: Type.Optional(Type.Boolean()),
  ownerTeam: Type.Optional(Type.Union([Ref, Type.Null()])),
  rotations: Type.Optional(Type.Array(RotationShape, { maxItems: 1000 })),
  /** Vigil's extension, read back from the target; Opsgenie's schedules have none (they combine "all"). */
  rotationsCombine: OptStr,
});

export const OverrideShape = Type.Object({
  alias: Str,
  user: Participant,
  startDate: Str,
  endDate: Str,
  rotations: Type.Optional(Type.Array(Ref, { maxItems: 1000 })),
});

export const EscalationShape = Type.Object({
  id: Str,
  name: Str,
  description: OptStr,
  ownerTeam: Type.Optional(Type.Union([Ref, Type.Null()])),
  rules: Type.Array(
    Type.Object({
      condition: Str,
      notifyType: Str,
      delay: Type.Object({ timeAmount: Type.Integer(), timeUnit: Type.Optional(Str) }),
      recipient: Participant,
    }),
    { maxItems: 1000 },
  ),
  repeat: Type.Optional(
    Type.Union([
      Type.Object({
        waitInterval: Type.Integer(),
        count: Type.Integer(),
        resetRecipientStates: Type.Optional(Type.Boolean()),
        closeAlertAfterAll: Type.Optional(Type.Boolean()),
      }),
      Type.Null(),
    ]),
  ),
});

export const RoutingRuleShape = Type.Object({
  id: Str,
  name: OptStr,
  isDefault: Type.Optional(Type.Boolean()),
  order: Type.Optional(Type.Integer()),
  criteria: Type.Optional(CriteriaShape),
  timezone: OptStr,
  timeRestriction: Type.Optional(Type.Union([TimeRestrictionShape, Type.Null()])),
  notify: Type.Object({ type: Str, id: OptStr, name: OptStr }),
});

export const HeartbeatShape = Type.Object({
  name: Str,
  description: OptStr,
  interval: Type.Integer(),
  intervalUnit: Str,
  enabled: Type.Optional(Type.Boolean()),
  ownerTeam: Type.Optional(Type.Union([Ref, Type.Null()])),
  alertMessage: OptStr,
  alertTags: Type.Optional(Type.Array(Str, { maxItems: 1000 })),
  alertPriority: OptStr,
});

export const MaintenanceSummaryShape = Type.Object({ id: Str, status: OptStr });
export const MaintenanceShape = Type.Object({
  id: Str,
  status: OptStr,
  description: OptStr,
  time: Type.Object({ type: Str, startDate: OptStr, endDate: OptStr }),
  rules: Type.Array(Type.Object({ state: OptStr, entity: Type.Object({ id: Str, type: Str }) }), {
    maxItems: 1000,
  }),
});

const Responder = Type.Object({ type: Str, id: OptStr, name: OptStr, username: OptStr });
const Responders = Type.Optional(Type.Union([Type.Array(Responder, { maxItems: 1000 }), Type.Null()]));
const Flag = Type.Optional(Type.Boolean());

export const IntegrationSummaryShape = Type.Object({
  id: Str,
  name: Str,
  type: Str,
  enabled: Type.Optional(Type.Boolean()),
});
export const IntegrationShape = Type.Object({
  id: Str,
  name: Str,
  type: Str,
  enabled: Type.Optional(Type.Boolean()),
  apiKey: OptStr,
  ownerTeam: Type.Optional(Type.Union([Ref, Type.Null()])),
  assigneeTeam: Type.Optional(Type.Union([Ref, Type.Null()])),
  allowReadAccess: Type.Optional(Type.Boolean()),
  allowWriteAccess: Type.Optional(Type.Boolean()),
  allowDeleteAccess: Type.Optional(Type.Boolean()),
  allowConfigurationAccess: Type.Optional(Type.Boolean()),
  suppressNotifications: Type.Optional(Type.Boolean()),
  /** An API integration's own responders and payload flags, which Vigil's integrations lack (its actions have them). */
  responders: Responders,
  recipients: Responders,
  ignoreRespondersFromPayload: Flag,
  ignoreRecipientsFromPayload: Flag,
  ignoreTeamsFromPayload: Flag,
  /** Email integrations: the local part of the address they receive mail at. */
  emailUsername: OptStr,
});

const Strings = Type.Optional(Type.Union([Type.Array(Str, { maxItems: 1000 }), Type.Null()]));
/** An integration action's or a policy's filter: Opsgenie names its match type either way. */
const FilterShape = Type.Object({
  conditionMatchType: Type.Optional(Str),
  type: Type.Optional(Str),
  conditions: Type.Optional(Type.Union([Type.Array(Condition, { maxItems: 1000 }), Type.Null()])),
});

export const IntegrationActionShape = Type.Object({
  name: Str,
  order: Type.Optional(Type.Integer()),
  filter: Type.Optional(Type.Union([FilterShape, Type.Null()])),
  user: OptStr,
  note: OptStr,
  alias: OptStr,
  message: OptStr,
  description: OptStr,
  entity: OptStr,
  source: OptStr,
  priority: OptStr,
  customPriority: OptStr,
  tags: Strings,
  extraProperties: Type.Optional(Type.Union([Type.Record(Type.String(), Str), Type.Null()])),
  responders: Responders,
  // Opsgenie's older name for responders.
  recipients: Responders,
  alertActions: Strings,
  appendAttachments: Flag,
  ignoreAlertActionsFromPayload: Flag,
  ignoreRespondersFromPayload: Flag,
  ignoreRecipientsFromPayload: Flag,
  ignoreTagsFromPayload: Flag,
  ignoreExtraPropertiesFromPayload: Flag,
  ignoreTeamsFromPayload: Flag,
});
const ActionList = Type.Optional(
  Type.Union([Type.Array(IntegrationActionShape, { maxItems: 1000 }), Type.Null()]),
);
export const IntegrationActionsShape = Type.Object({
  create: ActionList,
  close: ActionList,
  acknowledge: ActionList,
  addNote: ActionList,
  ignore: ActionList,
});

export const PolicySummaryShape = Type.Object({
  id: Str,
  name: Str,
  type: OptStr,
  order: Type.Optional(Type.Integer()),
  enabled: Type.Optional(Type.Boolean()),
});
const Duration = Type.Object({ timeAmount: Type.Integer(), timeUnit: OptStr });
/** An alert or a notification policy, as Get Policy answers either. */
export const PolicyShape = Type.Object({
  id: Str,
  name: Str,
  type: OptStr,
  policyDescription: OptStr,
  enabled: Type.Optional(Type.Boolean()),
  filter: Type.Optional(Type.Union([FilterShape, Type.Null()])),
  timeRestrictions: Type.Optional(Type.Union([TimeRestrictionShape, Type.Null()])),
  /** Vigil's own (Opsgenie reads restrictions in the account's zone). */
  timezone: OptStr,
  continue: Type.Optional(Type.Boolean()),
  message: OptStr,
  alias: OptStr,
  alertDescription: OptStr,
  entity: OptStr,
  source: OptStr,
  priority: OptStr,
  tags: Strings,
  ignoreOriginalTags: Flag,
  details: Type.Optional(
    Type.Union([Type.Record(Type.String(), Type.Union([Str, Type.Number(), Type.Boolean()])), Type.Null()]),
  ),
  ignoreOriginalDetails: Flag,
  actions: Strings,
  ignoreOriginalActions: Flag,
  responders: Responders,
  ignoreOriginalResponders: Flag,
  // Notification policies.
  suppress: Flag,
  delayAction: Type.Optional(
    Type.Union([
      Type.Object({
        delayOption: Str,
        duration: Type.Optional(Type.Union([Duration, Type.Null()])),
        untilHour: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
        untilMinute: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
      }),
      Type.Null(),
    ]),
  ),
  autoCloseAction: Type.Optional(Type.Union([Type.Object({ duration: Duration }), Type.Null()])),
  autoRestartAction: Type.Optional(
    Type.Union([Type.Object({ duration: Duration, maxRepeatCount: Type.Integer() }), Type.Null()]),
  ),
  deduplicationAction: Type.Optional(
    Type.Union([
      Type.Object({
        deduplicationActionType: Str,
        count: Type.Integer(),
        duration: Type.Optional(Type.Union([Duration, Type.Null()])),
      }),
      Type.Null(),
    ]),
  ),
});

export type UserIn = Static<typeof UserShape>;
export type CustomUserRoleIn = Static<typeof CustomUserRoleShape>;
export type ContactIn = Static<typeof ContactShape>;
export type RuleIn = Static<typeof RuleShape>;
export type CriteriaIn = Static<typeof CriteriaShape>;
export type TimeRestrictionIn = Static<typeof TimeRestrictionShape>;
export type TeamIn = Static<typeof TeamShape>;
export type ScheduleIn = Static<typeof ScheduleShape>;
export type RotationIn = Static<typeof RotationShape>;
export type OverrideIn = Static<typeof OverrideShape>;
export type EscalationIn = Static<typeof EscalationShape>;
export type RoutingRuleIn = Static<typeof RoutingRuleShape>;
export type HeartbeatIn = Static<typeof HeartbeatShape>;
export type MaintenanceIn = Static<typeof MaintenanceShape>;
export type IntegrationIn = Static<typeof IntegrationShape>;
export type ResponderIn = Static<typeof Responder>;
export type FilterIn = Static<typeof FilterShape>;
export type IntegrationActionIn = Static<typeof IntegrationActionShape>;
export type IntegrationActionsIn = Static<typeof IntegrationActionsShape>;
export type PolicyIn = Static<typeof PolicyShape>;

/** The value in the shape, or why not (the first mismatch, by its path). */
export function shaped<T extends TSchema>(
  schema: T,
  value: unknown,
): { ok: true; value: Static<T> } | { ok: false; why: string } {
  if (Value.Check(schema, value)) return { ok: true, value: value as Static<T> };
  const [first] = Value.Errors(schema, value);
  const where = first
    ? `${(first as { instancePath?: string }).instancePath || '(the object)'} ${first.message}`
    : '';
  return { ok: false, why: `its shape is not one Opsgenie documents: ${where}` };
}

/** A label for an object that may not have the shape: its name, username or id. */
export function labelOf(v: Record<string, unknown>): string {
  for (const key of ['username', 'name', 'alias', 'id']) {
    const got = v[key];
    if (typeof got === 'string' && got !== '') return text(got);
  }
  return '(unnamed)';
}

/** A value from outside as the report shows it: a string, without control characters, not too long. */
export function text(value: unknown): string {
  const s = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);
}
