import { errorText, isRecord, enc, sameJson, Skip, type ImportContext } from './context.js';
import { filterOf, unsupportedCondition } from './normalize.js';
import { comparableResponders, respondersFor } from './responders.js';
import { RestError } from './rest-client.js';
import {
  IntegrationActionsShape,
  shaped,
  type IntegrationActionIn,
  type IntegrationActionsIn,
} from './shapes.js';

/**
 * An API integration's actions (`/v2/integrations/{id}/actions`), set in Vigil with one PUT when they
 * differ from what it has. Both sides answer Opsgenie's defaults (which change nothing) until actions are
 * set, so an integration whose actions were never touched compares unchanged.
 */

const TYPES = ['create', 'close', 'acknowledge', 'addNote', 'ignore'] as const;
type ActionType = (typeof TYPES)[number];
const FLAGS = [
  'appendAttachments',
  'ignoreAlertActionsFromPayload',
  'ignoreRespondersFromPayload',
  'ignoreTagsFromPayload',
  'ignoreExtraPropertiesFromPayload',
  'ignoreTeamsFromPayload',
] as const;

/** Opsgenie's default: the field passes the request's own value through. */
const orDefault = (value: string | null | undefined, field: string) =>
  value === undefined || value === null || value === '' ? `{{${field}}}` : value;

function inOrder(list: IntegrationActionIn[] | null | undefined): IntegrationActionIn[] {
  return (list ?? [])
    .map((a, i) => ({ a, i }))
    .sort((x, y) => (x.a.order ?? x.i) - (y.a.order ?? y.i) || x.i - y.i)
    .map(({ a }) => a);
}

/** One action as it is sent, responders already named as in Vigil. */
function bodyOf(type: ActionType, a: IntegrationActionIn, order: number) {
  const filter = filterOf(a.filter);
  const base = {
    name: a.name,
    order,
    filter: {
      conditionMatchType: filter.type,
      ...('conditions' in filter ? { conditions: filter.conditions } : {}),
    },
  };
  if (type === 'ignore') return base;
  const common = {
    ...base,
    user: orDefault(a.user, 'user'),
    note: orDefault(a.note, 'note'),
    alias: orDefault(a.alias, 'alias'),
  };
  if (type !== 'create') return common;
  return {
    ...common,
    message: orDefault(a.message, 'message'),
    description: orDefault(a.description, 'description'),
    entity: orDefault(a.entity, 'entity'),
    source: orDefault(a.source, 'source'),
    priority: orDefault(a.priority, 'priority'),
    ...(a.customPriority ? { customPriority: a.customPriority } : {}),
    tags: a.tags ?? [],
    extraProperties: a.extraProperties ?? {},
    responders: a.responders ?? [],
    alertActions: a.alertActions ?? [],
    ...Object.fromEntries(FLAGS.map((f) => [f, a[f] === true])),
    // Opsgenie's older answers name it ignoreRecipientsFromPayload (as `recipients`): either one set
    // means the request's responders are ignored. Here, so that the comparison deciding "unchanged" reads
    // it as the PUT sends it.
    ignoreRespondersFromPayload:
      a.ignoreRespondersFromPayload === true || a.ignoreRecipientsFromPayload === true,
  };
}

function comparable(actions: IntegrationActionsIn) {
  return Object.fromEntries(
    TYPES.map((type) => [
      type,
      inOrder(actions[type]).map((a, order) => {
        const body = bodyOf(type, a, order);
        return 'responders' in body
          ? { ...body, responders: comparableResponders(body.responders), tags: [...body.tags].sort() }
          : body;
      }),
    ]),
  );
}

/** Opsgenie's actions as Vigil's PUT takes them; what Vigil lacks is a Skip with the reason. */
function desiredActions(ctx: ImportContext, source: IntegrationActionsIn): IntegrationActionsIn {
  const lists = TYPES.map((type) => {
    const actions = inOrder(source[type]).map((a) => {
      const where = `its ${type} action "${a.name}"`;
      const why = unsupportedCondition(filterOf(a.filter));
      if (why) throw new Skip(`${where} has ${why}`);
      // Opsgenie's older answers name the responders `recipients`.
      const responders = a.responders?.length ? a.responders : a.recipients;
      return type === 'create' ? { ...a, responders: respondersFor(ctx, responders, where) } : a;
    });
    return [type, actions.map((a, order) => bodyOf(type, a, order))];
  });
  return Object.fromEntries(lists) as IntegrationActionsIn;
}

/**
 * Brings one integration's actions. Records its own outcome (kind `integration actions`): a skip or a
 * failure here leaves the integration itself imported.
 */
export async function importIntegrationActions(
  ctx: ImportContext,
  integration: { sourceId: string; name: string; vigilId: string | undefined; created: boolean },
): Promise<void> {
  const record = ctx.report.record.bind(null, 'integration actions', integration.name);
  let source: IntegrationActionsIn;
  try {
    const got = shaped(
      IntegrationActionsShape,
      await ctx.source.get(`/v2/integrations/${enc(integration.sourceId)}/actions`),
    );
    if (!got.ok) return record('skipped', got.why);
    source = got.value;
  } catch (error) {
    // Opsgenie answers 403 to plans without advanced integrations: there are no actions to bring.
    if (error instanceof RestError && (error.status === 403 || error.status === 404))
      return record('skipped', `the source did not give them: ${errorText(error)}`);
    return record('failed', `could not read them: ${errorText(error)}`);
  }
  try {
    const desired = desiredActions(ctx, source);
    let have: IntegrationActionsIn | undefined;
    if (integration.vigilId !== undefined) {
      const got = await ctx.target.get(`/v2/integrations/${enc(integration.vigilId)}/actions`);
      const parsed = shaped(IntegrationActionsShape, isRecord(got) ? got : {});
      if (parsed.ok) have = parsed.value;
    }
    // An integration made in a dry run has Vigil's defaults, which are Opsgenie's.
    const compared = have ?? (integration.created ? defaultActions() : undefined);
    if (compared && sameJson(comparable(compared), comparable(desired))) return record('unchanged');
    if (!ctx.dryRun && integration.vigilId !== undefined) {
      try {
        await ctx.target.put(`/v2/integrations/${enc(integration.vigilId)}/actions`, desired);
      } catch (error) {
        if (error instanceof RestError && error.status === 422)
          throw new Skip(`Vigil refused them: ${errorText(error)}`);
        throw error;
      }
    }
    record(integration.created ? 'created' : 'updated');
  } catch (error) {
    record(error instanceof Skip ? 'skipped' : 'failed', errorText(error));
  }
}

/** What an integration does before actions are set (Opsgenie's and Vigil's defaults). */
function defaultActions(): IntegrationActionsIn {
  return {
    create: [{ name: 'Create Alert' }],
    close: [{ name: 'Close Alert' }],
    acknowledge: [{ name: 'Acknowledge Alert' }],
    addNote: [{ name: 'Add Note to Alert' }],
    ignore: [],
  };
}
