import { eachItem, enc, readList, resolveNamed, sameJson, Skip, type ImportContext } from './context.js';
import { criteriaOf, timeRestrictionOf } from './normalize.js';
import { RoutingRuleShape, shaped, text, type RoutingRuleIn } from './shapes.js';
import type { ImportedTeam } from './teams.js';

/**
 * Each team's routing rules, matched by name within the team (a rule without a name by what it does);
 * the default rule is the team's default rule.
 */

type Notify = { type: 'none' } | { type: 'escalation' | 'schedule'; name: string };

function notifyOf(ctx: ImportContext, n: RoutingRuleIn['notify']): Notify {
  if (n.type === 'none') return { type: 'none' };
  if (n.type === 'escalation' || n.type === 'schedule') {
    const found = resolveNamed(n.type === 'escalation' ? ctx.escalations : ctx.schedules, n.type, n);
    if (!found.ok) throw new Skip(`it notifies ${found.why}`);
    return { type: n.type, name: found.value };
  }
  throw new Skip(
    `it notifies "${n.type}", and Vigil's routing rules notify an escalation, a schedule or none`,
  );
}

function comparableNotify(n: RoutingRuleIn['notify']) {
  return n.type === 'none' ? { type: 'none' } : { type: n.type, name: (n.name ?? '').toLowerCase() };
}

function comparableRule(r: RoutingRuleIn) {
  const timeRestriction = timeRestrictionOf(r.timeRestriction);
  return {
    criteria: criteriaOf(r.criteria),
    timezone: r.timezone || 'UTC',
    ...(timeRestriction ? { timeRestriction } : {}),
    notify: comparableNotify(r.notify),
  };
}

/** What Vigil names a rule made without a name. */
const UNNAMED = 'unnamed rule';

/** A rule's key within its team: its name, or for an unnamed rule what it does. */
function keyOf(r: RoutingRuleIn): string {
  if (r.isDefault) return 'default';
  const name = (r.name ?? '').trim().toLowerCase();
  return name !== '' && name !== UNNAMED ? `name:${name}` : `content:${JSON.stringify(comparableRule(r))}`;
}

export async function importRoutingRules(ctx: ImportContext, teams: ImportedTeam[]): Promise<void> {
  for (const team of teams) {
    const items = await readList(ctx, 'routing rule', `routing rules of ${team.name}`, async () => {
      const got = await ctx.source.get(`/v2/teams/${enc(team.sourceId)}/routing-rules`);
      return Array.isArray(got) ? got : [];
    });
    if (!items) continue;
    const existing = new Map<string, RoutingRuleIn>();
    if (team.existsInVigil) {
      const got = await ctx.target.get(`/v2/teams/${enc(team.name)}/routing-rules?teamIdentifierType=name`);
      for (const raw of Array.isArray(got) ? got : []) {
        const rule = shaped(RoutingRuleShape, raw);
        if (rule.ok) existing.set(keyOf(rule.value), rule.value);
      }
    }
    const base = `/v2/teams/${enc(team.name)}/routing-rules`;
    const labelFor = (r: Record<string, unknown>) =>
      `${r.isDefault === true ? 'default rule' : `"${text(r.name ?? '')}"`} of ${team.name}`;
    await eachItem(
      ctx,
      'routing rule',
      RoutingRuleShape,
      items,
      async (r) => {
        const label = labelFor(r);
        const have = existing.get(keyOf(r));
        if (r.isDefault) {
          // A Vigil team without a default rule of its own notifies its members: the same on either side.
          if (r.notify.type === 'team-members' && (!have || have.notify.type === 'team-members'))
            return ctx.report.record('routing rule', label, 'unchanged');
          const notify = notifyOf(ctx, r.notify);
          if (have && sameJson(comparableNotify(have.notify), comparableNotify({ ...notify, id: undefined })))
            return ctx.report.record('routing rule', label, 'unchanged');
          if (!ctx.dryRun) await ctx.target.put(`${base}/default?teamIdentifierType=name`, { notify });
          return ctx.report.record('routing rule', label, have ? 'updated' : 'created');
        }
        const notify = notifyOf(ctx, r.notify);
        const timeRestriction = timeRestrictionOf(r.timeRestriction);
        const body = {
          criteria: criteriaOf(r.criteria),
          timezone: r.timezone || 'UTC',
          ...(timeRestriction ? { timeRestriction } : {}),
          notify,
        };
        const desired = comparableRule({ ...r, notify: { ...notify, id: undefined } });
        if (have && sameJson(comparableRule(have), desired))
          return ctx.report.record('routing rule', label, 'unchanged');
        if (have) {
          if (!ctx.dryRun)
            await ctx.target.patch(`${base}/${enc(have.id)}?teamIdentifierType=name`, {
              ...body,
              ...(timeRestriction ? {} : { timeRestriction: null }),
            });
          return ctx.report.record('routing rule', label, 'updated');
        }
        if (!ctx.dryRun)
          await ctx.target.post(`${base}?teamIdentifierType=name`, {
            ...(r.name?.trim() ? { name: r.name.trim().slice(0, 200) } : {}),
            ...body,
          });
        ctx.report.record('routing rule', label, 'created');
      },
      labelFor,
    );
  }
}
