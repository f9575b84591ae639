import { Type, type Static } from 'typebox';
import type { Modifications, ShapingRule } from '../../alerts/shaping/shape.js';
import { ConditionSchema, parseCriteria, presentCriteria } from '../../oncall/conditions.js';
import type { Criteria } from '../../oncall/model.js';
import { AlertDetails, StringEnum } from '../../http/schemas.js';
import { invalidField } from '../../errors.js';

/**
 * An API integration's actions, Opsgenie's `/v2/integrations/{id}/actions`: what its key's create, close,
 * acknowledge and add-note requests do, and which create requests it ignores. The shapes are Opsgenie's
 * (what its Go SDK and Terraform's `opsgenie_integration_action` send); fields Vigil does not know are
 * dropped, as Opsgenie drops them.
 */

export const ACTION_TYPES = ['create', 'close', 'acknowledge', 'addNote', 'ignore'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

const MAX_ACTIONS_PER_TYPE = 50;
const MAX_TEMPLATE = 15_000;
export const MAX_ACTION_ORDER = 1_000_000;

const Template = Type.String({ maxLength: MAX_TEMPLATE });

export const ActionFilterSchema = Type.Object(
  {
    conditionMatchType: Type.Optional(
      StringEnum(['match-all', 'match-any-condition', 'match-all-conditions']),
    ),
    // Opsgenie's policies name it `type`; some clients send that here too.
    type: Type.Optional(StringEnum(['match-all', 'match-any-condition', 'match-all-conditions'])),
    conditions: Type.Optional(Type.Union([Type.Array(ConditionSchema, { maxItems: 100 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const ActionResponderSchema = Type.Object(
  {
    type: StringEnum(['team', 'user', 'escalation', 'schedule']),
    id: Type.Optional(Type.String({ maxLength: 512 })),
    name: Type.Optional(Type.String({ maxLength: 512 })),
    username: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

const Flag = Type.Optional(Type.Boolean());

export const ActionSchema = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 50 })),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    order: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ACTION_ORDER })),
    filter: Type.Optional(Type.Union([ActionFilterSchema, Type.Null()])),
    user: Type.Optional(Template),
    note: Type.Optional(Template),
    alias: Type.Optional(Template),
    // Create actions only.
    message: Type.Optional(Template),
    description: Type.Optional(Template),
    entity: Type.Optional(Template),
    source: Type.Optional(Template),
    priority: Type.Optional(Type.String({ maxLength: 200 })),
    customPriority: Type.Optional(Type.String({ maxLength: 200 })),
    tags: Type.Optional(
      Type.Union([Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 50 }), Type.Null()]),
    ),
    // The alert's details: the limits of an alert's create, one schema for both (a Type.Record would drop
    // the key's limits, and leave a key with a line break unchecked: alerts/routes.ts).
    extraProperties: Type.Optional(Type.Union([AlertDetails, Type.Null()])),
    responders: Type.Optional(Type.Union([Type.Array(ActionResponderSchema, { maxItems: 50 }), Type.Null()])),
    alertActions: Type.Optional(
      Type.Union([Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 20 }), Type.Null()]),
    ),
    appendAttachments: Flag,
    ignoreAlertActionsFromPayload: Flag,
    ignoreRespondersFromPayload: Flag,
    ignoreTagsFromPayload: Flag,
    ignoreExtraPropertiesFromPayload: Flag,
    ignoreTeamsFromPayload: Flag,
  },
  { additionalProperties: false },
);
export type ActionInput = Static<typeof ActionSchema>;

const ActionList = Type.Optional(
  Type.Union([Type.Array(ActionSchema, { maxItems: MAX_ACTIONS_PER_TYPE }), Type.Null()]),
);

/** PUT: every list (a list not given, or null, is emptied), as the Go SDK's UpdateAllActions sends them. */
export const AllActionsSchema = Type.Object(
  {
    create: ActionList,
    close: ActionList,
    acknowledge: ActionList,
    addNote: ActionList,
    ignore: ActionList,
  },
  { additionalProperties: false },
);
export type AllActionsInput = Static<typeof AllActionsSchema>;

/** One action as stored and presented: Opsgenie's fields, every one filled. */
export interface StoredAction {
  type: ActionType;
  name: string;
  order: number;
  filter: { conditionMatchType: Criteria['type']; conditions: ReturnType<typeof presentFilterConditions> };
  user: string;
  note: string;
  alias: string;
  message?: string;
  description?: string;
  entity?: string;
  source?: string;
  priority?: string;
  customPriority?: string;
  tags?: string[];
  extraProperties?: Record<string, string>;
  responders?: { type: string; id?: string; name?: string; username?: string }[];
  alertActions?: string[];
  appendAttachments?: boolean;
  ignoreAlertActionsFromPayload?: boolean;
  ignoreRespondersFromPayload?: boolean;
  ignoreTagsFromPayload?: boolean;
  ignoreExtraPropertiesFromPayload?: boolean;
  ignoreTeamsFromPayload?: boolean;
}

export type StoredActions = Record<ActionType, StoredAction[]>;

function presentFilterConditions(criteria: Criteria) {
  const presented = presentCriteria(criteria);
  return 'conditions' in presented ? presented.conditions : [];
}

/** The action type a POST names; Opsgenie's SDKs spell add-note "AddNote". */
export function actionTypeOf(value: string | undefined): ActionType | undefined {
  const wanted = (value ?? '').toLowerCase().replace(/[-_ ]/g, '');
  return ACTION_TYPES.find((t) => t.toLowerCase() === wanted);
}

/** Opsgenie's defaults: each field passes the request's own value through. */
function withDefault(value: string | undefined, field: string): string {
  return value === undefined || value === '' ? `{{${field}}}` : value;
}

/**
 * An action checked and filled with Opsgenie's defaults. Responders are checked by the caller (they need
 * the database). Errors name `${path}.<field>`.
 */
export function parseAction(type: ActionType, input: ActionInput, path: string): StoredAction {
  const filterInput = input.filter ?? { conditionMatchType: 'match-all' };
  const criteria = parseCriteria(
    {
      type: filterInput.conditionMatchType ?? filterInput.type ?? 'match-all',
      conditions: filterInput.conditions ?? [],
    },
    `${path}.filter`,
  );
  const base = {
    type,
    name: input.name,
    // Kept as given, as Opsgenie does (Terraform reads it back); the Go SDK leaves out an order of 0.
    order: input.order ?? 0,
    filter: { conditionMatchType: criteria.type, conditions: presentFilterConditions(criteria) },
  };
  if (type === 'ignore') return { ...base, user: '', note: '', alias: '' };
  const common = {
    ...base,
    user: withDefault(input.user, 'user'),
    note: withDefault(input.note, 'note'),
    alias: withDefault(input.alias, 'alias'),
  };
  if (type !== 'create') return common;
  for (const field of ['priority', 'customPriority'] as const) {
    const value = input[field]?.trim();
    if (value && !value.includes('{{') && !/^P[1-5]$/i.test(value)) {
      throw invalidField(`${path}.${field}`, 'must be P1..P5 or a dynamic field such as {{priority}}.');
    }
  }
  return {
    ...common,
    message: withDefault(input.message, 'message'),
    description: withDefault(input.description, 'description'),
    entity: withDefault(input.entity, 'entity'),
    source: withDefault(input.source, 'source'),
    // Left out when not given (Terraform reads an unset priority back as unset); the alert keeps its own.
    ...(input.priority ? { priority: input.priority } : {}),
    ...(input.customPriority ? { customPriority: input.customPriority } : {}),
    tags: input.tags ?? [],
    // Stored as text, as an alert's details are (a number or boolean given is its text).
    extraProperties: Object.fromEntries(
      Object.entries(input.extraProperties ?? {}).map(([k, v]) => [k, String(v)]),
    ),
    responders: input.responders ?? [],
    alertActions: input.alertActions ?? [],
    appendAttachments: input.appendAttachments ?? false,
    ignoreAlertActionsFromPayload: input.ignoreAlertActionsFromPayload ?? false,
    ignoreRespondersFromPayload: input.ignoreRespondersFromPayload ?? false,
    ignoreTagsFromPayload: input.ignoreTagsFromPayload ?? false,
    ignoreExtraPropertiesFromPayload: input.ignoreExtraPropertiesFromPayload ?? false,
    ignoreTeamsFromPayload: input.ignoreTeamsFromPayload ?? false,
  };
}

/** A list by order, actions of the same order as given; each keeps its order as given. */
export function ordered(list: StoredAction[]): StoredAction[] {
  return list
    .map((a, i) => ({ a, i }))
    .sort((x, y) => x.a.order - y.a.order || x.i - y.i)
    .map(({ a }) => a);
}

export function emptyActions(): StoredActions {
  return { create: [], close: [], acknowledge: [], addNote: [], ignore: [] };
}

/**
 * What an integration does before any action is set: Opsgenie's defaults, which pass every request
 * through unchanged. Shown by GET, and the starting point of the first POST.
 */
export function defaultActions(): StoredActions {
  const all = (type: ActionType, name: string) => parseAction(type, { name }, type);
  return {
    create: [all('create', 'Create Alert')],
    close: [all('close', 'Close Alert')],
    acknowledge: [all('acknowledge', 'Acknowledge Alert')],
    addNote: [all('addNote', 'Add Note to Alert')],
    ignore: [],
  };
}

/** The stored column read back; anything unreadable in it counts as no action of that type. */
export function storedActions(column: Record<string, unknown> | null): StoredActions | undefined {
  if (!column) return undefined;
  const out = emptyActions();
  for (const type of ACTION_TYPES) {
    const list = column[type];
    if (Array.isArray(list)) out[type] = list as StoredAction[];
  }
  return out;
}

// Evaluation: stored actions as shaping rules (alerts/shaping/).

export interface IntegrationRules {
  /** Ignore actions (drop) then create actions (the first that matches shapes the alert). */
  create: ShapingRule[];
  /** The create action each create rule was made of: what else it says (appendAttachments). */
  createActions: ReadonlyMap<ShapingRule, StoredAction>;
  close: { action: StoredAction; filter: Criteria }[];
  acknowledge: { action: StoredAction; filter: Criteria }[];
  addNote: { action: StoredAction; filter: Criteria }[];
}

function criteriaOf(action: StoredAction): Criteria {
  // Stored filters were checked when saved; one that no longer parses matches nothing.
  try {
    return parseCriteria(
      { type: action.filter.conditionMatchType, conditions: action.filter.conditions },
      'filter',
      { stored: true },
    );
  } catch {
    return { type: 'match-any-condition', conditions: [] };
  }
}

function modificationsOf(a: StoredAction): Modifications {
  const priority = a.customPriority?.trim() ? a.customPriority : a.priority;
  return {
    message: a.message,
    alias: a.alias,
    description: a.description,
    entity: a.entity,
    source: a.source,
    user: a.user,
    note: a.note,
    ...(priority ? { priority } : {}),
    tags: a.tags ?? [],
    details: a.extraProperties ?? {},
    responders: (a.responders ?? []) as Modifications['responders'],
    actions: a.alertActions ?? [],
    replace: {
      tags: a.ignoreTagsFromPayload === true,
      details: a.ignoreExtraPropertiesFromPayload === true,
      responders: a.ignoreRespondersFromPayload === true,
      teams: a.ignoreTeamsFromPayload === true,
      actions: a.ignoreAlertActionsFromPayload === true,
    },
  };
}

// The stored column object stays the same while the integration is cached: its rules are built once.
const rulesCache = new WeakMap<object, IntegrationRules>();

export function integrationRules(column: Record<string, unknown>): IntegrationRules {
  const cached = rulesCache.get(column);
  if (cached) return cached;
  const stored = storedActions(column) ?? emptyActions();
  const gated = (list: StoredAction[]) =>
    ordered(list).map((action) => ({ action, filter: criteriaOf(action) }));
  const createActions = new Map<ShapingRule, StoredAction>();
  for (const a of ordered(stored.create)) {
    const rule: ShapingRule = {
      label: `integration action '${a.name}'`,
      filter: criteriaOf(a),
      effect: { kind: 'modify', modifications: modificationsOf(a) },
      continue: false,
    };
    createActions.set(rule, a);
  }
  const rules: IntegrationRules = {
    create: [
      ...ordered(stored.ignore).map((a): ShapingRule => ({
        label: `integration action '${a.name}'`,
        filter: criteriaOf(a),
        effect: { kind: 'drop' },
        continue: true,
      })),
      ...createActions.keys(),
    ],
    createActions,
    close: gated(stored.close),
    acknowledge: gated(stored.acknowledge),
    addNote: gated(stored.addNote),
  };
  rulesCache.set(column, rules);
  return rules;
}
