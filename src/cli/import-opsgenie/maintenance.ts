import { eachItem, enc, readList, sameJson, Skip, type ImportContext } from './context.js';
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

/**
 * Takes the Vigil maintenance an Opsgenie one with this key is: the one with the same rules, else the
 * first left. Once taken it is no other's, so two Opsgenie maintenances never both update one, each
 * moving the other's rules onto it on every run. `rules` is undefined when they cannot all be compared
 * (a dry run would create something they name).
 */
function takeMaintenance(
  left: Map<string, VigilMaintenance[]>,
  key: string,
  rules: string[] | undefined,
): VigilMaintenance | undefined {
  const candidates = left.get(key) ?? [];
  const same = rules === undefined ? -1 : candidates.findIndex((c) => sameJson(c.rules, rules));
  const [taken] = candidates.splice(same === -1 ? 0 : same, 1);
  return taken;
}

export async function importMaintenance(ctx: ImportContext): Promise<void> {
  const items = await readList(ctx, 'maintenance', 'maintenance windows', async () => {
    const got = await ctx.source.get('/v1/maintenance?type=non-expired');
    return Array.isArray(got) ? got : [];
  });
  if (!items) return;
  const existing = await vigilMaintenances(ctx);
  const labelFor = (m: Record<string, unknown>) =>
    `"${text(typeof m.description === 'string' ? m.description.slice(0, 80) : '')}" (${text(m.id)})`;
  await eachItem(
    ctx,
    'maintenance',
    MaintenanceSummaryShape,
    items,
    async (summary) => {
      const got = shaped(MaintenanceShape, await ctx.source.get(`/v1/maintenance/${enc(summary.id)}`));
      if (!got.ok) throw new Skip(got.why);
      const m: MaintenanceIn = got.value;
      const label = labelFor(m);
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
          left.push(
            `its rule enabling integration ${rule.entity.id} (a maintenance only disables integrations)`,
          );
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
      let time: { type: string; startDate?: string; endDate?: string };
      if (m.time.type === 'indefinitely') time = { type: 'indefinitely' };
      else if (startDate && endDate) time = { type: 'schedule', startDate, endDate };
      else throw new Skip('its dates are not ones Vigil can read');
      const notes = left.map((l) => `${l} left out`).join('; ');
      // A dry run has no ids for what it would make.
      const known = rules.filter((r): r is (typeof rules)[number] & { id: string } => r.id !== undefined);
      const body = {
        description: m.description ?? '',
        time,
        rules: known.map((r) => ({ state: r.state, entity: { id: r.id, type: r.type } })),
      };
      const wanted = known.length === rules.length ? ruleKeys(body.rules) : undefined;
      const have = takeMaintenance(existing, keyOf(m), wanted);
      if (have && wanted && sameJson(have.rules, wanted))
        return ctx.report.record('maintenance', label, 'unchanged', notes);
      if (have) {
        if (!ctx.dryRun) await ctx.target.patch(`/v1/maintenance/${enc(have.id)}`, { rules: body.rules });
        return ctx.report.record('maintenance', label, 'updated', notes);
      }
      if (!ctx.dryRun) await ctx.target.post('/v1/maintenance', body);
      ctx.report.record('maintenance', label, 'created', notes);
    },
    labelFor,
  );
}
