import { eachItem, enc, readList, sameJson, Skip, type ImportContext } from './context.js';
import { instantOf } from './normalize.js';
import { MaintenanceShape, MaintenanceSummaryShape, shaped, text, type MaintenanceIn } from './shapes.js';

/**
 * Maintenance windows not yet over, matched by description and end (a maintenance has no name). A window
 * that started for a fixed time becomes a schedule with its dates; an indefinite one stays indefinite.
 */

function keyOf(m: { description?: string | null; time: { type: string; endDate?: string | null } }) {
  const end = m.time.type === 'indefinitely' ? 'indefinitely' : (instantOf(m.time.endDate) ?? '');
  return `${(m.description ?? '').trim()}|${end}`;
}

/** A maintenance's rules as sorted keys, so that two lists of the same rules compare equal. */
function ruleKeys(rules: readonly { state?: string | null; entity: { id: string } }[]): string[] {
  return rules.map((r) => `${r.entity.id}:${r.state ?? 'disabled'}`).sort();
}

async function vigilMaintenances(ctx: ImportContext) {
  /** By description and end: the maintenance and its rules (what it disables or enables), comparable. */
  const found = new Map<string, { id: string; rules: string[] }>();
  const list = await ctx.target.get('/v1/maintenance?type=non-expired');
  for (const raw of Array.isArray(list) ? list : []) {
    const summary = shaped(MaintenanceSummaryShape, raw);
    if (!summary.ok) continue;
    const got = shaped(MaintenanceShape, await ctx.target.get(`/v1/maintenance/${enc(summary.value.id)}`));
    if (!got.ok) continue;
    found.set(keyOf(got.value), { id: got.value.id, rules: ruleKeys(got.value.rules) });
  }
  return found;
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
      const have = existing.get(keyOf(m));
      // A dry run has no ids for what it would make.
      const known = rules.filter((r): r is (typeof rules)[number] & { id: string } => r.id !== undefined);
      const body = {
        description: m.description ?? '',
        time,
        rules: known.map((r) => ({ state: r.state, entity: { id: r.id, type: r.type } })),
      };
      if (have && known.length === rules.length && sameJson(have.rules, ruleKeys(body.rules)))
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
