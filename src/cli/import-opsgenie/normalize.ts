import { Value } from 'typebox/value';
import { ConditionSchema } from '../../oncall/conditions.js';
import type { CriteriaIn, FilterIn, TimeRestrictionIn } from './shapes.js';

/**
 * The one form of criteria, time restrictions, durations and instants that both Opsgenie's answers and
 * Vigil's are brought to before they are compared or sent, so that what is the same compares the same.
 */

export function criteriaOf(c: CriteriaIn | undefined | null) {
  const type = c?.type ?? 'match-all';
  if (type === 'match-all') return { type };
  const conditions = [...(c?.conditions ?? [])]
    .map((x, i) => ({ x, i }))
    .sort((a, b) => (a.x.order ?? a.i) - (b.x.order ?? b.i))
    .map(({ x }, order) => ({
      field: x.field === 'details' ? 'extra-properties' : x.field,
      ...(x.key !== undefined && x.key !== null && x.key !== '' ? { key: x.key } : {}),
      not: x.not ?? false,
      operation: x.operation,
      expectedValue: x.expectedValue ?? '',
      order,
    }));
  return { type, conditions };
}

export function timeRestrictionOf(t: TimeRestrictionIn | undefined | null) {
  if (!t) return undefined;
  const windows = t.restrictions ?? (t.restriction ? [t.restriction] : []);
  return {
    type: t.type,
    restrictions: windows.map((w) => ({
      ...(w.startDay ? { startDay: w.startDay.toLowerCase() } : {}),
      startHour: w.startHour,
      startMin: w.startMin ?? 0,
      ...(w.endDay ? { endDay: w.endDay.toLowerCase() } : {}),
      endHour: w.endHour,
      endMin: w.endMin ?? 0,
    })),
  };
}

/**
 * A name as Vigil keeps it: trimmed and cut to Vigil's `limit`, counted in characters (code points) as its
 * API's maxLength counts them, so no surrogate pair is split. The same on a name Vigil already has, so
 * both sides' names are keyed by it: a name cut on the way in still matches on the next run.
 */
export function vigilName(name: string | null | undefined, limit: number): string {
  return Array.from((name ?? '').trim())
    .slice(0, limit)
    .join('')
    .trim();
}

const UNIT_MINUTES: Record<string, number> = { minutes: 1, hours: 60, days: 1440 };

/** A duration in minutes, or undefined for a unit Vigil does not know. */
export function minutesOf(d: { timeAmount: number; timeUnit?: string | null }): number | undefined {
  const per = UNIT_MINUTES[d.timeUnit ?? 'minutes'];
  return per === undefined ? undefined : d.timeAmount * per;
}

/** An instant as ISO 8601 UTC, whatever form it came in; undefined when it is not one. */
export function instantOf(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** An integration action's or a policy's filter as criteria (Opsgenie names the match type either way). */
export function filterOf(f: FilterIn | undefined | null) {
  return criteriaOf({
    type: f?.conditionMatchType ?? f?.type ?? 'match-all',
    conditions: f?.conditions ?? [],
  });
}

/** Why Vigil's filters cannot take these criteria (a field or operation they lack), or undefined. */
export function unsupportedCondition(
  criteria: ReturnType<typeof criteriaOf>,
  options: { responderFields?: boolean } = {},
): string | undefined {
  const conditions = 'conditions' in criteria ? (criteria.conditions ?? []) : [];
  for (const c of conditions) {
    if (!Value.Check(ConditionSchema, c))
      return `a condition "${c.field} ${c.operation}", which Vigil's filters do not have`;
    // Only Vigil's policies filter on who the alert is for.
    if (!options.responderFields && ['recipients', 'responders', 'teams'].includes(c.field))
      return `a condition on ${c.field}, which only Vigil's policies have`;
  }
  return undefined;
}
