import { Type, type Static } from 'typebox';
import { StringEnum } from '../../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import {
  MAX_REPEAT_COUNT,
  MAX_RULES,
  MAX_WAIT_INTERVAL_MINUTES,
  type EscalationChanges,
  type EscalationsService,
  type RepeatInput,
} from './service.js';

/** Opsgenie's Escalation API: /v2/escalations. */

const TeamRef = Type.Object(
  { id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

const Recipient = Type.Object(
  {
    type: StringEnum(['user', 'schedule', 'team']),
    id: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
  },
  {
    additionalProperties: false,
    description: 'A user by id or username; a schedule or a team by id or name.',
  },
);

const Rule = Type.Object(
  {
    condition: StringEnum(['if-not-acked', 'if-not-closed']),
    notifyType: StringEnum(['default', 'next', 'previous', 'users', 'admins', 'all'], {
      description:
        "user: default. schedule: default (on call), next, previous. team: default (whom the team's routing rules choose for the alert), all or users (every member), admins (team admins).",
    }),
    delay: Type.Object(
      {
        timeAmount: Type.Integer({ minimum: 0 }),
        timeUnit: Type.Optional(StringEnum(['minutes', 'hours', 'days'])),
      },
      {
        additionalProperties: false,
        description:
          'After the start of the escalation (not after the previous rule), at most 7 days; rules must not go back in time.',
      },
    ),
    recipient: Recipient,
  },
  { additionalProperties: false },
);

const Repeat = Type.Object(
  {
    waitInterval: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WAIT_INTERVAL_MINUTES,
        description: 'Minutes after the last rule before the policy starts again (0 when left out).',
      }),
    ),
    count: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_REPEAT_COUNT,
        description: 'How many more times it runs (0 when left out).',
      }),
    ),
    resetRecipientStates: Type.Optional(Type.Boolean()),
    closeAlertAfterAll: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    description:
      '{} is no repeat: the Go SDK (so Terraform) always sends repeat, {} when none is configured.',
  },
);
type RepeatBody = Static<typeof Repeat>;

/**
 * The Go SDK's RepeatRequest leaves out a zero count or waitInterval (omitempty) and is sent as {} when
 * Terraform configures no repeat: an empty object is no repeat, a missing number is 0.
 */
function repeatInput(body: RepeatBody): RepeatInput | null {
  if (Object.keys(body).length === 0) return null;
  return { ...body, waitInterval: body.waitInterval ?? 0, count: body.count ?? 0 };
}

/** An update's changes as the service takes them: a repeat left out stays as it is, null or {} removes it. */
function changesInput(body: Static<typeof UpdateBody>): EscalationChanges {
  const { repeat, ...changes } = body;
  if (repeat === undefined) return changes;
  return { ...changes, repeat: repeat === null ? null : repeatInput(repeat) };
}

const name = Type.String({ minLength: 1, maxLength: 100 });
const description = Type.String({ maxLength: 1000 });
const Rules = Type.Array(Rule, { maxItems: MAX_RULES });

const CreateBody = Type.Object(
  {
    name,
    description: Type.Optional(description),
    ownerTeam: Type.Optional(TeamRef),
    rules: Rules,
    repeat: Type.Optional(Repeat),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(name),
    description: Type.Optional(description),
    ownerTeam: Type.Optional(Type.Union([TeamRef, Type.Null()])),
    rules: Type.Optional(Rules),
    repeat: Type.Optional(Type.Union([Repeat, Type.Null()])),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 200 }) });
const IdentifierQuery = Type.Object({ identifierType: StringEnum(['id', 'name'], { default: 'id' }) });

export function registerEscalationRoutes(app: HttpApp, escalations: EscalationsService): void {
  app.post(
    '/v2/escalations',
    { schema: { tags: ['escalations'], summary: 'Create an escalation policy', body: CreateBody } },
    async (request, reply) => {
      const { repeat, ...body } = request.body;
      const given = repeat === undefined ? null : repeatInput(repeat);
      const created = await escalations.create(principalOf(request), {
        ...body,
        ...(given ? { repeat: given } : {}),
      });
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: { id: created.id, name: created.name } }));
    },
  );

  app.get(
    '/v2/escalations',
    { schema: { tags: ['escalations'], summary: 'List escalation policies' } },
    async (request) => envelope(request, { data: await escalations.list(principalOf(request)) }),
  );

  app.get(
    '/v2/users/:identifier/escalations',
    {
      schema: {
        tags: ['escalations'],
        summary: 'The escalation policies that notify a user (id or username) in one of their rules',
        params: Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (request) =>
      envelope(request, { data: await escalations.ofUser(principalOf(request), request.params.identifier) }),
  );

  app.get(
    '/v2/escalations/:identifier',
    {
      schema: {
        tags: ['escalations'],
        summary: 'Get an escalation policy by id or name',
        params: Params,
        querystring: IdentifierQuery,
      },
    },
    async (request) =>
      envelope(request, {
        data: await escalations.get(
          principalOf(request),
          request.params.identifier,
          request.query.identifierType,
        ),
      }),
  );

  app.patch(
    '/v2/escalations/:identifier',
    {
      schema: {
        tags: ['escalations'],
        summary: 'Update an escalation policy (rules, when given, replace the current ones)',
        params: Params,
        querystring: IdentifierQuery,
        body: UpdateBody,
      },
    },
    async (request) => {
      const updated = await escalations.update(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType,
        changesInput(request.body),
      );
      return envelope(request, { result: 'Updated', data: { id: updated.id, name: updated.name } });
    },
  );

  app.delete(
    '/v2/escalations/:identifier',
    {
      schema: {
        tags: ['escalations'],
        summary: 'Delete an escalation policy (refused while a routing rule uses it)',
        params: Params,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      await escalations.delete(principalOf(request), request.params.identifier, request.query.identifierType);
      return envelope(request, { result: 'Deleted' });
    },
  );
}
