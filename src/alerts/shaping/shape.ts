import type { Priority } from '../../db/schema.js';
import { matchesCriteria, type MatchableAlert, type MatchableResponder } from '../../oncall/conditions.js';
import type { Criteria } from '../../oncall/model.js';
import type { CreateAlertInput, ResponderInput } from '../service.js';
import { expandTemplate, MAX_EXPANDED_LENGTH, type TemplateValues } from './templates.js';
import {
  ALERT_LIMITS,
  cutToCharacters,
  DETAILS_LIMITS,
  detailsGrowPast,
  detailsSize,
  detailsSizeWith,
  jsonBytes,
} from '../limits.js';

/**
 * What integration actions and alert policies share: an ordered list of rules, each a filter (Opsgenie's
 * conditions, conditions.ts) and what to do with a create request that matches it: drop it, or change
 * its fields. Integration actions are ignore rules followed by create rules (the first create action that
 * matches shapes the alert); alert policies are modify rules that may let the next one run (`continue`).
 * Pure functions: the caller loads the rules and writes the alert.
 */

const PRIORITIES: readonly Priority[] = ['P1', 'P2', 'P3', 'P4', 'P5'];

/**
 * The changes a rule makes. Text fields are templates (templates.ts) expanded from the alert as the rule
 * found it; an absent field leaves the alert's. The lists and details are added to the alert's, or replace
 * them when `replace` says so (Opsgenie's ignore*FromPayload and ignoreOriginal* flags).
 */
export interface Modifications {
  message?: string;
  alias?: string;
  description?: string;
  entity?: string;
  source?: string;
  user?: string;
  note?: string;
  /** A template that must come out as P1..P5; anything else leaves the priority as it was. */
  priority?: string;
  tags?: string[];
  details?: Record<string, string>;
  responders?: ResponderInput[];
  actions?: string[];
  /** `responders` drops all the alert's responders; `teams` only those of type team (Opsgenie's ignoreTeamsFromPayload). */
  replace?: { tags?: boolean; details?: boolean; responders?: boolean; teams?: boolean; actions?: boolean };
}

export interface ShapingRule {
  /** How the alert's log and request statuses name it: "integration action 'X'", "policy 'Y'". */
  label: string;
  filter: Criteria;
  effect: { kind: 'drop' } | { kind: 'modify'; modifications: Modifications };
  /** Whether the rules after this one still run once it has matched. */
  continue: boolean;
}

export type ShapeResult =
  | { kind: 'dropped'; by: ShapingRule }
  | {
      kind: 'shaped';
      input: CreateAlertInput;
      applied: ShapingRule[];
      /** What the alert's log says besides the rules that applied: details left out, one line a rule. */
      notes: string[];
    };

/**
 * The create request as conditions see it: Opsgenie's defaults for what it leaves out, and the description
 * as the alert keeps it (ALERT_LIMITS: a pattern's cost grows with the text it reads, and a create may
 * carry a far longer one). `responders`, when the caller named them, are what `teams` and `recipients`
 * conditions see.
 */
export function matchableOf(
  input: CreateAlertInput,
  integrationName: string | null,
  responders?: readonly MatchableResponder[],
): MatchableAlert {
  return {
    ...(responders ? { responders } : {}),
    message: input.message,
    alias: input.alias ?? '',
    description: cutToCharacters(input.description ?? '', ALERT_LIMITS.description),
    source: input.source ?? '',
    entity: input.entity ?? '',
    tags: input.tags ?? [],
    actions: input.actions ?? [],
    details: input.details ?? {},
    priority: input.priority ?? 'P3',
    integrationName,
  };
}

function templateValues(input: CreateAlertInput): TemplateValues {
  return {
    message: input.message,
    alias: input.alias ?? '',
    description: input.description ?? '',
    entity: input.entity ?? '',
    source: input.source ?? '',
    priority: input.priority ?? 'P3',
    user: input.user ?? '',
    note: input.note ?? '',
    tags: input.tags ?? [],
    actions: input.actions ?? [],
    details: input.details ?? {},
  };
}

type TextField = 'message' | 'alias' | 'description' | 'entity' | 'source' | 'user' | 'note';
const TEXT_FIELDS: readonly TextField[] = [
  'message',
  'alias',
  'description',
  'entity',
  'source',
  'user',
  'note',
];

/**
 * The most an expanded field may hold: what the Alert API accepts in a request (alerts/routes.ts), so a
 * shaped request is never one the API would have refused; Opsgenie's own limits then apply (limits.ts).
 * A description takes as much as a template expands to (MAX_EXPANDED_LENGTH, within what the API takes):
 * one longer than the alert keeps is cut there, and the alert's log says so.
 */
export const SHAPED_LIMITS = {
  message: 15_000,
  alias: 512,
  description: MAX_EXPANDED_LENGTH,
  entity: 512,
  source: 1000,
  user: 1000,
  note: 25_000,
  listItem: 1000,
  detailKey: 512,
  detailValue: 8000,
} as const;

/** Cut to `max` characters, never inside a character, with no marker (a template's output is data). */
const fit = (value: string, max: number) => cutToCharacters(value, max, '');

/** Expanded list entries; `{{tags}}` (or `{{actions}}`) alone stands for the whole original list. */
function expandList(templates: string[], values: TemplateValues, own: 'tags' | 'actions'): string[] {
  const out: string[] = [];
  for (const template of templates) {
    if (template.trim() === `{{${own}}}`) out.push(...values[own]);
    else {
      const value = fit(expandTemplate(template, values).trim(), SHAPED_LIMITS.listItem);
      if (value !== '') out.push(value);
    }
  }
  return out;
}

const responderKey = (r: ResponderInput) =>
  `${r.type}\n${r.id ?? ''}\n${(r.name ?? r.username ?? '').toLowerCase()}`;

function mergeResponders(original: ResponderInput[], added: ResponderInput[]): ResponderInput[] {
  const seen = new Set(original.map(responderKey));
  const out = [...original];
  for (const r of added) {
    const key = responderKey(r);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(r);
    }
  }
  return out;
}

/**
 * The alert's details with a rule's added (or put in their place), within the alert's DETAILS_LIMITS
 * (alerts/limits.ts) as the Alert API counts them: keys, and bytes of JSON entry by entry (a key, a
 * colon, a value, a comma between entries). A detail that would take them past either is left out, as
 * Add Details leaves it out, and counted, and so are the rule's new details after it (the details are
 * full: they are not expanded); one that only replaces a value is taken if it does not grow them past.
 * Each value is expanded only as far as it could fit (a detail's 8,000 characters at most, a character
 * being at least a byte of JSON): however many rules and templates, no more is built than the alert can
 * keep.
 */
function mergeDetails(
  base: Record<string, string>,
  templates: Record<string, string>,
  values: TemplateValues,
): { details: Record<string, string>; left: number } {
  // A Map, so that a key such as "__proto__" is a detail like any other.
  const merged = new Map(Object.entries(base));
  let { keys, bytes } = detailsSize(base);
  let left = 0;
  let full = false;
  for (const [rawKey, template] of Object.entries(templates)) {
    const key = fit(rawKey, SHAPED_LIMITS.detailKey);
    const old = merged.get(key);
    const comma = keys > 0 ? 1 : 0;
    // The bytes of JSON the value may take: as many as are left, or (replacing) as many as the old one's.
    const room =
      old === undefined
        ? keys < DETAILS_LIMITS.keys
          ? DETAILS_LIMITS.bytes - bytes - jsonBytes(key) - 1 - comma
          : 0
        : Math.max(DETAILS_LIMITS.bytes - bytes + jsonBytes(old), jsonBytes(old));
    // A value takes its characters and two quotes at least: one character more than fits says it is over.
    if (room < 2 || (old === undefined && full)) {
      left += 1;
      full ||= old === undefined;
      continue;
    }
    const value = expandTemplate(template, values, Math.min(SHAPED_LIMITS.detailValue, room - 1));
    const next = detailsSizeWith({ keys, bytes }, key, old, value);
    if (detailsGrowPast({ keys, bytes }, next)) {
      left += 1;
      full ||= old === undefined;
      continue;
    }
    merged.set(key, value);
    ({ keys, bytes } = next);
  }
  return { details: Object.fromEntries(merged), left };
}

/** The request with one rule's changes made. */
export function modify(input: CreateAlertInput, m: Modifications): CreateAlertInput {
  return modifyCounting(input, m).input;
}

/** {@link modify}, and how many of the rule's details were left out for the alert's details limits. */
function modifyCounting(
  input: CreateAlertInput,
  m: Modifications,
): { input: CreateAlertInput; detailsLeftOut: number } {
  let detailsLeftOut = 0;
  const values = templateValues(input);
  const out: CreateAlertInput = { ...input };
  for (const field of TEXT_FIELDS) {
    const template = m[field];
    if (template === undefined) continue;
    const value = fit(expandTemplate(template, values), SHAPED_LIMITS[field]);
    // An absent field stays absent when the template comes out empty: the default (an alias made of the
    // id, the caller's address as source) still applies.
    if (value !== (input[field] ?? '')) out[field] = value;
  }
  if (out.message.trim() === '') out.message = input.message;
  if (m.priority !== undefined) {
    const priority = expandTemplate(m.priority, values).trim().toUpperCase();
    if ((PRIORITIES as readonly string[]).includes(priority)) out.priority = priority as Priority;
  }
  if (m.tags !== undefined || m.replace?.tags) {
    const added = expandList(m.tags ?? [], values, 'tags');
    out.tags = [...new Set([...(m.replace?.tags ? [] : values.tags), ...added])];
  }
  if (m.actions !== undefined || m.replace?.actions) {
    const added = expandList(m.actions ?? [], values, 'actions');
    out.actions = [...new Set([...(m.replace?.actions ? [] : values.actions), ...added])];
  }
  if (m.details !== undefined || m.replace?.details) {
    const merged = mergeDetails(m.replace?.details ? {} : values.details, m.details ?? {}, values);
    out.details = merged.details;
    detailsLeftOut = merged.left;
  }
  // Only a real change makes a new list: the caller looks responders up again when the list changed.
  const teamsDropped = m.replace?.teams === true && (input.responders ?? []).some((r) => r.type === 'team');
  if ((m.responders?.length ?? 0) > 0 || m.replace?.responders || teamsDropped) {
    const kept = m.replace?.responders
      ? []
      : (input.responders ?? []).filter((r) => !m.replace?.teams || r.type !== 'team');
    out.responders = mergeResponders(kept, m.responders ?? []);
  }
  return { input: out, detailsLeftOut };
}

/**
 * Runs the rules in order over a create request: a matching drop rule drops it; a matching modify rule
 * changes it, and the rules after it run (on the changed request) only if it says `continue`. `responders`
 * are the request's, named for `teams` and `recipients` conditions (those a rule adds are not among them).
 */
export function applyRules(
  input: CreateAlertInput,
  rules: readonly ShapingRule[],
  integrationName: string | null,
  responders?: readonly MatchableResponder[],
): ShapeResult {
  let current = input;
  const applied: ShapingRule[] = [];
  const notes: string[] = [];
  for (const rule of rules) {
    if (!matchesCriteria(rule.filter, matchableOf(current, integrationName, responders))) continue;
    if (rule.effect.kind === 'drop') return { kind: 'dropped', by: rule };
    const modified = modifyCounting(current, rule.effect.modifications);
    current = modified.input;
    applied.push(rule);
    const n = modified.detailsLeftOut;
    if (n > 0)
      notes.push(`${n} detail${n === 1 ? '' : 's'} of ${rule.label} left out: the alert's details are full`);
    if (!rule.continue) break;
  }
  return { kind: 'shaped', input: current, applied, notes };
}
