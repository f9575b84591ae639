import { RE2JS, RE2JSSyntaxException } from 're2js';
import { Type } from 'typebox';
import type { AlertRow, Priority } from '../db/schema.js';
import { invalidField } from '../errors.js';
import { StringEnum } from '../http/schemas.js';
import type { Condition, ConditionField, ConditionOperation, Criteria } from './model.js';

/**
 * Opsgenie's alert filters ("criteria"), shared by notification rules and team routing: parsing the JSON
 * Opsgenie clients send, checking an alert against them, and presenting them back.
 *
 * Semantics (the tests pin each one):
 *
 * - `match-all` matches every alert; `match-all-conditions` needs every condition, `match-any-condition` one
 *   of them. `not: true` inverts a condition's result (including for a detail that is absent).
 * - Text comparisons ignore case, as Opsgenie's do: `contains`, `starts-with`, `ends-with`, `equals`,
 *   `equals-ignore-whitespace` (which also drops every whitespace character from both sides), `matches`.
 * - `matches` is a regular expression that must match the whole value (Opsgenie's Java `String.matches`,
 *   hence filters like `.*prod.*`), ignoring case; `.` also matches line breaks, since descriptions span
 *   lines. A leading `(?i)` is accepted (it is implied); inline flags are honoured, so `(?-i)` makes the
 *   rest of a pattern case-sensitive, as in Java.
 *   Alert text comes from outside, so patterns run on RE2 (re2js), whose matching time is linear in the
 *   length of the value: no pattern can backtrack, and shapes that are catastrophic for a backtracking
 *   engine (`(a+)+`, `(a|a)*`, `(.*a){12}`) are accepted and safe. The price is RE2's syntax: patterns it
 *   can not compile are refused when the criteria are saved, notably back-references and look-arounds.
 *   Linear time is still size of pattern times length of value, so patterns whose compiled program exceeds
 *   {@link MAX_PATTERN_SIZE} steps (in practice, large counted repetitions such as `\w{900}`) are refused
 *   too. Patterns are compiled once and cached; a stored pattern that no longer compiles matches nothing.
 * - `tags` and `actions` are lists: `contains` holds when every comma-separated value of expectedValue is
 *   one of the elements (`contains "critical"` = has the tag critical; a substring of a tag is not enough);
 *   `equals` when the elements are exactly those values (in any order); `starts-with`, `ends-with`,
 *   `matches` and `equals-ignore-whitespace` when some element does; `is-empty` when there are none.
 * - `details` (Opsgenie's `extra-properties`, which is accepted as a synonym; a condition is presented under
 *   the name it was sent with, and one saved before Vigil kept that name as `extra-properties`):
 *   with a `key`, the text operations and `is-empty` look at that detail's value (a key is found ignoring
 *   case; a missing detail is empty and matches no text operation). Without a key: `contains-key` holds
 *   when some key equals expectedValue, `contains-value` when some value does, and `is-empty` when there
 *   are no details.
 * - `priority` takes `equals`, `greater-than` and `less-than` with P1..P5, where **P1 is the greatest**
 *   (the most urgent, as Opsgenie ranks them): `greater-than P3` matches P1 and P2, `less-than P3` P4 and P5.
 * - `integration` (Vigil's own field) is the name of the integration that created the alert, empty when
 *   none did; it takes the text operations.
 * - `teams` and `recipients` (Opsgenie's fields; policies only, see {@link POLICY_CONDITIONS}) are lists, as
 *   `tags`: the names of the alert's responder teams, and of all its responders (a user by username, a team,
 *   escalation or schedule by name). What supplies the alert says which responders it sees. `responders`
 *   is a synonym of `recipients` (the name Opsgenie's API and Terraform's opsgenie_alert_policy use now,
 *   Terraform no longer taking `recipients`), presented under the name it was sent with.
 * - Conditions run in their `order` (or their position when it is absent); order does not change the result.
 *   Each is kept where it was sent, with the `order` it was sent with, and presented so: Terraform compares
 *   the list and every `order` in it with its configuration (it sends `order: 0` for each one not given).
 */

export interface MatchableAlert {
  message: string;
  alias: string;
  description: string;
  source: string;
  entity: string;
  tags: string[];
  actions: string[];
  details: Record<string, string>;
  priority: Priority;
  integrationName: string | null;
  /** For `teams` and `recipients` conditions; left out, the alert has none. */
  responders?: readonly MatchableResponder[];
}

/** A responder as `teams` and `recipients` conditions see it. */
export interface MatchableResponder {
  type: 'team' | 'user' | 'escalation' | 'schedule';
  name: string;
}

/** Whether criteria look at the alert's responders (so the caller must name them: a read). */
export function usesResponders(criteria: Criteria): boolean {
  return (
    criteria.type !== 'match-all' &&
    criteria.conditions.some((c) => (RESPONDER_FIELDS as readonly string[]).includes(c.field))
  );
}

/** What criteria read of a stored alert. */
export function matchableAlert(alert: AlertRow): MatchableAlert {
  return {
    message: alert.message,
    alias: alert.alias,
    description: alert.description,
    source: alert.source,
    entity: alert.entity,
    tags: alert.tags,
    actions: alert.actions,
    details: alert.details,
    priority: alert.priority,
    integrationName: alert.integration_name,
  };
}

const CRITERIA_TYPES = ['match-all', 'match-all-conditions', 'match-any-condition'] as const;

const FIELDS = [
  'message',
  'alias',
  'description',
  'source',
  'entity',
  'tags',
  'actions',
  'details',
  'priority',
  'integration',
] as const satisfies readonly ConditionField[];

/** The fields about who is notified: only policies take them (parseCriteria's `responderFields`). */
const RESPONDER_FIELDS = ['recipients', 'teams'] as const satisfies readonly ConditionField[];

/** What a condition's `field` may also be sent as, and the field it stands for. */
const SYNONYMS = { 'extra-properties': 'details', responders: 'recipients' } as const satisfies Record<
  string,
  ConditionField
>;

/** parseCriteria's options for policies' filters, which may look at the alert's teams and recipients. */
export const POLICY_CONDITIONS = { responderFields: true } as const;

const OPERATIONS = [
  'matches',
  'contains',
  'starts-with',
  'ends-with',
  'equals',
  'equals-ignore-whitespace',
  'contains-key',
  'contains-value',
  'is-empty',
  'greater-than',
  'less-than',
] as const satisfies readonly ConditionOperation[];

const TEXT_OPERATIONS: readonly ConditionOperation[] = [
  'matches',
  'contains',
  'starts-with',
  'ends-with',
  'equals',
  'equals-ignore-whitespace',
  'is-empty',
];

const PRIORITIES: readonly Priority[] = ['P1', 'P2', 'P3', 'P4', 'P5'];

const MAX_CONDITIONS = 100;
const MAX_VALUE_LENGTH = 1000;

/** The criteria as routes accept them: the shapes are checked here, the meaning by {@link parseCriteria}. */
export const ConditionSchema = Type.Object({
  field: StringEnum([...FIELDS, 'extra-properties', ...RESPONDER_FIELDS, 'responders']),
  key: Type.Optional(Type.String({ maxLength: 256 })),
  not: Type.Optional(Type.Boolean()),
  operation: StringEnum(OPERATIONS),
  expectedValue: Type.Optional(Type.String({ maxLength: MAX_VALUE_LENGTH })),
  order: Type.Optional(Type.Integer()),
});

export const CriteriaSchema = Type.Object({
  type: Type.Optional(StringEnum(CRITERIA_TYPES)),
  conditions: Type.Optional(Type.Array(ConditionSchema, { maxItems: MAX_CONDITIONS })),
});

// Regular expressions

/**
 * The most RE2 program steps a pattern may compile to. Matching can cost up to this many steps per
 * character when RE2 falls back from its DFA: at 500, hostile patterns took at most about a tenth of a
 * second on a 15,000-character description; at 1,000, close to a second; with no cap, minutes. Filters
 * people write are far below it (`.*prod.*` is 10, an IPv4 pattern 25, fifty alternative host names 34).
 */
export const MAX_PATTERN_SIZE = 500;

const PATTERN_FLAGS = RE2JS.CASE_INSENSITIVE | RE2JS.DOTALL;
const RE2_SYNTAX =
  'Vigil matches patterns in linear time (RE2 syntax): back-references and look-arounds are not supported.';

const regexCache = new Map<string, RE2JS | string>();
const REGEX_CACHE_LIMIT = 2000;

function syntaxError(error: unknown, pattern: string): string {
  if (error instanceof RE2JSSyntaxException) {
    // re2js reports the pattern with its flags prefixed; quote the fragment only when it is the user's.
    const fragment = error.getPattern();
    const where = fragment && pattern.includes(fragment) ? ` \`${fragment}\`` : '';
    return `${error.getDescription()}${where}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The compiled pattern, or why it is refused. */
function compilePattern(pattern: string): RE2JS | string {
  if (pattern.length > MAX_VALUE_LENGTH) return `must be at most ${MAX_VALUE_LENGTH} characters.`;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, PATTERN_FLAGS);
  } catch (error) {
    return `is not a valid regular expression: ${syntaxError(error, pattern)}. ${RE2_SYNTAX}`;
  }
  const size = re.programSize();
  if (size > MAX_PATTERN_SIZE) {
    return `is too large once compiled (${size} steps, at most ${MAX_PATTERN_SIZE} are allowed): use smaller counted repetitions (such as .* instead of .{900}) or fewer alternatives.`;
  }
  return re;
}

/** The compiled pattern or why it is refused, compiling each pattern once (saving criteria warms it). */
function compiled(pattern: string): RE2JS | string {
  let outcome = regexCache.get(pattern);
  if (outcome === undefined) {
    outcome = compilePattern(pattern);
    if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
    regexCache.set(pattern, outcome);
  }
  return outcome;
}

/** Why a pattern is refused, or undefined when it is acceptable. */
export function regexProblem(pattern: string): string | undefined {
  const outcome = compiled(pattern);
  return typeof outcome === 'string' ? outcome : undefined;
}

function patternMatches(pattern: string, value: string): boolean {
  const outcome = compiled(pattern);
  // Stored criteria were checked when saved; a pattern that still fails here matches nothing.
  return typeof outcome !== 'string' && outcome.testExact(value);
}

// Matching

const lower = (s: string) => s.toLowerCase();
const withoutWhitespace = (s: string) => s.replace(/\s+/g, '').toLowerCase();

function textMatches(operation: ConditionOperation, actual: string, expected: string): boolean {
  switch (operation) {
    case 'matches':
      return patternMatches(expected, actual);
    case 'contains':
      return lower(actual).includes(lower(expected));
    case 'starts-with':
      return lower(actual).startsWith(lower(expected));
    case 'ends-with':
      return lower(actual).endsWith(lower(expected));
    case 'equals':
      return lower(actual) === lower(expected);
    case 'equals-ignore-whitespace':
      return withoutWhitespace(actual) === withoutWhitespace(expected);
    case 'is-empty':
      return actual.length === 0;
    default:
      return false;
  }
}

function listValues(expected: string): string[] {
  return expected
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v.length > 0);
}

function listMatches(operation: ConditionOperation, elements: string[], expected: string): boolean {
  switch (operation) {
    case 'is-empty':
      return elements.length === 0;
    case 'contains': {
      const have = new Set(elements.map(lower));
      const want = listValues(expected);
      return want.length > 0 && want.every((v) => have.has(v));
    }
    case 'equals': {
      const have = new Set(elements.map(lower));
      const want = new Set(listValues(expected));
      return have.size === want.size && [...want].every((v) => have.has(v));
    }
    default:
      return elements.some((e) => textMatches(operation, e, expected));
  }
}

function detailValue(details: Record<string, string>, key: string): string | undefined {
  if (Object.hasOwn(details, key)) return details[key];
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(details)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

function detailsMatch(condition: Condition, details: Record<string, string>, expected: string): boolean {
  const { operation, key } = condition;
  if (operation === 'contains-key') {
    const wanted = lower(expected);
    return Object.keys(details).some((k) => lower(k) === wanted);
  }
  if (operation === 'contains-value') {
    const wanted = lower(expected);
    return Object.values(details).some((v) => lower(String(v)) === wanted);
  }
  if (key === undefined || key === '') return operation === 'is-empty' && Object.keys(details).length === 0;
  const value = detailValue(details, key);
  if (value === undefined) return operation === 'is-empty';
  return textMatches(operation, String(value), expected);
}

/** P1 is 5, P5 is 1: "greater" means more urgent. */
function rank(priority: string): number {
  const i = PRIORITIES.indexOf(priority.toUpperCase() as Priority);
  return i < 0 ? Number.NaN : PRIORITIES.length - i;
}

function priorityMatches(operation: ConditionOperation, actual: Priority, expected: string): boolean {
  const a = rank(actual);
  const e = rank(expected);
  switch (operation) {
    case 'equals':
      return a === e;
    case 'greater-than':
      return a > e;
    case 'less-than':
      return a < e;
    default:
      return false;
  }
}

function conditionHolds(condition: Condition, alert: MatchableAlert): boolean {
  const expected = condition.expectedValue ?? '';
  const { operation } = condition;
  switch (condition.field) {
    case 'message':
      return textMatches(operation, alert.message, expected);
    case 'alias':
      return textMatches(operation, alert.alias, expected);
    case 'description':
      return textMatches(operation, alert.description, expected);
    case 'source':
      return textMatches(operation, alert.source, expected);
    case 'entity':
      return textMatches(operation, alert.entity, expected);
    case 'integration':
      return textMatches(operation, alert.integrationName ?? '', expected);
    case 'tags':
      return listMatches(operation, alert.tags, expected);
    case 'actions':
      return listMatches(operation, alert.actions, expected);
    case 'details':
      return detailsMatch(condition, alert.details, expected);
    case 'priority':
      return priorityMatches(operation, alert.priority, expected);
    case 'teams':
      return listMatches(
        operation,
        (alert.responders ?? []).filter((r) => r.type === 'team').map((r) => r.name),
        expected,
      );
    case 'recipients':
      return listMatches(
        operation,
        (alert.responders ?? []).map((r) => r.name),
        expected,
      );
    default:
      return false;
  }
}

export function matchesCriteria(criteria: Criteria, alert: MatchableAlert): boolean {
  if (criteria.type === 'match-all') return true;
  const check = (c: Condition) => conditionHolds(c, alert) !== (c.not === true);
  const conditions = inRunOrder(criteria.conditions);
  return criteria.type === 'match-all-conditions' ? conditions.every(check) : conditions.some(check);
}

/** A condition's place in the run: its `order`, or its position when it was sent without one. */
function runOrderOf(condition: StoredCondition, position: number): number {
  return typeof condition.order === 'number' ? condition.order : position;
}

/**
 * The conditions by their `order`, those of the same order as listed. Conditions are stored as sent, and
 * usually sent in order: those are used as they are, with nothing to sort on each alert.
 */
function inRunOrder(conditions: readonly StoredCondition[]): readonly StoredCondition[] {
  let previous = Number.NEGATIVE_INFINITY;
  let sorted = true;
  for (const [i, c] of conditions.entries()) {
    const at = runOrderOf(c, i);
    if (at < previous) {
      sorted = false;
      break;
    }
    previous = at;
  }
  if (sorted) return conditions;
  return conditions
    .map((c, i) => ({ c, at: runOrderOf(c, i), i }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map(({ c }) => c);
}

// Parsing and presenting

/**
 * A condition as parsed and stored: what it means (Condition), and how it was sent, kept only to present it
 * back as sent. Criteria stored before these were kept have neither: they were stored in their run order.
 */
interface StoredCondition extends Condition {
  /** The `order` sent; absent, the condition's position stands for it. */
  order?: number;
  /**
   * For `details`: sent as `details`; absent, as `extra-properties` (which is how older ones present).
   * For `recipients`: sent as `responders`; absent, as `recipients`.
   */
  sentAs?: 'details' | 'responders';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(values: readonly string[]): string {
  return values.join(', ');
}

function parseCondition(input: unknown, path: string, options: CriteriaOptions): StoredCondition {
  if (!isRecord(input))
    throw invalidField(path, 'must be an object: {"field", "operation", "expectedValue"}.');
  const rawField =
    typeof input.field === 'string' && Object.hasOwn(SYNONYMS, input.field)
      ? SYNONYMS[input.field as keyof typeof SYNONYMS]
      : input.field;
  const fields: readonly string[] = options.responderFields ? [...FIELDS, ...RESPONDER_FIELDS] : FIELDS;
  if (typeof rawField !== 'string' || !fields.includes(rawField)) {
    const onlyPolicies = (RESPONDER_FIELDS as readonly unknown[]).includes(rawField)
      ? ' here: only policies filter on the alert’s teams and recipients'
      : '';
    const named = [...fields, 'extra-properties', ...(options.responderFields ? ['responders'] : [])];
    throw invalidField(
      `${path}.field`,
      `must be one of: ${list(named)} (Vigil does not filter on ${JSON.stringify(input.field ?? null)}${onlyPolicies}).`,
    );
  }
  const field = rawField as ConditionField;
  const operation = input.operation;
  if (typeof operation !== 'string' || !(OPERATIONS as readonly string[]).includes(operation)) {
    throw invalidField(`${path}.operation`, `must be one of: ${list(OPERATIONS)}.`);
  }
  const op = operation as ConditionOperation;
  if (input.not !== undefined && typeof input.not !== 'boolean') {
    throw invalidField(`${path}.not`, 'must be true or false.');
  }
  if (input.key !== undefined && input.key !== null && typeof input.key !== 'string') {
    throw invalidField(`${path}.key`, 'must be a string.');
  }
  const key = typeof input.key === 'string' && input.key !== '' ? input.key : undefined;
  const raw = input.expectedValue;
  if (raw !== undefined && raw !== null && typeof raw !== 'string') {
    throw invalidField(`${path}.expectedValue`, 'must be a string.');
  }
  let expectedValue = typeof raw === 'string' ? raw : '';
  if (expectedValue.length > MAX_VALUE_LENGTH) {
    throw invalidField(`${path}.expectedValue`, `must be at most ${MAX_VALUE_LENGTH} characters.`);
  }

  let allowed: readonly ConditionOperation[];
  if (field === 'priority') allowed = ['equals', 'greater-than', 'less-than'];
  else if (field === 'details')
    allowed = key === undefined ? ['contains-key', 'contains-value', 'is-empty'] : TEXT_OPERATIONS;
  else allowed = TEXT_OPERATIONS;
  if (!allowed.includes(op)) {
    const hint =
      field === 'details' && key === undefined && TEXT_OPERATIONS.includes(op)
        ? ' Give "key" to compare one detail\'s value.'
        : op === 'greater-than' || op === 'less-than'
          ? ' Only priority can be compared that way.'
          : '';
    throw invalidField(
      `${path}.operation`,
      `${op} does not apply to ${field}${field === 'details' && key === undefined ? ' without a key' : ''}: use one of ${list(allowed)}.${hint}`,
    );
  }
  if (key !== undefined && field !== 'details') {
    throw invalidField(`${path}.key`, `only details (extra-properties) take a key, not ${field}.`);
  }

  if (field === 'priority') {
    const p = expectedValue.trim().toUpperCase();
    if (!(PRIORITIES as readonly string[]).includes(p)) {
      throw invalidField(`${path}.expectedValue`, `must be a priority: ${list(PRIORITIES)}.`);
    }
    expectedValue = p;
  } else if (op === 'matches') {
    const problem = regexProblem(expectedValue);
    if (problem) throw invalidField(`${path}.expectedValue`, problem);
  } else if (op === 'contains-key' && expectedValue === '') {
    throw invalidField(`${path}.expectedValue`, 'give the key to look for.');
  } else if (['tags', 'actions', 'teams', 'recipients'].includes(field) && op === 'contains') {
    if (listValues(expectedValue).length === 0) {
      throw invalidField(
        `${path}.expectedValue`,
        `give the ${String(input.field)} to look for, separated by commas.`,
      );
    }
  }

  const condition: StoredCondition = { field, operation: op };
  if (input.field === 'details' || input.field === 'responders') condition.sentAs = input.field;
  if (key !== undefined && op !== 'contains-key' && op !== 'contains-value') condition.key = key;
  if (input.not === true) condition.not = true;
  if (op !== 'is-empty') condition.expectedValue = expectedValue;
  return condition;
}

/**
 * Opsgenie's criteria JSON (`{type, conditions: [{field, key?, not?, operation, expectedValue?, order?}]}`)
 * as Vigil stores it. Absent criteria match everything. Errors name `${field}.conditions[i].<part>`.
 */
export interface CriteriaOptions {
  /** Whether `teams` and `recipients` conditions are accepted (policies). */
  responderFields?: boolean;
  /**
   * Criteria read back from the database: checked when saved. The budget of a filter's patterns is not
   * applied again, so that a saved filter over it (from before it) keeps matching rather than match nothing.
   */
  stored?: boolean;
}

/**
 * The most RE2 program steps a filter's patterns may compile to together. One pattern may take up to
 * MAX_PATTERN_SIZE; a filter of a hundred conditions each at that size cost a hundred times one match on
 * every alert, on the process's one thread. Filters people write are far below it.
 */
export const MAX_FILTER_PATTERN_SIZE = 1500;

/** The steps a filter's `matches` patterns compile to together (a pattern refused counts for nothing). */
function patternSteps(conditions: readonly Condition[]): number {
  let steps = 0;
  for (const c of conditions) {
    if (c.operation !== 'matches') continue;
    const outcome = compiled(c.expectedValue ?? '');
    if (typeof outcome !== 'string') steps += outcome.programSize();
  }
  return steps;
}

export function parseCriteria(input: unknown, field: string, options: CriteriaOptions = {}): Criteria {
  if (input === undefined || input === null) return { type: 'match-all' };
  if (!isRecord(input)) {
    throw invalidField(field, 'must be an object such as {"type": "match-all"}.');
  }
  const hasConditions = Array.isArray(input.conditions) && input.conditions.length > 0;
  if (input.type === undefined && hasConditions) {
    throw invalidField(
      `${field}.type`,
      'is required with conditions: match-all-conditions (every one must hold) or match-any-condition (one is enough).',
    );
  }
  const type = input.type ?? 'match-all';
  if (typeof type !== 'string' || !(CRITERIA_TYPES as readonly string[]).includes(type)) {
    throw invalidField(`${field}.type`, `must be one of: ${list(CRITERIA_TYPES)}.`);
  }
  // Opsgenie ignores conditions under match-all; so does Vigil (clients send "conditions": [] with it).
  if (type === 'match-all') return { type: 'match-all' };
  const conditions = input.conditions;
  if (!Array.isArray(conditions) || conditions.length === 0) {
    throw invalidField(
      `${field}.conditions`,
      `${type} needs at least one condition; use {"type": "match-all"} to match every alert.`,
    );
  }
  if (conditions.length > MAX_CONDITIONS) {
    throw invalidField(`${field}.conditions`, `must have at most ${MAX_CONDITIONS} conditions.`);
  }
  const parsed = conditions.map((c: unknown, i): StoredCondition => {
    const path = `${field}.conditions[${i}]`;
    const order = isRecord(c) ? c.order : undefined;
    if (order !== undefined && order !== null && !Number.isInteger(order)) {
      throw invalidField(`${path}.order`, 'must be a whole number.');
    }
    const condition = parseCondition(c, path, options);
    if (typeof order === 'number') condition.order = order;
    return condition;
  });
  const steps = options.stored ? 0 : patternSteps(parsed);
  if (steps > MAX_FILTER_PATTERN_SIZE) {
    throw invalidField(
      `${field}.conditions`,
      `has patterns too large together once compiled (${steps} steps, at most ${MAX_FILTER_PATTERN_SIZE} in one filter): each is matched on every alert, so use fewer or simpler ones (contains or starts-with where a pattern is not needed).`,
    );
  }
  return { type: type as 'match-all-conditions' | 'match-any-condition', conditions: parsed };
}

export interface PresentedCondition {
  field: string;
  key?: string;
  not: boolean;
  operation: ConditionOperation;
  expectedValue: string;
  order: number;
}

export type PresentedCriteria =
  { type: 'match-all' } | { type: Criteria['type']; conditions: PresentedCondition[] };

/**
 * Back to Opsgenie's JSON as sent: the conditions in the order sent, each with the `order` sent (its
 * position when it had none) and details under the name sent.
 */
export function presentCriteria(c: Criteria): PresentedCriteria {
  if (c.type === 'match-all') return { type: 'match-all' };
  return {
    type: c.type,
    conditions: c.conditions.map((x: StoredCondition, i) => ({
      field:
        x.field === 'details' && x.sentAs !== 'details'
          ? 'extra-properties'
          : x.field === 'recipients' && x.sentAs === 'responders'
            ? 'responders'
            : x.field,
      ...(x.key !== undefined ? { key: x.key } : {}),
      not: x.not ?? false,
      operation: x.operation,
      expectedValue: x.expectedValue ?? '',
      order: runOrderOf(x, i),
    })),
  };
}
