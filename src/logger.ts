import { pino, type Logger } from 'pino';
import { processStdout } from './stdout-destination.js';

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
 * Query parameters whose value is a credential: an integration's key (the intake URL), a calendar feed's
 * or password link's token, the console's first set-up code, and the OpenID Connect callback's
 * authorization code and state.
 */
const SECRET_QUERY_PARAMETERS = new Set(['apikey', 'api_key', 'token', 'key', 'code', 'state']);

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/**
 * Blanks the credentials of a URL before it is logged: the values of SECRET_QUERY_PARAMETERS (named
 * in any case, percent-encoded or not, as the query parser reads them), and the token of a link that is
 * its own credential (an alert action link, an attachment's download link).
 *
 * The query is read as the server reads it, not as a browser would: the router (find-my-way) splits it
 * off at the first `?` or `#`, and the parser (fast-querystring) takes a later `#` or `?` as plain text.
 * So `/x#apiKey=S` and `/x?a=1#&apiKey=S` send the key S, and in `?apiKey=S#T` the key is all of `S#T`:
 * no part of a URL is a fragment to be copied through.
 */
export function redactUrl(url: string): string {
  const start = url.search(/[?#]/);
  const path = start < 0 ? url : url.slice(0, start);
  const query =
    start < 0
      ? ''
      : url.charAt(start) +
        url
          .slice(start + 1)
          .split('&')
          .map((part) => {
            const eq = part.indexOf('=');
            if (eq < 0 || !SECRET_QUERY_PARAMETERS.has(decodedName(part.slice(0, eq)))) return part;
            return `${part.slice(0, eq)}=[REDACTED]`;
          })
          .join('&');
  return (path + query).replace(/(\/v1\/(?:alert-actions|alert-attachments)\/)[^/?#]+/g, '$1[REDACTED]');
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      base: { service: 'vigil' },
    },
    (destination as pino.DestinationStream | undefined) ?? processStdout(),
  );
}

export type { Logger };
