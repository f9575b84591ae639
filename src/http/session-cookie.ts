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
