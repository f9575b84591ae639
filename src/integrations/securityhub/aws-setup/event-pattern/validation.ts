/**
 * What a rule accepts: validateEventPattern, worded like EventBridge's InvalidEventPatternException
 * reasons. Apart from matching because a pattern is refused when a rule is put, before any event exists,
 * and its limits and wording follow EventBridge's error messages, which matching never gives.
 */
import { parseCidr } from './cidr.js';
import { isFields, operatorOf, OR, type Fields } from './fields.js';
import { invalid, InvalidPattern } from './invalid.js';

/** The EventPattern parameter's length limit. */
export const MAX_EVENT_PATTERN_CHARS = 4096;
/** PutRule and TestEventPattern refuse patterns that expand to more combinations than this. */
export const MAX_EVENT_PATTERN_COMBINATIONS = 1000;

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);
const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

function isLeafValue(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** Undefined when EventBridge would accept the pattern, else the reason it would give. */
export function validateEventPattern(pattern: unknown): string | undefined {
  if (!isFields(pattern)) return 'Filter is not an object';
  if (JSON.stringify(pattern).length > MAX_EVENT_PATTERN_CHARS)
    return `Event pattern is longer than ${MAX_EVENT_PATTERN_CHARS} characters`;
  try {
    const combinations = checkFields(pattern);
    if (combinations > MAX_EVENT_PATTERN_COMBINATIONS)
      return `The pattern expands to ${combinations} combinations of $or branches and values, more than ${MAX_EVENT_PATTERN_COMBINATIONS}`;
    return undefined;
  } catch (err) {
    if (err instanceof InvalidPattern) return err.message;
    throw err;
  }
}

/** Checks a pattern object and returns how many combinations it expands to. */
function checkFields(fields: Fields): number {
  let combinations = 1;
  for (const [key, rule] of Object.entries(fields)) {
    if (key === OR && Array.isArray(rule)) {
      if (rule.length === 0) invalid('Empty arrays are not allowed');
      let branches = 0;
      for (const branch of rule) {
        if (!isFields(branch)) invalid(`${OR} must be an array of objects`);
        branches += checkFields(branch);
      }
      combinations *= branches;
    } else if (Array.isArray(rule)) {
      checkLeaf(rule);
      combinations *= rule.length;
    } else if (isFields(rule)) {
      combinations *= checkFields(rule);
    } else {
      invalid(`"${key}" must be an object or an array`);
    }
  }
  return combinations;
}

function checkLeaf(rules: unknown[]): void {
  if (rules.length === 0) invalid('Empty arrays are not allowed');
  for (const rule of rules) {
    if (isLeafValue(rule)) continue;
    if (!isFields(rule)) invalid('Match value must be String, number, true, false, or null');
    checkOperator(rule);
  }
}

function checkOperator(rule: Fields): void {
  const operator = operatorOf(rule);
  if (operator === undefined) invalid('Only one key allowed in match expression');
  const [name, arg] = operator;
  switch (name) {
    case 'prefix':
    case 'suffix':
      if (typeof arg === 'string') return;
      if (isFields(arg) && typeof arg['equals-ignore-case'] === 'string' && Object.keys(arg).length === 1)
        return;
      return invalid(`${name} match pattern must be a string`);
    case 'equals-ignore-case':
      if (typeof arg !== 'string') invalid('equals-ignore-case match pattern must be a string');
      return;
    case 'wildcard':
      if (typeof arg !== 'string') invalid('wildcard match pattern must be a string');
      return checkWildcard(arg);
    case 'anything-but':
      return checkAnythingBut(arg);
    case 'numeric':
      return checkNumeric(arg);
    case 'exists':
      if (typeof arg !== 'boolean') invalid('exists match pattern must be either true or false.');
      return;
    case 'cidr':
      // EventBridge's own wording for a cidr that is not a string.
      if (typeof arg !== 'string') invalid('prefix match pattern must be a string');
      parseCidr(arg);
      return;
    default:
      invalid(`Unrecognized match type ${name}`);
  }
}

function checkWildcard(pattern: string): void {
  const at = pattern.indexOf('**');
  if (at >= 0) invalid(`Consecutive wildcard characters at pos ${at + 1}`);
}

function checkAnythingBut(arg: unknown): void {
  if (typeof arg === 'string' || typeof arg === 'number') return;
  if (Array.isArray(arg)) {
    if (arg.length === 0) invalid('Empty arrays are not allowed');
    if (!arg.every((v) => typeof v === 'string' || typeof v === 'number'))
      invalid('Inside anything but list, start|null|boolean is not supported.');
    return;
  }
  const operator = isFields(arg) ? operatorOf(arg) : undefined;
  if (operator === undefined)
    invalid('Value of anything-but must be an array or single string/number value.');
  const [name, value] = operator;
  const strings =
    typeof value === 'string' ||
    (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'));
  switch (name) {
    case 'prefix':
    case 'suffix':
      if (!strings) invalid('prefix/suffix match pattern must be a string');
      return;
    case 'wildcard':
      if (!strings) invalid('wildcard match pattern must be a string');
      for (const w of [value].flat()) checkWildcard(String(w));
      return;
    case 'equals-ignore-case':
      if (!strings)
        invalid('Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.');
      return;
    default:
      invalid('Value of anything-but must be an array or single string/number value.');
  }
}

function checkNumeric(arg: unknown): void {
  if (!Array.isArray(arg) || arg.length === 0) invalid('Value of numeric must be an array.');
  const [firstOp, first, secondOp, second] = arg;
  if (typeof firstOp !== 'string' || !NUMERIC_OPERATORS.has(firstOp))
    invalid(`Unrecognized numeric range operator: ${String(firstOp)}`);
  if (typeof first !== 'number') invalid(`Value of ${firstOp} must be numeric`);
  if (arg.length === 2) return;
  // A range is one lower bound and one upper bound, in either order; '=' stands alone.
  const pairsUp =
    typeof secondOp === 'string' &&
    ((LOWER_BOUNDS.has(firstOp) && UPPER_BOUNDS.has(secondOp)) ||
      (UPPER_BOUNDS.has(firstOp) && LOWER_BOUNDS.has(secondOp)));
  if (!pairsUp) invalid(`Bad numeric range operator: ${String(secondOp)}`);
  if (typeof second !== 'number') invalid(`Value of ${secondOp} must be numeric`);
  if (arg.length > 4) invalid('Too many elements in numeric expression');
  const [bottom, top] = LOWER_BOUNDS.has(firstOp) ? [first, second] : [second, first];
  if (bottom >= top) invalid('Bottom must be less than top');
}
