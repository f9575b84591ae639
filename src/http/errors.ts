/**
 * Errors in Opsgenie's envelope: `{ message, took, requestId }`, with `errors` naming the fields at fault
 * on a 422. Services throw these; the HTTP layer renders them.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (message: string) => new ApiError(404, message);
export const forbidden = (message: string) => new ApiError(403, message);
export const conflict = (message: string) => new ApiError(409, message);

/** A 422 naming one field, the way Opsgenie reports unprocessable requests. */
export function invalidField(field: string, message: string): ApiError {
  return new ApiError(422, 'Request body is not processable. Please check the errors.', { [field]: message });
}

export function invalidQuery(message: string): ApiError {
  return new ApiError(422, message);
}
