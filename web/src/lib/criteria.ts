import type { Criteria } from '../api/types';

/** "message contains db" or "all alerts". */
export function criteriaSummary(criteria: Criteria): string {
  if (criteria.type === 'match-all' || !criteria.conditions?.length) return 'All alerts';
  const parts = criteria.conditions.map((c) => {
    const field = c.key ? `${c.field} ${c.key}` : c.field;
    const op = c.operation.replace(/-/g, ' ');
    const value = c.operation === 'is-empty' ? '' : ` “${c.expectedValue}”`;
    return `${field} ${c.not ? 'not ' : ''}${op}${value}`;
  });
  return parts.join(criteria.type === 'match-all-conditions' ? ' and ' : ' or ');
}
