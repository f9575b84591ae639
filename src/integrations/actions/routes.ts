import { Type } from 'typebox';
import { invalidField } from '../../errors.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import type { IntegrationWithTeams } from '../repository.js';
import { typeNameOf } from '../types.js';
import { actionTypeOf, ActionSchema, AllActionsSchema, ACTION_TYPES, type StoredActions } from './model.js';
import type { IntegrationActionsService } from './service.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const SEMANTICS =
  "Before any action is set, the integration behaves as Opsgenie's default actions do: its key's requests pass unchanged. Once set: a create request matching an ignore action's filter makes no alert; otherwise the first create action (by order) whose filter matches shapes the alert ({{message}}-style dynamic fields expand from the request; tags, extraProperties, responders and alertActions are added to the request's unless ignore*FromPayload), and when none matches no alert is made. Close, acknowledge and add-note requests through the key run only when an action of that type matches the alert. An Email integration's message is a create request; with appendAttachments, its files are added to the alert it made or was de-duplicated into, within the attachment limits. Each outcome is in GET /v2/alerts/requests/{requestId}. Fields Vigil does not know are ignored.";

/** Opsgenie's answer: the integration, then each list of actions. */
function presentActions(integration: IntegrationWithTeams, actions: StoredActions) {
  return {
    _parent: {
      id: integration.id,
      name: integration.name,
      enabled: integration.enabled,
      type: typeNameOf(integration),
    },
    ...actions,
  };
}

export function registerIntegrationActionRoutes(app: HttpApp, actions: IntegrationActionsService): void {
  app.get(
    '/v2/integrations/:id/actions',
    {
      schema: {
        tags: ['integrations'],
        summary: "An API or Email integration's actions (create, close, acknowledge, addNote, ignore)",
        description: SEMANTICS,
        params: IdParams,
      },
    },
    async (request) => {
      const { integration, actions: lists } = await actions.get(principalOf(request), request.params.id);
      return envelope(request, { data: presentActions(integration, lists) });
    },
  );

  app.put(
    '/v2/integrations/:id/actions',
    {
      schema: {
        tags: ['integrations'],
        summary: "Replace all of an API or Email integration's actions (a list left out or null is emptied)",
        description: SEMANTICS,
        params: IdParams,
        body: AllActionsSchema,
      },
    },
    async (request) => {
      const made = await actions.replaceAll(principalOf(request), request.params.id, request.body);
      return envelope(request, { result: 'Updated', data: presentActions(made.integration, made.actions) });
    },
  );

  app.post(
    '/v2/integrations/:id/actions',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Add one action to an API or Email integration; its type says to which list',
        description: `type: ${ACTION_TYPES.join(', ')}. Added at its order, else last. ${SEMANTICS}`,
        params: IdParams,
        body: ActionSchema,
      },
    },
    async (request, reply) => {
      const type = actionTypeOf(request.body.type);
      if (!type) throw invalidField('type', `must be one of: ${ACTION_TYPES.join(', ')}.`);
      const made = await actions.add(principalOf(request), request.params.id, type, request.body);
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: presentActions(made.integration, made.actions) }));
    },
  );
}
