import { eachItem, enc, errorText, readList, sameJson, Skip, type ImportContext } from './context.js';
import { instantOf } from './normalize.js';
import { MaintenanceShape, MaintenanceSummaryShape, shaped, text, type MaintenanceIn } from './shapes.js';

/**
 * Maintenance windows not yet over, matched by description and end (a maintenance has no name), and
 * among Vigil's alike ones by their rules. A window that started for a fixed time becomes a schedule with
 * its dates; an indefinite one stays indefinite.
 */

function keyOf(m: { description?: string | null; time: { type: string; endDate?: string | null } }) {
  const end = m.time.type === 'indefinitely' ? 'indefinitely' : (instantOf(m.time.endDate) ?? '');
  return `${(m.description ?? '').trim()}|${end}`;
}

/** A maintenance's rules as sorted keys, so that two lists of the same rules compare equal. */
function ruleKeys(rules: readonly { state?: string | null; entity: { id: string } }[]): string[] {
  return rules.map((r) => `${r.entity.id}:${r.state ?? 'disabled'}`).sort();
}

/** A maintenance in Vigil, and its rules (what it disables or enables) as `ruleKeys` gives them. */
interface VigilMaintenance {
  id: string;
  rules: string[];
}

/**
 * Vigil's maintenances not yet over by description and end, several to a key: Opsgenie's description is
 * optional, so two windows without one that end alike (two indefinite ones) share a key.
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
    found.set(key, [...(found.get(key) ?? []), { id: got.value.id, rules: ruleKeys(got.value.rules) }]);
  }
  return found;
}

/** What an Opsgenie maintenance is to be in Vigil, worked out before anything is written. */
interface PlannedMaintenance {
  label: string;
  key: string;
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
}

/**
 * Gives each planned maintenance the Vigil one it is, among those with its key: first every one with the
 * same rules takes it, then those left without one take the ones no other took, in Opsgenie's order. In
 * one pass a new or changed window listed first would take, and empty, another's exact match, leaving
 * its integrations out of maintenance until the other's own was made again (never, if the run stopped).
 * A Vigil maintenance left over is never handed out where a window this run did not plan may be its own
 * (`unsure`: a key whose window was skipped, or every key when one could not be read, its key unknown):
 * those wait for a run that reads them all (`held`).
 */
function matchMaintenances(
  plans: readonly PlannedMaintenance[],
  existing: Map<string, VigilMaintenance[]>,
  unsure: { keys: ReadonlySet<string>; all: boolean },
): { matched: Map<PlannedMaintenance, VigilMaintenance>; held: Set<PlannedMaintenance> } {
  const matched = new Map<PlannedMaintenance, VigilMaintenance>();
  const held = new Set<PlannedMaintenance>();
  const left = new Map([...existing].map(([key, found]) => [key, [...found]]));
  for (const plan of plans) {
    const candidates = left.get(plan.key) ?? [];
    const same = candidates.findIndex((c) => plan.wanted !== undefined && sameJson(c.rules, plan.wanted));
    const [taken] = same === -1 ? [] : candidates.splice(same, 1);
    if (taken) matched.set(plan, taken);
  }
  for (const plan of plans) {
    if (matched.has(plan)) continue;
    const others = left.get(plan.key) ?? [];
    if (others.length > 0 && (unsure.all || unsure.keys.has(plan.key))) held.add(plan);
    else if (others.length > 0) matched.set(plan, others.shift() as VigilMaintenance);
  }
  return { matched, held };
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
  return {
    label,
    key: keyOf(m),
    notes: left.map((l) => `${l} left out`).join('; '),
    body,
    wanted: known.length === rules.length ? ruleKeys(body.rules) : undefined,
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
      // Until it is read, a window's key is unknown: it may be any left-over Vigil maintenance's own.
      unsure.all = true;
      const got = shaped(MaintenanceShape, await ctx.source.get(`/v1/maintenance/${enc(summary.id)}`));
      if (!got.ok) throw new Skip(got.why);
      unsure.all = false;
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
        'another maintenance of its description and end was not read or not imported this run, and may be the one Vigil has: run the import again',
      );
      continue;
    }
    try {
      if (have && plan.wanted && sameJson(have.rules, plan.wanted)) {
        ctx.report.record('maintenance', plan.label, 'unchanged', plan.notes);
      } else if (have) {
        if (!ctx.dryRun)
          await ctx.target.patch(`/v1/maintenance/${enc(have.id)}`, { rules: plan.body.rules });
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
