import { AlertDetails, StringEnum } from '../http/schemas.js';
import { Type, type Static } from 'typebox';
import type { AlertsService, ActionMeta, AlertAction } from './service.js';
import { cursorQuery, logEntry, noteEntry, offsetPagingOf, pageOf, pagingOf } from '../http/cursor-paging.js';
import { envelope, principalOf, type HttpApp } from '../http/server.js';
import { alertDetail, alertSummary } from './present.js';
import { SORT_COLUMNS, type SortField } from './repository.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Priority } from '../db/schema.js';
import { DESCRIPTION_ACCEPTED, fitActorText } from './limits.js';
import { MAX_COUNTED_UNINDEXED_TERMS } from './query.js';

export const PrioritySchema = StringEnum(['P1', 'P2', 'P3', 'P4', 'P5']);

const Responder = Type.Object(
  {
    type: StringEnum(['team', 'user', 'escalation', 'schedule']),
    id: Type.Optional(Type.String({ maxLength: 512 })),
    name: Type.Optional(Type.String({ maxLength: 512 })),
    username: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: true },
);

/** Who an alert is visible to: Opsgenie takes teams and users only (an escalation or schedule sees nothing). */
const VisibleTo = Type.Object(
  {
    type: StringEnum(['team', 'user']),
    id: Type.Optional(Type.String({ maxLength: 512 })),
    name: Type.Optional(Type.String({ maxLength: 512 })),
    username: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: true },
);

/** What every action accepts besides its own fields (the bulk actions too: bulk/routes.ts). */
export const Meta = {
  // Opsgenie allows 100 characters for both; longer ones are cut rather than refused (limits.ts).
  user: Type.Optional(
    Type.String({ maxLength: 1000, description: 'Display name of the person making the request' }),
  ),
  source: Type.Optional(Type.String({ maxLength: 1000 })),
  note: Type.Optional(Type.String({ maxLength: 25000 })),
};

export const CreateAlertBody = Type.Object(
  {
    // Over Opsgenie's limits (130; 20 tags and 10 actions of 50) the alert is kept and cut (limits.ts).
    message: Type.String({ minLength: 1, maxLength: 15000 }),
    alias: Type.Optional(Type.String({ maxLength: 512 })),
    // Over Opsgenie's 15,000 it is kept and cut too: as long as a request body carries is taken.
    description: Type.Optional(
      Type.String({
        maxLength: DESCRIPTION_ACCEPTED,
        description: 'Cut to 15,000 characters (the alert log says so) when longer',
      }),
    ),
    responders: Type.Optional(Type.Array(Responder, { maxItems: 50 })),
    visibleTo: Type.Optional(Type.Array(VisibleTo, { maxItems: 50 })),
    // A blank tag or action is left out, not refused (nonBlank): a templated sender sends one for a field
    // left unset (Zabbix's Opsgenie media type splits an empty list of tags into [""]).
    actions: Type.Optional(Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 100 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 200 })),
    details: Type.Optional(AlertDetails),
    entity: Type.Optional(Type.String({ maxLength: 512 })),
    priority: Type.Optional(PrioritySchema),
    ...Meta,
  },
  { additionalProperties: true },
);

const IdentifierParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 512 }) });
const IdentifierQuery = Type.Object({
  identifierType: StringEnum(['id', 'tiny', 'alias'], {
    default: 'id',
  }),
});
const ActionBody = Type.Object({ ...Meta }, { additionalProperties: true });

const Accepted = Type.Object({ result: Type.String(), took: Type.Number(), requestId: Type.String() });

const CursorQuery = cursorQuery(StringEnum(['id', 'tiny', 'alias'], { default: 'id' }));

export function toMetaBody(body: Static<typeof ActionBody> | undefined): ActionMeta {
  return { user: fitActorText(body?.user), source: fitActorText(body?.source), note: body?.note };
}

/** Details as Opsgenie clients send them (numbers and booleans too), as the strings Vigil keeps. */
export function stringifyDetails(
  details: Record<string, string | number | boolean> | undefined,
): Record<string, string> | undefined {
  if (!details) return undefined;
  return Object.fromEntries(Object.entries(details).map(([k, v]) => [k, String(v)]));
}

/** The tags or actions of a create without the blank ones (empty or only white space). */
export function nonBlank(list: string[] | undefined): string[] | undefined {
  return list?.filter((v) => v.trim() !== '');
}

/** The lists of an Alert API body whose null entries are left out, as the body's null fields are. */
const LISTS_WITHOUT_NULLS = new Set(['tags', 'actions', 'responders', 'visibleTo']);

/**
 * Before validation: a body's optional fields that are null are taken as not given (Sentry's Opsgenie
 * client sends `"priority": null`), and so are the null entries of its lists. Validation would otherwise
 * coerce null to "" (or [null]) and refuse it, losing the alert. A required field is left to validation
 * as it was: null coerced to "" (a description cleared by `{"description": null}`, a note refused).
 */
export function dropNulls(body: { required?: readonly string[] }) {
  const required = new Set(body.required ?? []);
  return async (request: FastifyRequest): Promise<void> => {
    const given = request.body;
    if (typeof given !== 'object' || given === null || Array.isArray(given)) return;
    const fields = given as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields)) {
      if (value === null && !required.has(key)) delete fields[key];
      else if (Array.isArray(value) && LISTS_WITHOUT_NULLS.has(key))
        fields[key] = value.filter((v) => v !== null);
    }
  };
}

/** A saved search for the list and count to run, by id or name (saved-searches/). */
const SearchQuery = {
  searchIdentifier: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  // Optional rather than defaulted, so clients that never name a saved search need not send it.
  searchIdentifierType: Type.Optional(
    StringEnum(['id', 'name'], { description: 'id (the default) or name' }),
  ),
};

function searchOf(q: { searchIdentifier?: string; searchIdentifierType?: 'id' | 'name' }) {
  return q.searchIdentifier === undefined
    ? undefined
    : { identifier: q.searchIdentifier, type: q.searchIdentifierType ?? 'id' };
}

/** The most queries one GET /v2/alerts/counts counts: each is a condition on every alert of the scan. */
export const MAX_COUNTED_QUERIES = 10;

/** `tags=a,b` and `keys=a,b` of the DELETE actions. */
export function csv(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * `publicUrl` is the base of the paging links when VIGIL_PUBLIC_URL is set; without it they point where
 * each request was sent.
 */
export function registerAlertRoutes(app: HttpApp, alerts: AlertsService, publicUrl?: string): void {
  const accepted = (request: FastifyRequest, reply: FastifyReply) =>
    reply.status(202).send(envelope(request, { result: 'Request will be processed' }));

  app.post(
    '/v2/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Create an alert (or count one more occurrence of the open alert with the same alias)',
        body: CreateAlertBody,
        response: { 202: Accepted },
      },
      preValidation: dropNulls(CreateAlertBody),
    },
    async (request, reply) => {
      const p = principalOf(request);
      const body = request.body;
      const tags = nonBlank(body.tags);
      const actions = nonBlank(body.actions);
      await alerts.createRequested(
        p,
        request.id,
        {
          ...body,
          ...(tags ? { tags } : {}),
          ...(actions ? { actions } : {}),
          ...(body.user !== undefined ? { user: fitActorText(body.user) } : {}),
          details: stringifyDetails(body.details),
          priority: body.priority as Priority | undefined,
        },
        {
          defaultSource: request.ip,
          ...(p.integration
            ? { integration: { id: p.integration.id, name: p.integration.name, type: p.integration.type } }
            : {}),
        },
      );
      return accepted(request, reply);
    },
  );

  app.get(
    '/v2/alerts/requests/:requestId',
    {
      schema: {
        tags: ['alerts'],
        summary: 'The outcome of an earlier request',
        params: Type.Object({ requestId: Type.String({ minLength: 1, maxLength: 100 }) }),
      },
    },
    async (request) => {
      const row = await alerts.requestStatus(principalOf(request), request.params.requestId);
      return envelope(request, {
        data: {
          success: row.success,
          action: row.action,
          processedAt: row.processed_at.toISOString(),
          integrationId: row.integration_id ?? '',
          isSuccess: row.success,
          status: row.status,
          alertId: row.alert_id ?? '',
          alias: row.alias ?? '',
        },
      });
    },
  );

  app.get(
    '/v2/alerts/count',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Count the alerts matching a query',
        querystring: Type.Object({ query: Type.Optional(Type.String({ maxLength: 2000 })), ...SearchQuery }),
      },
    },
    async (request) => {
      const count = await alerts.count(principalOf(request), request.query.query, searchOf(request.query));
      return envelope(request, { data: { count } });
    },
  );

  app.get(
    '/v2/alerts/counts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Count the alerts matching each of several queries, in one request (a Vigil extension)',
        description: `query, repeated (1 to ${MAX_COUNTED_QUERIES} times; empty for every alert): each is counted as GET /v2/alerts/count counts it, AND-ed with the saved search when searchIdentifier names one; the answer has one count per query, in their order, from one scan of the alerts. Together the queries have at most ${MAX_COUNTED_UNINDEXED_TERMS} terms no index serves (free text, wildcards, message/description, details, source and the like: see the search docs; 422 beyond); with a saved search each query also counts the saved search's, and the limit grows by five times the saved search's own.`,
        querystring: Type.Object({
          query: Type.Array(Type.String({ maxLength: 2000 }), { minItems: 1, maxItems: MAX_COUNTED_QUERIES }),
          ...SearchQuery,
        }),
        response: {
          200: Type.Object({
            data: Type.Array(Type.Object({ query: Type.String(), count: Type.Integer() })),
            took: Type.Number(),
            requestId: Type.String(),
          }),
        },
      },
    },
    async (request) => {
      const queries = request.query.query;
      const counts = await alerts.countEach(principalOf(request), queries, searchOf(request.query));
      return envelope(request, { data: queries.map((query, i) => ({ query, count: counts[i] ?? 0 })) });
    },
  );

  const sortFields = Object.keys(SORT_COLUMNS) as SortField[];
  app.get(
    '/v2/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'List alerts',
        description:
          'query: field:value terms (status, acknowledged, snoozed, isSeen, priority, tag, alias, message, description, source, owner, entity, teams, tinyId, count, integration.name, integration.type, details.<key>), free text, "quoted phrases", * wildcards, AND, OR, NOT and parentheses. searchIdentifier (with searchIdentifierType id or name) runs a saved search, AND-ed with query when both are given. The key of an API integration lists only the alerts of its team.',
        querystring: Type.Object({
          query: Type.Optional(Type.String({ maxLength: 2000 })),
          offset: Type.Integer({ minimum: 0, default: 0 }),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          sort: Type.Union(
            sortFields.map((s) => Type.Literal(s)),
            { default: 'createdAt' },
          ),
          order: StringEnum(['asc', 'desc'], { default: 'desc' }),
          ...SearchQuery,
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await alerts.list(principalOf(request), {
        query: q.query,
        search: searchOf(q),
        offset: q.offset,
        limit: q.limit,
        sort: q.sort as SortField,
        order: q.order,
      });
      return envelope(request, {
        data: rows.map(alertSummary),
        paging: offsetPagingOf(request, publicUrl, q, rows.length, {
          ...(q.searchIdentifier !== undefined
            ? { searchIdentifierType: q.searchIdentifierType ?? 'id' }
            : {}),
          sort: q.sort,
          order: q.order,
        }),
      });
    },
  );

  app.get(
    '/v2/alerts/:identifier',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Get an alert by id, tiny id or alias',
        params: IdentifierParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const alert = await alerts.get(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType,
      );
      return envelope(request, { data: alertDetail(alert) });
    },
  );

  /** The Opsgenie action endpoints: each accepts user, source and note, and answers 202. */
  function action<B extends ReturnType<typeof Type.Object>>(
    method: 'post' | 'put' | 'delete',
    path: string,
    summary: string,
    body: B | undefined,
    toAction: (
      body: Static<B>,
      query: Record<string, string | undefined>,
      params: Record<string, string>,
    ) => AlertAction,
    extraQuery: Record<string, ReturnType<typeof Type.String>> = {},
    extraParams: Record<string, ReturnType<typeof Type.String>> = {},
  ) {
    const querystring = Type.Object({
      ...IdentifierQuery.properties,
      ...extraQuery,
      ...(method === 'delete' ? Meta : {}),
    });
    app.route({
      method: method.toUpperCase() as 'POST',
      url: `/v2/alerts/:identifier${path}`,
      schema: {
        tags: ['alerts'],
        summary,
        params: Type.Object({ ...IdentifierParams.properties, ...extraParams }),
        querystring,
        ...(body ? { body } : {}),
        response: { 202: Accepted },
      },
      ...(body ? { preValidation: dropNulls(body) } : {}),
      handler: async (request, reply) => {
        const query = request.query as Record<string, string | undefined> & {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        const b = (request.body ?? {}) as Static<B>;
        const meta =
          method === 'delete' ? toMetaBody(query as ActionMeta) : toMetaBody(b as Static<typeof ActionBody>);
        await alerts.act(
          principalOf(request),
          request.id,
          (request.params as { identifier: string }).identifier,
          query.identifierType,
          toAction(b, query, request.params as Record<string, string>),
          meta,
        );
        return accepted(request, reply);
      },
    });
  }

  action('post', '/acknowledge', 'Acknowledge an alert', ActionBody, () => ({ kind: 'acknowledge' }));
  action('post', '/unacknowledge', 'Unacknowledge an alert', ActionBody, () => ({ kind: 'unacknowledge' }));
  action('post', '/close', 'Close an alert', ActionBody, () => ({ kind: 'close' }));
  action(
    'post',
    '/actions/:action',
    "Run one of the alert's custom actions: it goes on the alert's log and to the team's webhooks as custom_action",
    ActionBody,
    (_b, _q, params) => ({ kind: 'customAction', action: params.action ?? '' }),
    {},
    { action: Type.String({ minLength: 1, maxLength: 1000 }) },
  );
  action(
    'post',
    '/escalate',
    'Move the alert to the next rule of its escalation now (of the policy given, or of every policy it is on)',
    Type.Object(
      {
        escalation: Type.Optional(
          Type.Object({
            id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          }),
        ),
        ...Meta,
      },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'escalate', ...(b.escalation ? { escalation: b.escalation } : {}) }),
  );
  action(
    'post',
    '/snooze',
    'Snooze an alert until a time',
    Type.Object({ endTime: Type.String({ format: 'date-time' }), ...Meta }, { additionalProperties: true }),
    (b) => ({ kind: 'snooze', endTime: new Date(b.endTime) }),
  );
  action(
    'post',
    '/notes',
    'Add a note',
    Type.Object(
      { note: Type.String({ minLength: 1, maxLength: 25000 }), user: Meta.user, source: Meta.source },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'addNote', note: b.note }),
  );
  action(
    'post',
    '/tags',
    'Add tags',
    Type.Object(
      {
        tags: Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { minItems: 1, maxItems: 20 }),
        ...Meta,
      },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'addTags', tags: b.tags }),
  );
  action(
    'delete',
    '/tags',
    'Remove tags (tags=a,b)',
    undefined,
    (_b, q) => ({ kind: 'removeTags', tags: csv(q.tags) }),
    {
      tags: Type.String({ minLength: 1, maxLength: 2000 }),
    },
  );
  action(
    'post',
    '/details',
    'Add details (custom properties)',
    Type.Object({ details: AlertDetails, ...Meta }, { additionalProperties: true }),
    (b) => ({ kind: 'addDetails', details: stringifyDetails(b.details) ?? {} }),
  );
  action(
    'delete',
    '/details',
    'Remove details (keys=a,b)',
    undefined,
    (_b, q) => ({ kind: 'removeDetails', keys: csv(q.keys) }),
    {
      keys: Type.String({ minLength: 1, maxLength: 4000 }),
    },
  );
  action(
    'put',
    '/priority',
    'Change the priority',
    Type.Object({ priority: PrioritySchema, ...Meta }, { additionalProperties: true }),
    (b) => ({ kind: 'priority', priority: b.priority as Priority }),
  );
  action(
    'put',
    '/message',
    'Change the message',
    Type.Object(
      { message: Type.String({ minLength: 1, maxLength: 130 }), ...Meta },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'message', message: b.message }),
  );
  action(
    'put',
    '/description',
    'Change the description',
    Type.Object(
      {
        description: Type.String({
          maxLength: DESCRIPTION_ACCEPTED,
          description: 'Cut to 15,000 characters (the alert log and request status say so) when longer',
        }),
        ...Meta,
      },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'description', description: b.description }),
  );
  action(
    'post',
    '/assign',
    'Assign an owner',
    Type.Object(
      {
        owner: Type.Object({ id: Type.Optional(Type.String()), username: Type.Optional(Type.String()) }),
        ...Meta,
      },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'assign', owner: b.owner }),
  );
  action(
    'post',
    '/responders',
    'Add a responder (a team, user, escalation or schedule): it is paged as if the alert had been created with it',
    Type.Object({ responder: Responder, ...Meta }, { additionalProperties: true }),
    (b) => ({ kind: 'addResponder', responder: b.responder }),
  );
  action(
    'post',
    '/teams',
    "Add a team: it becomes a responder (its routing rules page its people) and the alert is the team's",
    Type.Object(
      {
        team: Type.Object(
          {
            id: Type.Optional(Type.String({ maxLength: 512 })),
            name: Type.Optional(Type.String({ maxLength: 512 })),
          },
          { additionalProperties: true },
        ),
        ...Meta,
      },
      { additionalProperties: true },
    ),
    (b) => ({ kind: 'addTeam', team: { id: b.team.id, name: b.team.name } }),
  );
  action('delete', '', 'Delete an alert', undefined, () => ({ kind: 'delete' }));

  app.get(
    '/v2/alerts/:identifier/notes',
    {
      schema: {
        tags: ['alerts'],
        summary: "An alert's notes",
        params: IdentifierParams,
        querystring: CursorQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await alerts.notes(
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
    '/v2/alerts/:identifier/recipients',
    {
      schema: {
        tags: ['alerts'],
        summary:
          'The people the alert reached: each paged person, by the channel of their last page, and whether they acknowledged or closed it',
        params: IdentifierParams,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const data = await alerts.recipients(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType,
      );
      return envelope(request, { data });
    },
  );

  app.get(
    '/v2/alerts/:identifier/logs',
    {
      schema: {
        tags: ['alerts'],
        summary: "An alert's activity log: every change, who or what made it, and when",
        params: IdentifierParams,
        querystring: CursorQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await alerts.logs(
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
}
