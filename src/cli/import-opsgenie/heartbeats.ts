import {
  eachItem,
  enc,
  isRecord,
  readList,
  resolveNamed,
  sameJson,
  Skip,
  type ImportContext,
} from './context.js';
import { HeartbeatShape, shaped, type HeartbeatIn } from './shapes.js';

/**
 * Heartbeats, matched by name. Each is made disabled, and a later run keeps it as Vigil has it: Vigil
 * counts an enabled heartbeat's interval from its creation, and while its sender (a cron job) still
 * pings Opsgenie, it would expire after one interval and page its owner team through the routing just
 * imported. Whoever moves the sender enables it in Vigil; the next steps name each one left to enable.
 */

const UNITS = new Set(['minutes', 'hours', 'days']);
const PRIORITIES = new Set(['P1', 'P2', 'P3', 'P4', 'P5']);

function comparable(h: HeartbeatIn) {
  return {
    description: h.description ?? '',
    interval: h.interval,
    intervalUnit: h.intervalUnit,
    ownerTeam: (h.ownerTeam?.name ?? '').toLowerCase(),
    alertMessage: h.alertMessage ?? '',
    // Vigil keeps each tag once: a tag twice in Opsgenie is no difference.
    alertTags: [...new Set(h.alertTags ?? [])].sort(),
    alertPriority: h.alertPriority ?? 'P3',
  };
}

export async function importHeartbeats(ctx: ImportContext): Promise<void> {
  const pick = (body: Record<string, unknown>) => (isRecord(body.data) ? body.data.heartbeats : undefined);
  const items = await readList(ctx, 'heartbeat', 'heartbeats', () =>
    ctx.source.list('/v2/heartbeats', { pick }),
  );
  if (!items) return;
  const existing = new Map<string, HeartbeatIn>();
  for (const raw of await ctx.target.list('/v2/heartbeats', { pick })) {
    const got = shaped(HeartbeatShape, raw);
    if (got.ok) existing.set(got.value.name, got.value);
  }
  const toEnable: string[] = [];
  await eachItem(ctx, 'heartbeat', HeartbeatShape, items, async (h) => {
    if (h.name.length > 100 || h.name.trim() !== h.name)
      throw new Skip('Vigil heartbeat names are at most 100 characters, without spaces at either end');
    if (!UNITS.has(h.intervalUnit))
      throw new Skip(`its interval unit ${h.intervalUnit} is not one Vigil knows`);
    let ownerTeam: { name: string } | undefined;
    if (h.ownerTeam && (h.ownerTeam.id || h.ownerTeam.name)) {
      const team = resolveNamed(ctx.teams, 'team', h.ownerTeam);
      if (!team.ok) throw new Skip(`its owner ${team.why}`);
      ownerTeam = { name: team.value };
    }
    const body = {
      description: h.description ?? '',
      interval: h.interval,
      intervalUnit: h.intervalUnit,
      ...(ownerTeam ? { ownerTeam } : {}),
      alertMessage: h.alertMessage ?? '',
      alertTags: h.alertTags ?? [],
      ...(h.alertPriority && PRIORITIES.has(h.alertPriority) ? { alertPriority: h.alertPriority } : {}),
    };
    const desired = comparable({ name: h.name, ...body, ownerTeam: ownerTeam ?? null });
    const have = existing.get(h.name);
    // Enabled in Opsgenie, and not (yet) in Vigil: its sender is to be moved, then it is enabled.
    const waits = h.enabled === true && have?.enabled !== true;
    if (have && sameJson(comparable(have), desired)) {
      ctx.report.record('heartbeat', h.name, 'unchanged');
    } else if (have) {
      // An update keeps an owner team it is not given: null takes away one Opsgenie no longer has. It
      // gives no `enabled`, so Vigil's stays.
      const update = { ...body, ownerTeam: ownerTeam ?? null };
      if (!ctx.dryRun) await ctx.target.patch(`/v2/heartbeats/${enc(h.name)}`, update);
      ctx.report.record('heartbeat', h.name, 'updated');
    } else {
      if (!ctx.dryRun) await ctx.target.post('/v2/heartbeats', { name: h.name, ...body, enabled: false });
      ctx.report.record('heartbeat', h.name, 'created');
    }
    if (waits) toEnable.push(h.name);
  });
  if (toEnable.length > 0)
    ctx.report.note(
      `Imported heartbeats are disabled, so that none expires while its sender still pings Opsgenie: enable each in Vigil (POST /v2/heartbeats/{name}/enable) once its sender pings Vigil: ${toEnable.join(', ')}`,
    );
}
