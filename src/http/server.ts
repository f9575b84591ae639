import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IntegrationAccess, IntegrationPrincipal, Principal } from '../accounts/service.js';
import { integrationPrincipalOf } from '../integrations/principal.js';
import { keyAndSchemeFromAuthorization } from '../accounts/apikeys.js';
import type { ConsoleSession } from '../accounts/sessions/service.js';
import { csrfMatches } from '../accounts/sessions/tokens.js';
import { secureCookiesFor, sessionCookie, sessionTokenOf } from './session-cookie.js';
import { isDatabaseUnavailable, isLostRace, isUnstorableValue } from '../db/database.js';
import { storableJson, TooDeeplyNested } from '../db/storable.js';
import { redactUrl, type Logger } from '../logger.js';
import { DomainError } from '../errors.js';
import { ApiError, apiErrorOf } from './errors.js';
import { createLazyValidators } from './lazy-validation.js';
import { allowedNumbers, fieldName, nonFiniteNumberAt } from './finite-numbers.js';
import type { AppContext } from '../app.js';
import { countAgainstKeyRateLimit } from './key-rate-limit.js';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Compiles every route schema not compiled yet (they compile lazily); returns how many. */
    compileValidators(): number;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** Set when the caller is signed in to the console (by cookie) rather than using an API key. */
    consoleSession?: ConsoleSession;
    startedAt: number;
  }
  interface FastifyContextConfig {
    /** Routes that answer without an API key (health, docs, links signed another way). */
    public?: boolean;
    /**
     * A route that changes something on GET too (a heartbeat's ping, which Opsgenie takes by GET): a
     * console session needs the CSRF token for it whatever the method, since a browser sends the
     * SameSite=Lax cookie on a followed link.
     */
    changesOnGet?: boolean;
  }
}

export type HttpApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** RFC 3339 as ajv-formats checks it (calendar included), and an instant JavaScript can represent. */
const dateTimeFormat = fullFormats['date-time'] as { validate: (value: string) => boolean };
function isRepresentableDateTime(value: string): boolean {
  return dateTimeFormat.validate(value) && Number.isFinite(Date.parse(value));
}

/** Methods that change nothing: a console session needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Seconds since the request arrived, as Opsgenie's `took`. */
export function took(request: FastifyRequest): number {
  return Math.round(performance.now() - request.startedAt) / 1000;
}

/** The envelope every Opsgenie response carries. */
export function envelope<T extends object>(
  request: FastifyRequest,
  body: T,
): T & { took: number; requestId: string } {
  return { ...body, took: took(request), requestId: request.id };
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, `Could not authenticate: ${SEND_A_KEY}.`);
  return request.principal;
}

function fieldOf(
  error: { instancePath?: string; params?: Record<string, unknown> },
  location: string | undefined,
): string {
  const missing = error.params?.missingProperty;
  const extra = error.params?.additionalProperty;
  const parts = (error.instancePath ?? '').split('/').filter(Boolean);
  if (typeof missing === 'string') parts.push(missing);
  if (typeof extra === 'string') parts.push(extra);
  const path = parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  return path || location || 'body';
}

function describe(error: { keyword?: string; message?: string; params?: Record<string, unknown> }): string {
  switch (error.keyword) {
    case 'required':
      return 'is required.';
    case 'maxLength':
      return `must be at most ${String(error.params?.limit)} characters.`;
    case 'minLength':
      return error.params?.limit === 1
        ? 'can not be empty.'
        : `must be at least ${String(error.params?.limit)} characters.`;
    case 'maxItems':
      return `must have at most ${String(error.params?.limit)} items.`;
    case 'maxProperties':
      return `must have at most ${String(error.params?.limit)} entries.`;
    case 'enum':
      return `must be one of: ${(error.params?.allowedValues as unknown[] | undefined)?.join(', ') ?? ''}.`;
    case 'additionalProperties':
      return 'is not a known field.';
    default:
      return `${error.message ?? 'is not valid'}.`;
  }
}

/** Throws the 422 a schema error would give when `value` holds a number that is not finite. */
function refuseNonFinite(value: unknown, location: 'params' | 'body' | 'querystring', schema: unknown): void {
  const path = nonFiniteNumberAt(value);
  if (!path) return;
  const where = location === 'body' ? 'Request body' : `Request ${location}`;
  throw new ApiError(422, `${where} is not processable. Please check the errors.`, {
    [fieldName(path) || location]: allowedNumbers(schema, path),
  });
}

/**
 * The key of an API integration (Opsgenie's model): it uses the Alert API as the integration, for the
 * alerts of its team, as far as its access flags allow.
 */
async function integrationPrincipal(ctx: AppContext, key: string): Promise<Principal | undefined> {
  const integration = await ctx.integrations.byApiKey(key);
  if (!integration || integration.type !== 'API' || !integration.enabled) return undefined;
  // Opsgenie answers a disabled integration's key 401, as an unknown one; this says why, and until when.
  const maintenance = await ctx.maintenance.disabledBy(integration.id);
  if (maintenance) {
    throw new ApiError(401, `Could not authenticate: integration [${integration.name}] is ${maintenance}.`);
  }
  return integrationPrincipalOf(integration);
}

/** How to send an API key, for the 401s that ask for one. */
export const SEND_A_KEY =
  'send Authorization: GenieKey <api key> (or Bearer <api key>, or Basic with the key as the password)';

/**
 * What a request authenticates with: an API key, else the console session's cookie; or, for a Bearer
 * token sent with the cookie, the key when it is one of Vigil's, else the cookie.
 */
export type Credential = { key: string } | { sessionToken: string } | { key: string; sessionToken: string };

export function credentialOf(headers: {
  authorization?: string | undefined;
  cookie?: string | undefined;
}): Credential | undefined {
  const sent = keyAndSchemeFromAuthorization(headers.authorization);
  const sessionToken = sessionTokenOf(headers.cookie);
  if (!sent) return sessionToken ? { sessionToken } : undefined;
  if (!sessionToken || sent.scheme === 'geniekey') return { key: sent.key };
  // A reverse proxy in front of the console passes its own header on to Vigil: Basic from its sign-in
  // page, Bearer from an OAuth sign-in (oauth2-proxy, Pomerium, a forward-auth). There the console's
  // cookie says who calls: Basic credentials stand for a key only for senders without one, and a Bearer
  // token only when it is a Vigil key (authenticate). A cross-site page cannot set either header.
  return sent.scheme === 'basic' ? { sessionToken } : { key: sent.key, sessionToken };
}

export interface Authenticated {
  principal: Principal;
  /** The console session, when the credential is its cookie. */
  session?: ConsoleSession;
  /** The cookie's new lifetime, when the session's end moved on. */
  renewedMaxAgeSeconds?: number;
}

/**
 * Who a credential stands for, for a request of this method to this route: how every request is
 * authenticated, and how the console's event stream checks, while it stays open, that its caller still
 * may (signed out, blocked, demoted, key deleted). Throws the 401 or 403 to answer otherwise.
 */
export async function authenticate(
  ctx: AppContext,
  credential: Credential,
  method: string,
  route: string,
  options: { renew?: boolean } = {},
): Promise<Authenticated> {
  const bySession = async (sessionToken: string): Promise<Authenticated> => {
    const authenticated = await ctx.sessions.authenticate(sessionToken, options);
    if (!authenticated) throw new ApiError(401, 'Your console session has ended: sign in again.');
    const { session, renewedMaxAgeSeconds } = authenticated;
    return { principal: session.principal, session, renewedMaxAgeSeconds };
  };
  if (!('key' in credential)) return bySession(credential.sessionToken);
  const { key } = credential;
  const principal = (await ctx.accounts.authenticate(key)) ?? (await integrationPrincipal(ctx, key));
  if (!principal) {
    // A proxy's Bearer token, none of Vigil's keys: the console's cookie sent with it says who calls.
    if ('sessionToken' in credential) return bySession(credential.sessionToken);
    throw new ApiError(401, 'Could not authenticate: the API key is unknown or has been deleted.');
  }
  if (principal.integration) {
    const refusal = integrationRefusal(principal.integration, method, route);
    if (refusal) throw new ApiError(403, refusal);
  }
  return { principal };
}

/** The access flag each HTTP method needs, and what it is called in a refusal. */
function accessFlagFor(method: string): { flag: keyof IntegrationAccess; what: string } {
  if (method === 'GET' || method === 'HEAD') return { flag: 'allowReadAccess', what: 'read (GET)' };
  if (method === 'DELETE') return { flag: 'allowDeleteAccess', what: 'delete (DELETE)' };
  // Anything else changes something: refused unless writing is allowed.
  return { flag: 'allowWriteAccess', what: 'create or change (POST, PUT, PATCH)' };
}

/** Why an integration's key may not make this request, or undefined when it may. */
function integrationRefusal(
  integration: IntegrationPrincipal,
  method: string,
  route: string,
): string | undefined {
  const allow = (flag: keyof IntegrationAccess) =>
    `PATCH /v2/integrations/${integration.id} with {"${flag}": true}`;
  // Opsgenie lets every API integration's key ping heartbeats, whatever its flags (a cron job's key).
  if (route === '/v2/heartbeats/:name/ping') return undefined;
  // The monitoring tools that hold these keys must not read people's contact details or change the
  // on-call set-up, unless the integration's owner team has said they may.
  // Vigil's bulk alert actions are the Alert API too, under a path of their own.
  // Opsgenie's Incident API takes an API integration's key as its Alert API does.
  const alertApi =
    route === '/v2/alerts' ||
    route.startsWith('/v2/alerts/') ||
    route.startsWith('/v2/bulk/alerts/') ||
    route === '/v1/incidents' ||
    route.startsWith('/v1/incidents/');
  if (!alertApi && !integration.access.allowConfigurationAccess) {
    return `The API key of integration [${integration.name}] can only use the Alert API (/v2/alerts) and the Incident API (/v1/incidents): use a user's API key for anything else, or let the integration use the other APIs as an admin of its owner team (allowConfigurationAccess) with ${allow('allowConfigurationAccess')}.`;
  }
  const { flag, what } = accessFlagFor(method);
  if (!integration.access[flag]) {
    return `The API key of integration [${integration.name}] may not ${what}: its ${flag} is false. An organization admin or an admin of its owner team can allow it with ${allow(flag)}.`;
  }
  return undefined;
}

function hasBody(headers: FastifyRequest['headers']): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Fastify refuses a hop count (it cannot tell the peer is a proxy), so `on` and a number become a
 * function of the hop: the peer and the proxies' own entries are believed, counted from the right.
 */
function trustedHops(
  trust: Config['trustProxy'],
): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (_address, hop) => hop < trust;
}

export async function buildHttpApp(ctx: AppContext, log: Logger): Promise<HttpApp> {
  const validators = createLazyValidators();
  const requestTimeoutMs = ctx.config.requestTimeoutSeconds * 1000;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: ctx.config.bodyLimit,
    // Fastify's default (0) turns off Node's bound on receiving a request: a body that never ends would
    // hold its socket and its buffered bytes forever. Node drops a connection from this check once its
    // request is whole, so an answer that streams (the event stream, a download) is not cut.
    requestTimeout: requestTimeoutMs,
    http: {
      // Node swaps the two when the headers' timeout is the longer, so it must not exceed the request's.
      headersTimeout: Math.min(60_000, requestTimeoutMs),
      // Node looks for expired requests every 30 s by default: a short timeout would be overrun by that.
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(requestTimeoutMs / 4)),
    },
    // Always our own: the id names the request's outcome in GET /v2/alerts/requests/{requestId}.
    genReqId: () => randomUUID(),
    // Our own onResponse hook logs each request once, with secrets blanked from the URL.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    trustProxy: trustedHops(ctx.config.trustProxy),
    ajv: {
      // Opsgenie ignores fields it does not know (its Go SDK and Terraform provider send some of their own):
      // an unknown field is dropped, not refused.
      customOptions: { removeAdditional: true, coerceTypes: 'array', useDefaults: true, allErrors: true },
      // RFC 3339 allows a leap second (23:59:60), which JavaScript cannot represent: a date-time must also
      // be an instant Date understands, or a handler would meet an Invalid Date.
      onCreate: (ajv) => {
        ajv.addFormat('date-time', {
          type: 'string',
          validate: isRepresentableDateTime,
        });
      },
    },
    // Route schemas compile on each route's first request (lazy-validation.ts); the options above apply.
    // No route has a headers schema, which a custom compiler would be given as written (not lower-cased).
    schemaController: { compilersFactory: { buildValidator: validators.buildValidator } },
    return503OnClosing: true,
    routerOptions: {
      // Opsgenie answers /v2/alerts/ as /v2/alerts, and its npm SDK puts a slash after every path.
      ignoreTrailingSlash: true,
      // An alias may be 512 characters and a heartbeat's name 200, and they are path parameters
      // (GET /v2/alerts/{alias}?identifierType=alias): room for them percent-encoded.
      maxParamLength: 2048,
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('compileValidators', validators.compileAll);
  app.decorateRequest('startedAt', 0);
  app.addHook('onRequest', async (request, reply) => {
    request.startedAt = performance.now();
    // Opsgenie's headers on every answer: its Go SDK (and so its Terraform provider) reads them into each
    // result and logs a warning on every call where they are missing. THROTTLED replaces OK past a key's
    // rate limit (key-rate-limit.ts).
    reply.header('x-request-id', request.id);
    reply.header('x-ratelimit-state', 'OK');
    // Go's HTTP clients (Opsgenie's Go SDK, its Terraform provider) send `Content-Type:` empty on a
    // DELETE without a body: there is nothing to parse, so there is no type to refuse.
    if (request.headers['content-type']?.trim() === '' && !hasBody(request.headers)) {
      delete request.headers['content-type'];
    }
  });

  // Opsgenie clients post actions with an empty body; treat it as {} rather than refusing it.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, {});
    return jsonParser(request, body as string, done);
  });
  // Outside text is made storable before anything reads it (db/storable.ts): a NUL or a lone surrogate
  // becomes U+FFFD, in bodies, query strings and path parameters alike.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
    try {
      request.body = storableJson(request.body);
      request.query = storableJson(request.query);
      request.params = storableJson(request.params);
    } catch (error) {
      if (error instanceof TooDeeplyNested)
        throw new ApiError(400, `The request body is not accepted: ${error.message}.`);
      throw error;
    }
  });

  app.addHook('onSend', async (request, reply) => {
    // Unrounded: the SDK takes 0 for missing, and many answers take under half a millisecond.
    const seconds = Math.max(performance.now() - request.startedAt, 0.001) / 1000;
    reply.header('x-response-time', seconds.toFixed(6));
  });

  // One line per request, with the URL's secrets blanked (the intake URL carries its key in the query).
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.url),
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vigil API',
        version: '1',
        description:
          'On-call alerting with a two-way Amazon Security Hub integration. Speaks the Opsgenie Alert API v2: authenticate with `Authorization: GenieKey <key>` or `Authorization: Bearer <key>` (or Basic credentials whose password is the key).',
      },
      servers: [{ url: ctx.config.publicUrl }],
      components: {
        securitySchemes: {
          GenieKey: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'GenieKey <api key>',
          },
          Bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ GenieKey: [] }, { Bearer: [] }],
    },
  });
  app.addHook('onRoute', (route) => {
    // The documentation routes registered by the plugins are public too, and so are the console's files
    // (@fastify/static marks each file's route with the folder it serves it from).
    const config = route.config as { rootPath?: unknown } | undefined;
    if (route.url.startsWith('/docs') || config?.rootPath !== undefined)
      route.config = { ...(route.config ?? {}), public: true };
  });

  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  // On arrival, before the body is read: a caller without valid credentials is answered without Vigil
  // holding its body (a slow one would keep its socket and memory until the request timeout).
  app.addHook('onRequest', async (request, reply) => {
    // An unknown path is a 404 for everyone (the console's catch-all hands API paths on to it).
    if (request.routeOptions.config.public || request.is404) return;
    const credential = credentialOf(request.headers);
    if (!credential) {
      throw new ApiError(401, `Could not authenticate: ${SEND_A_KEY}.`);
    }
    const { principal, session, renewedMaxAgeSeconds } = await authenticate(
      ctx,
      credential,
      request.method,
      request.routeOptions.url ?? '',
    );
    if (session && 'sessionToken' in credential) {
      const { sessionToken } = credential;
      // The session's end moved on while it is used: the cookie's must too, or the browser drops it first.
      if (renewedMaxAgeSeconds !== undefined) {
        const secure = secureCookiesFor(ctx.config.publicUrl);
        reply.header('set-cookie', sessionCookie(sessionToken, renewedMaxAgeSeconds, secure));
      }
      const changes = !SAFE_METHODS.has(request.method) || request.routeOptions.config.changesOnGet;
      if (changes && !csrfMatches(sessionToken, request.headers['x-csrf-token'])) {
        throw new ApiError(
          403,
          "The request lacks the console's CSRF token (X-CSRF-Token, from GET /api/console/session): reload the page and try again.",
        );
      }
      request.consoleSession = session;
    }
    // API keys only: the console's requests are a person's clicks, and its session is not a sender's key.
    if (!session && ctx.keyRateLimiter) {
      await countAgainstKeyRateLimit(ctx.keyRateLimiter, principal.apiKeyId, request, reply);
    }
    request.principal = principal;
  });

  // Validation lets ±Infinity through ("1e309" in a query is coerced to it): refused after it, naming the
  // field as a schema error does, before a handler takes it for a limit or an interval (finite-numbers.ts).
  app.addHook('preHandler', async (request) => {
    const schema = request.routeOptions.schema;
    refuseNonFinite(request.params, 'params', schema?.params);
    refuseNonFinite(request.body, 'body', schema?.body);
    refuseNonFinite(request.query, 'querystring', schema?.querystring);
  });

  app.setErrorHandler((thrown: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const error = thrown instanceof DomainError ? apiErrorOf(thrown) : thrown;
    if (error instanceof ApiError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply
        .status(error.statusCode)
        .send(
          envelope(request, { message: error.message, ...(error.errors ? { errors: error.errors } : {}) }),
        );
    }
    if (error.validation) {
      const errors: Record<string, string> = {};
      for (const v of error.validation) {
        const field = fieldOf(v as never, error.validationContext);
        errors[field] ??= describe(v as never);
      }
      const where =
        error.validationContext === 'body' ? 'Request body' : `Request ${error.validationContext ?? ''}`;
      return reply.status(422).send(
        envelope(request, {
          message: `${where.trim()} is not processable. Please check the errors.`,
          errors,
        }),
      );
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send(
        envelope(request, {
          // The route's own limit where it sets one (the Security Hub intake's 600 KiB), else the server's.
          message: `Request body is larger than the limit of ${request.routeOptions.bodyLimit ?? ctx.config.bodyLimit} bytes.`,
        }),
      );
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send(envelope(request, { message: 'Send the body as application/json.' }));
    }
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply
        .status(400)
        .send(envelope(request, { message: 'The request body is empty: send a JSON object.' }));
    }
    if (
      error.statusCode === 400 &&
      (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError)
    ) {
      return reply
        .status(400)
        .send(envelope(request, { message: `The request body is not valid JSON: ${error.message}` }));
    }
    if (isUnstorableValue(error)) {
      request.log.warn({ err: error }, 'the database refused a value of the request');
      return reply.status(422).send(
        envelope(request, {
          message: `The request holds a value the database cannot store (${error.message}): shorten or correct it.`,
        }),
      );
    }
    if ((error as { code?: unknown }).code === '57014') {
      request.log.warn({ err: error }, 'a statement of the request took too long and was stopped');
      return reply
        .header('retry-after', '5')
        .status(503)
        .send(
          envelope(request, {
            message: `The database stopped this request after ${ctx.config.apiStatementTimeoutSeconds} s (VIGIL_API_STATEMENT_TIMEOUT_SECONDS): narrow the query, or try again when Vigil is less busy.`,
          }),
        );
    }
    if (isLostRace(error)) {
      request.log.warn({ err: error }, 'the request lost a race with another change');
      return reply
        .header('retry-after', '1')
        .status(503)
        .send(
          envelope(request, {
            message: 'This change met another one on the same records and was undone: send it again.',
          }),
        );
    }
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'database unavailable');
      return reply
        .header('retry-after', '5')
        .status(503)
        .send(envelope(request, { message: 'The database is not reachable right now: try again shortly.' }));
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send(envelope(request, { message: error.message }));
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .status(500)
      .send(envelope(request, { message: 'Internal error: it has been logged with this requestId.' }));
  });

  app.setNotFoundHandler({ preHandler: async () => {} }, (request, reply) =>
    reply.status(404).send(
      envelope(request, {
        message: `No such endpoint: ${request.method} ${redactUrl(request.url.split('?')[0] ?? '')}.`,
      }),
    ),
  );

  return app;
}
