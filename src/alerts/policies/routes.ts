import { Type } from 'typebox';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { PolicyBodySchema, type PolicyChanges } from './model.js';
import type { PolicyRow } from './repository.js';
import type { AlertPoliciesService } from './service.js';

const TeamQuery = Type.Object({
  teamId: Type.Optional(
    Type.String({
      maxLength: 64,
      description: "The team whose policy it is; left out, the organization's global policies",
    }),
  ),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const SEMANTICS =
  "Alert policies of type alert: each alert created that matches a policy's filter is changed by it ({{message}}-style dynamic fields expand from the alert; tags, details, actions and responders are added unless ignoreOriginal*). Policies run when the alert is created, after the integration's action, in order: the organization's global policies, then those of the alert's teams; evaluation stops at the first that matches unless it says continue. The alert's log names each policy that changed it. Notification policies and time restrictions are not supported.";

function presentPolicy(row: PolicyRow) {
  const changes = row.modifications as unknown as PolicyChanges;
  return {
    id: row.id,
    type: 'alert',
    name: row.name,
    policyDescription: row.policy_description,
    ...(row.team_id ? { teamId: row.team_id } : {}),
    enabled: row.enabled,
    order: row.position,
    filter: row.filter,
    continue: row.continue,
    ...changes,
  };
}

export function registerAlertPolicyRoutes(app: HttpApp, policies: AlertPoliciesService): void {
  app.post(
    '/v2/policies',
    {
      schema: {
        tags: ['policies'],
        summary: 'Create an alert policy (last in its order)',
        description: SEMANTICS,
        querystring: TeamQuery,
        body: PolicyBodySchema,
      },
    },
    async (request, reply) => {
      const row = await policies.create(principalOf(request), request.query.teamId, request.body);
      return reply.status(201).send(
        envelope(request, {
          result: 'Created',
          data: { id: row.id, name: row.name, type: 'alert', enabled: row.enabled },
        }),
      );
    },
  );

  app.get(
    '/v2/policies/alert',
    { schema: { tags: ['policies'], summary: 'List alert policies, in order', querystring: TeamQuery } },
    async (request) => {
      const rows = await policies.list(principalOf(request), request.query.teamId);
      return envelope(request, {
        data: rows.map((r) => ({
          id: r.id,
          name: r.name,
          type: 'alert',
          order: r.position,
          enabled: r.enabled,
        })),
      });
    },
  );

  app.get(
    '/v2/policies/:id',
    {
      schema: {
        tags: ['policies'],
        summary: 'Get an alert policy',
        params: IdParams,
        querystring: TeamQuery,
      },
    },
    async (request) => {
      const row = await policies.get(principalOf(request), request.query.teamId, request.params.id);
      return envelope(request, { data: presentPolicy(row) });
    },
  );

  app.put(
    '/v2/policies/:id',
    {
      schema: {
        tags: ['policies'],
        summary: 'Update an alert policy: it becomes the body (its place in the order stays)',
        description: SEMANTICS,
        params: IdParams,
        querystring: TeamQuery,
        body: PolicyBodySchema,
      },
    },
    async (request) => {
      const row = await policies.update(
        principalOf(request),
        request.query.teamId,
        request.params.id,
        request.body,
      );
      return envelope(request, { result: 'Updated', data: presentPolicy(row) });
    },
  );

  app.delete(
    '/v2/policies/:id',
    {
      schema: {
        tags: ['policies'],
        summary: 'Delete an alert policy',
        params: IdParams,
        querystring: TeamQuery,
      },
    },
    async (request) => {
      await policies.delete(principalOf(request), request.query.teamId, request.params.id);
      return envelope(request, { result: 'Deleted' });
    },
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(
      `/v2/policies/:id/${action}`,
      {
        schema: {
          tags: ['policies'],
          summary: `Turn an alert policy ${enabled ? 'on' : 'off'}`,
          params: IdParams,
          querystring: TeamQuery,
        },
      },
      async (request) => {
        await policies.setEnabled(principalOf(request), request.query.teamId, request.params.id, enabled);
        return envelope(request, { result: enabled ? 'Enabled' : 'Disabled' });
      },
    );
  }

  app.post(
    '/v2/policies/:id/change-order',
    {
      schema: {
        tags: ['policies'],
        summary: 'Move an alert policy to a place in the order (0 is first)',
        params: IdParams,
        querystring: TeamQuery,
        body: Type.Object({ targetIndex: Type.Integer({ minimum: 0, maximum: 100_000 }) }),
      },
    },
    async (request) => {
      await policies.changeOrder(
        principalOf(request),
        request.query.teamId,
        request.params.id,
        request.body.targetIndex,
      );
      return envelope(request, { result: 'Changed' });
    },
  );
}
