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
import { OPSGENIE_TYPE_PATTERN } from '../../integrations/types.js';
import { emailHoldersOf, importEmailIntegration } from './email-integrations.js';
import { importIntegrationActions } from './integration-actions.js';
import { IntegrationShape, IntegrationSummaryShape, shaped, text, type IntegrationIn } from './shapes.js';

/**
 * API and Email integrations, matched by name, each with its actions (integration-actions.ts). An API
 * integration is made with the key it has in Opsgenie so its senders need only change the host (the key
 * is never printed); an Email integration keeps its emailUsername (email-integrations.ts). An integration
 * of any other Opsgenie type but Webhook and AmazonSecurityHub (Prometheus, Grafana, Datadog…, whose
 * senders use the Alert API with its key) is made as Vigil makes them: an API integration that keeps its
 * type name.
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
/** The Opsgenie types the import leaves out: Vigil makes them otherwise, or not from an import. */
const NOT_IMPORTED: Record<string, string> = {
  Webhook: 'the import does not bring Webhook integrations: make one in Vigil with its URL and headers',
  AmazonSecurityHub: 'set up an Amazon Security Hub integration with "vigil aws setup"',
};
/** The type names Vigil takes (POST /v2/integrations type). */
const TYPE_NAME = new RegExp(OPSGENIE_TYPE_PATTERN);

export interface VigilIntegration {
  id: string;
  name: string;
  type: string;
  settings: Record<string, unknown>;
}

/** The Vigil team an Opsgenie integration goes to: its owner team's, or the one named for global ones. */
function teamOf(ctx: ImportContext, i: IntegrationIn): string {
  if (i.ownerTeam && (i.ownerTeam.id || i.ownerTeam.name)) {
    const found = resolveNamed(ctx.teams, 'team', i.ownerTeam);
    if (!found.ok) throw new Skip(`its owner ${found.why}`);
    return found.value;
  }
  if (ctx.teamForGlobal) return ctx.teamForGlobal;
  throw new Skip(
    'it is global in Opsgenie, and every Vigil integration belongs to a team: name one with --team-for-global <team>',
  );
}

/**
 * What of an API integration's own settings Vigil's integrations have no field for: its responders and
 * its ignore*FromPayload flags, which Vigil has on the integration's create actions only. Said on the
 * integration's line on every run, with what to do, as the import cannot bring them.
 */
function leftOutOf(i: IntegrationIn): string {
  // Opsgenie's older answers name them recipients (as the actions' responders).
  const responders = i.responders?.length ? i.responders : (i.recipients ?? []);
  const parts = [
    ...(responders.length > 0
      ? [
          `its responders (${responders.map((r) => `${r.type} ${text(r.username ?? r.name ?? r.id ?? '?')}`).join(', ')})`,
        ]
      : []),
    ...(i.ignoreRespondersFromPayload === true || i.ignoreRecipientsFromPayload === true
      ? ['ignoreRespondersFromPayload']
      : []),
    ...(i.ignoreTeamsFromPayload === true ? ['ignoreTeamsFromPayload'] : []),
  ];
  if (parts.length === 0) return '';
  return `left out, as Vigil's integrations have none of their own: ${parts.join(', ')}; set them on its create actions, in Opsgenie before running the import again (it sets the actions as Opsgenie has them), or in Vigil after the last run`;
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
  const targetList = await ctx.target.get('/v2/integrations');
  const vigilIntegrations: VigilIntegration[] = (Array.isArray(targetList) ? targetList : []).flatMap(
    (raw: unknown) =>
      isRecord(raw) && typeof raw.id === 'string' && typeof raw.name === 'string'
        ? [{ id: raw.id, name: raw.name, type: typeof raw.type === 'string' ? raw.type : '', settings: raw }]
        : [],
  );
  const existing = new Map(vigilIntegrations.map((v) => [v.name.toLowerCase(), v]));
  const emailHolders = emailHoldersOf(vigilIntegrations);
  await eachItem(ctx, 'integration', IntegrationSummaryShape, items, async (summary) => {
    const notImported = NOT_IMPORTED[summary.type];
    if (notImported) throw new Skip(`its type is ${summary.type}: ${notImported}`);
    if (!TYPE_NAME.test(summary.type))
      throw new Skip(
        `its type is ${text(summary.type)}, not a type name Vigil takes (1 to 100 letters, digits, spaces, dots, dashes and underscores)`,
      );
    const got = shaped(IntegrationShape, await ctx.source.get(`/v2/integrations/${enc(summary.id)}`));
    if (!got.ok) throw new Skip(got.why);
    const i = got.value;
    const team = teamOf(ctx, i);
    const have = existing.get(i.name.toLowerCase());
    // Vigil can not change an integration's type.
    if (have && have.type !== i.type)
      throw new Skip(`Vigil has an integration of that name of type ${have.type}, not ${i.type}`);
    if (i.type === 'Email') return importEmailIntegration(ctx, i, team, have, emailHolders);
    const leftOut = leftOutOf(i);
    const flags = Object.fromEntries(FLAGS.map((f) => [f, i[f] ?? DEFAULTS[f]]));
    const desired = { ownerTeam: { name: team }, enabled: i.enabled !== false, ...flags };
    if (have) {
      ctx.integrations.set(i.id, have.id);
      if (sameJson(comparable(have.settings), comparable(desired))) {
        ctx.report.record('integration', i.name, 'unchanged', leftOut || undefined);
      } else {
        if (!ctx.dryRun) await ctx.target.patch(`/v2/integrations/${enc(have.id)}`, desired);
        ctx.report.record(
          'integration',
          i.name,
          'updated',
          ['its key is the one it was made with', leftOut].filter(Boolean).join('; '),
        );
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
      // Another Opsgenie type (Prometheus…) is an API integration in Vigil that keeps its type name.
      const made = await ctx.target.post('/v2/integrations', {
        type: i.type,
        name: i.name,
        ...desired,
        ...(keepKey ? { apiKey: keepKey } : {}),
      });
      id = isRecord(made) && typeof made.id === 'string' ? made.id : undefined;
    }
    ctx.integrations.set(i.id, id);
    ctx.report.record('integration', i.name, 'created', [why, leftOut].filter(Boolean).join('; '));
    await importIntegrationActions(ctx, { sourceId: i.id, name: i.name, vigilId: id, created: true });
  });
}
