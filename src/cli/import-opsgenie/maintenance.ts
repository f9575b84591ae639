import { eachItem, enc, errorText, readList, sameJson, Skip, type ImportContext } from './context.js';
import { instantOf } from './normalize.js';
import { MaintenanceShape, MaintenanceSummaryShape, shaped, text, type MaintenanceIn } from './shapes.js';

/**
 * Maintenance windows not yet over, matched by description (a maintenance has no name, and Vigil keeps no
 * Opsgenie id), and among Vigil's of one description by their time and rules: a window whose start or end
 * moved in Opsgenie is the one Vigil has, moved, never a second one (the old one would keep its
 * integrations in maintenance until its old end). A description, often empty, is no proof on its own: a
 * Vigil window that shares no rule with an Opsgenie one is never it, nor one of other rules that shares no
 * start or end with it (either may be one made in Vigil, whose integrations would leave maintenance at
 * once). A window that started for a fixed time becomes a schedule with its dates; an indefinite one
 * stays indefinite.
 */

const keyOf = (m: { description?: string | null }) => (m.description ?? '').trim();

/**
 * A maintenance's time as compared: its start (none for an indefinite one, which Vigil starts when it is
 * made), its end (`indefinitely`: until cancelled), and whether it has started.
 */
interface TimeOf {
  start: string | undefined;
  end: string;
  active: boolean;
}

function timeOf(m: MaintenanceIn): TimeOf {
  const indefinite = m.time.type === 'indefinitely';
  return {
    start: indefinite ? undefined : instantOf(m.time.startDate),
    end: indefinite ? 'indefinitely' : (instantOf(m.time.endDate) ?? ''),
    active: m.status === 'active',
  };
}

/** A start both windows have, the same instant (an indefinite one from Opsgenie has none). */
const sharedStart = (a: TimeOf, b: TimeOf) => a.start !== undefined && a.start === b.start;
/** An end both have, the same instant, or both until cancelled. */
const sharedEnd = (a: TimeOf, b: TimeOf) => a.end !== '' && a.end === b.end;
/**
 * Whether a window at `b` is already at `a`'s time. Two windows that have both started start alike here,
 * and only here: a start in the past changes nothing, and can no longer move, but two started windows are
 * not one window for having started (this takes one for another only with the same rules: `TIERS`).
 */
const sameTime = (a: TimeOf, b: TimeOf) =>
  sharedEnd(a, b) && (a.end === 'indefinitely' || (a.active && b.active) || sharedStart(a, b));

/** How far apart two windows are: their starts', else their ends' distance (Infinity: not comparable). */
function distance(a: TimeOf, b: TimeOf): number {
  const apart = (x: string | undefined, y: string | undefined) =>
    Math.abs(Date.parse(x ?? '') - Date.parse(y ?? ''));
  const each = [apart(a.start, b.start), apart(a.end, b.end)].filter(Number.isFinite);
  return each.length > 0 ? Math.min(...each) : Infinity;
}

/** A maintenance's rules as sorted keys, so that two lists of the same rules compare equal. */
function ruleKeys(rules: readonly { state?: string | null; entity: { id: string } }[]): string[] {
  return rules.map((r) => `${r.entity.id}:${r.state ?? 'disabled'}`).sort();
}

/** A maintenance in Vigil, its time, and its rules (what it disables or enables) as `ruleKeys` gives them. */
interface VigilMaintenance {
  id: string;
  time: TimeOf;
  rules: string[];
}

/**
 * Vigil's maintenances not yet over by description, several to a key: Opsgenie's description is optional
 * and need not differ (two indefinite windows without one, a nightly window planned for several nights).
 */
async function vigilMaintenances(ctx: ImportContext) {
  const found = new Map<string, VigilMaintenance[]>();
  const list = await ctx.target.get('/v1/maintenance?type=non-expired');
  for (const raw of Array.isArray(list) ? list : []) {
    const summary = shaped(MaintenanceSummaryShape, raw);
    if (!summary.ok) continue;
    const got = shaped(MaintenanceShape, await ctx.target.get(`/v1/maintenance/${enc(summary.value.id)}`));
    if (!got.ok) continue;
    const key = keyOf(got.value);
    const m = { id: got.value.id, time: timeOf(got.value), rules: ruleKeys(got.value.rules) };
    found.set(key, [...(found.get(key) ?? []), m]);
  }
  return found;
}

/** What an Opsgenie maintenance is to be in Vigil, worked out before anything is written. */
interface PlannedMaintenance {
  label: string;
  key: string;
  time: TimeOf;
  /** What was left out of it, for its line. */
  notes: string;
  body: {
    description: string;
    time: { type: string; startDate?: string; endDate?: string };
    rules: { state: 'enabled' | 'disabled'; entity: { id: string; type: 'integration' | 'policy' } }[];
  };
  /**
   * Its rules as `ruleKeys` gives them; undefined when they cannot all be compared (a dry run would create
   * something they name, which no Vigil maintenance has yet).
   */
  wanted: string[] | undefined;
  /**
   * Those of its rules whose ids are known, as `ruleKeys` gives them: all in a run, a dry run's less what it
   * would create (which no Vigil maintenance has, in a run either).
   */
  known: string[];
}

const sameRules = (plan: PlannedMaintenance, have: VigilMaintenance) =>
  plan.wanted !== undefined && sameJson(have.rules, plan.wanted);
/** Some rule in both. */
const someRule = (plan: PlannedMaintenance, have: VigilMaintenance) =>
  plan.known.some((rule) => have.rules.includes(rule));
/** A start or an end both have (both until cancelled counts): the other moved, or stayed. */
const sharedInstant = (a: TimeOf, b: TimeOf) => sharedStart(a, b) || sharedEnd(a, b);

/**
 * How alike a planned maintenance and a Vigil one of its description must be to be the same window, most
 * alike first: the same time and rules (nothing to change); the same rules and a start or an end (the
 * other moved); some rule and a start or an end (the rules changed, some kept); the same rules (both
 * moved: the nearest in time). Never one that shares no rule, nor one of other rules and another time:
 * that is another window, made in Vigil perhaps.
 */
const TIERS: ((plan: PlannedMaintenance, have: VigilMaintenance) => boolean)[] = [
  (p, h) => sameTime(p.time, h.time) && sameRules(p, h),
  (p, h) => sameRules(p, h) && sharedInstant(p.time, h.time),
  (p, h) => someRule(p, h) && sharedInstant(p.time, h.time),
  (p, h) => sameRules(p, h),
];

/**
 * Gives each planned maintenance the Vigil one it is, among those of its description: tier by tier
 * (`TIERS`), the pair nearest in time that is that alike first, then the next (of pairs as near, the
 * first plan in Opsgenie's order, and its first in Vigil's). In one pass a new or changed window listed
 * first would take, and empty, another's exact match, leaving its integrations out of maintenance until
 * the other's own was made again (never, if the run stopped); by list order alone, of two windows both
 * moved, the one moved would take the farther one's maintenance. Only an exact match is handed out where
 * a window this run did not plan may be a Vigil maintenance's own (`unsure`: a description whose window
 * was skipped, or every one when a window could not be read, its description unknown): a plan without
 * one, whose description has maintenances left, waits for a run that reads them all (`held`).
 */
function matchMaintenances(
  plans: readonly PlannedMaintenance[],
  existing: Map<string, VigilMaintenance[]>,
  unsure: { keys: ReadonlySet<string>; all: boolean },
): { matched: Map<PlannedMaintenance, VigilMaintenance>; held: Set<PlannedMaintenance> } {
  const matched = new Map<PlannedMaintenance, VigilMaintenance>();
  const held = new Set<PlannedMaintenance>();
  const left = new Map([...existing].map(([key, found]) => [key, [...found]]));
  for (const [tier, alike] of TIERS.entries()) {
    for (const plan of plans) {
      const candidates = left.get(plan.key) ?? [];
      if (
        tier > 0 &&
        !matched.has(plan) &&
        candidates.length > 0 &&
        (unsure.all || unsure.keys.has(plan.key))
      )
        held.add(plan);
    }
    for (;;) {
      let best: { plan: PlannedMaintenance; index: number; apart: number } | undefined;
      for (const plan of plans) {
        if (matched.has(plan) || held.has(plan)) continue;
        for (const [index, have] of (left.get(plan.key) ?? []).entries()) {
          if (!alike(plan, have)) continue;
          const apart = distance(plan.time, have.time);
          if (!best || apart < best.apart) best = { plan, index, apart };
        }
      }
      if (!best) break;
      const [taken] = left.get(best.plan.key)?.splice(best.index, 1) ?? [];
      if (taken) matched.set(best.plan, taken);
    }
  }
  return { matched, held };
}

/** What moves a Vigil maintenance to the planned time: a started one keeps its start, which can no longer move. */
function timeChange(plan: PlannedMaintenance, have: VigilMaintenance): PlannedMaintenance['body']['time'] {
  const time = plan.body.time;
  if (time.type !== 'schedule' || !(plan.time.active && have.time.active)) return time;
  return { type: 'schedule', endDate: time.endDate };
}

/** What the maintenance is in Vigil, or the reason (a Skip) it is not imported. */
function planOf(ctx: ImportContext, m: MaintenanceIn, label: string): PlannedMaintenance {
  if (m.status === 'past' || m.status === 'cancelled') throw new Skip('it is over');
  const left: string[] = [];
  /**
   * What it disables (or, a policy, enables) in Vigil, in Opsgenie's order (an undefined id: a dry run
   * would create it).
   */
  const rules: {
    type: 'integration' | 'policy';
    id: string | undefined;
    state: 'enabled' | 'disabled';
  }[] = [];
  for (const rule of m.rules) {
    const type = rule.entity.type;
    if (type !== 'integration' && type !== 'policy') {
      left.push(`its ${type} rule (Vigil's maintenance disables integrations and policies)`);
      continue;
    }
    // As in Opsgenie: a maintenance may turn a policy on for its time, never an integration.
    if (rule.state === 'enabled' && type === 'integration') {
      left.push(`its rule enabling integration ${rule.entity.id} (a maintenance only disables integrations)`);
      continue;
    }
    const imported = type === 'integration' ? ctx.integrations : ctx.policies;
    if (!imported.has(rule.entity.id)) {
      left.push(`${type} ${rule.entity.id}, which was not imported`);
      continue;
    }
    rules.push({
      type,
      id: imported.get(rule.entity.id),
      state: rule.state === 'enabled' ? 'enabled' : 'disabled',
    });
  }
  if (rules.length === 0)
    throw new Skip(`nothing it disables is in Vigil: ${left.join('; ') || 'it has no rules'}`);
  const endDate = instantOf(m.time.endDate);
  const startDate = instantOf(m.time.startDate);
  let time: PlannedMaintenance['body']['time'];
  if (m.time.type === 'indefinitely') time = { type: 'indefinitely' };
  else if (startDate && endDate) time = { type: 'schedule', startDate, endDate };
  else throw new Skip('its dates are not ones Vigil can read');
  // A dry run has no ids for what it would make.
  const known = rules.filter((r): r is (typeof rules)[number] & { id: string } => r.id !== undefined);
  const body = {
    description: m.description ?? '',
    time,
    rules: known.map((r) => ({ state: r.state, entity: { id: r.id, type: r.type } })),
  };
  const knownKeys = ruleKeys(body.rules);
  return {
    label,
    key: keyOf(m),
    time: timeOf(m),
    notes: left.map((l) => `${l} left out`).join('; '),
    body,
    wanted: known.length === rules.length ? knownKeys : undefined,
    known: knownKeys,
  };
}

/**
 * Reads every maintenance before writing any, so that each is matched knowing what all the others want
 * (`matchMaintenances`); one that cannot be read or is skipped says so as it is read.
 */
export async function importMaintenance(ctx: ImportContext): Promise<void> {
  const items = await readList(ctx, 'maintenance', 'maintenance windows', async () => {
    const got = await ctx.source.get('/v1/maintenance?type=non-expired');
    return Array.isArray(got) ? got : [];
  });
  if (!items) return;
  const existing = await vigilMaintenances(ctx);
  const labelFor = (m: Record<string, unknown>) =>
    `"${text(typeof m.description === 'string' ? m.description.slice(0, 80) : '')}" (${text(m.id)})`;
  const plans: PlannedMaintenance[] = [];
  const unsure = { keys: new Set<string>(), all: false };
  await eachItem(
    ctx,
    'maintenance',
    MaintenanceSummaryShape,
    items,
    async (summary) => {
      // A window not read has no known key: it may be any left-over Vigil maintenance's own.
      let got;
      try {
        got = shaped(MaintenanceShape, await ctx.source.get(`/v1/maintenance/${enc(summary.id)}`));
      } catch (error) {
        unsure.all = true;
        throw error;
      }
      if (!got.ok) {
        unsure.all = true;
        throw new Skip(got.why);
      }
      try {
        plans.push(planOf(ctx, got.value, labelFor(got.value)));
      } catch (error) {
        const over = got.value.status === 'past' || got.value.status === 'cancelled';
        if (!over) unsure.keys.add(keyOf(got.value));
        throw error;
      }
    },
    labelFor,
  );
  const { matched, held } = matchMaintenances(plans, existing, unsure);
  // Each in its own try, as `eachItem`'s steps: a write Vigil refuses fails that maintenance alone.
  for (const plan of plans) {
    const have = matched.get(plan);
    if (held.has(plan)) {
      ctx.report.record(
        'maintenance',
        plan.label,
        'skipped',
        'another maintenance of its description was not read or not imported this run, and may be the one Vigil has: run the import again',
      );
      continue;
    }
    try {
      const moved = have && !sameTime(plan.time, have.time);
      if (have && !moved && sameRules(plan, have)) {
        ctx.report.record('maintenance', plan.label, 'unchanged', plan.notes);
      } else if (have) {
        // Its time and rules in one write: one Vigil refuses leaves the window as it was, not half changed.
        const change = {
          ...(moved ? { time: timeChange(plan, have) } : {}),
          ...(sameRules(plan, have) ? {} : { rules: plan.body.rules }),
        };
        if (!ctx.dryRun) await ctx.target.patch(`/v1/maintenance/${enc(have.id)}`, change);
        ctx.report.record('maintenance', plan.label, 'updated', plan.notes);
      } else {
        if (!ctx.dryRun) await ctx.target.post('/v1/maintenance', plan.body);
        ctx.report.record('maintenance', plan.label, 'created', plan.notes);
      }
    } catch (error) {
      ctx.report.record('maintenance', plan.label, 'failed', errorText(error));
    }
  }
}
