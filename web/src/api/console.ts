import { api, ApiError, errorFrom, setCsrfToken, unwrap, type Json } from './client';
import type { paths } from './schema';

/** The console's own endpoints (/api/console/*), through the typed client like the rest of the API. */

export type Session = Json<paths['/api/console/session']['get']['responses'][200]>;
export type Role = Session['user']['role'];
export type Plan = Session['organization']['plan'];
export type SsoProvider = Json<
  paths['/api/console/sso/providers']['get']['responses'][200]
>['providers'][number];

/** What the caller may change of a person's contact methods and notification rules (the server's own checks). */
export type PersonRights = Json<paths['/api/console/people/{identifier}/rights']['get']['responses'][200]>;
/** The rights the caller holds on a team (the server's own checks), by Opsgenie's names. */
export type TeamRight = Json<
  paths['/api/console/teams/{identifier}/rights']['get']['responses'][200]
>['rights'][number];

type Result = { data?: unknown; error?: unknown; response: Response };

/** Like unwrap(), without telling the app about a 401 (here it means "not signed in", or a wrong password). */
async function call<T>(request: Promise<Result>): Promise<T> {
  let result: Result;
  try {
    result = await request;
  } catch {
    throw new ApiError(0, 'Vigil could not be reached: check your connection and try again.');
  }
  if (!result.response.ok) throw await errorFrom(result.response, result.error);
  return result.data as T;
}

function signedIn(session: Session): Session {
  setCsrfToken(session.csrfToken);
  return session;
}

export const consoleApi = {
  setupStatus: () => call<{ setupRequired: boolean }>(api.GET('/api/console/setup')),
  setup: async (body: {
    organizationName: string;
    fullName: string;
    email: string;
    password: string;
    setupCode: string;
  }) => signedIn(await call<Session>(api.POST('/api/console/setup', { body }))),
  /** The session, or null when nobody is signed in. */
  session: async (): Promise<Session | null> => {
    try {
      return signedIn(await call<Session>(api.GET('/api/console/session')));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        setCsrfToken(undefined);
        return null;
      }
      throw error;
    }
  },
  signIn: async (body: { email: string; password: string }) =>
    signedIn(await call<Session>(api.POST('/api/console/session', { body }))),
  signOut: async () => {
    await call<void>(api.DELETE('/api/console/session'));
    setCsrfToken(undefined);
  },
  requestPasswordReset: (body: { email: string }) =>
    call<void>(api.POST('/api/console/password-reset', { body })),
  setPassword: async (body: { token: string; password: string }) =>
    signedIn(await call<Session>(api.POST('/api/console/password', { body }))),
  invite: (body: { email: string; fullName: string; role?: Role }) =>
    call<{ userId: string; emailed: boolean; link?: string; unchanged?: string }>(
      api.POST('/api/console/invitations', { body }),
    ),
  personRights: (identifier: string) =>
    unwrap<PersonRights>(
      api.GET('/api/console/people/{identifier}/rights', { params: { path: { identifier } } }),
    ),
  teamRights: async (identifier: string) =>
    (
      await unwrap<{ rights: TeamRight[] }>(
        api.GET('/api/console/teams/{identifier}/rights', {
          params: { path: { identifier }, query: { identifierType: 'id' } },
        }),
      )
    ).rights,
  ssoProviders: async () =>
    (await call<{ providers: SsoProvider[] }>(api.GET('/api/console/sso/providers'))).providers,
};

/** Where the browser goes to sign in through an organization's identity provider. */
export function ssoStartUrl(organizationId: string, returnTo: string): string {
  return `/api/console/sso/start?${new URLSearchParams({ organizationId, returnTo })}`;
}

export const EVENTS_URL = '/api/console/events';
export const MIN_PASSWORD_LENGTH = 12;
