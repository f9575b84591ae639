import { Type } from 'typebox';
import { StringEnum, TeamIdentifierQuery, teamIdentifierTypeOf } from '../../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { CriteriaSchema } from '../conditions.js';
import { TimeRestrictionSchema } from '../time-restriction-input.js';
import type { RoutingService, TeamIdentifier } from './service.js';

/** Opsgenie's Team Routing Rule API: /v2/teams/{identifier}/routing-rules, and Vigil's PUT .../default. */

const Notify = Type.Object(
  {
    type: StringEnum(['escalation', 'schedule', 'none']),
    id: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
  },
  {
    additionalProperties: false,
    description: 'An escalation or a schedule (its on-call person) by id or name, or none: do not notify.',
  },
);

const ruleName = Type.String({ minLength: 1, maxLength: 200 });
const timezone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone; UTC if not given.',
});
const order = Type.Integer({
  minimum: 0,
  description: 'Index among the rules, from 0; the default rule is last.',
});

const CreateBody = Type.Object(
  {
    name: Type.Optional(ruleName),
    order: Type.Optional(order),
    timezone: Type.Optional(timezone),
    criteria: Type.Optional(CriteriaSchema),
    timeRestriction: Type.Optional(TimeRestrictionSchema),
    notify: Notify,
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(ruleName),
    order: Type.Optional(order),
    timezone: Type.Optional(timezone),
    criteria: Type.Optional(CriteriaSchema),
    timeRestriction: Type.Optional(Type.Union([TimeRestrictionSchema, Type.Null()])),
    notify: Type.Optional(Notify),
  },
  { additionalProperties: false },
);

const TeamParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 100 }) });
const RuleParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 100 }),
  ruleId: Type.String({ minLength: 1, maxLength: 100, description: 'A rule id, or "default".' }),
});

const LIST_DESCRIPTION =
  'The rules in the order they are tried, the default rule last (isDefault). A team that has not set a default rule shows {"id": "default", "isDefault": true, "notify": {"type": "team-members"}}: when no rule applies, every member of the team is notified at once. Set it with PUT .../routing-rules/default.';

function teamOf(request: {
  params: { identifier: string };
  query: Parameters<typeof teamIdentifierTypeOf>[0];
}): TeamIdentifier {
  return { identifier: request.params.identifier, by: teamIdentifierTypeOf(request.query) };
}

export function registerRoutingRoutes(app: HttpApp, routing: RoutingService): void {
  const base = '/v2/teams/:identifier/routing-rules';

  app.post(
    base,
    {
      schema: {
        tags: ['routing rules'],
        summary: 'Add a routing rule to a team (team or organization admins)',
        params: TeamParams,
        querystring: TeamIdentifierQuery,
        body: CreateBody,
      },
    },
    async (request, reply) => {
      const created = await routing.create(principalOf(request), teamOf(request), request.body);
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: { id: created.id, name: created.name } }));
    },
  );

  app.get(
    base,
    {
      schema: {
        tags: ['routing rules'],
        summary: "A team's routing rules",
        description: LIST_DESCRIPTION,
        params: TeamParams,
        querystring: TeamIdentifierQuery,
      },
    },
    async (request) => envelope(request, { data: await routing.list(principalOf(request), teamOf(request)) }),
  );

  app.put(
    `${base}/default`,
    {
      schema: {
        tags: ['routing rules'],
        summary: "Set a team's default rule: what alerts notify when no other rule applies",
        description:
          'Creates the default rule if the team has none yet. Without one, every member of the team is notified at once.',
        params: TeamParams,
        querystring: TeamIdentifierQuery,
        body: Type.Object({ name: Type.Optional(ruleName), notify: Notify }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const rule = await routing.setDefault(principalOf(request), teamOf(request), request.body);
      return envelope(request, { result: 'Updated', data: { id: rule.id, name: rule.name } });
    },
  );

  app.get(
    `${base}/:ruleId`,
    {
      schema: {
        tags: ['routing rules'],
        summary: 'A routing rule ("default" for the default rule)',
        params: RuleParams,
        querystring: TeamIdentifierQuery,
      },
    },
    async (request) =>
      envelope(request, {
        data: await routing.get(principalOf(request), teamOf(request), request.params.ruleId),
      }),
  );

  app.patch(
    `${base}/:ruleId`,
    {
      schema: {
        tags: ['routing rules'],
        summary: 'Update a routing rule (of the default rule, only name and notify)',
        params: RuleParams,
        querystring: TeamIdentifierQuery,
        body: UpdateBody,
      },
    },
    async (request) => {
      const rule = await routing.update(
        principalOf(request),
        teamOf(request),
        request.params.ruleId,
        request.body,
      );
      return envelope(request, { result: 'Updated', data: { id: rule.id, name: rule.name } });
    },
  );

  app.delete(
    `${base}/:ruleId`,
    {
      schema: {
        tags: ['routing rules'],
        summary: 'Delete a routing rule (not the default rule)',
        params: RuleParams,
        querystring: TeamIdentifierQuery,
      },
    },
    async (request) => {
      await routing.delete(principalOf(request), teamOf(request), request.params.ruleId);
      return envelope(request, { result: 'Deleted' });
    },
  );

  app.post(
    `${base}/:ruleId/change-order`,
    {
      schema: {
        tags: ['routing rules'],
        summary: 'Move a routing rule to another place in the order',
        params: RuleParams,
        querystring: TeamIdentifierQuery,
        body: Type.Object({ order }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const rule = await routing.changeOrder(
        principalOf(request),
        teamOf(request),
        request.params.ruleId,
        request.body.order,
      );
      return envelope(request, { result: 'Changed', data: { id: rule.id, name: rule.name } });
    },
  );
}
