import { Type } from 'typebox';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { invalid, UNPROCESSABLE_BODY } from '../../errors.js';
import type { Principal } from '../../accounts/service.js';
import type { PolicyChanges } from './model.js';
import { AnyPolicyBodySchema, fieldsOfOtherKind, type AnyPolicyBody } from './notification-model.js';
import type { NotificationPoliciesService } from './notification-service.js';
import type { PolicyRow } from './repository.js';
import type { AlertPoliciesService } from './service.js';
import { presentTiming } from './timing.js';

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
  "Alert policies of type alert: each alert created that matches a policy's filter is changed by it ({{message}}-style dynamic fields expand from the alert; tags, details, actions and responders are added unless ignoreOriginal*). Policies run when the alert is created, after the integration's action, in order: the organization's global policies, then those of the alert's teams; evaluation stops at the first that matches unless it says continue. The alert's log names each policy that changed it. Notification policies (type notification, a team's: teamId is required) change how the team is notified of the alerts they match, when the alert is created: suppress (the team is not notified), delayAction (the team's escalation starts after the duration, or at the next untilHour:untilMinute on the day next-time/next-weekday/next-<day> allows; an alert acknowledged or closed meanwhile notifies nobody), deduplicationAction (the team's escalation starts only once the alert occurred count times, within duration if frequency-based), autoRestartAction (while open and unacknowledged, the team's escalation starts over every duration, at most maxRepeatCount times), autoCloseAction (the alert is closed after the duration if still open). A policy with timeRestrictions applies only inside them, read in its timezone (UTC when left out): an alert policy to alerts created inside them, a notification policy to alerts that reach its team inside them (at their creation, or when the team is added as a responder, from when a delay then counts too). Filters of both kinds may also look at the alert's teams and recipients (names).";

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
    ...presentTiming(row),
    continue: row.continue,
    ...changes,
  };
}

function presentNotificationPolicy(row: PolicyRow) {
  return {
    id: row.id,
    type: 'notification',
    name: row.name,
    policyDescription: row.policy_description,
    teamId: row.team_id,
    enabled: row.enabled,
    order: row.position,
    filter: row.filter,
    ...presentTiming(row),
    ...row.notification_actions,
  };
}

/** An alert policy's body: one that carries fields of notification policies is refused, naming them. */
function alertBody(body: AnyPolicyBody) {
  const foreign = fieldsOfOtherKind(body);
  if (foreign.length > 0)
    throw invalid(
      UNPROCESSABLE_BODY,
      Object.fromEntries(
        foreign.map((f) => [f, 'is a field of notification policies, not of alert policies.']),
      ),
    );
  // The notification fields are all absent (checked above): what is left is an alert policy's body.
  return { ...body, type: 'alert' as const };
}

export function registerAlertPolicyRoutes(
  app: HttpApp,
  policies: AlertPoliciesService,
  notifications: NotificationPoliciesService,
): void {
  /** The service a policy id belongs to: a notification policy of the team `teamId` names, or an alert one. */
  const kindOf = async (p: Principal, teamId: string | undefined, id: string) =>
    (await notifications.owns(p, teamId, id)) ? 'notification' : 'alert';
  /** The service that manages the policy `id` names, for the calls both kinds answer alike. */
  const serviceOf = async (p: Principal, teamId: string | undefined, id: string) =>
    (await kindOf(p, teamId, id)) === 'notification' ? notifications : policies;

  app.post(
    '/v2/policies',
    {
      schema: {
        tags: ['policies'],
        summary: 'Create an alert policy (last in its order)',
        description: SEMANTICS,
        querystring: TeamQuery,
        body: AnyPolicyBodySchema,
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { teamId } = request.query;
      const body = request.body;
      const row =
        body.type === 'notification'
          ? await notifications.create(p, teamId, body)
          : await policies.create(p, teamId, alertBody(body));
      return reply.status(201).send(
        envelope(request, {
          result: 'Created',
          data: { id: row.id, name: row.name, type: body.type, enabled: row.enabled },
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
    '/v2/policies/notification',
    {
      schema: {
        tags: ['policies'],
        summary: "List a team's notification policies, in order",
        querystring: TeamQuery,
      },
    },
    async (request) => {
      const rows = await notifications.list(principalOf(request), request.query.teamId);
      return envelope(request, {
        data: rows.map((r) => ({
          id: r.id,
          name: r.name,
          type: 'notification',
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
        summary: 'Get a policy (alert or notification)',
        params: IdParams,
        querystring: TeamQuery,
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { teamId } = request.query;
      const { id } = request.params;
      if ((await kindOf(p, teamId, id)) === 'notification')
        return envelope(request, { data: presentNotificationPolicy(await notifications.get(p, teamId, id)) });
      return envelope(request, { data: presentPolicy(await policies.get(p, teamId, id)) });
    },
  );

  app.put(
    '/v2/policies/:id',
    {
      schema: {
        tags: ['policies'],
        summary:
          'Update a policy: it becomes the body (its place in the order stays; its type cannot change)',
        description: SEMANTICS,
        params: IdParams,
        querystring: TeamQuery,
        body: AnyPolicyBodySchema,
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { teamId } = request.query;
      const { id } = request.params;
      const body = request.body;
      const kind = await kindOf(p, teamId, id);
      if (kind !== body.type)
        throw invalid(UNPROCESSABLE_BODY, { type: `is ${kind}: a policy's type cannot change.` });
      if (kind === 'notification') {
        const row = await notifications.update(p, teamId, id, body);
        return envelope(request, { result: 'Updated', data: presentNotificationPolicy(row) });
      }
      const row = await policies.update(p, teamId, id, alertBody(body));
      return envelope(request, { result: 'Updated', data: presentPolicy(row) });
    },
  );

  app.delete(
    '/v2/policies/:id',
    {
      schema: {
        tags: ['policies'],
        summary: 'Delete a policy',
        params: IdParams,
        querystring: TeamQuery,
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { teamId } = request.query;
      const { id } = request.params;
      await (await serviceOf(p, teamId, id)).delete(p, teamId, id);
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
          summary: `Turn a policy ${enabled ? 'on' : 'off'}`,
          params: IdParams,
          querystring: TeamQuery,
        },
      },
      async (request) => {
        const p = principalOf(request);
        const { teamId } = request.query;
        const { id } = request.params;
        const service = await serviceOf(p, teamId, id);
        await service.setEnabled(p, teamId, id, enabled);
        return envelope(request, { result: enabled ? 'Enabled' : 'Disabled' });
      },
    );
  }

  app.post(
    '/v2/policies/:id/change-order',
    {
      schema: {
        tags: ['policies'],
        summary: 'Move a policy to a place in the order of its kind (0 is first)',
        params: IdParams,
        querystring: TeamQuery,
        body: Type.Object({ targetIndex: Type.Integer({ minimum: 0, maximum: 100_000 }) }),
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { teamId } = request.query;
      const { id } = request.params;
      const service = await serviceOf(p, teamId, id);
      await service.changeOrder(p, teamId, id, request.body.targetIndex);
      return envelope(request, { result: 'Changed' });
    },
  );
}
