import { sql, type RawBuilder } from 'kysely';
import { isUuid } from '../db/database.js';
import { invalid as invalidQuery } from '../errors.js';

/**
 * The alert search language, after Opsgenie's: `field:value` terms (also `field=value`, `field!=value`,
 * and `>`, `<`, `>=`, `<=` on numbers and times; spaces around the operator allowed, `status : open`),
 * a field applied to a group (`message: (lorem OR ipsum)`), free-text words, "quoted phrases", `*`
 * wildcards, AND, OR, NOT and parentheses. Terms side by side are joined with AND. It compiles to one SQL
 * condition with every value as a bound parameter.
 *
 * Anyone with read access can send a query, so its cost is bounded before any SQL runs:
 *
 * - at most {@link MAX_QUERY_TERMS} (30) terms in all;
 * - at most {@link MAX_UNINDEXED_TERMS} (10) of them that no index can serve, each a scan of every alert
 *   of the organization ({@link unindexed}): free-text words (six ILIKEs each, over message, description,
 *   alias, entity, source and tags), values with a `*` wildcard, `message:`/`description:` substring
 *   searches, and every term on a field no index serves: `details.<key>` (`details.key`,
 *   `details.value` and `detailsPair(k:v)` too), `source`, `owner`, `entity`, `recipients` and
 *   `responders`, `acknowledgedBy`, `closedBy`, `actions`, `integration.name`/`.type`, `count`,
 *   `lastOccurredAt` and `snoozedUntil` (a `!=` or NOT of them too). Those an index serves are
 *   `status`, `alias` (on lower(alias), migration 0049), `tag` (the GIN index on tags, with `@>`),
 *   `teams` (the GIN index on team_ids), `tinyId`, `createdAt` and `alertId`; the flags, priority and
 *   message=/description= are not counted either ({@link IN_ROW_FIELDS});
 * - parentheses and NOT nested at most {@link MAX_QUERY_DEPTH} (20) deep, which also keeps the
 *   recursive-descent parser far from the stack's limit;
 * - `count` and `tinyId` take whole numbers within their column (int4 and int8), and `createdAt`,
 *   `lastOccurredAt` and `snoozedUntil` epoch milliseconds up to the end of year 9999: a number outside
 *   is refused rather than left for PostgreSQL (or JavaScript's Date) to fail on.
 *
 * Each is refused with a 422 that says what to narrow. Several queries run as one statement
 * (GET /v2/alerts/counts) are held to {@link MAX_COUNTED_UNINDEXED_TERMS} unindexed terms together, and
 * with a saved search to five times its own more ({@link checkCountedCost}), not to ten each.
 */

/** The most terms (field:value, free text) one query may have. */
export const MAX_QUERY_TERMS = 30;
/** The most terms one query may have that no index can serve: free text, wildcards, message/description, details and the like. */
export const MAX_UNINDEXED_TERMS = 10;
/** The deepest parentheses and NOT may nest. */
export const MAX_QUERY_DEPTH = 20;
/**
 * How many queries' worth of unindexed terms one GET /v2/alerts/counts may have together: the console
 * counts its five views (web/src/pages/alerts/listQueries.ts), each AND-ed with a search box of the most
 * one query may have, and must still be answered.
 */
const COUNTED_QUERIES_WORTH = 5;
/**
 * The most unindexed terms the queries of one GET /v2/alerts/counts may have together without a saved
 * search: all are evaluated on every alert row of the one scan. With one, each query counts the saved
 * search's terms too, and the limit is five queries' worth of both ({@link checkCountedCost}).
 */
export const MAX_COUNTED_UNINDEXED_TERMS = COUNTED_QUERIES_WORTH * MAX_UNINDEXED_TERMS;

/**
 * A term: `field op value`, or free text without a field. `detailKey` is set by `detailsPair(k:v)` alone:
 * the value of the detail named k whatever k is, so that a detail named "key" or "value" (which
 * `details.key:` and `details.value:` do not reach) or one `details.<k>` can not spell is still found.
 */
export type TermToken = { kind: 'term'; field?: string; op: Operator; value: string; detailKey?: string };

type Token = { kind: 'lparen' | 'rparen' | 'and' | 'or' | 'not' } | TermToken;

export type Operator = ':' | '=' | '!=' | '>' | '<' | '>=' | '<=';

export type QueryNode =
  { kind: 'and' | 'or'; left: QueryNode; right: QueryNode } | { kind: 'not'; inner: QueryNode } | TermToken;

/**
 * A field and its operator. Spaces are allowed on both sides of the operator, as Opsgenie writes its own
 * examples (`status : open`, `createdAt < 1470394841148`). So a free-text word followed by a spaced
 * operator (`disk < 10`) is a term on the field `disk`, and refused as an unknown field as `disk<10` is:
 * a 422 naming the known fields rather than free-text words that quietly find nothing. A phrase in
 * quotes (`"disk < 10"`) is still searched as text.
 */
const TERM = /^([A-Za-z][\w.-]*)\s*(!=|>=|<=|:|=|>|<)\s*/;

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

const DETAILS_PAIR = 'detailsPair(';

/**
 * Opsgenie's `detailsPair(key:value)` from just after its "(": the key (quoted for one with spaces, a
 * colon or a parenthesis), the value (read as any term's) and the end, after the ")".
 */
function readDetailsPair(input: string, start: number): { key: string; value: string; end: number } {
  const malformed = () =>
    invalidQuery('Invalid query: detailsPair takes a key and a value, as detailsPair(key:value).');
  let i = start;
  while (input[i] === ' ') i++;
  let key = '';
  if (input[i] === '"') {
    const quoted = readValue(input, i);
    key = quoted.value;
    i = quoted.end;
  } else {
    while (i < input.length && !/[\s():"]/.test(input[i] ?? '')) key += input[i++];
  }
  while (input[i] === ' ') i++;
  if (key === '' || input[i] !== ':') throw malformed();
  const { value, end } = readValue(input, i + 1);
  i = end;
  while (input[i] === ' ') i++;
  if (value === '' || input[i] !== ')') throw malformed();
  return { key, value, end: i + 1 };
}

/**
 * The query's tokens. A field applied to a group, `message: (lorem OR ipsum)` as Opsgenie documents it,
 * is given to each bare term inside (`message:lorem OR message:ipsum`), nested groups too; a term that
 * names its own field keeps it. The group is read in place, one token for each term, so the limits on
 * terms, unindexed terms and depth count the terms as they are searched, and no input grows.
 */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  // The `field:(` groups open here, innermost last, each with the parenthesis depth inside it.
  const scopes: { field: string; op: Operator; depth: number }[] = [];
  let depth = 0;
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      if (c === '(') {
        depth++;
      } else {
        if (scopes.at(-1)?.depth === depth) scopes.pop();
        depth--;
      }
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
    if (rest.startsWith(DETAILS_PAIR)) {
      const pair = readDetailsPair(input, i + DETAILS_PAIR.length);
      tokens.push({
        kind: 'term',
        field: `details.${pair.key}`,
        op: ':',
        value: pair.value,
        detailKey: pair.key,
      });
      i = pair.end;
      continue;
    }
    const term = TERM.exec(rest);
    if (term) {
      const field = term[1] ?? '';
      const op = term[2] as Operator;
      const after = i + term[0].length;
      if (input[after] === '(') {
        if (/^\(\s*\)/.test(input.slice(after))) {
          throw invalidQuery(`Invalid query: ${field}${op} needs a value.`);
        }
        // Given to each term, != would not mean what it reads as: tag!=(a OR b) would be tag!=a OR
        // tag!=b, nearly every alert, not the alerts with neither tag. Refused, naming the query that is.
        if (op === '!=') {
          throw invalidQuery(
            `Invalid query: ${field}!= can not be applied to a group; use NOT ${field}:(...) instead.`,
          );
        }
        scopes.push({ field, op, depth: depth + 1 });
        i = after;
        continue;
      }
      const { value, end } = readValue(input, after);
      if (value === '') throw invalidQuery(`Invalid query: ${field}${op} needs a value.`);
      tokens.push({ kind: 'term', field, op, value });
      i = end;
      continue;
    }
    const { value, end } = readValue(input, i);
    const scope = scopes.at(-1);
    if (scope) {
      if (value === '') throw invalidQuery(`Invalid query: ${scope.field}${scope.op} needs a value.`);
      tokens.push({ kind: 'term', field: scope.field, op: scope.op, value });
    } else {
      tokens.push({ kind: 'term', op: ':', value });
    }
    i = end;
  }
  return tokens;
}

/**
 * Fields whose `:` or `=` term (with no `*`) an index of alerts serves, together with org_id: status
 * (alerts_org_status), alias (alerts_org_lower_alias, on lower(alias) as the term compares it), tag and
 * tags (the GIN index alerts_tags, as the term is `tags @> ARRAY[value]`), teams (the GIN index
 * alerts_team_ids, `&&`), tinyId (alerts_org_tiny_id, and its ranges), createdAt (alerts_org_created, and
 * its ranges) and alertId (the primary key).
 */
const INDEXED_FIELDS: ReadonlySet<string> = new Set([
  'status',
  'alias',
  'tag',
  'tags',
  'teams',
  'team',
  'tinyId',
  'createdAt',
  'alertId',
]);

/**
 * Fields no index serves whose `:`/`=` term is still not counted, as before: a comparison of a flag or of
 * priority, a small fixed value held in the row. The console's views are made of them (status:open AND
 * acknowledged:false, web/src/pages/alerts/listQueries.ts), each AND-ed with a search box of the most
 * unindexed terms one query may have, and must still be answered. message= and description= (whole, not
 * substring) are not counted either, as before.
 *
 * Nor are a NOT or a `!=` of an indexed term (`NOT tag:x`, `alias!=x`) counted, though no index serves
 * them: each is one comparison in the row (tested as allowed, 15 of them in one query).
 */
const IN_ROW_FIELDS: ReadonlySet<string> = new Set(['acknowledged', 'isSeen', 'snoozed', 'priority']);

/** Whether every alert of the organization must be read to evaluate the term. */
function unindexed(term: TermToken): boolean {
  if (term.field === undefined || term.value.includes('*')) return true;
  if (term.field === 'message' || term.field === 'description') return term.op === ':';
  return !INDEXED_FIELDS.has(term.field) && !IN_ROW_FIELDS.has(term.field);
}

/** What the 422s name as terms no index serves, besides free text, wildcards and message/description. */
const UNINDEXED_EXAMPLES = 'details, source, owner, entity, recipients, actions, count and the like';
/** What the 422s suggest instead: terms an index serves. */
const INDEXED_HINT =
  'terms an index serves, such as status:open, alias:x, tag:x, teams:x, tinyId:n or createdAt>n';

function checkCost(tokens: Token[]): void {
  const terms = tokens.filter((t): t is TermToken => t.kind === 'term');
  if (terms.length > MAX_QUERY_TERMS) {
    throw invalidQuery(
      `Invalid query: it has ${terms.length} terms; at most ${MAX_QUERY_TERMS} are allowed. Narrow it: fewer free-text words, or field:value terms.`,
    );
  }
  const slow = terms.filter(unindexed).length;
  if (slow > MAX_UNINDEXED_TERMS) {
    throw invalidQuery(
      `Invalid query: it has ${slow} free-text, wildcard (*) or message/description terms or others no index serves (${UNINDEXED_EXAMPLES}), which search every alert; at most ${MAX_UNINDEXED_TERMS} are allowed. Narrow it: fewer of those, or ${INDEXED_HINT}.`,
    );
  }
}

function termsOf(node: QueryNode): TermToken[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...termsOf(node.left), ...termsOf(node.right)];
    case 'not':
      return termsOf(node.inner);
    case 'term':
      return [node];
  }
}

function unindexedTermsOf(query: QueryNode | undefined): number {
  return query ? termsOf(query).filter(unindexed).length : 0;
}

/**
 * Refuses queries counted in one statement whose unindexed terms together are over five queries' worth:
 * {@link MAX_COUNTED_UNINDEXED_TERMS}, and with a saved search five times its own more. Each query and the
 * saved search have passed {@link parseQuery}'s own limits first.
 *
 * The saved search is counted in every query: it is AND-ed to each. alertsRepository.countEach checks the
 * conjuncts every query shares once, in the WHERE, when it finds them (top-level ANDs of whole terms);
 * what it cannot share, each count's FILTER reads on its own, once per count, and the limit cannot tell
 * which will be shared. It grows with the saved search so that the console's five views, each with its
 * search box and the saved search, the two as the list takes them, are still answered; a row is still
 * read against at most twice the five queries' worth of terms a request without one may have.
 */
export function checkCountedCost(queries: readonly (QueryNode | undefined)[], saved?: QueryNode): void {
  const savedSlow = unindexedTermsOf(saved);
  let slow = 0;
  for (const query of queries) slow += unindexedTermsOf(query) + savedSlow;
  const limit = COUNTED_QUERIES_WORTH * (MAX_UNINDEXED_TERMS + savedSlow);
  if (slow > limit) {
    const withSaved = saved ? `, each with the saved search's ${savedSlow},` : '';
    throw invalidQuery(
      `Invalid query: the ${queries.length} queries${withSaved} have ${slow} free-text, wildcard (*) or message/description terms or others no index serves (${UNINDEXED_EXAMPLES}) together, which search every alert; at most ${limit} are allowed in one request. Narrow them: fewer queries with those terms, fewer of those in each, or ${INDEXED_HINT}.`,
      {
        query: `has ${slow} free-text, wildcard (*) or message/description terms or others no index serves across the ${queries.length} queries${withSaved}; at most ${limit} together.`,
      },
    );
  }
}

export function parseQuery(input: string): QueryNode | undefined {
  const tokens = tokenize(input);
  if (tokens.length === 0) return undefined;
  checkCost(tokens);
  let pos = 0;
  let depth = 0;
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
    if (token.kind === 'term') return token;
    if (token.kind !== 'not' && token.kind !== 'lparen') {
      throw invalidQuery(`Invalid query: unexpected ${token.kind.toUpperCase()}.`);
    }
    // Checked on the way down, so a query of thousands of "(" is refused before it can exhaust the stack.
    if (++depth > MAX_QUERY_DEPTH) {
      throw invalidQuery(
        `Invalid query: parentheses and NOT are nested more than ${MAX_QUERY_DEPTH} deep. Flatten it: terms side by side are already joined with AND.`,
      );
    }
    let node: QueryNode;
    if (token.kind === 'not') {
      node = { kind: 'not', inner: parseUnary() };
    } else {
      node = parseOr();
      if (tokens[pos++]?.kind !== 'rparen') throw invalidQuery('Invalid query: a parenthesis is not closed.');
    }
    depth--;
    return node;
  }

  const tree = parseOr();
  if (pos < tokens.length) throw invalidQuery('Invalid query: unexpected ")".');
  return tree;
}

/**
 * The ILIKE pattern of a value, its `*`s any text. A contains match (free text, message:, description:)
 * is wrapped whether or not the value has a `*`, so that a `*` only widens it: `data*` finds all that
 * `data` finds, and more.
 */
export function likePattern(value: string, contains: boolean): string {
  const escaped = value.replace(/[\\%_]/g, (c) => '\\' + c).replace(/\*/g, '%');
  return contains ? `%${escaped}%` : escaped;
}

/** A name compared as `teams:` compares a team's: whole without regard to case, or a `*` pattern. */
function nameMatches(column: RawBuilder<unknown>, value: string): RawBuilder<boolean> {
  return value.includes('*')
    ? sql<boolean>`${column} ILIKE ${likePattern(value, false)}`
    : sql<boolean>`lower(${column}) = lower(${value})`;
}

/**
 * Whether any one element of a text array matches the pattern: a tag is matched on its own, never across
 * its neighbours as a joined string would be (where a `db*` anchored at the start would find only the
 * first tag).
 */
export function anyElementMatches(column: RawBuilder<unknown>, pattern: string): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM unnest(${column}) AS x(element) WHERE x.element ILIKE ${pattern})`;
}

/**
 * The ids of the organization's teams a `teams:` value names: the team of that name, without regard to
 * case, or with a `*` each team whose name matches the pattern, so that a `*` widens the search as it does
 * elsewhere and never narrows it (`teams:Plat*` finds the Platform team's).
 */
export function teamIdsNamed(orgId: string, value: string): RawBuilder<string[]> {
  const named = nameMatches(sql.ref('t.name'), value);
  return sql<string[]>`ARRAY(SELECT t.id FROM teams t WHERE t.org_id = ${orgId} AND ${named})`;
}

/**
 * Whether a responder of the row is named `value` (`recipients:`, `responders:`), as an alert policy's
 * `recipients` names them: a user by username, a team, escalation or schedule by name, with a `*` a
 * pattern as for `teams:`. Teams are read from team_ids, as `teams:` reads them (it holds the team
 * responders); the others are `{type, id}` elements of the responders array.
 *
 * Each element's id is looked up in the ids of the organization's users, escalations or schedules so
 * named, an uncorrelated IN that PostgreSQL hashes once per statement: a row then costs a probe per
 * element however many names a `*` matches (a containment of the row's array by each of them, as before,
 * took seconds for `user*` among thousands of users). The ids are compared as text, as the containment
 * compared them: no cast to fail on an element that is not a uuid, and an array that is not one (never
 * written, but the column does not forbid it) has no elements rather than an error. No index serves the
 * term, so it is counted as unindexed.
 */
export function responderNamed(
  orgId: string,
  responders: RawBuilder<unknown>,
  teamIds: RawBuilder<unknown>,
  value: string,
): RawBuilder<boolean> {
  const named = (type: string, table: string, nameColumn: string) =>
    sql<boolean>`(e.element ->> 'type' = ${type}::text AND e.element ->> 'id' IN (SELECT r.id::text FROM ${sql.table(table)} r WHERE r.org_id = ${orgId} AND ${nameMatches(sql.ref(`r.${nameColumn}`), value)}))`;
  return sql<boolean>`(${teamIds} && ${teamIdsNamed(orgId, value)}
    OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${responders}) = 'array' THEN ${responders} END) AS e(element)
      WHERE ${named('user', 'users', 'username')}
        OR ${named('escalation', 'escalations', 'name')}
        OR ${named('schedule', 'schedules', 'name')}))`;
}

/**
 * A `details.` term on a details column (an object of text values). As in Opsgenie, `details.key:k` is
 * about the keys (the object has key k: whole and with regard to case, as `details.<k>` names a key, or
 * with a `*` a pattern without, as `tag:` does) and `details.value:v` about the values (some detail's
 * value is v, compared as `details.<k>:v` compares one: without regard to case, `*` a pattern). A
 * detail named "key" or "value" is reached with `detailsPair(key:v)`. `!=` is the NOT of the term.
 */
export function detailsMatch(details: RawBuilder<unknown>, term: TermToken): RawBuilder<boolean> {
  const { op, value } = term;
  const field = term.field ?? '';
  onlyEquality(field, op);
  const negate = (cond: RawBuilder<boolean>) => (op === '!=' ? sql<boolean>`NOT (${cond})` : cond);
  if (term.detailKey === undefined && field === 'details.key') {
    return negate(
      value.includes('*')
        ? sql<boolean>`EXISTS (SELECT 1 FROM jsonb_object_keys(${details}) AS k(key) WHERE k.key ILIKE ${likePattern(value, false)})`
        : sql<boolean>`${details} ? ${value}`,
    );
  }
  if (term.detailKey === undefined && field === 'details.value') {
    return negate(
      sql<boolean>`EXISTS (SELECT 1 FROM jsonb_each_text(${details}) AS d(key, value) WHERE ${textMatch(sql.ref('d.value'), ':', value, false)})`,
    );
  }
  const key = term.detailKey ?? field.slice('details.'.length);
  return textMatch(sql`(${details} ->> ${key})`, op, value, false);
}

export function textMatch(
  column: RawBuilder<unknown>,
  op: Operator,
  value: string,
  contains: boolean,
): RawBuilder<boolean> {
  const compared =
    value.includes('*') || contains
      ? sql<boolean>`${column} ILIKE ${likePattern(value, contains)}`
      : sql<boolean>`lower(${column}) = lower(${value})`;
  // A missing value (a details key an alert lacks) compares as NULL, and NOT NULL is NULL too: "IS TRUE"
  // makes it a plain no, so that a term's negation finds the alerts without the value.
  const positive = sql<boolean>`(${compared}) IS TRUE`;
  return op === '!=' ? sql<boolean>`NOT ${positive}` : positive;
}

function booleanValue(field: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === 'false') return v === 'true';
  throw invalidQuery(`Invalid query: ${field} takes true or false, not "${value}".`);
}

/** A numeric column's SQL type and largest value (neither column holds negative numbers). */
export interface NumberRange {
  sqlType: 'integer' | 'bigint';
  max: bigint;
}

const INT4: NumberRange = { sqlType: 'integer', max: 2_147_483_647n };
export const INT8: NumberRange = { sqlType: 'bigint', max: 9_223_372_036_854_775_807n };

export function comparison(
  column: RawBuilder<unknown>,
  field: string,
  op: Operator,
  value: string,
  range: NumberRange,
): RawBuilder<boolean> {
  // BigInt, not Number: past 2^53 a Number rounds, and tinyIds are int8.
  const whole = /^\d+$/.test(value) ? BigInt(value) : undefined;
  if (whole === undefined || whole > range.max) {
    throw invalidQuery(
      `Invalid query: ${field} takes a whole number from 0 to ${range.max}, not "${value}".`,
    );
  }
  // Sent as text and cast to the column's type, so no digit is lost on the way to PostgreSQL.
  const n = sql`CAST(${whole.toString()} AS ${sql.raw(range.sqlType)})`;
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

/** The last millisecond of year 9999, the latest whose ISO form PostgreSQL reads (later ones take a sign). */
export const MAX_EPOCH_MS = 253_402_300_799_999n;

/**
 * A time column compared with epoch milliseconds, as Opsgenie's createdAt and the like are searched. The
 * column holds microseconds and the API shows them cut to milliseconds (present.ts), so a term is about
 * the millisecond shown: `:` is the whole millisecond, `>` starts at the next one. Each is a range on the
 * column itself, so an index on it serves the term. A nullable column's missing value is a plain no,
 * so that the term's negation finds the alerts without one (as `textMatch` does).
 */
export function timeComparison(
  column: RawBuilder<unknown>,
  field: string,
  op: Operator,
  value: string,
  nullable: boolean,
): RawBuilder<boolean> {
  const ms = /^\d{1,16}$/.test(value) ? BigInt(value) : undefined;
  if (ms === undefined || ms > MAX_EPOCH_MS) {
    throw invalidQuery(
      `Invalid query: ${field} takes a time in epoch milliseconds, a whole number from 0 to ${MAX_EPOCH_MS}, not "${value}".`,
    );
  }
  // Sent as an exact ISO text: no floating-point step between the number and the timestamp.
  const at = sql`CAST(${new Date(Number(ms)).toISOString()} AS timestamptz)`;
  const next = sql`(${at} + interval '1 millisecond')`;
  const within = sql<boolean>`(${column} >= ${at} AND ${column} < ${next})`;
  let cond: RawBuilder<boolean>;
  switch (op) {
    case '<':
      cond = sql<boolean>`${column} < ${at}`;
      break;
    case '>=':
      cond = sql<boolean>`${column} >= ${at}`;
      break;
    case '>':
      cond = sql<boolean>`${column} >= ${next}`;
      break;
    case '<=':
      cond = sql<boolean>`${column} < ${next}`;
      break;
    case '!=':
      return sql<boolean>`NOT (${within} IS TRUE)`;
    default:
      cond = within;
  }
  return nullable ? sql<boolean>`(${cond}) IS TRUE` : cond;
}

export function onlyEquality(field: string, op: Operator): void {
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
  'team',
  'responders',
  'recipients',
  'tinyId',
  'count',
  'createdAt',
  'lastOccurredAt',
  'snoozedUntil',
  'alertId',
  'acknowledgedBy',
  'closedBy',
  'actions',
  'integration.name',
  'integration.type',
  'details.<key>',
  'details.key',
  'details.value',
  'detailsPair(<key>:<value>)',
];

function compileTerm(orgId: string, term: TermToken): RawBuilder<boolean> {
  const { op, value } = term;
  if (!term.field) {
    // Free text: any of the fields a person reads.
    const pattern = likePattern(value, true);
    return sql<boolean>`(${a('message')} ILIKE ${pattern} OR ${a('description')} ILIKE ${pattern} OR ${a('alias')} ILIKE ${pattern} OR ${a('entity')} ILIKE ${pattern} OR ${a('source')} ILIKE ${pattern} OR ${anyElementMatches(a('tags'), pattern)})`;
  }
  const field = term.field;
  const negate = (cond: RawBuilder<boolean>) => (op === '!=' ? sql<boolean>`NOT (${cond})` : cond);
  if (field.startsWith('details.')) return detailsMatch(a('details'), term);
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
        ? anyElementMatches(a('tags'), likePattern(value, false))
        : // Containment, not `= ANY`: the GIN index on tags serves `@>` (and it compares as `=` does,
          // with regard to case).
          sql<boolean>`${a('tags')} @> ARRAY[${value}]::text[]`;
      return negate(cond);
    }
    case 'actions': {
      onlyEquality(field, op);
      // No index serves the column, so the match costs nothing more without regard to case, as an
      // action's name is read (and Opsgenie searches it).
      return negate(anyElementMatches(a('actions'), likePattern(value, false)));
    }
    case 'alias':
      onlyEquality(field, op);
      // A pattern is a search of every alert's alias, open or closed, as for the other text fields: it
      // finds all the whole alias finds, and more.
      if (value.includes('*')) return textMatch(a(field), op, value, false);
      // The whole alias names the open alert that has it, as in Opsgenie ("only an open alert with that
      // alias"): a closed alert's alias is free for the next one. alias is never NULL, so the comparison
      // needs no "IS TRUE" (textMatch's), which would keep the index on (org_id, lower(alias)) from
      // serving it.
      return negate(sql<boolean>`(lower(${a(field)}) = lower(${value}) AND ${a('status')} = 'open')`);
    case 'source':
    case 'owner':
    case 'entity':
      onlyEquality(field, op);
      return textMatch(a(field), op, value, false);
    case 'acknowledgedBy':
    case 'closedBy':
      onlyEquality(field, op);
      // Who last did it, as the API's report shows it: kept when the alert is unacknowledged again.
      return textMatch(a(field === 'closedBy' ? 'closed_by' : 'acknowledged_by'), op, value, false);
    case 'alertId':
      onlyEquality(field, op);
      // Not a uuid: no alert has that id (and PostgreSQL is not asked to cast it, which would fail).
      return negate(
        isUuid(value) ? sql<boolean>`${a('id')} = ${value.toLowerCase()}::uuid` : sql<boolean>`false`,
      );
    case 'createdAt':
      return timeComparison(a('created_at'), field, op, value, false);
    case 'lastOccurredAt':
      return timeComparison(a('last_occurred_at'), field, op, value, false);
    case 'snoozedUntil':
      return timeComparison(a('snoozed_until'), field, op, value, true);
    case 'message':
    case 'description':
      onlyEquality(field, op);
      return textMatch(a(field), op, value, op === ':');
    case 'integration.name':
    case 'integration.type':
      onlyEquality(field, op);
      // As the API shows them: an alert no integration made came from "API" (present.ts).
      return textMatch(
        sql`(CASE WHEN ${a('integration_id')} IS NULL THEN 'API' ELSE coalesce(${a(field === 'integration.name' ? 'integration_name' : 'integration_type')}, '') END)`,
        op,
        value,
        false,
      );
    case 'teams':
    case 'team': {
      onlyEquality(field, op);
      return negate(sql<boolean>`${a('team_ids')} && ${teamIdsNamed(orgId, value)}`);
    }
    case 'responders':
    case 'recipients':
      onlyEquality(field, op);
      return negate(responderNamed(orgId, a('responders'), a('team_ids'), value));
    case 'tinyId':
      return comparison(a('tiny_id'), field, op, value, INT8);
    case 'count':
      return comparison(a('count'), field, op, value, INT4);
    default:
      throw invalidQuery(
        `Invalid query: unknown field "${field}". Known fields: ${QUERY_FIELDS.join(', ')}.`,
      );
  }
}

/**
 * The compiled conditions that every alert they hold has a tag or a team one of their terms names, each
 * with its part that names the tags and teams (see {@link tagOrTeamPart}).
 */
const tagOrTeamParts = new WeakMap<RawBuilder<boolean>, RawBuilder<boolean>>();

/**
 * Of a condition every alert of which has a tag or a team one of its terms names (a `tag:` term without
 * `*` or a `teams:` term, not negated, that the whole condition needs: AND-ed in, or on each side of an
 * OR), the condition its tag and team terms make on their own (the same terms, AND-ed and OR-ed as in it; the condition itself when it is nothing else):
 * every alert the condition holds, this holds too, and the GIN indexes find all of them. How many alerts
 * it holds is how many those indexes hand over to read, however few of them the rest of the condition
 * keeps. The GIN index on tags or team_ids then finds all its alerts, however few, where PostgreSQL may
 * guess they are many (see alertsRepository.list). Undefined for any other condition, and for one
 * {@link compileQuery} did not make.
 */
export function tagOrTeamPart(condition: RawBuilder<boolean>): RawBuilder<boolean> | undefined {
  return tagOrTeamParts.get(condition);
}

function narrowsByTagOrTeam(term: TermToken): boolean {
  if (term.op === '!=') return false;
  if (term.field === 'tag' || term.field === 'tags') return !term.value.includes('*');
  return term.field === 'teams' || term.field === 'team';
}

export function compileQuery(orgId: string, node: QueryNode): RawBuilder<boolean> {
  let compiled: RawBuilder<boolean>;
  let part: RawBuilder<boolean> | undefined;
  switch (node.kind) {
    case 'and':
    case 'or': {
      const left = compileQuery(orgId, node.left);
      const right = compileQuery(orgId, node.right);
      const leftPart = tagOrTeamPart(left);
      const rightPart = tagOrTeamPart(right);
      const whole = leftPart === left && rightPart === right;
      if (node.kind === 'and') {
        compiled = sql<boolean>`(${left} AND ${right})`;
        // Either side's part holds every alert the AND holds; both together, fewer.
        if (whole) part = compiled;
        else if (leftPart && rightPart) part = sql<boolean>`(${leftPart} AND ${rightPart})`;
        else part = leftPart ?? rightPart;
      } else {
        compiled = sql<boolean>`(${left} OR ${right})`;
        if (whole) part = compiled;
        else if (leftPart && rightPart) part = sql<boolean>`(${leftPart} OR ${rightPart})`;
      }
      break;
    }
    case 'not':
      compiled = sql<boolean>`NOT (${compileQuery(orgId, node.inner)})`;
      break;
    case 'term':
      compiled = compileTerm(orgId, node);
      if (narrowsByTagOrTeam(node)) part = compiled;
      break;
  }
  if (part) tagOrTeamParts.set(compiled, part);
  return compiled;
}
