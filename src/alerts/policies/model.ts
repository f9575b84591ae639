import { Type, type Static } from 'typebox';
import {
  ConditionSchema,
  parseCriteria,
  POLICY_CONDITIONS,
  presentCriteria,
} from '../../oncall/conditions.js';
import type { Criteria } from '../../oncall/model.js';
import { AlertDetails, StringEnum } from '../../http/schemas.js';
import { invalid, invalidField, UNPROCESSABLE_BODY } from '../../errors.js';
import type { Modifications, ShapingRule } from '../shaping/shape.js';
import { parsePolicyTiming, PolicyTimingFields, type PolicyTiming } from './timing.js';

/**
 * Opsgenie's alert policies (`/v2/policies`, type `alert`): a filter and the changes made to each alert
 * created that matches it (and is created inside its time restrictions, timing.ts). Notification policies,
 * Opsgenie's other type, are notification-model.ts.
 */

const MAX_TEMPLATE = 15_000;
const Template = Type.String({ maxLength: MAX_TEMPLATE });
const MATCH_TYPES = ['match-all', 'match-any-condition', 'match-all-conditions'] as const;

const FilterSchema = Type.Object(
  {
    type: Type.Optional(StringEnum(MATCH_TYPES)),
    // What integration actions call it; accepted here too.
    conditionMatchType: Type.Optional(StringEnum(MATCH_TYPES)),
    conditions: Type.Optional(Type.Union([Type.Array(ConditionSchema, { maxItems: 100 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const ResponderSchema = Type.Object(
  {
    type: StringEnum(['team', 'user', 'escalation', 'schedule']),
    id: Type.Optional(Type.String({ maxLength: 512 })),
    name: Type.Optional(Type.String({ maxLength: 512 })),
    username: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

export const PolicyBodySchema = Type.Object(
  {
    type: StringEnum(['alert'], { description: 'alert (notification policies: notification-model.ts)' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    policyDescription: Type.Optional(Type.String({ maxLength: 1000 })),
    enabled: Type.Optional(Type.Boolean()),
    filter: Type.Optional(Type.Union([FilterSchema, Type.Null()])),
    ...PolicyTimingFields,
    message: Type.Optional(Template),
    continue: Type.Optional(Type.Boolean()),
    alias: Type.Optional(Template),
    alertDescription: Type.Optional(Template),
    entity: Type.Optional(Template),
    source: Type.Optional(Template),
    priority: Type.Optional(Type.String({ maxLength: 200 })),
    tags: Type.Optional(
      Type.Union([Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 50 }), Type.Null()]),
    ),
    ignoreOriginalTags: Type.Optional(Type.Boolean()),
    // The details a policy adds are the alert's: the limits of an alert's create.
    details: Type.Optional(Type.Union([AlertDetails, Type.Null()])),
    ignoreOriginalDetails: Type.Optional(Type.Boolean()),
    actions: Type.Optional(
      Type.Union([Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 20 }), Type.Null()]),
    ),
    ignoreOriginalActions: Type.Optional(Type.Boolean()),
    responders: Type.Optional(Type.Union([Type.Array(ResponderSchema, { maxItems: 50 }), Type.Null()])),
    ignoreOriginalResponders: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type PolicyBody = Static<typeof PolicyBodySchema>;

export type PolicyResponder = Static<typeof ResponderSchema>;

/** What a policy changes, as stored and presented (Opsgenie's field names). */
export interface PolicyChanges {
  message: string;
  alias: string;
  alertDescription: string;
  entity: string;
  source: string;
  priority?: string;
  tags: string[];
  ignoreOriginalTags: boolean;
  details: Record<string, string>;
  ignoreOriginalDetails: boolean;
  actions: string[];
  ignoreOriginalActions: boolean;
  responders: PolicyResponder[];
  ignoreOriginalResponders: boolean;
}

export interface ParsedPolicy {
  name: string;
  policyDescription: string;
  enabled: boolean;
  continue: boolean;
  filter: Criteria;
  timing: PolicyTiming;
  changes: PolicyChanges;
}

const orDefault = (value: string | undefined, field: string) =>
  value === undefined || value === '' ? `{{${field}}}` : value;

/** The body checked, with Opsgenie's defaults (each text field passes the alert's own through). */
export function parsePolicy(body: PolicyBody): ParsedPolicy {
  const problems: Record<string, string> = {};
  const timing = parsePolicyTiming(body, problems);
  if (Object.keys(problems).length > 0) throw invalid(UNPROCESSABLE_BODY, problems);
  const priority = body.priority?.trim();
  if (priority && !priority.includes('{{') && !/^P[1-5]$/i.test(priority)) {
    throw invalidField('priority', 'must be P1..P5 or a dynamic field such as {{priority}}.');
  }
  const filter = parseCriteria(
    {
      type: body.filter?.type ?? body.filter?.conditionMatchType ?? 'match-all',
      conditions: body.filter?.conditions ?? [],
    },
    'filter',
    POLICY_CONDITIONS,
  );
  return {
    name: body.name,
    policyDescription: body.policyDescription ?? '',
    enabled: body.enabled ?? true,
    continue: body.continue ?? false,
    filter,
    timing,
    changes: {
      message: orDefault(body.message, 'message'),
      alias: orDefault(body.alias, 'alias'),
      // Kept as given (Opsgenie answers no alertDescription it was not sent, and Terraform's
      // alert_description has no default to match ours): left out, it passes the alert's own through.
      alertDescription: body.alertDescription ?? '',
      entity: orDefault(body.entity, 'entity'),
      source: orDefault(body.source, 'source'),
      ...(priority ? { priority: /^P[1-5]$/i.test(priority) ? priority.toUpperCase() : priority } : {}),
      tags: body.tags ?? [],
      ignoreOriginalTags: body.ignoreOriginalTags ?? false,
      details: Object.fromEntries(Object.entries(body.details ?? {}).map(([k, v]) => [k, String(v)])),
      ignoreOriginalDetails: body.ignoreOriginalDetails ?? false,
      actions: body.actions ?? [],
      ignoreOriginalActions: body.ignoreOriginalActions ?? false,
      responders: body.responders ?? [],
      ignoreOriginalResponders: body.ignoreOriginalResponders ?? false,
    },
  };
}

export function presentFilter(filter: Criteria) {
  const presented = presentCriteria(filter);
  return { type: presented.type, conditions: 'conditions' in presented ? presented.conditions : [] };
}

/** A stored policy as the shaping rule it is (alerts/shaping/). */
export function policyRule(
  name: string,
  filter: Criteria,
  changes: PolicyChanges,
  cont: boolean,
): ShapingRule {
  const modifications: Modifications = {
    message: changes.message,
    alias: changes.alias,
    description: orDefault(changes.alertDescription, 'description'),
    entity: changes.entity,
    source: changes.source,
    ...(changes.priority ? { priority: changes.priority } : {}),
    tags: changes.tags,
    details: changes.details,
    actions: changes.actions,
    responders: changes.responders,
    replace: {
      tags: changes.ignoreOriginalTags,
      details: changes.ignoreOriginalDetails,
      actions: changes.ignoreOriginalActions,
      responders: changes.ignoreOriginalResponders,
    },
  };
  return { label: `policy '${name}'`, filter, effect: { kind: 'modify', modifications }, continue: cont };
}
