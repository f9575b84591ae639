import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/** The JSON body of a response type of the generated `paths`. */
export type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

/** An answer other than 2xx: `message` says what to do, `errors` names the fields at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;

/** Set from every session answer: sent as X-CSRF-Token on each request that changes something. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export function csrfHeaders(method: string): Record<string, string> {
  return method === 'GET' || method === 'HEAD' || !csrfToken ? {} : { 'X-CSRF-Token': csrfToken };
}

const csrf: Middleware = {
  onRequest({ request }) {
    for (const [name, value] of Object.entries(csrfHeaders(request.method))) request.headers.set(name, value);
    return request;
  },
};

/** The typed client of Vigil's public API (paths and bodies from /openapi.json). */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

/** Listeners told about a 401 (the session ended): the app goes back to the sign-in page. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function errorFrom(response: Response, body?: unknown): Promise<ApiError> {
  let parsed = body;
  if (parsed === undefined) {
    try {
      parsed = await response.clone().json();
    } catch {
      parsed = undefined;
    }
  }
  const b = (parsed ?? {}) as { message?: unknown; errors?: unknown };
  const errors = b.errors && typeof b.errors === 'object' ? (b.errors as Record<string, string>) : undefined;
  const retry = Number(response.headers.get('retry-after'));
  const message =
    typeof b.message === 'string' && b.message !== ''
      ? b.message
      : response.status >= 500
        ? `Vigil answered ${response.status}: try again in a moment; if it persists, check that Vigil is running.`
        : `Vigil answered ${response.status} ${response.statusText}.`;
  return new ApiError(
    response.status,
    message,
    errors,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  );
}

/**
 * Awaits an openapi-fetch call and gives its body as T (Vigil's spec types requests, not answers: the
 * answer shapes are in ./types.ts), or throws an ApiError carrying the server's message.
 */
export async function unwrap<T>(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: unknown; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiError(0, 'Vigil could not be reached: check your connection and try again.');
  }
  if (!result.response.ok) {
    const error = await errorFrom(result.response, result.error);
    if (error.status === 401) for (const listener of unauthorizedListeners) listener();
    throw error;
  }
  return result.data as T;
}

/** The `data` of an answer body B, where the route's response schema types it; unknown where it does not. */
type EnvelopeData<B> = [NonNullable<B>] extends [never]
  ? unknown
  : NonNullable<B> extends { data: infer D }
    ? D
    : unknown;

/**
 * The `data` of an Opsgenie-style envelope: typed from the route's response schema when no T is given
 * (T stays for routes whose answers the OpenAPI document does not type yet).
 */
export async function data<T = never, B = unknown>(
  call: Promise<{ data?: B; error?: unknown; response: Response }>,
): Promise<[NoInfer<T>] extends [never] ? EnvelopeData<B> : NoInfer<T>> {
  return (await unwrap<{ data: [T] extends [never] ? EnvelopeData<B> : T }>(call)).data;
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong: reload the page and try again.';
}
