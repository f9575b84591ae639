import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { StringEnum } from './schemas.js';

/**
 * Opsgenie's paging of notes and logs (an alert's and an incident's alike): a cursor (`offset`, the id of
 * the last row seen), a direction, an order and a limit; a full page answers with the link to the next.
 */

const CursorFields = {
  offset: Type.Optional(Type.String({ pattern: '^\\d{1,18}$' })),
  direction: StringEnum(['next', 'prev'], { default: 'next' }),
  order: StringEnum(['asc', 'desc'], { default: 'desc' }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
};

/** The query of a notes or logs listing, with the API's own `identifierType`. */
export function cursorQuery<T extends TSchema>(identifierType: T) {
  return Type.Object({ identifierType, ...CursorFields });
}

export interface CursorQuery {
  offset?: string;
  direction: 'next' | 'prev';
  order: 'asc' | 'desc';
  limit: number;
}

/** What a service reads (the alerts service's PageOptions): rows after the cursor, as asked. */
export function pageOf(q: CursorQuery): Omit<CursorQuery, 'offset'> & { after?: string } {
  return { after: q.offset, direction: q.direction, order: q.order, limit: q.limit };
}

/** What a page link is made from: the request's address, as Fastify reads it (through trusted proxies). */
export type LinkedRequest = Pick<FastifyRequest, 'url' | 'protocol' | 'host'>;

/**
 * The absolute URL of another page of the list `request` asked for: its path and query, with `set`
 * replacing those parameters. Opsgenie gives absolute links carrying the request's own parameters
 * (`identifierType`, `query` …), and clients follow them as they are (Vigil's importer among them).
 * The base is `publicUrl` when given (VIGIL_PUBLIC_URL, which may hold a path a proxy takes off), else
 * the address the request was sent to, which is where its sender can reach Vigil: a Host header that
 * is no address gives the link without one.
 */
export function pageLink(
  request: LinkedRequest,
  publicUrl: string | undefined,
  set: Record<string, string>,
): string {
  const base = publicUrl?.replace(/\/+$/, '') ?? originOf(request) ?? '';
  const queryAt = request.url.indexOf('?');
  // The path as it came, not parsed: a URL would take an identifier `..` (or `%2e%2e`) as a step up.
  const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : request.url.slice(queryAt + 1));
  for (const [name, value] of Object.entries(set)) query.set(name, value);
  return `${base}${path}?${query.toString()}`;
}

function originOf(request: LinkedRequest): string | undefined {
  if (!URL.canParse(`${request.protocol}://${request.host}`)) return undefined;
  const url = new URL(`${request.protocol}://${request.host}`);
  // A Host header with a path, query or credentials in it is no address to send anyone to.
  return url.href === `${url.origin}/` ? url.origin : undefined;
}

/** The answer's `paging`: the link to the next page when this one is full. */
export function pagingOf(
  rows: readonly { id: string }[],
  q: CursorQuery & { identifierType: string },
  request: LinkedRequest,
  publicUrl: string | undefined,
): { next?: string } {
  const last = rows[rows.length - 1];
  return last && rows.length === q.limit
    ? {
        next: pageLink(request, publicUrl, {
          identifierType: q.identifierType,
          offset: last.id,
          direction: 'next',
          order: q.order,
          limit: String(q.limit),
        }),
      }
    : {};
}

/**
 * How far into a list (alerts, incidents) `offset` and `limit` reach: `offset + limit` at most this,
 * as in Opsgenie. The services refuse a page past it with a 422.
 */
export const LIST_WINDOW = 20_000;

/** What an offset-paged list's page asks for. */
export interface OffsetPage {
  offset: number;
  limit: number;
}

/**
 * The page after a full one, or none: clients follow `next` until it is absent (Vigil's importer among
 * them), so it must never name a page the window refuses. The last one asks for what the window has left.
 */
export function nextOffsetPage(page: OffsetPage, rowCount: number): OffsetPage | undefined {
  const offset = page.offset + page.limit;
  if (rowCount < page.limit || offset >= LIST_WINDOW) return undefined;
  return { offset, limit: Math.min(page.limit, LIST_WINDOW - offset) };
}

/**
 * The `paging` of an offset-paged list (alerts, incidents): its first page, and the next when this one
 * is full and the window reaches it; `set` holds the parameters the links carry besides the page's.
 */
export function offsetPagingOf(
  request: LinkedRequest,
  publicUrl: string | undefined,
  page: OffsetPage,
  rowCount: number,
  set: Record<string, string>,
): { first: string; next?: string } {
  const link = (p: OffsetPage) =>
    pageLink(request, publicUrl, { ...set, offset: String(p.offset), limit: String(p.limit) });
  const next = nextOffsetPage(page, rowCount);
  return { first: link({ offset: 0, limit: page.limit }), ...(next ? { next: link(next) } : {}) };
}

/** A note as Opsgenie lists an alert's or an incident's: its id is the cursor (`offset`). */
export function noteEntry(r: { id: string; note: string; owner: string; created_at: Date }) {
  return { note: r.note, owner: r.owner, createdAt: r.created_at.toISOString(), offset: r.id };
}

/** A log line as Opsgenie lists an alert's or an incident's: its id is the cursor (`offset`). */
export function logEntry(r: { id: string; log: string; type: string; owner: string; created_at: Date }) {
  return { log: r.log, type: r.type, owner: r.owner, createdAt: r.created_at.toISOString(), offset: r.id };
}
