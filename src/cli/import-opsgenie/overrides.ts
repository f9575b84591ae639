import { eachItem, enc, readList, resolveUser, sameJson, Skip, type ImportContext } from './context.js';
import { instantOf } from './normalize.js';
import { OverrideShape, shaped, text, type OverrideIn } from './shapes.js';
import type { ImportedSchedule } from './schedules.js';

/** Each schedule's overrides still to come or going on, matched by alias. */

function comparable(o: { user: string; startDate?: string; endDate?: string; rotations: string[] }) {
  return { ...o, user: o.user.toLowerCase(), rotations: [...o.rotations].sort() };
}

async function vigilOverrides(ctx: ImportContext, schedule: string, existsInVigil: boolean) {
  const found = new Map<string, ReturnType<typeof comparable>>();
  if (!existsInVigil) return found;
  const list = await ctx.target.get(`/v2/schedules/${enc(schedule)}/overrides?identifierType=name`);
  for (const raw of Array.isArray(list) ? list : []) {
    const got = shaped(OverrideShape, raw);
    if (!got.ok) continue;
    const o = got.value;
    found.set(
      o.alias,
      comparable({
        user: o.user.type === 'none' ? '' : (o.user.username ?? ''),
        startDate: instantOf(o.startDate),
        endDate: instantOf(o.endDate),
        rotations: (o.rotations ?? []).map((r) => r.name ?? ''),
      }),
    );
  }
  return found;
}

export async function importOverrides(
  ctx: ImportContext,
  schedules: ImportedSchedule[],
  now: Date,
): Promise<void> {
  for (const schedule of schedules) {
    const items = await readList(ctx, 'schedule override', `overrides of ${schedule.name}`, async () => {
      const got = await ctx.source.get(`/v2/schedules/${enc(schedule.sourceId)}/overrides`);
      return Array.isArray(got) ? got : [];
    });
    if (!items) continue;
    const existing = await vigilOverrides(ctx, schedule.name, schedule.existedBefore);
    const labelFor = (o: Record<string, unknown>) => `${text(o.alias)} in ${schedule.name}`;
    await eachItem(
      ctx,
      'schedule override',
      OverrideShape,
      items,
      async (o: OverrideIn) => {
        const label = labelFor(o);
        // Opsgenie's reserved word `none` (nobody on call) is Vigil's too; '' stands for it here.
        const nobody = o.user.type === 'none';
        if (o.user.type !== 'user' && !nobody)
          throw new Skip(`it puts a ${o.user.type} on call, and Vigil's overrides take a user or none`);
        const user = nobody ? { ok: true as const, value: '' } : resolveUser(ctx, o.user);
        if (!user.ok) throw new Skip(user.why);
        const startDate = instantOf(o.startDate);
        const endDate = instantOf(o.endDate);
        if (!startDate || !endDate) throw new Skip('its dates are not ones Vigil can read');
        if (Date.parse(endDate) <= now.getTime()) throw new Skip('it is over');
        const rotations = (o.rotations ?? []).map(
          (r) => (r.id ? schedule.rotationNames.get(r.id) : undefined) ?? r.name ?? '',
        );
        if (rotations.some((r) => r === '')) throw new Skip('it names a rotation that was not imported');
        const desired = comparable({ user: user.value, startDate, endDate, rotations });
        const have = existing.get(o.alias);
        if (have && sameJson(have, desired))
          return ctx.report.record('schedule override', label, 'unchanged');
        const body = {
          user: nobody ? { type: 'none' } : { type: 'user', username: user.value },
          startDate,
          endDate,
          ...(rotations.length > 0 ? { rotations: rotations.map((name) => ({ name })) } : {}),
        };
        const path = `/v2/schedules/${enc(schedule.name)}/overrides`;
        if (have) {
          if (!ctx.dryRun) await ctx.target.put(`${path}/${enc(o.alias)}?identifierType=name`, body);
          return ctx.report.record('schedule override', label, 'updated');
        }
        if (!ctx.dryRun) await ctx.target.post(`${path}?identifierType=name`, { alias: o.alias, ...body });
        ctx.report.record('schedule override', label, 'created');
      },
      labelFor,
    );
  }
}
