import { DomainError, type DomainErrorKind } from '../errors.js';

/**
 * Errors in Opsgenie's envelope: `{ message, took, requestId }`, with `errors` naming the fields at fault
 * on a 422. The HTTP layer throws these for what only it knows (authentication, unreadable bodies); the
 * domain's own errors (errors.ts) are turned into them by `apiErrorOf`.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly errors?: Record<string, string>,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const STATUS_OF: Record<DomainErrorKind, number> = {
  'not-found': 404,
  forbidden: 403,
  conflict: 409,
  invalid: 422,
  unauthenticated: 401,
  'rate-limited': 429,
  unavailable: 503,
  upstream: 502,
};

export function apiErrorOf(error: DomainError): ApiError {
  return new ApiError(STATUS_OF[error.kind], error.message, error.fields, error.retryAfterSeconds);
}
