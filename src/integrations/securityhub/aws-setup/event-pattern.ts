/**
 * Amazon EventBridge event patterns: what a rule accepts (validateEventPattern, worded like
 * EventBridge's InvalidEventPatternException reasons) and which events it selects (matchesEventPattern).
 *
 * EventBridge flattens an event into dotted leaf paths before matching, looking through arrays at every
 * level. So a pattern `{"findings": {"A": [1], "B": [2]}}` matches findings `[{"A": 1}, {"B": 2}]`:
 * each field of the pattern asks whether any element anywhere on its path has that value, not whether
 * one element has all of them. Objects are not leaves: `exists` asks about leaf values only.
 */

/** The EventPattern parameter's length limit. */
export const MAX_EVENT_PATTERN_CHARS = 4096;
/** PutRule and TestEventPattern refuse patterns that expand to more combinations than this. */
export const MAX_EVENT_PATTERN_COMBINATIONS = 1000;

const OR = '$or';
const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);
const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLeafValue(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** An operator object holds exactly one key: its name and its argument. */
function operatorOf(rule: Fields): [string, unknown] | undefined {
  const entries = Object.entries(rule);
  return entries.length === 1 ? entries[0] : undefined;
}

class InvalidPattern extends Error {}

function invalid(reason: string): never {
  throw new InvalidPattern(reason);
}

// ---------------------------------------------------------------------------------------------
// Validation

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

// ---------------------------------------------------------------------------------------------
// IP addresses, for cidr

interface Cidr {
  bits: 32 | 128;
  network: bigint;
  maskBits: number;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)?.slice(1).map(Number);
  if (parts === undefined || parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string, last: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (last && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) groups.push(parseInt(piece, 16));
      else return undefined;
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function parseIp(text: string): { bits: 32 | 128; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { bits: 32, value: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  return v6 === undefined ? undefined : { bits: 128, value: v6 };
}

function parseCidr(text: string): Cidr {
  const parts = text.split('/');
  if (parts.length !== 2) invalid("Malformed CIDR, one '/' required");
  const [address = '', mask = ''] = parts;
  if (!/^\d{1,3}$/.test(mask)) invalid('Malformed CIDR, mask bits must be an integer');
  const ip = parseIp(address);
  if (ip === undefined) invalid(`Nonstandard IP address: ${address}`);
  const maskBits = Number(mask);
  if (maskBits > ip.bits) invalid(`Malformed CIDR, mask bits must be between 0 and ${ip.bits}`);
  return { bits: ip.bits, network: ip.value, maskBits };
}

function cidrContains(cidr: unknown, address: string): boolean {
  if (typeof cidr !== 'string') return false;
  let range: Cidr;
  try {
    range = parseCidr(cidr);
  } catch {
    return false;
  }
  const ip = parseIp(address);
  if (ip === undefined || ip.bits !== range.bits) return false;
  const shift = BigInt(range.bits - range.maskBits);
  return ip.value >> shift === range.network >> shift;
}

// ---------------------------------------------------------------------------------------------
// Matching

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
