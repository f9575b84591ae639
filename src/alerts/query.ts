import { sql, type RawBuilder } from 'kysely';
import { invalidQuery } from '../http/errors.js';

/**
 * The alert search language, after Opsgenie's: `field:value` terms (also `field=value`, `field!=value`,
 * and `>`, `<`, `>=`, `<=` on numbers), free-text words, "quoted phrases", `*` wildcards, AND, OR, NOT
 * and parentheses. Terms side by side are joined with AND. It compiles to one SQL condition with every
 * value as a bound parameter.
 */

type Token =
  | { kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not' }
  | { kind: 'term'; field?: string; op: Operator; value: string };

type Operator = ':' | '=' | '!=' | '>' | '<' | '>=' | '<=';

export type QueryNode =
  | { kind: 'and' | 'or'; left: QueryNode; right: QueryNode }
  | { kind: 'not'; inner: QueryNode }
  | { kind: 'term'; field?: string; op: Operator; value: string };

const TERM = /^([A-Za-z][\w.-]*)(!=|>=|<=|:|=|>|<)\s*/;

function readValue(input: string, start: number): { value: string; end: number } {
  let i = start;
  while (i < input.length && input[i] === ' ') i++;
  if (input[i] === '"') {
    let value = '';
    i++;
    while (i < input.length && input[i] !== '"') {
      if (input[i] === '\\' && i + 1 < input.length) i++;
      value += input[i];
      i++;
    }
    if (input[i] !== '"') throw invalidQuery('Invalid query: a quoted value is not closed.');
    return { value, end: i + 1 };
  }
  let value = '';
  while (i < input.length && !/[\s()]/.test(input[i] ?? '')) value += input[i++];
  return { value, end: i };
}

export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'lparen' : 'rparen' });
      i++;
      continue;
    }
    const rest = input.slice(i);
    const keyword = /^(AND|OR|NOT)(?=[\s()]|$)/i.exec(rest);
    if (keyword) {
      tokens.push({ kind: (keyword[1] ?? '').toLowerCase() as 'and' | 'or' | 'not' });
      i += keyword[0].length;
      continue;
    }
    const term = TERM.exec(rest);
    if (term) {
      const { value, end } = readValue(input, i + term[0].length);
      if (value === '') throw invalidQuery(`Invalid query: ${term[1]}${term[2]} needs a value.`);
      tokens.push({ kind: 'term', field: term[1], op: term[2] as Operator, value });
      i = end;
      continue;
    }
    const { value, end } = readValue(input, i);
    tokens.push({ kind: 'term', op: ':', value });
    i = end;
  }
  return tokens;
}

export function parseQuery(input: string): QueryNode | undefined {
  const tokens = tokenize(input);
  if (tokens.length === 0) return undefined;
  let pos = 0;
  const peek = () => tokens[pos];

  function parseOr(): QueryNode {
    let left = parseAnd();
    while (peek()?.kind === 'or') {
      pos++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  }
  function parseAnd(): QueryNode {
    let left = parseUnary();
    for (;;) {
      const next = peek();
      if (next?.kind === 'and') {
        pos++;
        left = { kind: 'and', left, right: parseUnary() };
      } else if (next && (next.kind === 'term' || next.kind === 'not' || next.kind === 'lparen')) {
        left = { kind: 'and', left, right: parseUnary() };
      } else {
        return left;
      }
    }
  }
  function parseUnary(): QueryNode {
    const token = tokens[pos++];
    if (!token) throw invalidQuery('Invalid query: it ends where a term was expected.');
    if (token.kind === 'not') return { kind: 'not', inner: parseUnary() };
    if (token.kind === 'lparen') {
      const inner = parseOr();
      if (tokens[pos++]?.kind !== 'rparen') throw invalidQuery('Invalid query: a parenthesis is not closed.');
      return inner;
    }
    if (token.kind === 'term') return token;
    throw invalidQuery(`Invalid query: unexpected ${token.kind.toUpperCase()}.`);
  }

  const tree = parseOr();
  if (pos < tokens.length) throw invalidQuery('Invalid query: unexpected ")".');
  return tree;
}

function likePattern(value: string, contains: boolean): string {
  const escaped = value.replace(/[\\%_]/g, (c) => '\\' + c).replace(/\*/g, '%');
  return contains && !value.includes('*') ? `%${escaped}%` : escaped;
}

function textMatch(
  column: RawBuilder<unknown>,
  op: Operator,
  value: string,
  contains: boolean,
): RawBuilder<boolean> {
  const positive =
    value.includes('*') || contains
      ? sql<boolean>`${column} ILIKE ${likePattern(value, contains)}`
      : sql<boolean>`lower(${column}) = lower(${value})`;
  return op === '!=' ? sql<boolean>`NOT (${positive})` : positive;
}

function booleanValue(field: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === 'false') return v === 'true';
  throw invalidQuery(`Invalid query: ${field} takes true or false, not "${value}".`);
}

function comparison(
  column: RawBuilder<unknown>,
  field: string,
  op: Operator,
  value: string,
): RawBuilder<boolean> {
  if (!/^\d+$/.test(value))
    throw invalidQuery(`Invalid query: ${field} takes a whole number, not "${value}".`);
  const n = Number(value);
  switch (op) {
    case '>':
      return sql<boolean>`${column} > ${n}`;
    case '<':
      return sql<boolean>`${column} < ${n}`;
    case '>=':
      return sql<boolean>`${column} >= ${n}`;
    case '<=':
      return sql<boolean>`${column} <= ${n}`;
    case '!=':
      return sql<boolean>`${column} <> ${n}`;
    default:
      return sql<boolean>`${column} = ${n}`;
  }
}

function onlyEquality(field: string, op: Operator): void {
  if (op !== ':' && op !== '=' && op !== '!=') {
    throw invalidQuery(`Invalid query: ${field} can not be compared with ${op}; use ${field}:value.`);
  }
}

const a = (column: string) => sql.ref(`alerts.${column}`);

export const QUERY_FIELDS = [
  'status',
  'acknowledged',
  'snoozed',
  'isSeen',
  'priority',
  'tag',
  'tags',
  'alias',
  'message',
  'description',
  'source',
  'owner',
  'entity',
  'teams',
  'tinyId',
  'count',
  'integration.name',
  'integration.type',
  'details.<key>',
];

function compileTerm(orgId: string, term: Extract<QueryNode, { kind: 'term' }>): RawBuilder<boolean> {
  const { op, value } = term;
  if (!term.field) {
    // Free text: any of the fields a person reads.
    const pattern = likePattern(value, true);
    return sql<boolean>`(${a('message')} ILIKE ${pattern} OR ${a('description')} ILIKE ${pattern} OR ${a('alias')} ILIKE ${pattern} OR ${a('entity')} ILIKE ${pattern} OR ${a('source')} ILIKE ${pattern} OR array_to_string(${a('tags')}, ' ') ILIKE ${pattern})`;
  }
  const field = term.field;
  const negate = (cond: RawBuilder<boolean>) => (op === '!=' ? sql<boolean>`NOT (${cond})` : cond);
  if (field.startsWith('details.')) {
    onlyEquality(field, op);
    const key = field.slice('details.'.length);
    return textMatch(sql`(${a('details')} ->> ${key})`, op, value, false);
  }
  switch (field) {
    case 'status': {
      onlyEquality(field, op);
      const v = value.toLowerCase();
      if (v !== 'open' && v !== 'closed')
        throw invalidQuery(`Invalid query: status is open or closed, not "${value}".`);
      return negate(sql<boolean>`${a('status')} = ${v}`);
    }
    case 'acknowledged':
    case 'snoozed':
    case 'isSeen': {
      onlyEquality(field, op);
      const column = field === 'isSeen' ? 'is_seen' : field;
      return negate(sql<boolean>`${a(column)} = ${booleanValue(field, value)}`);
    }
    case 'priority': {
      onlyEquality(field, op);
      const v = value.toUpperCase();
      if (!/^P[1-5]$/.test(v)) throw invalidQuery(`Invalid query: priority is P1 to P5, not "${value}".`);
      return negate(sql<boolean>`${a('priority')} = ${v}`);
    }
    case 'tag':
    case 'tags': {
      onlyEquality(field, op);
      const cond = value.includes('*')
        ? sql<boolean>`EXISTS (SELECT 1 FROM unnest(${a('tags')}) AS t(tag) WHERE t.tag ILIKE ${likePattern(value, false)})`
        : sql<boolean>`${value} = ANY(${a('tags')})`;
      return negate(cond);
    }
    case 'alias':
    case 'source':
    case 'owner':
    case 'entity':
      onlyEquality(field, op);
      return textMatch(a(field), op, value, false);
    case 'message':
    case 'description':
      onlyEquality(field, op);
      return textMatch(a(field), op, value, op === ':');
    case 'integration.name':
    case 'integration.type':
      onlyEquality(field, op);
      return textMatch(
        a(field === 'integration.name' ? 'integration_name' : 'integration_type'),
        op,
        value,
        false,
      );
    case 'teams':
    case 'team':
    case 'responders': {
      onlyEquality(field, op);
      const cond = sql<boolean>`${a('team_ids')} && ARRAY(SELECT t.id FROM teams t WHERE t.org_id = ${orgId} AND lower(t.name) = lower(${value}))`;
      return negate(cond);
    }
    case 'tinyId':
      return comparison(a('tiny_id'), field, op, value);
    case 'count':
      return comparison(a('count'), field, op, value);
    default:
      throw invalidQuery(
        `Invalid query: unknown field "${field}". Known fields: ${QUERY_FIELDS.join(', ')}.`,
      );
  }
}

export function compileQuery(orgId: string, node: QueryNode): RawBuilder<boolean> {
  switch (node.kind) {
    case 'and':
      return sql<boolean>`(${compileQuery(orgId, node.left)} AND ${compileQuery(orgId, node.right)})`;
    case 'or':
      return sql<boolean>`(${compileQuery(orgId, node.left)} OR ${compileQuery(orgId, node.right)})`;
    case 'not':
      return sql<boolean>`NOT (${compileQuery(orgId, node.inner)})`;
    case 'term':
      return compileTerm(orgId, node);
  }
}
