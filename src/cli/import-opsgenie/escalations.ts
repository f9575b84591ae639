import {
  eachItem,
  readList,
  resolveNamed,
  resolveUser,
  sameJson,
  Skip,
  type ImportContext,
} from './context.js';
import { minutesOf } from './normalize.js';
import { EscalationShape, shaped, type EscalationIn } from './shapes.js';

/** Escalation policies, matched by name; their recipients become the Vigil users, schedules and teams. */

const NOTIFY_TYPES = new Set(['default', 'next', 'previous', 'users', 'admins', 'all']);
const CONDITIONS = new Set(['if-not-acked', 'if-not-closed']);

type Recipient = { type: 'user'; username: string } | { type: 'schedule' | 'team'; name: string };

function recipientOf(ctx: ImportContext, r: EscalationIn['rules'][number]['recipient']): Recipient {
  if (r.type === 'user') {
    const user = resolveUser(ctx, r);
    if (!user.ok) throw new Skip(user.why);
    return { type: 'user', username: user.value };
  }
  if (r.type === 'schedule' || r.type === 'team') {
    const found = resolveNamed(r.type === 'team' ? ctx.teams : ctx.schedules, r.type, r);
    if (!found.ok) throw new Skip(found.why);
    return { type: r.type, name: found.value };
  }
  throw new Skip(`a rule notifies a ${r.type}, and Vigil's escalations notify users, schedules and teams`);
}

function desiredOf(ctx: ImportContext, e: EscalationIn) {
  let ownerTeam: { name: string } | undefined;
  if (e.ownerTeam && (e.ownerTeam.id || e.ownerTeam.name)) {
    const team = resolveNamed(ctx.teams, 'team', e.ownerTeam);
    if (!team.ok) throw new Skip(`its owner ${team.why}`);
    ownerTeam = { name: team.value };
  }
  const rules = e.rules.map((rule) => {
    if (!CONDITIONS.has(rule.condition))
      throw new Skip(`a rule's condition ${rule.condition} is not one Vigil has`);
    if (!NOTIFY_TYPES.has(rule.notifyType))
      throw new Skip(`a rule notifies "${rule.notifyType}", which Vigil's escalations lack`);
    const minutes = minutesOf(rule.delay);
    if (minutes === undefined)
      throw new Skip(`a rule's delay unit ${rule.delay.timeUnit} is not one Vigil knows`);
    return {
      condition: rule.condition,
      notifyType: rule.notifyType,
      delay: { timeAmount: minutes, timeUnit: 'minutes' },
      recipient: recipientOf(ctx, rule.recipient),
    };
  });
  const repeat =
    e.repeat && (e.repeat.count > 0 || e.repeat.waitInterval > 0)
      ? {
          waitInterval: e.repeat.waitInterval,
          count: e.repeat.count,
          resetRecipientStates: e.repeat.resetRecipientStates ?? false,
          closeAlertAfterAll: e.repeat.closeAlertAfterAll ?? false,
        }
      : undefined;
  return {
    description: e.description ?? '',
    ...(ownerTeam ? { ownerTeam } : {}),
    rules,
    ...(repeat ? { repeat } : {}),
  };
}

/** Vigil's escalation in the shape `desiredOf` gives (its recipients by username and name). */
function comparableVigil(e: EscalationIn) {
  const repeat = e.repeat && (e.repeat.count > 0 || e.repeat.waitInterval > 0) ? e.repeat : undefined;
  return {
    description: e.description ?? '',
    ...(e.ownerTeam?.name ? { ownerTeam: { name: e.ownerTeam.name } } : {}),
    rules: e.rules.map((rule) => ({
      condition: rule.condition,
      notifyType: rule.notifyType,
      delay: { timeAmount: minutesOf(rule.delay) ?? -1, timeUnit: 'minutes' },
      recipient:
        rule.recipient.type === 'user'
          ? { type: 'user', username: rule.recipient.username ?? '' }
          : { type: rule.recipient.type, name: rule.recipient.name ?? '' },
    })),
    ...(repeat
      ? {
          repeat: {
            waitInterval: repeat.waitInterval,
            count: repeat.count,
            resetRecipientStates: repeat.resetRecipientStates ?? false,
            closeAlertAfterAll: repeat.closeAlertAfterAll ?? false,
          },
        }
      : {}),
  };
}

export async function importEscalations(ctx: ImportContext): Promise<void> {
  const items = await readList(ctx, 'escalation', 'escalations', async () => {
    const got = await ctx.source.get('/v2/escalations');
    return Array.isArray(got) ? got : [];
  });
  if (!items) return;
  const existing = new Map<string, EscalationIn>();
  const targetList = await ctx.target.get('/v2/escalations');
  for (const raw of Array.isArray(targetList) ? targetList : []) {
    const got = shaped(EscalationShape, raw);
    if (got.ok) existing.set(got.value.name.toLowerCase(), got.value);
  }
  await eachItem(ctx, 'escalation', EscalationShape, items, async (e) => {
    const desired = desiredOf(ctx, e);
    const have = existing.get(e.name.toLowerCase());
    if (have && sameJson(comparableVigil(have), desired)) {
      ctx.report.record('escalation', e.name, 'unchanged');
    } else if (have) {
      if (!ctx.dryRun)
        await ctx.target.patch(`/v2/escalations/${encodeURIComponent(have.id)}`, {
          ...desired,
          ...(desired.ownerTeam ? {} : { ownerTeam: null }),
          ...(desired.repeat ? {} : { repeat: null }),
        });
      ctx.report.record('escalation', e.name, 'updated');
    } else {
      if (!ctx.dryRun) await ctx.target.post('/v2/escalations', { name: e.name, ...desired });
      ctx.report.record('escalation', e.name, 'created');
    }
    ctx.escalations.set(e.id, have?.name ?? e.name);
  });
}
