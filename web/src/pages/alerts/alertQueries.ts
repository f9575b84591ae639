import { infiniteQueryOptions, type QueryClient } from '@tanstack/react-query';
import { api, data, unwrap } from '../../api/client';
import type { AlertDetail, AlertLog, AlertNote } from '../../api/types';
import { teamsQuery } from '../../lib/teams';

export interface AttachmentMeta {
  id: number;
  name: string;
}

/** A page of an alert's notes or log, newest first, and the cursor of the older entries past it. */
export interface EntryPage<T> {
  entries: T[];
  older?: string;
}

/** The entries of the pages read, newest first, each once (a page read again may overlap the next). */
export function entriesOf<T extends { offset: string }>(pages: EntryPage<T>[] | undefined): T[] {
  const seen = new Set<string>();
  return (pages ?? []).flatMap((page) =>
    page.entries.filter((entry) => !seen.has(entry.offset) && !!seen.add(entry.offset)),
  );
}

/** Entries asked at a time: the API's most. */
const ENTRY_PAGE = 100;

/**
 * The cursor (`offset`) of the page `paging.next` links to, when the API gives one (a full page): read
 * from the link rather than made up, so that the console asks for what the API says comes next.
 */
function cursorOf(next: string | undefined): string | undefined {
  if (!next) return undefined;
  return new URL(next, window.location.href).searchParams.get('offset') ?? undefined;
}

/**
 * An alert's notes or log as pages, the newest first: the first page is read again (with any older
 * ones shown) when the alert changes or the log is re-read, and each older page is read on asking.
 */
function entryPages<T>(id: string, kind: 'notes' | 'logs') {
  const path = { identifier: id };
  return infiniteQueryOptions({
    queryKey: ['alert', id, kind],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }): Promise<EntryPage<T>> => {
      const query = {
        identifierType: 'id' as const,
        direction: 'next' as const,
        order: 'desc' as const,
        limit: ENTRY_PAGE,
        ...(pageParam ? { offset: pageParam } : {}),
      };
      const body = await unwrap<{ data: T[]; paging?: { next?: string } }>(
        kind === 'notes'
          ? api.GET('/v2/alerts/{identifier}/notes', { params: { path, query } })
          : api.GET('/v2/alerts/{identifier}/logs', { params: { path, query } }),
      );
      return { entries: body.data, older: cursorOf(body.paging?.next) };
    },
    getNextPageParam: (last) => last.older,
  });
}

/**
 * What an alert's page asks the server: the alert, its notes, its log (the newest 100 of each, older
 * pages on asking) and its attachments. A module of its own, small and in the console's first chunk, so
 * that the first load of an alert's page can ask while the page's own code is still on its way
 * (prefetchAlertPage).
 */
export function alertPageQueries(id: string) {
  const path = { identifier: id };
  return {
    detail: {
      queryKey: ['alert', id, 'detail'],
      queryFn: () =>
        data<AlertDetail>(
          api.GET('/v2/alerts/{identifier}', { params: { path, query: { identifierType: 'id' } } }),
        ),
    },
    notes: entryPages<AlertNote>(id, 'notes'),
    logs: entryPages<AlertLog>(id, 'logs'),
    attachments: {
      queryKey: ['alert', id, 'attachments'],
      queryFn: () =>
        data<AttachmentMeta[]>(
          api.GET('/v2/alerts/{identifier}/attachments', { params: { path, query: {} } }),
        ),
    },
  };
}

/** Asks for all an alert's page shows, for its first render to find. */
export function prefetchAlertPage(queryClient: QueryClient, { params }: { params: { id?: string } }): void {
  if (!params.id) return;
  const { detail, notes, logs, attachments } = alertPageQueries(params.id);
  void queryClient.prefetchQuery(detail);
  void queryClient.prefetchInfiniteQuery(notes);
  void queryClient.prefetchInfiniteQuery(logs);
  void queryClient.prefetchQuery(attachments);
  void queryClient.prefetchQuery(teamsQuery);
}
