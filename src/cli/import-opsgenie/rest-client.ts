/**
 * A client for an Opsgenie-shaped REST API: Opsgenie's own (the source of an import), and Vigil's, which
 * speaks the same API (the target). `GenieKey` authentication, paging, and a backoff on 429.
 */
import { retryAfterMs } from '../../notify/retry-after.js';

export class RestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface RestClientOptions {
  /** The API's base URL, such as https://api.opsgenie.com or https://vigil.example.com. */
  url: string;
  apiKey: string;
  /** What to tell someone whose key was refused (401). */
  refusedHint: string;
  /** "Opsgenie" or "Vigil": named in errors. */
  label: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** 429s in a row before giving up. */
  maxRetries?: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The most pages one list may take: a loop guard against a `paging.next` that never ends. */
const MAX_PAGES = 1000;
const PAGE_SIZE = 100;

function waitAfter429Ms(header: string | null, attempt: number): number {
  const asked = retryAfterMs(header ?? undefined, new Date());
  if (asked !== undefined) return Math.min(asked, 60_000);
  // Opsgenie's rate limits are per minute: 1 s, 2 s, 4 s … up to 30 s.
  return Math.min(1000 * 2 ** attempt, 30_000);
}

export function createRestClient(options: RestClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  const origin = new URL(base).origin;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxRetries = options.maxRetries ?? 6;

  /** The whole answer's body (data, paging, totalCount …). Keys never appear in errors. */
  async function request(
    method: string,
    pathOrUrl: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : base + pathOrUrl;
    // A `paging.next` pointing elsewhere would carry the key to another host.
    if (new URL(url).origin !== origin)
      throw new RestError(`${options.label} gave a next page on another host (${new URL(url).origin}).`);
    const shown = `${method} ${url.slice(origin.length)}`;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers: {
            authorization: `GenieKey ${options.apiKey}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(60_000),
        });
      } catch (error) {
        throw new RestError(`could not reach ${options.label} at ${base} (${(error as Error).message}).`);
      }
      if (response.status === 429 && attempt < maxRetries) {
        await response.body?.cancel();
        await sleep(waitAfter429Ms(response.headers.get('retry-after'), attempt));
        continue;
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? {} : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (response.ok) {
        if (!isRecord(parsed))
          throw new RestError(`${options.label} answered ${shown} with something other than a JSON object.`);
        return parsed;
      }
      const message =
        isRecord(parsed) && typeof parsed.message === 'string' ? parsed.message : text.slice(0, 300);
      const errors =
        isRecord(parsed) && isRecord(parsed.errors)
          ? ` (${JSON.stringify(parsed.errors).slice(0, 500)})`
          : '';
      if (response.status === 401) throw new RestError(`${options.label}: ${options.refusedHint}`, 401);
      if (response.status === 429)
        throw new RestError(`${options.label} kept answering 429 (too many requests) to ${shown}.`, 429);
      throw new RestError(
        `${options.label} answered ${response.status} to ${shown}: ${message}${errors}`,
        response.status,
      );
    }
  }

  async function data(method: string, path: string, body?: unknown): Promise<unknown> {
    return (await request(method, path, body)).data;
  }

  /**
   * Every item of a list. Follows `paging.next` where the API gives it (Opsgenie), else pages by offset
   * while `totalCount` says more are left (Vigil's users); a list without either is one page. Only lists
   * that page (`offset: true`) are sent offset and limit.
   */
  async function list(
    path: string,
    how: { offset?: boolean; pick?: (body: Record<string, unknown>) => unknown } = {},
  ) {
    const pick = how.pick ?? ((b: Record<string, unknown>) => b.data);
    const items: unknown[] = [];
    const paged = path.includes('?') ? `${path}&` : `${path}?`;
    let next: string | undefined = how.offset ? `${paged}offset=0&limit=${PAGE_SIZE}` : path;
    for (let page = 0; next !== undefined; page++) {
      if (page >= MAX_PAGES)
        throw new RestError(`${options.label}'s list ${path} has more than ${MAX_PAGES} pages.`);
      const body = await request('GET', next);
      const got = pick(body);
      if (!Array.isArray(got)) throw new RestError(`${options.label}'s list ${path} did not answer a list.`);
      items.push(...(got as unknown[]));
      const paging = isRecord(body.paging) ? body.paging : undefined;
      if (paging && typeof paging.next === 'string' && paging.next !== '') next = paging.next;
      else if (
        how.offset &&
        typeof body.totalCount === 'number' &&
        got.length > 0 &&
        items.length < body.totalCount
      )
        next = `${paged}offset=${items.length}&limit=${PAGE_SIZE}`;
      else next = undefined;
    }
    return items;
  }

  return {
    label: options.label,
    get: (path: string) => data('GET', path),
    post: (path: string, body: unknown) => data('POST', path, body),
    patch: (path: string, body: unknown) => data('PATCH', path, body),
    put: (path: string, body: unknown) => data('PUT', path, body),
    delete: (path: string) => data('DELETE', path),
    list,
  };
}

export type RestClient = ReturnType<typeof createRestClient>;

export const OPSGENIE_KEY_REFUSED =
  'the API key was refused: use an Opsgenie API key with read access (Settings > API key management).';
export const VIGIL_KEY_REFUSED =
  'the API key was refused: give an API key of an admin of Vigil with VIGIL_API_KEY (POST /v2/api-keys, or the console’s API keys page, makes one).';
