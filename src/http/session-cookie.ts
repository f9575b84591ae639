import { parse, serialize } from 'cookie';

/**
 * The console's session cookie: HTTP-only (no script reads it), SameSite=Lax (sent when a person follows a
 * link to Vigil, as from an email, but not with other sites' requests), Secure when Vigil is served over
 * HTTPS. Changes made with it also need the CSRF token (server.ts).
 */
export const SESSION_COOKIE = 'vigil_session';

export function sessionTokenOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  const token = parse(cookieHeader)[SESSION_COOKIE];
  return token && /^[A-Za-z0-9_-]{20,100}$/.test(token) ? token : undefined;
}

export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return serialize(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

export function clearedSessionCookie(secure: boolean): string {
  return serialize(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: 0 });
}

/**
 * The single sign-on's `state`, kept by the browser that started it: a callback carrying another
 * browser's state (someone's own half-done sign-in, handed to a victim) would sign the victim in as that
 * someone. Only the sign-on's own routes get it.
 */
const SSO_STATE_COOKIE = 'vigil_sso_state';
const SSO_PATH = '/api/console/sso';

export function ssoStateOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  return parse(cookieHeader)[SSO_STATE_COOKIE] || undefined;
}

export function ssoStateCookie(state: string, maxAgeSeconds: number, secure: boolean): string {
  return serialize(SSO_STATE_COOKIE, state, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: SSO_PATH,
    maxAge: maxAgeSeconds,
  });
}

export function clearedSsoStateCookie(secure: boolean): string {
  return serialize(SSO_STATE_COOKIE, '', {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: SSO_PATH,
    maxAge: 0,
  });
}

/** Cookies are Secure wherever Vigil is reached over HTTPS (its public URL says so). */
export function secureCookiesFor(publicUrl: string): boolean {
  return publicUrl.startsWith('https:');
}
