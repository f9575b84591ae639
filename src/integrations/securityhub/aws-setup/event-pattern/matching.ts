/**
 * Which events a rule selects (matchesEventPattern). Apart from validation because the two answer
 * different questions about a pattern: matching answers yes or no for any pattern, never with a reason.
 *
 * EventBridge flattens an event into dotted leaf paths before matching, looking through arrays at every
 * level. So a pattern `{"findings": {"A": [1], "B": [2]}}` matches findings `[{"A": 1}, {"B": 2}]`:
 * each field of the pattern asks whether any element anywhere on its path has that value, not whether
 * one element has all of them. Objects are not leaves: `exists` asks about leaf values only.
 */
import { cidrContains } from './cidr.js';
import { isFields, operatorOf, OR, type Fields } from './fields.js';

/** Whether EventBridge would deliver the event to a rule with this pattern. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return isFields(pattern) && matchFields(pattern, '', flatten(event));
}

/** The event's leaf values by dotted path (`detail.findings.Severity.Label`), arrays looked through. */
function flatten(event: unknown): Map<string, unknown[]> {
  const leaves = new Map<string, unknown[]>();
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) for (const item of value) walk(item, path);
    else if (isFields(value))
      for (const [key, child] of Object.entries(value)) walk(child, path === '' ? key : `${path}.${key}`);
    else if (path !== '') {
      const values = leaves.get(path);
      if (values === undefined) leaves.set(path, [value]);
      else values.push(value);
    }
  };
  walk(event, '');
  return leaves;
}

/** Patterns are flattened the same way, so `{"a.b": [1]}` and `{"a": {"b": [1]}}` are one pattern. */
function matchFields(fields: Fields, prefix: string, leaves: ReadonlyMap<string, unknown[]>): boolean {
  for (const [key, rule] of Object.entries(fields)) {
    if (key === OR && Array.isArray(rule)) {
      if (!rule.some((branch) => isFields(branch) && matchFields(branch, prefix, leaves))) return false;
    } else if (Array.isArray(rule)) {
      if (!matchLeaf(rule, leaves.get(prefix + key) ?? [])) return false;
    } else if (!isFields(rule) || !matchFields(rule, `${prefix}${key}.`, leaves)) return false;
  }
  return true;
}

function matchLeaf(rules: readonly unknown[], values: readonly unknown[]): boolean {
  if (values.length === 0) return rules.some((rule) => isFields(rule) && rule.exists === false);
  return rules.some((rule) => values.some((value) => matchValue(rule, value)));
}

function foldCase(s: string): string {
  return s.toLowerCase();
}

/** `*` matches any run of characters; greedy leftmost placement of each literal piece is exact for this syntax. */
export function wildcardMatches(pattern: string, text: string): boolean {
  const pieces = pattern.split('*');
  if (pieces.length === 1) return pattern === text;
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last))
    return false;
  const end = text.length - last.length;
  let at = first.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = text.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

function affixMatches(arg: unknown, value: string, where: 'prefix' | 'suffix'): boolean {
  const test = (needle: string, hay: string): boolean =>
    where === 'prefix' ? hay.startsWith(needle) : hay.endsWith(needle);
  if (typeof arg === 'string') return test(arg, value);
  const folded = isFields(arg) ? arg['equals-ignore-case'] : undefined;
  return typeof folded === 'string' && test(foldCase(folded), foldCase(value));
}

function numericMatches(arg: unknown, value: number): boolean {
  if (!Array.isArray(arg)) return false;
  for (let i = 0; i + 1 < arg.length; i += 2) {
    const [op, bound] = [arg[i], arg[i + 1]];
    if (typeof bound !== 'number') return false;
    const ok =
      op === '='
        ? value === bound
        : op === '<'
          ? value < bound
          : op === '<='
            ? value <= bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : false;
    if (!ok) return false;
  }
  return true;
}

/** Whether anything-but's argument names the value (so the value does not match). */
function anythingButExcludes(arg: unknown, value: unknown): boolean {
  if (Array.isArray(arg)) return arg.some((a) => a === value);
  if (!isFields(arg)) return arg === value;
  const operator = operatorOf(arg);
  if (operator === undefined || typeof value !== 'string') return false;
  const [name, listed] = operator;
  const candidates = [listed].flat().filter((c): c is string => typeof c === 'string');
  switch (name) {
    case 'prefix':
      return candidates.some((c) => value.startsWith(c));
    case 'suffix':
      return candidates.some((c) => value.endsWith(c));
    case 'wildcard':
      return candidates.some((c) => wildcardMatches(c, value));
    case 'equals-ignore-case':
      return candidates.some((c) => foldCase(c) === foldCase(value));
    default:
      return false;
  }
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (!isFields(rule)) return rule === value;
  const operator = operatorOf(rule);
  if (operator === undefined) return false;
  const [name, arg] = operator;
  switch (name) {
    case 'prefix':
    case 'suffix':
      return typeof value === 'string' && affixMatches(arg, value, name);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof arg === 'string' && foldCase(value) === foldCase(arg);
    case 'wildcard':
      return typeof value === 'string' && typeof arg === 'string' && wildcardMatches(arg, value);
    case 'anything-but':
      return !anythingButExcludes(arg, value);
    case 'numeric':
      return typeof value === 'number' && numericMatches(arg, value);
    case 'exists':
      return arg === true;
    case 'cidr':
      return typeof value === 'string' && cidrContains(arg, value);
    default:
      return false;
  }
}
