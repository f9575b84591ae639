import { Type } from 'typebox';
import { StringEnum } from '../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../http/server.js';
import {
  MAINTENANCE_TIME_TYPES,
  presentMaintenance,
  presentMaintenanceMeta,
  type MaintenanceRuleInput,
  type MaintenanceService,
} from './service.js';

/** Opsgenie's Maintenance API: /v1/maintenance. */

const dateTime = (description: string) =>
  Type.String({ format: 'date-time', description: `${description} RFC 3339, such as 2026-03-25T08:45:00Z.` });

const TimeFields = {
  type: StringEnum(MAINTENANCE_TIME_TYPES, {
    description:
      'for-5-minutes, for-30-minutes and for-1-hour start now; indefinitely starts now and lasts until cancelled; schedule runs from startDate to endDate.',
  }),
  startDate: Type.Optional(dateTime('For type schedule: when it starts.')),
  endDate: Type.Optional(dateTime('For type schedule: when it ends (in the future).')),
};

const Time = Type.Object(TimeFields, { additionalProperties: false });

const Rule = Type.Object(
  {
    state: Type.Optional(
      StringEnum(['enabled', 'disabled', ''], {
        description:
          'disabled (the default, also when empty, as opsgenie-go-sdk-v2 sends it): the integration or policy does not work while the maintenance is active; enabled, for a policy only: it runs then, even if disabled.',
      }),
    ),
    entity: Type.Object(
      {
        id: Type.String({
          minLength: 1,
          maxLength: 100,
          description: "The integration's or the alert policy's id (a global policy or a team's).",
        }),
        type: StringEnum(['integration', 'policy'], {
          description:
            'integration: its deliveries are ignored and its key refused; policy (alert or notification): it does not run, or, enabled, runs.',
        }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/**
 * An empty state is a state left out (disabled): opsgenie-go-sdk-v2's Rule.State has no omitempty, and
 * its validation lets an integration rule's be empty, so Go tools send `"state": ""`.
 */
function ruleInputs(
  rules: { state?: 'enabled' | 'disabled' | ''; entity: MaintenanceRuleInput['entity'] }[],
): MaintenanceRuleInput[] {
  return rules.map(({ state, entity }) => (state ? { state, entity } : { entity }));
}

const Rules = Type.Array(Rule, {
  minItems: 1,
  maxItems: 100,
  description:
    'The integrations and policies it disables (or, policies, enables) while it is active, in the order given back by a get.',
});

const Description = Type.String({ maxLength: 10_000 });

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export function registerMaintenanceRoutes(app: HttpApp, maintenance: MaintenanceService): void {
  app.post(
    '/v1/maintenance',
    {
      schema: {
        tags: ['maintenance'],
        summary:
          'Create a maintenance: the integrations and alert policies its rules name are disabled while it is active',
        body: Type.Object(
          { description: Type.Optional(Description), time: Time, rules: Rules },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { row, now } = await maintenance.create(principalOf(request), {
        ...request.body,
        rules: ruleInputs(request.body.rules),
      });
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: presentMaintenanceMeta(row, now) }));
    },
  );

  app.get(
    '/v1/maintenance',
    {
      schema: {
        tags: ['maintenance'],
        summary:
          'List maintenances: non-expired (planned and active, the default), past (and cancelled), or all',
        querystring: Type.Object({
          type: StringEnum(['all', 'past', 'non-expired'], { default: 'non-expired' }),
        }),
      },
    },
    async (request) => {
      const { rows, now } = await maintenance.list(principalOf(request), request.query.type);
      return envelope(request, { data: rows.map((row) => presentMaintenanceMeta(row, now)) });
    },
  );

  app.get(
    '/v1/maintenance/:id',
    { schema: { tags: ['maintenance'], summary: 'Get a maintenance, with its rules', params: Params } },
    async (request) => {
      const { maintenance: m, now } = await maintenance.get(principalOf(request), request.params.id);
      return envelope(request, { data: presentMaintenance(m, now) });
    },
  );

  app.put(
    '/v1/maintenance/:id',
    {
      schema: {
        tags: ['maintenance'],
        summary: "Update a planned or active maintenance (Opsgenie's update: the body of a create)",
        params: Params,
        body: Type.Object(
          { description: Type.Optional(Description), time: Time, rules: Rules },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { row, now } = await maintenance.update(principalOf(request), request.params.id, {
        ...request.body,
        rules: ruleInputs(request.body.rules),
      });
      return envelope(request, { result: 'Updated', data: presentMaintenanceMeta(row, now) });
    },
  );

  app.patch(
    '/v1/maintenance/:id',
    {
      schema: {
        tags: ['maintenance'],
        summary:
          'Change a planned or active maintenance: the fields given change. A time without a type moves the dates (the maintenance becomes a schedule).',
        params: Params,
        body: Type.Object(
          {
            description: Type.Optional(Description),
            time: Type.Optional(
              Type.Object(
                {
                  type: Type.Optional(TimeFields.type),
                  startDate: TimeFields.startDate,
                  endDate: TimeFields.endDate,
                },
                { additionalProperties: false },
              ),
            ),
            rules: Type.Optional(Rules),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { rules, ...changes } = request.body;
      const { row, now } = await maintenance.update(principalOf(request), request.params.id, {
        ...changes,
        ...(rules ? { rules: ruleInputs(rules) } : {}),
      });
      return envelope(request, { result: 'Updated', data: presentMaintenanceMeta(row, now) });
    },
  );

  app.post(
    '/v1/maintenance/:id/change-end-date',
    {
      schema: {
        tags: ['maintenance'],
        summary: 'Change the end of a planned or active maintenance (it becomes a schedule)',
        params: Params,
        body: Type.Object(
          { endDate: dateTime('The new end, in the future.') },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { row, now } = await maintenance.changeEnd(
        principalOf(request),
        request.params.id,
        request.body.endDate,
      );
      return envelope(request, { result: 'Updated', data: presentMaintenanceMeta(row, now) });
    },
  );

  app.post(
    '/v1/maintenance/:id/cancel',
    {
      schema: {
        tags: ['maintenance'],
        summary:
          'Cancel a maintenance: its integrations and policies work again at once (one already over stays as it is)',
        params: Params,
      },
    },
    async (request) => {
      await maintenance.cancel(principalOf(request), request.params.id);
      return envelope(request, { result: 'Cancelled' });
    },
  );

  app.delete(
    '/v1/maintenance/:id',
    {
      schema: {
        tags: ['maintenance'],
        summary: 'Delete a maintenance (an active one ends at once)',
        params: Params,
      },
    },
    async (request) => {
      await maintenance.remove(principalOf(request), request.params.id);
      return envelope(request, { result: 'Deleted' });
    },
  );
}
