import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { isDomainError } from '../../errors.js';
import { principalOf, type HttpApp } from '../../http/server.js';
import {
  clearedSsoStateCookie,
  sessionCookie,
  ssoStateCookie,
  ssoStateOf,
} from '../../http/session-cookie.js';
import { SsoSignInError, type SsoFailure, type SsoService } from './service.js';

/**
 * Single sign-on: the settings (owners change them, admins may read them) and the two legs of the
 * browser's trip to the provider. Both legs answer with redirects; what went wrong is shown on the sign-in
 * page (`/sign-in?error=<code>`, one of SSO_FAILURES).
 */

const tags = ['console'];
const Settings = Type.Object({
  issuer: Type.String(),
  clientId: Type.String(),
  label: Type.String(),
  enabled: Type.Boolean(),
  redirectUri: Type.String({ description: 'Register this as the redirect URI at the provider.' }),
});

/**
 * The sign-in page, told why single sign-on did not complete by a code alone: the page shows its own words
 * for it, as a page that showed text from its address would show anyone's words (a link saying "Vigil has
 * moved: sign in at …") as Vigil's own. What the error says beyond the code (the provider's own reason,
 * the email it gave) goes to the log for whoever looks into it.
 */
function signInPageFor(request: FastifyRequest, error: Error): string {
  const failure: SsoFailure = error instanceof SsoSignInError ? error.failure : 'sso_failed';
  request.log.info({ failure, reason: error.message }, 'a single sign-on did not complete');
  return `/sign-in?error=${failure}`;
}

/**
 * Whether an error came from talking to the provider: its address unreachable or too slow (fetch's
 * TypeError, a timeout), or its answer not what OpenID Connect says (openid-client's ClientError).
 */
function isProviderError(error: unknown): boolean {
  if (error instanceof oidc.ClientError) return true;
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * The sign-in page for an error that is not the domain's, such as the provider's discovery document
 * unreadable when the cached one has expired (or Vigil restarted during a sign-in). The browser is in
 * the middle of a trip through redirects, where a JSON 500 would strand the person on a raw error page: it
 * lands on the sign-in page with a code instead, and the operator gets the whole error at error level,
 * as an unexpected error of any other route would be logged.
 */
function signInPageForUnexpected(request: FastifyRequest, error: unknown): string {
  const failure: SsoFailure = isProviderError(error) ? 'sso_provider_unreachable' : 'sso_failed';
  request.log.error({ err: error, failure }, 'a single sign-on failed with an unexpected error');
  return `/sign-in?error=${failure}`;
}

function clientOf(request: FastifyRequest) {
  return { ip: request.ip, userAgent: request.headers['user-agent'] };
}

export function registerSsoRoutes(app: HttpApp, deps: { sso: SsoService; secureCookies: boolean }): void {
  const { sso, secureCookies } = deps;

  app.get(
    '/api/console/sso/providers',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'The organizations whose members can sign in through single sign-on',
        response: {
          200: Type.Object({
            providers: Type.Array(
              Type.Object({
                organizationId: Type.String(),
                organizationName: Type.String(),
                label: Type.String(),
              }),
            ),
          }),
        },
      },
    },
    async () => ({ providers: await sso.providers() }),
  );

  app.get(
    '/api/console/sso',
    {
      schema: {
        tags,
        summary: "The organization's single sign-on settings (admins)",
        response: { 200: Settings },
      },
    },
    async (request) => sso.settings(principalOf(request)),
  );

  app.put(
    '/api/console/sso',
    {
      schema: {
        tags,
        summary: 'Set up single sign-on through an OpenID Connect provider (owners)',
        body: Type.Object({
          issuer: Type.String({ minLength: 8, maxLength: 500 }),
          clientId: Type.String({ minLength: 1, maxLength: 500 }),
          clientSecret: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 2000,
              description: 'Kept when left out; never read back.',
            }),
          ),
          label: Type.String({ minLength: 1, maxLength: 60, default: 'Single sign-on' }),
          enabled: Type.Boolean({ default: true }),
        }),
        response: { 200: Settings },
      },
    },
    async (request) => sso.save(principalOf(request), request.body),
  );

  app.delete(
    '/api/console/sso',
    {
      schema: {
        tags,
        summary: 'Turn single sign-on off and forget its settings (owners)',
        response: { 204: Type.Null({ description: 'Turned off' }) },
      },
    },
    async (request, reply) => {
      await sso.remove(principalOf(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/console/sso/start',
    {
      config: { public: true },
      schema: {
        tags,
        summary: "Sends the browser to the organization's provider to sign in",
        querystring: Type.Object({
          organizationId: Type.String({ format: 'uuid' }),
          returnTo: Type.Optional(Type.String({ maxLength: 2000 })),
        }),
      },
    },
    async (request, reply) => {
      try {
        const started = await sso.start(request.query.organizationId, request.query.returnTo);
        reply.header('set-cookie', ssoStateCookie(started.state, started.maxAgeSeconds, secureCookies));
        return reply.redirect(started.url);
      } catch (error) {
        if (!isDomainError(error)) return reply.redirect(signInPageForUnexpected(request, error));
        return reply.redirect(signInPageFor(request, error));
      }
    },
  );

  app.get(
    '/api/console/sso/callback',
    { config: { public: true }, schema: { tags, summary: 'Where the provider sends the browser back' } },
    async (request, reply) => {
      // The state is spent either way.
      reply.header('set-cookie', clearedSsoStateCookie(secureCookies));
      try {
        const done = await sso.finish(request.url, ssoStateOf(request.headers.cookie), clientOf(request));
        reply.header('set-cookie', sessionCookie(done.token, done.maxAgeSeconds, secureCookies));
        return reply.redirect(done.returnTo);
      } catch (error) {
        if (!isDomainError(error)) return reply.redirect(signInPageForUnexpected(request, error));
        return reply.redirect(signInPageFor(request, error));
      }
    },
  );
}
