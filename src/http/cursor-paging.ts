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

/** The answer's `paging`: the next page's query when this one is full. */
export function pagingOf(rows: readonly { id: string }[], q: CursorQuery): { next?: string } {
  const last = rows[rows.length - 1];
  return last && rows.length === q.limit
    ? { next: `?offset=${last.id}&direction=next&order=${q.order}&limit=${q.limit}` }
    : {};
}

/** A note as Opsgenie lists an alert's or an incident's: its id is the cursor (`offset`). */
export function noteEntry(r: { id: string; note: string; owner: string; created_at: Date }) {
  return { note: r.note, owner: r.owner, createdAt: r.created_at.toISOString(), offset: r.id };
}

/** A log line as Opsgenie lists an alert's or an incident's: its id is the cursor (`offset`). */
export function logEntry(r: { id: string; log: string; type: string; owner: string; created_at: Date }) {
  return { log: r.log, type: r.type, owner: r.owner, createdAt: r.created_at.toISOString(), offset: r.id };
}
