import { pino, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Keys, tokens and passwords must never reach a log line,
 * whether they come in a header, a query string or a body we chose to log.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'token',
  '*.token',
  'databaseUrl',
  'connectionString',
];

/**
 * Strips `apiKey=` (and similar) values, and the token of a link that is its own credential (an alert
 * action link, an attachment's download link), from a URL before it is logged.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/([?&](?:apiKey|api_key|token|key)=)[^&#]*/gi, '$1[REDACTED]')
    .replace(/(\/v1\/(?:alert-actions|alert-attachments)\/)[^/?#]+/g, '$1[REDACTED]');
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      base: { service: 'vigil' },
    },
    destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };
