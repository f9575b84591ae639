import type { TSchema, Static } from 'typebox';
import type { Kind, Report } from './report.js';
import type { RestClient } from './rest-client.js';
import { labelOf, shaped } from './shapes.js';

/**
 * What every step of an import shares: both APIs, the report, and what the steps before found. Objects
 * are referred to in Vigil by their natural keys (username, team, schedule and escalation names), which
 * Vigil's API takes wherever it takes an id: so an Opsgenie id maps to the key of the object it became,
 * and a reference to it works in a dry run too, before that object exists.
 */
export interface ImportContext {
  source: RestClient;
  target: RestClient;
  dryRun: boolean;
  report: Report;
  /** The Vigil team that gets integrations Opsgenie has as global (no owner team), if one was named. */
  teamForGlobal?: string;
  /** Custom user roles users can be given in Vigil: lower-case name → Vigil's name. */
  customRoles: Map<string, string>;
  /** Opsgenie user id → Vigil username, for users that are (or in a dry run would be) in Vigil. */
  users: Map<string, string>;
  /** Opsgenie team id → team name, for teams in Vigil. */
  teams: Map<string, string>;
  /** Opsgenie schedule id → schedule name, for schedules in Vigil. */
  schedules: Map<string, string>;
  /** Opsgenie escalation id → escalation name, for escalations in Vigil. */
  escalations: Map<string, string>;
  /** Opsgenie integration id → Vigil integration id (undefined: would be created by a dry run). */
  integrations: Map<string, string | undefined>;
  /** Opsgenie policy id → Vigil policy id (undefined: would be created by a dry run). */
  policies: Map<string, string | undefined>;
}

/** Why a reference cannot be followed, or what it is in Vigil. */
export type Resolved = { ok: true; value: string } | { ok: false; why: string };

export function resolveUser(
  ctx: ImportContext,
  ref: { id?: string | null; username?: string | null },
): Resolved {
  const byId = ref.id ? ctx.users.get(ref.id) : undefined;
  if (byId) return { ok: true, value: byId };
  const byName = ref.username ? [...ctx.users.values()].find((u) => u === ref.username) : undefined;
  if (byName) return { ok: true, value: byName };
  return { ok: false, why: `user ${ref.username ?? ref.id ?? '?'} was not imported` };
}

export function resolveNamed(
  map: Map<string, string>,
  what: string,
  ref: { id?: string | null; name?: string | null },
): Resolved {
  const byId = ref.id ? map.get(ref.id) : undefined;
  if (byId) return { ok: true, value: byId };
  const byName = ref.name ? [...map.values()].find((n) => n === ref.name) : undefined;
  if (byName) return { ok: true, value: byName };
  return { ok: false, why: `${what} ${ref.name ?? ref.id ?? '?'} was not imported` };
}

/** Thrown inside a step to skip the object with a reason (a limit of Vigil, a missing reference). */
export class Skip extends Error {}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `step` for each item of a list read from Opsgenie, each in its own try: an item without the
 * documented shape is skipped, one whose step throws Skip is skipped with its reason, and any other error
 * fails that item only.
 */
export async function eachItem<T extends TSchema>(
  ctx: ImportContext,
  kind: Kind,
  schema: T,
  items: unknown[],
  step: (item: Static<T>) => Promise<void>,
  /** How the report names an item (the same as the step names it when it succeeds). */
  labelFor: (raw: Record<string, unknown>) => string = labelOf,
): Promise<void> {
  for (const raw of items) {
    const label = isRecord(raw) ? labelFor(raw) : '(not an object)';
    const got = shaped(schema, raw);
    if (!got.ok) {
      ctx.report.record(kind, label, 'skipped', got.why);
      continue;
    }
    try {
      await step(got.value);
    } catch (error) {
      ctx.report.record(kind, label, error instanceof Skip ? 'skipped' : 'failed', errorText(error));
    }
  }
}

/** Reads a list from Opsgenie; a list that cannot be read fails its kind, and the import goes on. */
export async function readList(
  ctx: ImportContext,
  kind: Kind,
  what: string,
  read: () => Promise<unknown[]>,
): Promise<unknown[] | undefined> {
  try {
    return await read();
  } catch (error) {
    ctx.report.record(kind, `(${what})`, 'failed', `could not read them: ${errorText(error)}`);
    return undefined;
  }
}

/** The same JSON, keys in any order: whether what Vigil has is what the import would give it. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
        )
      : v,
  );
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const enc = encodeURIComponent;
