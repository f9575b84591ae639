import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { ALERT_LIMITS, fitActorText } from '../alerts/limits.js';
import { csv, PrioritySchema, stringifyDetails } from '../alerts/routes.js';
import type { Priority } from '../db/schema.js';
import { cursorQuery, logEntry, noteEntry, offsetPagingOf, pageOf, pagingOf } from '../http/cursor-paging.js';
import { AlertDetails, StringEnum } from '../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../http/server.js';
import { INCIDENT_SORT_COLUMNS, type IncidentSortField } from './repository.js';
import { presentIncident, type IncidentAction, type IncidentsService } from './service.js';

/** Opsgenie's Incident API: /v1/incidents. */

const Responder = Type.Object(
  {
    type: StringEnum(['team', 'user', 'escalation', 'schedule']),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  },
  { additionalProperties: true },
);

const Meta = {
  user: Type.Optional(
    Type.String({ maxLength: 1000, description: 'Display name of the person making the request' }),
  ),
  source: Type.Optional(Type.String({ maxLength: 1000 })),
  note: Type.Optional(Type.String({ maxLength: 25000, description: 'A note to add to the incident' })),
};

const CreateIncidentBody = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 15000 }),
    description: Type.Optional(Type.String({ maxLength: 15000 })),
    responders: Type.Optional(
      Type.Array(Responder, {
        maxItems: 50,
        description: "Teams and users (or escalations and schedules) to page through the incident's alert",
      }),
    ),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { maxItems: 200 })),
    // An alert's details, limits and all: they become its associated alert's.
    details: Type.Optional(AlertDetails),
    priority: Type.Optional(PrioritySchema),
    impactedServices: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        maxItems: 100,
        description: 'Service ids, kept and given back (Vigil has no services of its own)',
      }),
    ),
    statusPageEntry: Type.Optional(
      Type.Object(
        {
          title: Type.Optional(Type.String({ maxLength: 1000 })),
          detail: Type.Optional(Type.String({ maxLength: 15000 })),
        },
        { additionalProperties: false },
      ),
    ),
    notifyStakeholders: Type.Optional(Type.Boolean()),
    ...Meta,
  },
  { additionalProperties: true },
);

const IdentifierParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 512 }) });
const IdentifierType = StringEnum(['id', 'tiny'], { default: 'id' });
const IdentifierQuery = Type.Object({ identifierType: IdentifierType });
const ActionBody = Type.Object({ ...Meta }, { additionalProperties: true });
const Accepted = Type.Object({ result: Type.String(), took: Type.Number(), requestId: Type.String() });

/** Paging of notes and logs, as the Alert API's. */
const CursorQuery = cursorQuery(IdentifierType);

const AlertIdsQuery = Type.Object({
  identifierType: IdentifierType,
  offset: Type.Integer({ minimum: 0, maximum: 10000, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  order: StringEnum(['asc', 'desc'], { default: 'desc' }),
  direction: Type.Optional(StringEnum(['next', 'prev'])),
});

/** `publicUrl`: the base of the paging links when VIGIL_PUBLIC_URL is set, as in alerts/routes.ts. */
export function registerIncidentRoutes(app: HttpApp, incidents: IncidentsService, publicUrl?: string): void {
  const accepted = (request: FastifyRequest, reply: FastifyReply) =>
    reply.status(202).send(envelope(request, { result: 'Request will be processed' }));

  app.post(
    '/v1/incidents/create',
    {
      schema: {
        tags: ['incidents'],
        summary:
          'Create an incident: an alert carrying its message, priority, responders, tags and details is created with it, and pages its responders',
        body: CreateIncidentBody,
        response: { 202: Accepted },
      },
    },
    async (request, reply) => {
      const body = request.body;
      await incidents.create(principalOf(request), request.id, {
        ...body,
        user: fitActorText(body.user),
        source: fitActorText(body.source),
        details: stringifyDetails(body.details),
        priority: body.priority as Priority | undefined,
      });
      return accepted(request, reply);
    },
  );

  app.get(
    '/v1/incidents/requests/:requestId',
    {
      schema: {
        tags: ['incidents'],
        summary: 'The outcome of an earlier Incident API request, with the incident it made or acted on',
        params: Type.Object({ requestId: Type.String({ minLength: 1, maxLength: 100 }) }),
      },
    },
    async (request) => {
      const row = await incidents.requestStatus(principalOf(request), request.params.requestId);
      return envelope(request, {
        data: {
          success: row.success,
          action: row.action,
          processedAt: row.processed_at.toISOString(),
          integrationId: row.integration_id ?? '',
          isSuccess: row.success,
          status: row.status,
          incidentId: row.incident_id ?? '',
        },
      });
    },
  );

  const sortFields = Object.keys(INCIDENT_SORT_COLUMNS) as IncidentSortField[];
  app.get(
    '/v1/incidents',
    {
      schema: {
        tags: ['incidents'],
        summary: 'List incidents',
        description:
          'query: field:value terms (status (open, resolved, closed), priority, tag, message, description, tinyId, teams, details.<key>), free text, "quoted phrases", * wildcards, AND, OR, NOT and parentheses, as in the alert search. The key of an API integration lists only the incidents its team responds to.',
        querystring: Type.Object({
          query: Type.Optional(Type.String({ maxLength: 2000 })),
          offset: Type.Integer({ minimum: 0, default: 0 }),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          sort: Type.Union(
            sortFields.map((s) => Type.Literal(s)),
            { default: 'createdAt' },
          ),
          order: StringEnum(['asc', 'desc'], { default: 'desc' }),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await incidents.list(principalOf(request), {
        query: q.query,
        offset: q.offset,
        limit: q.limit,
        sort: q.sort as IncidentSortField,
        order: q.order,
      });
      return envelope(request, {
        data: rows.map(presentIncident),
        paging: offsetPagingOf(request, publicUrl, q, rows.length, { sort: q.sort, order: q.order }),
      });
    },
  );

  app.get(
    '/v1/incidents/:identifier',
    {
      schema: {
        tags: ['incidents'],
        summary: 'Get an incident by id or tiny id',
        params: IdentifierParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const incident = await incidents.get(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType,
      );
      return envelope(request, { data: presentIncident(incident) });
    },
  );

  /** The Opsgenie action endpoints: each accepts user, source and note, and answers 202. */
  function action<B extends ReturnType<typeof Type.Object>>(
    method: 'post' | 'put' | 'delete',
    path: string,
    summary: string,
    body: B | undefined,
    toAction: (body: Static<B>, query: Record<string, string | undefined>) => IncidentAction,
    extraQuery: Record<string, ReturnType<typeof Type.String>> = {},
  ) {
    app.route({
      method: method.toUpperCase() as 'POST' | 'PUT' | 'DELETE',
      url: `/v1/incidents/:identifier${path}`,
      schema: {
        tags: ['incidents'],
        summary,
        params: IdentifierParams,
        querystring: Type.Object({
          identifierType: IdentifierType,
          ...extraQuery,
          ...(method === 'delete' ? Meta : {}),
        }),
        ...(body ? { body } : {}),
        response: { 202: Accepted },
      },
      handler: async (request, reply) => {
        const query = request.query as Static<typeof ActionBody> & { identifierType: 'id' | 'tiny' };
        const b = (request.body ?? {}) as Static<B>;
        const meta = (method === 'delete' ? query : b) as Static<typeof ActionBody>;
        await incidents.act(
          principalOf(request),
          request.id,
          (request.params as { identifier: string }).identifier,
          query.identifierType,
          toAction(b, query as unknown as Record<string, string | undefined>),
          { user: fitActorText(meta.user), source: fitActorText(meta.source), note: meta.note },
        );
        return accepted(request, reply);
      },
    });
  }

  action('post', '/resolve', 'Resolve an incident: its open alerts are closed', ActionBody, () => ({
    kind: 'resolve',
  }));
  action('post', '/close', 'Close an incident: its open alerts are closed', ActionBody, () => ({
    kind: 'close',
  }));
  action(
    'post',
    '/reopen',
    'Reopen a resolved or closed incident: a new alert pages its responders again',
    ActionBody,
    () => ({ kind: 'reopen' }),
  );
  action(
    'post',
    '/notes',
    'Add a note to an incident',
    Type.Object(
      { note: Type.String({ minLength: 1, maxLength: 25000 }), user: Meta.user, source: Meta.source },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'addNote', note: b.note }),
  );
  // Opsgenie's Go SDK changes the priority with a PUT (its UpdatePriorityRequest), others with a POST.
  for (const method of ['post', 'put'] as const)
    action(
      method,
      '/priority',
      "Change an incident's priority, and that of its open alerts",
      Type.Object({ priority: PrioritySchema, ...Meta }, { additionalProperties: true }),
      (b) => ({ kind: 'priority', priority: b.priority as Priority }),
    );
  action(
    'post',
    '/responders',
    'Add a responder (a team or user, or an escalation or schedule) to an incident: it is added to its open alerts, which page it',
    Type.Object(
      {
        // One responder, or (as Opsgenie's Go SDK sends it, in its AddResponderRequest) a list of them.
        responder: Type.Optional(
          Type.Union([Responder, Type.Array(Responder, { minItems: 1, maxItems: 50 })]),
        ),
        responders: Type.Optional(Type.Array(Responder, { minItems: 1, maxItems: 50 })),
        ...Meta,
      },
      { additionalProperties: true },
    ),
    (b) => ({
      kind: 'addResponders',
      responders: [b.responder ?? [], b.responders ?? []].flat(),
    }),
  );
  // Opsgenie's Go SDK (AddTags, RemoveTags, AddDetails, RemoveDetails, UpdateMessage, UpdateDescription):
  // each change is the incident's and its open alerts', within an alert's limits.
  action(
    'post',
    '/tags',
    "Add tags to an incident, and to its open alerts (an alert's limits: 20 tags of 50 characters)",
    Type.Object(
      {
        tags: Type.Array(Type.String({ minLength: 1, maxLength: ALERT_LIMITS.tag }), {
          minItems: 1,
          maxItems: ALERT_LIMITS.tags,
        }),
        ...Meta,
      },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'addTags', tags: b.tags }),
  );
  action(
    'delete',
    '/tags',
    'Remove tags (tags=a,b) from an incident, and from its open alerts',
    undefined,
    (_b, q) => ({ kind: 'removeTags', tags: csv(q.tags) }),
    { tags: Type.String({ minLength: 1, maxLength: 2000 }) },
  );
  action(
    'post',
    '/details',
    "Add details (custom properties) to an incident, and to its open alerts (an alert's limits)",
    Type.Object({ details: AlertDetails, ...Meta }, { additionalProperties: true }),
    (b) => ({ kind: 'addDetails', details: stringifyDetails(b.details) ?? {} }),
  );
  action(
    'delete',
    '/details',
    'Remove details (keys=a,b) from an incident, and from its open alerts',
    undefined,
    (_b, q) => ({ kind: 'removeDetails', keys: csv(q.keys) }),
    { keys: Type.String({ minLength: 1, maxLength: 4000 }) },
  );
  action(
    'post',
    '/message',
    "Change an incident's message, and that of its open alerts (130 characters at most, as an alert's)",
    Type.Object(
      { message: Type.String({ minLength: 1, maxLength: ALERT_LIMITS.message }), ...Meta },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'message', message: b.message }),
  );
  action(
    'post',
    '/description',
    "Change an incident's description, and that of its open alerts",
    Type.Object({ description: Type.String({ maxLength: 15000 }), ...Meta }, { additionalProperties: true }),
    (b) => ({ kind: 'description', description: b.description }),
  );
  action('delete', '', 'Delete an incident (its alerts stay, as alerts of their own)', undefined, () => ({
    kind: 'delete',
  }));

  app.get(
    '/v1/incidents/:identifier/notes',
    {
      schema: {
        tags: ['incidents'],
        summary: "An incident's notes",
        params: IdentifierParams,
        querystring: CursorQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await incidents.notes(
        principalOf(request),
        request.params.identifier,
        q.identifierType,
        pageOf(q),
      );
      return envelope(request, {
        data: rows.map(noteEntry),
        paging: pagingOf(rows, q, request, publicUrl),
      });
    },
  );

  app.get(
    '/v1/incidents/:identifier/logs',
    {
      schema: {
        tags: ['incidents'],
        summary: "An incident's log: every change, who made it, and when",
        params: IdentifierParams,
        querystring: CursorQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await incidents.logs(
        principalOf(request),
        request.params.identifier,
        q.identifierType,
        pageOf(q),
      );
      return envelope(request, {
        data: rows.map(logEntry),
        paging: pagingOf(rows, q, request, publicUrl),
      });
    },
  );

  for (const [path, summary] of [
    [
      '/associated-alert-ids',
      "The ids of an incident's alerts: the one it was created with and one per reopening, newest first",
    ],
    [
      '/responder-alert-ids',
      "The ids of the alerts that page an incident's responders: in Vigil, its associated alerts",
    ],
  ] as const) {
    app.get(
      `/v1/incidents/:identifier${path}`,
      { schema: { tags: ['incidents'], summary, params: IdentifierParams, querystring: AlertIdsQuery } },
      async (request) => {
        const q = request.query;
        const ids = await incidents.alertIds(
          principalOf(request),
          request.params.identifier,
          q.identifierType,
          {
            offset: q.offset,
            limit: q.limit,
            order: q.order,
          },
        );
        return envelope(request, { data: ids });
      },
    );
  }
}
