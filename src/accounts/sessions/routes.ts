import { Type } from 'typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StringEnum, Username } from '../../http/schemas.js';
import { principalOf, type HttpApp } from '../../http/server.js';
import { clearedSessionCookie, sessionCookie, sessionTokenOf } from '../../http/session-cookie.js';
import { MAX_PASSWORD_LENGTH } from '../passwords.js';
import type { ClientInfo, ConsoleSession, NewSession, SessionsService } from './service.js';
import { csrfTokenFor } from './tokens.js';

/** Sign-in for the web console: first set-up, sessions, password links and invitations. */

const Email = Type.String({ minLength: 3, maxLength: 254, format: 'email' });
// Only the upper bound here: a too-short new password is refused by the service with the rule spelled out,
// and a sign-in with a short password is simply a wrong password.
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });
const Session = Type.Object({
  user: Type.Object({
    id: Type.String(),
    username: Type.String(),
    fullName: Type.String(),
    role: StringEnum(['owner', 'admin', 'user']),
  }),
  organization: Type.Object({
    id: Type.String(),
    name: Type.String(),
    plan: StringEnum(['standard', 'premium', 'enterprise']),
  }),
  csrfToken: Type.String({
    description: 'Send it as X-CSRF-Token with every request that changes something (empty for API keys).',
  }),
});
const Message = Type.Object({ message: Type.String() });
const tags = ['console'];

function clientOf(request: FastifyRequest): ClientInfo {
  return { ip: request.ip, userAgent: request.headers['user-agent'] };
}

function describe(session: ConsoleSession, token: string | undefined) {
  return {
    user: session.user,
    organization: session.organization,
    csrfToken: token ? csrfTokenFor(token) : '',
  };
}

export function registerSessionRoutes(
  app: HttpApp,
  deps: { sessions: SessionsService; secureCookies: boolean },
): void {
  const { sessions, secureCookies } = deps;

  function signedIn(reply: FastifyReply, started: NewSession, status: number) {
    reply.header('set-cookie', sessionCookie(started.token, started.maxAgeSeconds, secureCookies));
    return reply.status(status).send(describe(started.session, started.token));
  }

  app.get(
    '/api/console/setup',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Whether Vigil still needs its first organization and admin',
        response: { 200: Type.Object({ setupRequired: Type.Boolean() }) },
      },
    },
    async () => ({ setupRequired: await sessions.setupRequired() }),
  );

  app.post(
    '/api/console/setup',
    {
      config: { public: true },
      schema: {
        tags,
        summary:
          'Create the organization and its first admin (only on an empty database, with the set-up code from the start-up log), signed in',
        body: Type.Object({
          organizationName: Type.String({ minLength: 1, maxLength: 100 }),
          fullName: Type.String({ minLength: 1, maxLength: 512 }),
          email: Email,
          password: Password,
          // Optional here so that a visit without it is told where to find it (403), not that a field is missing.
          setupCode: Type.Optional(
            Type.String({
              maxLength: 100,
              description:
                'The code in Vigil\'s start-up log, on the line "There is no organization yet" (its link carries it as ?code=).',
            }),
          ),
        }),
        response: { 201: Session, 403: Message, 409: Message },
      },
    },
    async (request, reply) => signedIn(reply, await sessions.setUp(request.body, clientOf(request)), 201),
  );

  app.get(
    '/api/console/session',
    {
      schema: {
        tags,
        summary: 'Who is signed in, and the CSRF token for changes',
        response: { 200: Session, 401: Message },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const session = request.consoleSession;
      if (!session) {
        // An API key's caller: the same shape, read from the key's user and organization.
        return {
          user: {
            id: principal.userId ?? '',
            username: principal.username ?? '',
            fullName: principal.fullName ?? '',
            role: principal.role ?? 'user',
          },
          organization: await sessions.organizationOfPrincipal(principal),
          csrfToken: '',
        };
      }
      return describe(session, sessionTokenOf(request.headers.cookie));
    },
  );

  app.post(
    '/api/console/session',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Sign in with email and password',
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }), password: Password }),
        response: { 200: Session, 401: Message, 429: Message },
      },
    },
    async (request, reply) => signedIn(reply, await sessions.signIn(request.body, clientOf(request)), 200),
  );

  app.delete(
    '/api/console/session',
    {
      config: { public: true },
      schema: { tags, summary: 'Sign out', response: { 204: Type.Null({ description: 'Signed out' }) } },
    },
    async (request, reply) => {
      const token = sessionTokenOf(request.headers.cookie);
      if (token) await sessions.signOut(token);
      return reply.header('set-cookie', clearedSessionCookie(secureCookies)).status(204).send(null);
    },
  );

  app.post(
    '/api/console/password-reset',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Email a link to set a new password (answers the same whether the email has an account)',
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }) }),
        response: { 202: Message },
      },
    },
    async (request, reply) => {
      await sessions.requestPasswordReset(request.body.email);
      return reply.status(202).send({
        message:
          'If this email has an account, a link to set a new password is on its way. It works for one hour.',
      });
    },
  );

  app.post(
    '/api/console/password',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Set a password from an invitation or reset link, and sign in',
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }), password: Password }),
        response: { 200: Session, 401: Message },
      },
    },
    async (request, reply) =>
      signedIn(reply, await sessions.setPassword(request.body, clientOf(request)), 200),
  );

  app.post(
    '/api/console/invitations',
    {
      schema: {
        tags,
        summary: 'Add a person (or invite again one without a password) and email them a link to sign in',
        body: Type.Object({
          email: Username,
          fullName: Type.String({ minLength: 1, maxLength: 512 }),
          role: Type.Optional(
            StringEnum(['owner', 'admin', 'user'], {
              description:
                "A new person's role (user when left out). Inviting a person again changes neither role nor full name: the answer's `unchanged` says so when another was asked for.",
            }),
          ),
        }),
        response: {
          201: Type.Object({
            userId: Type.String(),
            emailed: Type.Boolean(),
            link: Type.Optional(
              Type.String({ description: 'Only when the email could not be sent: hand it over yourself.' }),
            ),
            unchanged: Type.Optional(
              Type.String({
                description:
                  'Only when a person invited again was asked for with another role or full name: theirs stay, and this says so and where to change them.',
              }),
            ),
          }),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await sessions.invite(principalOf(request), request.body)),
  );
}
