import { Type } from 'typebox';
import { StringEnum } from '../../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { TEAM_DESTINATION_TYPES } from './registry.js';
import {
  MAX_DELIVERIES_PAGE,
  type DeliveryView,
  type DestinationView,
  type TeamDestinationsService,
} from './service.js';

/** Team destinations: /v2/destinations (webhooks, Slack, Teams: where a team's alert events go). */

const tags = ['destinations'];

const Ref = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 100 })),
    name: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
const Name = Type.String({ minLength: 1, maxLength: 100 });
const ConfigInput = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  maxProperties: 20,
  description:
    'The settings of the type. webhook: {"url": "https://…", "secret"?: "whsec_…"} (a secret is made when none is given; it is shown once, in the answer to the POST). Secrets are masked when read.',
});

const Problem = Type.Object({
  message: Type.String(),
  errors: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'The fields at fault.' })),
  took: Type.Optional(Type.Number()),
  requestId: Type.Optional(Type.String()),
});
const Envelope = { took: Type.Number(), requestId: Type.String() };
const NullableDate = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const Owner = Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]);

const Destination = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  type: Type.String(),
  label: Type.String(),
  team: Owner,
  integration: Owner,
  enabled: Type.Boolean(),
  disabledReason: Type.Union([Type.String(), Type.Null()], {
    description: 'Why Vigil (or someone) disabled it: a 410 from the receiver, a day of failures.',
  }),
  disabledAt: NullableDate,
  config: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Delivery = Type.Object({
  id: Type.String({ format: 'uuid' }),
  eventId: Type.String({ description: 'The webhook-id header of a webhook: the same on every attempt.' }),
  eventType: Type.String(),
  alertId: Type.String(),
  state: StringEnum(['pending', 'sending', 'sent', 'failed']),
  attempts: Type.Integer(),
  responseStatus: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The last HTTP status answered.',
  }),
  responseExcerpt: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  firstAttemptAt: NullableDate,
  nextAttemptAt: NullableDate,
  sentAt: NullableDate,
});

const TestResult = Type.Object({
  status: StringEnum(['sent', 'retry', 'failed', 'gone'], {
    description:
      'sent; retry (a failure a delivery would try again); failed; gone (the receiver says it is no more).',
  }),
  detail: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  responseStatus: Type.Optional(Type.Integer()),
  responseExcerpt: Type.Optional(Type.String()),
  disabled: Type.Boolean({
    description: 'The destination was disabled because the receiver said it is gone.',
  }),
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

const iso = (d: Date | null) => d?.toISOString() ?? null;

function present(view: DestinationView) {
  return {
    ...view,
    disabledAt: iso(view.disabledAt),
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
  };
}

function presentDelivery(view: DeliveryView) {
  return {
    ...view,
    createdAt: view.createdAt.toISOString(),
    firstAttemptAt: iso(view.firstAttemptAt),
    nextAttemptAt: iso(view.nextAttemptAt),
    sentAt: iso(view.sentAt),
  };
}

const CHANGES = 'Organization admins, and the admins of the team the destination belongs to.';

export function registerTeamDestinationRoutes(app: HttpApp, destinations: TeamDestinationsService): void {
  app.get(
    '/v2/destinations',
    {
      schema: {
        tags,
        summary: "The organization's team destinations (secrets masked)",
        response: { 200: Type.Object({ data: Type.Array(Destination), ...Envelope }) },
      },
    },
    async (request) => {
      const list = await destinations.list(principalOf(request));
      return envelope(request, { data: list.map(present) });
    },
  );

  app.post(
    '/v2/destinations',
    {
      schema: {
        tags,
        summary: "Add a destination for a team's (or an integration's) alert events",
        description: `${CHANGES} The answer shows the config in full, secrets included, this once.`,
        body: Type.Object(
          {
            name: Name,
            type: StringEnum(TEAM_DESTINATION_TYPES),
            team: Type.Optional(Ref),
            integration: Type.Optional(Ref),
            enabled: Type.Optional(Type.Boolean()),
            config: ConfigInput,
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ result: Type.String(), data: Destination, ...Envelope }),
          403: Problem,
          409: Problem,
          422: Problem,
        },
      },
    },
    async (request, reply) => {
      const view = await destinations.create(principalOf(request), request.body);
      return reply.status(201).send(envelope(request, { result: 'Created', data: present(view) }));
    },
  );

  app.get(
    '/v2/destinations/:id',
    {
      schema: {
        tags,
        summary: 'A destination (secrets masked)',
        params: IdParams,
        response: { 200: Type.Object({ data: Destination, ...Envelope }), 404: Problem },
      },
    },
    async (request) => {
      const view = await destinations.get(principalOf(request), request.params.id);
      return envelope(request, { data: present(view) });
    },
  );

  app.patch(
    '/v2/destinations/:id',
    {
      schema: {
        tags,
        summary: 'Change a destination; enabled: true enables it again (and clears why it was disabled)',
        description: `${CHANGES} A config replaces the stored one; a secret left out, or sent back masked as read, is kept. So are a webhook's header values while its url stays as it is; any other url (another path or query on the same host too) needs them given again (422 otherwise).`,
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            team: Type.Optional(Ref),
            integration: Type.Optional(Ref),
            enabled: Type.Optional(Type.Boolean()),
            config: Type.Optional(ConfigInput),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ result: Type.String(), data: Destination, ...Envelope }),
          403: Problem,
          404: Problem,
          409: Problem,
          422: Problem,
        },
      },
    },
    async (request) => {
      const view = await destinations.update(principalOf(request), request.params.id, request.body);
      return envelope(request, { result: 'Updated', data: present(view) });
    },
  );

  app.delete(
    '/v2/destinations/:id',
    {
      schema: {
        tags,
        summary: 'Delete a destination and its delivery log',
        description: CHANGES,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), 403: Problem, 404: Problem },
      },
    },
    async (request, reply) => {
      await destinations.remove(principalOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v2/destinations/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a test event to the destination now, and answer with what came of it',
        description: `${CHANGES} The event's type is \`test\`; it is not retried, and not in the delivery log.`,
        params: IdParams,
        response: { 200: Type.Object({ data: TestResult, ...Envelope }), 403: Problem, 404: Problem },
      },
    },
    async (request) => {
      const { result, disabled } = await destinations.test(principalOf(request), request.params.id);
      return envelope(request, {
        data: {
          status: result.status,
          ...(result.status === 'sent'
            ? result.detail
              ? { detail: result.detail }
              : {}
            : { error: result.error }),
          ...(result.response ? { responseStatus: result.response.status } : {}),
          ...(result.response?.excerpt ? { responseExcerpt: result.response.excerpt } : {}),
          disabled,
        },
      });
    },
  );

  app.get(
    '/v2/destinations/:id/deliveries',
    {
      schema: {
        tags,
        summary: "The destination's delivery log, newest first",
        description:
          "It names the alerts sent and quotes the answers: organization admins, users who see every alert (alerts-access-all) and those who may change the destination read it; others get a 403, as for an integration's payload log. An integration's key reads only those of its owner team's destinations it may change: another team's destination is a 404 to it, as when read.",
        params: IdParams,
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: MAX_DELIVERIES_PAGE, default: 20 }),
            offset: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(Delivery),
            paging: Type.Object({ next: Type.Optional(Type.String()) }),
            ...Envelope,
          }),
          403: Problem,
          404: Problem,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { limit, offset } = request.query;
      const list = await destinations.deliveries(principalOf(request), id, { limit, offset });
      const next =
        list.length === limit
          ? `/v2/destinations/${encodeURIComponent(id)}/deliveries?limit=${limit}&offset=${offset + limit}`
          : undefined;
      return envelope(request, { data: list.map(presentDelivery), paging: next ? { next } : {} });
    },
  );
}
