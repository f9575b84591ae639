/**
 * What a domain module says went wrong, in the domain's words: the thing is missing, the caller may not,
 * it clashes with what exists, or the input is invalid (with the fields at fault). Services throw these
 * and know nothing of HTTP; the API's error handler (http/errors.ts) picks the status for each kind.
 */
export type DomainErrorKind =
  | 'not-found'
  | 'forbidden'
  | 'conflict'
  | 'invalid'
  | 'unauthenticated'
  | 'rate-limited'
  /** What the request needs is not set up in this Vigil (a provider's settings). */
  | 'unavailable'
  /** A provider Vigil relayed the request to refused it or could not be reached. */
  | 'upstream';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** For `invalid`: the fields at fault, each with what to give instead. */
    readonly fields?: Record<string, string>,
    /** For `rate-limited`: when trying again may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** Opsgenie's wording for invalid input, which its clients show as is. */
export const UNPROCESSABLE_BODY = 'Request body is not processable. Please check the errors.';
export const UNPROCESSABLE_QUERY = 'Request querystring is not processable. Please check the errors.';

export const notFound = (message: string) => new DomainError('not-found', message);
export const forbidden = (message: string) => new DomainError('forbidden', message);
export const conflict = (message: string) => new DomainError('conflict', message);
/** The caller is not (or no longer) signed in, or their credentials are wrong. */
export const unauthenticated = (message: string) => new DomainError('unauthenticated', message);
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new DomainError('rate-limited', message, undefined, retryAfterSeconds);

export const unavailable = (message: string) => new DomainError('unavailable', message);
export const upstream = (message: string) => new DomainError('upstream', message);

/** Invalid input with a message of its own, and the fields at fault when there are any. */
export function invalid(message: string, fields?: Record<string, string>): DomainError {
  return new DomainError('invalid', message, fields);
}

/** Invalid input naming one field. */
export function invalidField(field: string, message: string): DomainError {
  return invalid(UNPROCESSABLE_BODY, { [field]: message });
}

export function isDomainError(error: unknown, kind?: DomainErrorKind): error is DomainError {
  return error instanceof DomainError && (kind === undefined || error.kind === kind);
}
