import type { Principal } from '../../accounts/service.js';
import { requireReachesResponder, resolveResponder } from '../../alerts/responders.js';
import type { Db } from '../../db/database.js';
import { conflict, invalidField } from '../../errors.js';
import type { IntegrationWithTeams } from '../repository.js';
import type { IntegrationsService } from '../service.js';
import {
  ACTION_TYPES,
  MAX_ACTION_ORDER,
  defaultActions,
  emptyActions,
  ordered,
  parseAction,
  storedActions,
  type ActionInput,
  type ActionType,
  type AllActionsInput,
  type StoredAction,
  type StoredActions,
} from './model.js';

/**
 * The types whose alerts are made as an API integration's create is (an Email integration's message acts
 * as its key would: integrations/principal.ts), so its actions apply to them as Opsgenie's do.
 */
const TYPES_WITH_ACTIONS: readonly string[] = ['API', 'Email'];

/** Tries of one add against others changing the same actions at once (Terraform applies 10 at a time). */
const MAX_ADD_ATTEMPTS = 20;

/** Reading and replacing an API or Email integration's actions (model.ts says what they are). */
export function createIntegrationActionsService(db: Db, integrations: IntegrationsService) {
  async function integrationWithActions(p: Principal, id: string): Promise<IntegrationWithTeams> {
    const row = await integrations.get(p, id);
    if (!TYPES_WITH_ACTIONS.includes(row.type)) {
      throw invalidField(
        'id',
        `integration [${row.name}] is of type ${row.type}: actions apply to integrations of type API or Email.`,
      );
    }
    return row;
  }

  type Responder = NonNullable<StoredAction['responders']>[number];

  /**
   * Each responder found in the organization now, so that a typo is a 422 here, not on every alert, and
   * one `p` may name (requireReachesResponder; `kept`: the integration's actions' responders before).
   */
  async function checkResponders(
    p: Principal,
    action: StoredAction,
    path: string,
    kept: readonly Responder[],
  ): Promise<StoredAction> {
    if (!action.responders?.length) return action;
    const responders = [];
    for (const [i, r] of action.responders.entries()) {
      const given = r as Parameters<typeof resolveResponder>[2];
      const resolved = await resolveResponder(db, p.orgId, given, `${path}.responders[${i}]`);
      requireReachesResponder(p, given, resolved, kept);
      responders.push({ ...r, id: resolved.ref.id });
    }
    return { ...action, responders };
  }

  /** Every responder of the integration's actions as stored (of every type). */
  const storedResponders = (row: IntegrationWithTeams): Responder[] =>
    Object.values(storedActions(row.actions) ?? {}).flatMap((list) =>
      list.flatMap((a) => a.responders ?? []),
    );

  async function parseList(
    p: Principal,
    row: IntegrationWithTeams,
    type: ActionType,
    list: ActionInput[],
    path: string,
  ) {
    const kept = storedResponders(row);
    const out: StoredAction[] = [];
    for (const [i, input] of list.entries()) {
      out.push(await checkResponders(p, parseAction(type, input, `${path}[${i}]`), `${path}[${i}]`, kept));
    }
    return ordered(out);
  }

  /** The integration's actions with `input` added to the list its type names. */
  async function withAdded(p: Principal, row: IntegrationWithTeams, type: ActionType, input: ActionInput) {
    const current = storedActions(row.actions) ?? defaultActions();
    const list = ordered(current[type]);
    const [parsed] = await parseList(p, row, type, [input], 'action');
    if (!parsed) throw new Error('the action was not parsed');
    if (list.some((a) => a.name === parsed.name)) {
      throw conflict(`integration [${row.name}] already has a ${type} action named [${parsed.name}].`);
    }
    if (input.order === undefined) {
      const last = list.at(-1);
      list.push({ ...parsed, order: last ? Math.min(last.order + 1, MAX_ACTION_ORDER) : 0 });
    } else {
      const at = list.findIndex((a) => a.order >= parsed.order);
      list.splice(at === -1 ? list.length : at, 0, parsed);
    }
    return { ...current, [type]: list };
  }

  const present = (row: IntegrationWithTeams) => {
    const actions = storedActions(row.actions) ?? defaultActions();
    return {
      integration: row,
      actions: Object.fromEntries(ACTION_TYPES.map((t) => [t, ordered(actions[t])])) as StoredActions,
    };
  };

  return {
    /** The actions; before any are set, Opsgenie's defaults (which change nothing). */
    async get(p: Principal, id: string) {
      return present(await integrationWithActions(p, id));
    },

    /** Replaces every list, as Opsgenie's PUT (the Go SDK's UpdateAllActions) does. */
    async replaceAll(p: Principal, id: string, input: AllActionsInput) {
      const row = await integrationWithActions(p, id);
      const next = emptyActions();
      for (const type of ACTION_TYPES) next[type] = await parseList(p, row, type, input[type] ?? [], type);
      return present(await integrations.setActions(p, row.id, next));
    },

    /** Adds one action to the list its type names: at its order, before those of the same order; else last. */
    async add(p: Principal, id: string, type: ActionType, input: ActionInput) {
      // Two adds at once (a Terraform apply in parallel) each read the list and store it with one more:
      // the second store is refused if the first came in between, and that add starts again from it.
      for (let attempt = 1; ; attempt++) {
        const row = await integrationWithActions(p, id);
        const next = await withAdded(p, row, type, input);
        const stored = await integrations.changeActions(p, row.id, next, row.actions);
        if (stored) return present(stored);
        if (attempt >= MAX_ADD_ATTEMPTS)
          throw conflict(
            `integration [${row.name}]'s actions kept changing while this one was added: send it again.`,
          );
      }
    },
  };
}

export type IntegrationActionsService = ReturnType<typeof createIntegrationActionsService>;
