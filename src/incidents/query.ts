import { sql, type RawBuilder } from 'kysely';
import {
  anyElementMatches,
  comparison,
  detailsMatch,
  INT8,
  likePattern,
  onlyEquality,
  parseQuery,
  responderNamed,
  teamIdsNamed,
  textMatch,
  type QueryNode,
  type TermToken,
} from '../alerts/query.js';
import { invalid as invalidQuery } from '../errors.js';

/**
 * The incident search of GET /v1/incidents: the alert search language (alerts/query.ts parses it, with its
 * bounds on cost) over an incident's fields.
 */

export const INCIDENT_QUERY_FIELDS = [
  'status',
  'priority',
  'tag',
  'tags',
  'message',
  'description',
  'tinyId',
  'teams',
  'team',
  'responders',
  'recipients',
  'details.<key>',
  'details.key',
  'details.value',
  'detailsPair(<key>:<value>)',
];

const i = (column: string) => sql.ref(`incidents.${column}`);

function compileTerm(orgId: string, term: TermToken): RawBuilder<boolean> {
  const { op, value } = term;
  if (!term.field) {
    const pattern = likePattern(value, true);
    return sql<boolean>`(${i('message')} ILIKE ${pattern} OR ${i('description')} ILIKE ${pattern} OR ${anyElementMatches(i('tags'), pattern)})`;
  }
  const field = term.field;
  const negate = (cond: RawBuilder<boolean>) => (op === '!=' ? sql<boolean>`NOT (${cond})` : cond);
  if (field.startsWith('details.')) return detailsMatch(i('details'), term);
  switch (field) {
    case 'status': {
      onlyEquality(field, op);
      const v = value.toLowerCase();
      if (v !== 'open' && v !== 'resolved' && v !== 'closed')
        throw invalidQuery(`Invalid query: status is open, resolved or closed, not "${value}".`);
      return negate(sql<boolean>`${i('status')} = ${v}`);
    }
    case 'priority': {
      onlyEquality(field, op);
      const v = value.toUpperCase();
      if (!/^P[1-5]$/.test(v)) throw invalidQuery(`Invalid query: priority is P1 to P5, not "${value}".`);
      return negate(sql<boolean>`${i('priority')} = ${v}`);
    }
    case 'tag':
    case 'tags': {
      onlyEquality(field, op);
      const cond = value.includes('*')
        ? anyElementMatches(i('tags'), likePattern(value, false))
        : sql<boolean>`${value} = ANY(${i('tags')})`;
      return negate(cond);
    }
    case 'message':
    case 'description':
      onlyEquality(field, op);
      return textMatch(i(field), op, value, op === ':');
    case 'teams':
    case 'team': {
      onlyEquality(field, op);
      return negate(sql<boolean>`${i('team_ids')} && ${teamIdsNamed(orgId, value)}`);
    }
    case 'responders':
    case 'recipients':
      onlyEquality(field, op);
      return negate(responderNamed(orgId, i('responders'), i('team_ids'), value));
    case 'tinyId':
      return comparison(i('tiny_id'), field, op, value, INT8);
    default:
      throw invalidQuery(
        `Invalid query: unknown field "${field}". Known fields: ${INCIDENT_QUERY_FIELDS.join(', ')}.`,
      );
  }
}

function compile(orgId: string, node: QueryNode): RawBuilder<boolean> {
  switch (node.kind) {
    case 'and':
      return sql<boolean>`(${compile(orgId, node.left)} AND ${compile(orgId, node.right)})`;
    case 'or':
      return sql<boolean>`(${compile(orgId, node.left)} OR ${compile(orgId, node.right)})`;
    case 'not':
      return sql<boolean>`NOT (${compile(orgId, node.inner)})`;
    case 'term':
      return compileTerm(orgId, node);
  }
}

/** The SQL condition of an incident query; undefined for an empty one (every incident). */
export function incidentQueryWhere(
  orgId: string,
  query: string | undefined,
): RawBuilder<boolean> | undefined {
  const tree = query ? parseQuery(query) : undefined;
  return tree ? compile(orgId, tree) : undefined;
}
