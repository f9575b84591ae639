import type { Principal } from '../../accounts/service.js';
import { resolveResponder } from '../../alerts/responders.js';
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

  /** Each responder found in the organization now, so that a typo is a 422 here, not on every alert. */
  async function checkResponders(orgId: string, action: StoredAction, path: string): Promise<StoredAction> {
    if (!action.responders?.length) return action;
    const responders = [];
    for (const [i, r] of action.responders.entries()) {
      const { ref } = await resolveResponder(
        db,
        orgId,
        r as Parameters<typeof resolveResponder>[2],
        `${path}.responders[${i}]`,
      );
      responders.push({ ...r, id: ref.id });
    }
    return { ...action, responders };
  }

  async function parseList(orgId: string, type: ActionType, list: ActionInput[], path: string) {
    const out: StoredAction[] = [];
    for (const [i, input] of list.entries()) {
      out.push(await checkResponders(orgId, parseAction(type, input, `${path}[${i}]`), `${path}[${i}]`));
    }
    return ordered(out);
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
      for (const type of ACTION_TYPES)
        next[type] = await parseList(row.org_id, type, input[type] ?? [], type);
      return present(await integrations.setActions(p, row.id, next));
    },

    /** Adds one action to the list its type names: at its order, before those of the same order; else last. */
    async add(p: Principal, id: string, type: ActionType, input: ActionInput) {
      const row = await integrationWithActions(p, id);
      const current = storedActions(row.actions) ?? defaultActions();
      const list = ordered(current[type]);
      const [parsed] = await parseList(row.org_id, type, [input], 'action');
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
      const next = { ...current, [type]: list };
      return present(await integrations.setActions(p, row.id, next));
    },
  };
}

export type IntegrationActionsService = ReturnType<typeof createIntegrationActionsService>;
