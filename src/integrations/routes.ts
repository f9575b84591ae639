import { Type } from 'typebox';
import { keyFromAuthorization } from '../accounts/apikeys.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IncomingHttpHeaders } from 'node:http';
import { requireOrgAdmin } from '../accounts/service.js';
import { invalidField } from '../errors.js';
import type { Config } from '../config.js';
import { envelope, principalOf, type HttpApp } from '../http/server.js';
import { StringEnum } from '../http/schemas.js';
import { httpAnswerOf } from './http-answer.js';
import {
  HEADER_LIMITS,
  MAX_URL_LENGTH,
  withoutReservedHeaders,
} from '../notify/team-destinations/webhook.js';
import type { IntegrationWithTeams, PayloadRow } from './repository.js';
import type { SecurityHubIntake } from './securityhub/intake.js';
import type { Writeback } from './securityhub/writeback/writeback.js';
import { UNKNOWN_KEY_OUTCOME } from './securityhub/outcome.js';
import {
  endpointUrl,
  MASKED_HEADER,
  SECURITY_HUB_INTAKE_PATH,
  seesHeaderValues,
  type IntegrationsService,
  type SettingsGiven,
} from './service.js';
import {
  API_ACCESS_FLAGS,
  API_DEFAULTS,
  apiSettings,
  EMAIL_USERNAME_PATTERN,
  emailUsernameOf,
  webhookAllowWriteAccess,
  webhookSettings,
  WEBHOOK_ALLOW_WRITE_ACCESS_DEFAULT,
  INTEGRATION_TYPES,
  OPSGENIE_TYPE_MAX_LENGTH,
  OPSGENIE_TYPE_PATTERN,
  OPSGENIE_TYPES,
  typeNameOf,
  type ApiAccessFlag,
  SECURITY_HUB_EVENT_TYPES,
  SEVERITY_LABELS,
  securityHubEventPattern,
  securityHubSettings,
  SUPPRESS_NOTIFICATIONS,
  suppressesNotifications,
} from './types.js';

const TeamRef = Type.Object({ id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) });

/** An integration's type: one of Vigil's, or any other of Opsgenie's names (an API integration). */
const TypeName = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: OPSGENIE_TYPE_MAX_LENGTH,
    pattern: OPSGENIE_TYPE_PATTERN,
    description:
      `One of Vigil's types, ${INTEGRATION_TYPES.join(', ')}. ${OPSGENIE_TYPES} ${description}`.trim(),
  });

/**
 * Opsgenie's responders of an integration, as its Go SDK sends them (Terraform's opsgenie_api_integration
 * `responders`). Vigil's integrations have none of their own (their create actions do): on create without
 * ownerTeam, the one team they name owns the integration; otherwise they are not kept. Null as not given.
 */
const Responders = Type.Unsafe<{ type: string; id?: string; name?: string; username?: string }[] | null>({
  type: 'array',
  nullable: true,
  maxItems: 50,
  items: Type.Object({
    type: Type.String({ maxLength: 50 }),
    id: Type.Optional(Type.String({ maxLength: 200 })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    username: Type.Optional(Type.String({ maxLength: 200 })),
  }),
  description:
    "Opsgenie's responders of the integration (what Terraform's opsgenie_api_integration and Opsgenie's Go SDK send). Used only when ownerTeam is not given: the one team they name (by id or name) then owns the integration; they are not kept (set responders on the integration's create actions).",
});

/**
 * What a field of another type given empty means (Opsgenie's Go SDK sends every type's fields, empty when
 * not the integration's own): nothing (service.ts, settingsOf).
 */
const EMPTY_OF_OTHER_TYPE =
  'Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie\'s Go SDK and Terraform provider send it: then it counts as not given.';

/**
 * A boolean or null, null left as it is. Not a union with Type.Null(): the server's Ajv coerces types
 * (coerceTypes), and its first branch, boolean, would turn null into false and so into a value given.
 */
const NullableBoolean = (description: string) =>
  Type.Unsafe<boolean | null>({ type: 'boolean', nullable: true, description });

/** Settings accepted on create and update, flattened into the body as BRIEF.md documents them. */
const SettingsFields = {
  // Every type.
  suppressNotifications: Type.Optional(Type.Boolean({ description: SUPPRESS_NOTIFICATIONS })),
  // AmazonSecurityHub only: any other type refuses them with a 422 naming the field (requireOwnFields).
  verifySignatures: Type.Optional(Type.Boolean()),
  allowedTopicArns: Type.Optional(
    Type.Array(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        pattern: '^(\\*|arn:aws[\\w-]*:sns:[\\w-]+:\\d{12}:[\\w-]{1,256})$',
      }),
      {
        maxItems: 100,
      },
    ),
  ),
  eventTypes: Type.Optional(Type.Array(StringEnum(SECURITY_HUB_EVENT_TYPES), { minItems: 1, maxItems: 4 })),
  minimumSeverity: Type.Optional(StringEnum(SEVERITY_LABELS)),
  autoClose: Type.Optional(
    Type.Object(
      {
        resolved: Type.Optional(Type.Boolean()),
        suppressed: Type.Optional(Type.Boolean()),
        archived: Type.Optional(Type.Boolean()),
        passed: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  ),
  alertOnHandledFindings: Type.Optional(Type.Boolean()),
  sendUpdatesBack: Type.Optional(Type.Boolean()),
  roleArn: Type.Optional(Type.String({ maxLength: 2048 })),
  region: Type.Optional(Type.String({ pattern: '^[a-z]{2}(-gov)?-[a-z]+-\\d$' })),
  // Type Email only (any other type refuses it with a 422, unless empty).
  emailUsername: Type.Optional(
    // The pattern first: a value that matches neither is answered with the pattern's error.
    Type.Union([Type.String({ pattern: EMAIL_USERNAME_PATTERN }), Type.Literal('')], {
      description: `Email integrations only, and required for them: the local part of the address the integration receives mail at (emailUsername@VIGIL_INBOUND_EMAIL_DOMAIN): 1 to 64 lower-case letters, digits, dots (never two in a row), underscores and hyphens, starting and ending with a letter or digit; one per Vigil instance (409 when taken). ${EMPTY_OF_OTHER_TYPE}`,
    }),
  ),
  // Type Webhook only (any other type refuses them with a 422, unless empty).
  webhookUrl: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: MAX_URL_LENGTH,
      description:
        "Webhook integrations only, and required for them: where the alert activity of the integration's team is POSTed, as a signed team webhook is (https, and no private addresses unless an operator allows the host with VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS).",
    }),
  ),
  url: Type.Optional(
    Type.String({
      maxLength: MAX_URL_LENGTH,
      description: `Webhook integrations only: another name for webhookUrl, the one Opsgenie's Go SDK and Terraform provider use ("" counts as not given). Given with a different webhookUrl, the one equal to the URL now is taken as read back and the other as the change; a 422 when neither is. ${EMPTY_OF_OTHER_TYPE}`,
    }),
  ),
  addAlertDescription: Type.Optional(
    NullableBoolean(
      `Webhook integrations only: send the alert's description (default true; null counts as not given). ${EMPTY_OF_OTHER_TYPE}`,
    ),
  ),
  addAlertDetails: Type.Optional(
    NullableBoolean(
      `Webhook integrations only: send the alert's details (default true; null counts as not given). ${EMPTY_OF_OTHER_TYPE}`,
    ),
  ),
  headers: Type.Optional(
    Type.Union(
      [
        Type.Record(
          Type.String({ maxLength: HEADER_LIMITS.nameLength }),
          Type.String({ maxLength: HEADER_LIMITS.valueLength }),
          { maxProperties: HEADER_LIMITS.count },
        ),
        Type.Null(),
      ],
      {
        description: `Webhook integrations only: headers sent with every request (at most ${HEADER_LIMITS.count}), such as a receiver's credentials; shown with their values masked (****). Left out (or null), or a value sent back as ****, keeps the stored value while webhookUrl stays as it is; any other webhookUrl (another path or query on the same host too) needs every stored value given again (422 otherwise), and **** for a header with no stored value is a 422. ${EMPTY_OF_OTHER_TYPE}`,
      },
    ),
  ),
  // Type API only (any other type refuses them with a 422).
  allowReadAccess: Type.Optional(
    Type.Boolean({ description: `API integrations only. ${API_ACCESS_FLAGS.allowReadAccess}.` }),
  ),
  allowWriteAccess: Type.Optional(
    Type.Boolean({
      description: `API integrations only. ${API_ACCESS_FLAGS.allowWriteAccess}. A Webhook integration takes it too, as Opsgenie's Terraform provider sends it, and shows it as given (default true), but in Vigil a Webhook integration's key does not use the Alert API: it changes nothing.`,
    }),
  ),
  allowDeleteAccess: Type.Optional(
    Type.Boolean({ description: `API integrations only. ${API_ACCESS_FLAGS.allowDeleteAccess}.` }),
  ),
  allowConfigurationAccess: Type.Optional(
    Type.Boolean({ description: `API integrations only. ${API_ACCESS_FLAGS.allowConfigurationAccess}.` }),
  ),
};

const API_KEY_SCOPE =
  'The key of an API integration reads and acts only on the alerts of its team (the assignee team, else the owner team); alerts of other teams answer as if they did not exist. Its access flags (allowReadAccess, allowWriteAccess, allowDeleteAccess, allowConfigurationAccess) say which requests it may make; a request they refuse answers 403.';

const CreateBody = Type.Object(
  {
    type: TypeName(''),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    ownerTeam: Type.Optional(
      Type.Object(TeamRef.properties, {
        description:
          'The team that owns the integration (Terraform: owner_team_id). Every Vigil integration has one: when it is left out, the one team `responders` names owns it, and with no team or several there a 422 asks for it (Vigil has no global integrations).',
      }),
    ),
    responders: Type.Optional(Responders),
    assigneeTeam: Type.Optional(TeamRef),
    enabled: Type.Optional(Type.Boolean()),
    apiKey: Type.Optional(
      Type.String({
        minLength: 32,
        maxLength: 128,
        pattern: '^[A-Za-z0-9][A-Za-z0-9-]*$',
        description:
          "Vigil's own, for moving from Opsgenie: the integration's existing API key (32 to 128 letters, digits and hyphens, such as an Opsgenie key), so its senders keep working. Organization admins only; refused with a 409 when the key is already in use. Left out, Vigil makes a new key.",
      }),
    ),
    ...SettingsFields,
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    ownerTeam: Type.Optional(TeamRef),
    assigneeTeam: Type.Optional(Type.Union([TeamRef, Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
    ...SettingsFields,
  },
  { additionalProperties: false },
);

/** Opsgenie's PUT names the type again; Vigil checks it is the integration's. */
const PutBody = Type.Object(
  {
    ...UpdateBody.properties,
    type: Type.Optional(TypeName('It must be the type the integration shows: a type cannot change.')),
  },
  { additionalProperties: false },
);

function settingsFrom(body: object): SettingsGiven {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SettingsFields)) {
    const value = (body as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as SettingsGiven;
}

export function presentIntegration(
  config: Config,
  row: IntegrationWithTeams,
  extra: {
    apiKey?: string;
    /** The Webhook integration's header values as stored, rather than masked (seesHeaderValues). */
    headerValues?: boolean;
    subscriptions?: {
      topic_arn: string;
      status: string;
      subscription_arn: string | null;
      updated_at: Date;
    }[];
  } = {},
) {
  const base = {
    id: row.id,
    name: row.name,
    // An Opsgenie type kept (Prometheus…) is shown: Terraform replaces an integration whose type changes.
    type: typeNameOf(row),
    enabled: row.enabled,
    ownerTeam: { id: row.owner_team_id, name: row.owner_team_name },
    ...(row.assignee_team_id
      ? { assigneeTeam: { id: row.assignee_team_id, name: row.assignee_team_name } }
      : {}),
    suppressNotifications: suppressesNotifications(row.settings),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(extra.apiKey
      ? { apiKey: extra.apiKey, endpointUrl: endpointUrl(config.publicUrl, row.type, extra.apiKey) }
      : {}),
  };
  if (row.type === 'API') return { ...base, ...apiSettings(row.settings) };
  if (row.type === 'Webhook') {
    const stored = webhookSettings(row.settings);
    // A header stored before its name was refused is not sent: shown, it would come back on every save.
    const settings = { ...stored, headers: withoutReservedHeaders(stored.headers) };
    // Opsgenie's name for the URL, and the flag its Terraform provider reads back (type Webhook of
    // opsgenie_api_integration): without them every plan shows a change.
    const opsgenie = { url: stored.webhookUrl, allowWriteAccess: webhookAllowWriteAccess(row.settings) };
    if (extra.headerValues) return { ...base, ...settings, ...opsgenie };
    // Header values are often a receiver's credentials: their names only.
    const headers = Object.fromEntries(Object.keys(settings.headers).map((name) => [name, MASKED_HEADER]));
    return { ...base, ...settings, ...opsgenie, headers };
  }
  if (row.type === 'Email') {
    const emailUsername = emailUsernameOf(row.settings) ?? '';
    return {
      ...base,
      emailUsername,
      emailAddress: `${emailUsername}@${config.inboundEmail.domain}`,
    };
  }
  if (row.type !== 'AmazonSecurityHub') return base;
  const settings = securityHubSettings(row.settings);
  return {
    ...base,
    // The key is stored hashed: the full URL is shown when the key is made (create, regenerate).
    endpointUrlTemplate: `${config.publicUrl}${SECURITY_HUB_INTAKE_PATH}?apiKey=<integration API key>`,
    externalId: row.external_id,
    ...settings,
    writebackStatus: row.writeback_status ?? null,
    eventPattern: securityHubEventPattern(settings),
    ...(extra.subscriptions
      ? {
          subscriptions: extra.subscriptions.map((s) => ({
            topicArn: s.topic_arn,
            status: s.status,
            subscriptionArn: s.subscription_arn,
            updatedAt: s.updated_at.toISOString(),
          })),
        }
      : {}),
  };
}

const SNS_ENVELOPE_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'];

/**
 * An SNS envelope's links act on the subscription for whoever holds them, with no sign-in: the
 * UnsubscribeURL ends it (Vigil confirms with a plain GET, not AuthenticateOnUnsubscribe), the
 * SubscribeURL and Token confirm it. Readers of the log need not manage the integration.
 */
const SNS_SECRET_FIELDS = ['UnsubscribeURL', 'SubscribeURL', 'Token'];

/** The body as stored, or, for an SNS envelope, re-serialized with its subscription links blanked. */
function withoutSnsLinks(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body;
  const message = parsed as Record<string, unknown>;
  if (typeof message.Type !== 'string' || !SNS_ENVELOPE_TYPES.includes(message.Type)) return body;
  const secrets = SNS_SECRET_FIELDS.filter((field) => Object.hasOwn(message, field));
  if (secrets.length === 0) return body;
  for (const field of secrets) message[field] = '[REDACTED]';
  return JSON.stringify(message);
}

/**
 * A delivery in the payload log, with its body when it was read. The stored row keeps the links: a
 * replay checks the signature over the body as it came.
 */
function presentPayload(r: PayloadRow) {
  return {
    id: r.id,
    receivedAt: r.received_at.toISOString(),
    messageId: r.message_id,
    kind: r.kind,
    verdict: r.verdict,
    reason: r.reason,
    alertIds: r.alert_ids,
    contentType: r.content_type,
    ...(r.body !== undefined ? { body: withoutSnsLinks(r.body) } : {}),
  };
}

export function registerIntegrationRoutes(
  app: HttpApp,
  deps: {
    config: Config;
    integrations: IntegrationsService;
    intake: SecurityHubIntake;
    writeback: Writeback;
  },
): void {
  const { config, integrations, intake, writeback } = deps;
  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

  app.post(
    '/v2/integrations',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Add an integration to a team',
        description: API_KEY_SCOPE,
        body: CreateBody,
      },
    },
    async (request, reply) => {
      const b = request.body;
      const { integration, apiKey } = await integrations.create(principalOf(request), {
        type: b.type,
        name: b.name,
        ownerTeam: b.ownerTeam,
        responders: b.responders ?? undefined,
        assigneeTeam: b.assigneeTeam,
        enabled: b.enabled,
        settings: settingsFrom(b),
        apiKey: b.apiKey,
      });
      return reply
        .status(201)
        .send(
          envelope(request, { result: 'Created', data: presentIntegration(config, integration, { apiKey }) }),
        );
    },
  );

  app.get(
    '/v2/integrations',
    {
      schema: {
        tags: ['integrations'],
        summary: 'List integrations',
        querystring: Type.Object({
          type: Type.Optional(
            Type.String({
              description:
                'Only the integrations of this type, as they show it (Prometheus lists those made with that Opsgenie type, API the others of kind API).',
            }),
          ),
          teamId: Type.Optional(Type.String({ format: 'uuid' })),
        }),
      },
    },
    async (request) => {
      const rows = await integrations.list(principalOf(request), request.query);
      return envelope(request, { data: rows.map((r) => presentIntegration(config, r)) });
    },
  );

  app.get(
    '/v2/integrations/:id',
    { schema: { tags: ['integrations'], summary: 'Get an integration', params: IdParams } },
    async (request) => {
      const p = principalOf(request);
      const row = await integrations.get(p, request.params.id);
      const subscriptions = await integrations.subscriptions(row.id);
      return envelope(request, {
        data: presentIntegration(config, row, { subscriptions, headerValues: seesHeaderValues(p) }),
      });
    },
  );

  app.patch(
    '/v2/integrations/:id',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Update an integration',
        description: API_KEY_SCOPE,
        params: IdParams,
        body: UpdateBody,
      },
    },
    async (request) => {
      const b = request.body;
      const row = await integrations.update(principalOf(request), request.params.id, {
        name: b.name,
        ownerTeam: b.ownerTeam,
        assigneeTeam: b.assigneeTeam,
        enabled: b.enabled,
        settings: settingsFrom(b),
      });
      return envelope(request, { result: 'Updated', data: presentIntegration(config, row) });
    },
  );

  app.put(
    '/v2/integrations/:id',
    {
      schema: {
        tags: ['integrations'],
        summary: "Update an integration as Opsgenie's PUT does (what Terraform and the Go SDK send)",
        description: `An API integration's access flags, a Webhook integration's allowWriteAccess and any integration's suppressNotifications not given go back to their defaults, as Opsgenie resets what a PUT leaves out. Other fields not given keep their value: Vigil requires an owner team, and the Security Hub settings are Vigil's own. The type cannot change. Fields Vigil does not know are ignored, and so are the fields of other types given empty, as Opsgenie's Go SDK sends every type's fields. ${API_KEY_SCOPE}`,
        params: IdParams,
        body: PutBody,
      },
    },
    async (request) => {
      const b = request.body;
      const p = principalOf(request);
      const current = await integrations.get(p, request.params.id);
      const currentType = typeNameOf(current);
      if (b.type !== undefined && b.type !== currentType)
        throw invalidField(
          'type',
          `is ${currentType}: an integration's type cannot change; create another integration of type ${b.type}.`,
        );
      const settings = settingsFrom(b);
      if (current.type === 'API')
        for (const flag of Object.keys(API_ACCESS_FLAGS) as ApiAccessFlag[])
          settings[flag] ??= API_DEFAULTS[flag];
      if (current.type === 'Webhook') settings.allowWriteAccess ??= WEBHOOK_ALLOW_WRITE_ACCESS_DEFAULT;
      settings.suppressNotifications ??= false;
      const row = await integrations.update(p, request.params.id, {
        name: b.name,
        ownerTeam: b.ownerTeam,
        assigneeTeam: b.assigneeTeam,
        enabled: b.enabled,
        settings,
      });
      return envelope(request, { result: 'Updated', data: presentIntegration(config, row) });
    },
  );

  app.delete(
    '/v2/integrations/:id',
    { schema: { tags: ['integrations'], summary: 'Delete an integration', params: IdParams } },
    async (request) => {
      await integrations.delete(principalOf(request), request.params.id);
      return envelope(request, { result: 'Deleted' });
    },
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(
      `/v2/integrations/:id/${action}`,
      {
        schema: {
          tags: ['integrations'],
          summary: `Turn an integration ${enabled ? 'on' : 'off'}`,
          params: IdParams,
        },
      },
      async (request) => {
        const row = await integrations.setEnabled(principalOf(request), request.params.id, enabled);
        return envelope(request, {
          result: enabled ? 'Enabled' : 'Disabled',
          data: presentIntegration(config, row),
        });
      },
    );
  }

  app.post(
    '/v2/integrations/:id/api-key',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Regenerate the API key (the old one stops working at once)',
        params: IdParams,
      },
    },
    async (request) => {
      const { integration, apiKey } = await integrations.regenerateKey(
        principalOf(request),
        request.params.id,
      );
      return envelope(request, {
        result: 'Regenerated',
        data: presentIntegration(config, integration, { apiKey }),
      });
    },
  );

  app.post(
    '/v2/integrations/:id/test-writeback',
    {
      schema: {
        tags: ['integrations'],
        summary:
          'Assume the role, read findings, and prove both write actions (BatchUpdateFindings, BatchUpdateFindingsV2) with calls that change no finding; answers what worked and AWS’s own error text',
        params: IdParams,
      },
    },
    async (request) => {
      const p = principalOf(request);
      const row = await integrations.get(p, request.params.id);
      await integrations.requireManages(p, row);
      const result = await writeback.test(row.id);
      return envelope(request, { data: result });
    },
  );

  app.get(
    '/v2/integrations/:id/payloads',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Every delivery received, newest first, with what became of it',
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          before: Type.Optional(Type.String({ pattern: '^\\d{1,18}$' })),
          verdict: Type.Optional(
            StringEnum([
              'queued',
              'created',
              'updated',
              'closed',
              'ignored',
              'refused',
              'duplicate',
              'confirmed',
              'unsubscribed',
              'failed',
            ]),
          ),
          includeBody: Type.Boolean({ default: false }),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await integrations.payloads(principalOf(request), request.params.id, q);
      const last = rows[rows.length - 1];
      return envelope(request, {
        data: rows.map(presentPayload),
        paging: last && rows.length === q.limit ? { next: `?before=${last.id}&limit=${q.limit}` } : {},
      });
    },
  );

  app.get(
    '/v2/integrations/:id/payloads/:payloadId',
    {
      schema: {
        tags: ['integrations'],
        summary: 'One delivery, with its body and what became of it',
        params: Type.Object({ id: Type.String(), payloadId: Type.String() }),
      },
    },
    async (request) => {
      const { payload: r } = await integrations.payload(
        principalOf(request),
        request.params.id,
        request.params.payloadId,
      );
      return envelope(request, { data: presentPayload(r) });
    },
  );

  app.post(
    '/v2/integrations/:id/payloads/:payloadId/replay',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Process a stored payload again (admins)',
        params: Type.Object({ id: Type.String(), payloadId: Type.String() }),
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      requireOrgAdmin(p, 'replay payloads');
      const { integration, payload } = await integrations.payload(
        p,
        request.params.id,
        request.params.payloadId,
      );
      const answer = httpAnswerOf(await intake.replay(integration, payload, request.id));
      return reply.status(answer.status).send(envelope(request, { ...answer.body }));
    },
  );

  // The intake URL: public (the integration key authenticates it), any Content-Type.
  void app.register(async (plain) => {
    // SNS's 256 KiB limit is on the Message, not on the body it POSTs: the body carries the Message as a
    // JSON string (each quote of the EventBridge event escaped, so up to twice as long) plus about 1 KB
    // of envelope and signature. 600 KiB lets a full-size Message through with room to spare.
    const SNS_INTAKE_BODY_LIMIT = 600 * 1024;
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: SNS_INTAKE_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );

    /** The Security Hub integration the key names, if any: a key of another type names none here. */
    const securityHubIntegration = async (apiKey: string | undefined) => {
      const integration = apiKey ? await integrations.byApiKey(apiKey) : undefined;
      return integration?.type === 'AmazonSecurityHub' ? integration : undefined;
    };

    scope.post(
      SECURITY_HUB_INTAKE_PATH,
      {
        config: { public: true },
        bodyLimit: SNS_INTAKE_BODY_LIMIT,
        schema: {
          tags: ['intake'],
          summary:
            'Amazon Security Hub deliveries: SNS (HTTPS subscription, raw or not) or an EventBridge API destination',
          querystring: Type.Object({ apiKey: Type.Optional(Type.String({ maxLength: 200 })) }),
        },
        // On arrival, before the body (up to 600 KiB) is read: anyone could otherwise make Vigil read and
        // hold one without a key. Answered as the handler would answer it. A disabled integration's
        // deliveries are still read, as the payload log records them.
        onRequest: async (request, reply) => {
          // Fastify validates the query only once the body is read: a malformed one gets that same 422 now.
          const validate = request.getValidationFunction('querystring');
          if (validate && !validate(request.query)) {
            throw Object.assign(new Error('The query string is not valid.'), {
              statusCode: 400,
              code: 'FST_ERR_VALIDATION',
              validation: validate.errors ?? [],
              validationContext: 'querystring',
            });
          }
          if (await securityHubIntegration(intakeKeyOf(request).apiKey)) return;
          const answer = httpAnswerOf(UNKNOWN_KEY_OUTCOME);
          return reply.status(answer.status).send(envelope(request, answer.body));
        },
      },
      async (request, reply) => {
        // Looked up again (from memory, most of the time): the key may have stopped working while the
        // body arrived.
        const { apiKey, keyInHeader } = intakeKeyOf(request);
        const body = typeof request.body === 'string' ? request.body : '';
        const outcome = await intake.handle(
          await securityHubIntegration(apiKey),
          {
            keyInHeader,
            contentType: request.headers['content-type'],
            body,
            subscriptionArn:
              typeof request.headers['x-amz-sns-subscription-arn'] === 'string'
                ? request.headers['x-amz-sns-subscription-arn']
                : undefined,
          },
          request.id,
        );
        const answer = httpAnswerOf(outcome);
        return reply.status(answer.status).send(envelope(request, answer.body));
      },
    );
  });
}

/**
 * The Security Hub intake's key: the `apiKey` query parameter (SNS subscriptions), else an X-Api-Key or
 * Authorization header (EventBridge API destinations). The query must have been validated.
 */
function intakeKeyOf(request: { query: { apiKey?: string }; headers: IncomingHttpHeaders }): {
  apiKey: string | undefined;
  keyInHeader: boolean;
} {
  const queryKey = request.query.apiKey;
  const headerKey =
    (typeof request.headers['x-api-key'] === 'string' ? request.headers['x-api-key'] : undefined) ??
    keyFromAuthorization(request.headers.authorization);
  return { apiKey: queryKey ?? headerKey, keyInHeader: queryKey === undefined && headerKey !== undefined };
}
