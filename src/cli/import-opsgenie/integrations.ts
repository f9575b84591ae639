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
import { importIntegrationActions } from './integration-actions.js';
import { IntegrationShape, IntegrationSummaryShape, shaped } from './shapes.js';

/**
 * API integrations, matched by name, made with the key they have in Opsgenie so their senders need only
 * change the host, each with its actions (integration-actions.ts). The key is never printed.
 */

const FLAGS = [
  'allowReadAccess',
  'allowWriteAccess',
  'allowDeleteAccess',
  'allowConfigurationAccess',
  'suppressNotifications',
] as const;
const DEFAULTS = {
  allowReadAccess: true,
  allowWriteAccess: true,
  allowDeleteAccess: true,
  allowConfigurationAccess: false,
  suppressNotifications: false,
};
/** What Vigil takes as a given key (POST /v2/integrations apiKey). */
const KEY = /^[A-Za-z0-9][A-Za-z0-9-]{31,127}$/;

interface VigilIntegration {
  id: string;
  name: string;
  settings: Record<string, unknown>;
}

function comparable(i: Record<string, unknown>) {
  const team = isRecord(i.ownerTeam) && typeof i.ownerTeam.name === 'string' ? i.ownerTeam.name : '';
  return {
    ownerTeam: team.toLowerCase(),
    enabled: i.enabled !== false,
    ...Object.fromEntries(FLAGS.map((f) => [f, typeof i[f] === 'boolean' ? i[f] : DEFAULTS[f]])),
  };
}

export async function importIntegrations(ctx: ImportContext): Promise<void> {
  const items = await readList(ctx, 'integration', 'integrations', async () => {
    const got = await ctx.source.get('/v2/integrations');
    return Array.isArray(got) ? got : [];
  });
  if (!items) return;
  const existing = new Map<string, VigilIntegration>();
  const targetList = await ctx.target.get('/v2/integrations');
  for (const raw of Array.isArray(targetList) ? targetList : [])
    if (isRecord(raw) && typeof raw.id === 'string' && typeof raw.name === 'string')
      existing.set(raw.name.toLowerCase(), { id: raw.id, name: raw.name, settings: raw });
  await eachItem(ctx, 'integration', IntegrationSummaryShape, items, async (summary) => {
    if (summary.type !== 'API')
      throw new Skip(
        `its type is ${summary.type}: the import brings API integrations only (set up an Amazon Security Hub integration with "vigil aws setup")`,
      );
    const got = shaped(IntegrationShape, await ctx.source.get(`/v2/integrations/${enc(summary.id)}`));
    if (!got.ok) throw new Skip(got.why);
    const i = got.value;
    let team: string;
    if (i.ownerTeam && (i.ownerTeam.id || i.ownerTeam.name)) {
      const found = resolveNamed(ctx.teams, 'team', i.ownerTeam);
      if (!found.ok) throw new Skip(`its owner ${found.why}`);
      team = found.value;
    } else if (ctx.teamForGlobal) {
      team = ctx.teamForGlobal;
    } else {
      throw new Skip(
        'it is global in Opsgenie, and every Vigil integration belongs to a team: name one with --team-for-global <team>',
      );
    }
    const flags = Object.fromEntries(FLAGS.map((f) => [f, i[f] ?? DEFAULTS[f]]));
    const desired = { ownerTeam: { name: team }, enabled: i.enabled !== false, ...flags };
    const have = existing.get(i.name.toLowerCase());
    if (have) {
      ctx.integrations.set(i.id, have.id);
      if (sameJson(comparable(have.settings), comparable(desired))) {
        ctx.report.record('integration', i.name, 'unchanged');
      } else {
        if (!ctx.dryRun) await ctx.target.patch(`/v2/integrations/${enc(have.id)}`, desired);
        ctx.report.record('integration', i.name, 'updated', 'its key is the one it was made with');
      }
      return importIntegrationActions(ctx, {
        sourceId: i.id,
        name: i.name,
        vigilId: have.id,
        created: false,
      });
    }
    const keepKey = typeof i.apiKey === 'string' && KEY.test(i.apiKey) ? i.apiKey : undefined;
    const why = keepKey
      ? 'with the same API key as in Opsgenie'
      : i.apiKey
        ? 'with a new API key: Opsgenie’s is not one Vigil can take; senders need the new key (regenerate it in Vigil to see it)'
        : 'with a new API key: the source did not give the key; senders need the new key (regenerate it in Vigil to see it)';
    let id: string | undefined;
    if (!ctx.dryRun) {
      const made = await ctx.target.post('/v2/integrations', {
        type: 'API',
        name: i.name,
        ...desired,
        ...(keepKey ? { apiKey: keepKey } : {}),
      });
      id = isRecord(made) && typeof made.id === 'string' ? made.id : undefined;
    }
    ctx.integrations.set(i.id, id);
    ctx.report.record('integration', i.name, 'created', why);
    await importIntegrationActions(ctx, { sourceId: i.id, name: i.name, vigilId: id, created: true });
  });
}
