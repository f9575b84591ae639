import type { QueryClient } from '@tanstack/react-query';
import { api, ApiError, data } from '../../api/client';
import type { AlertSummary } from '../../api/types';
import { savedSearchListQuery } from '../../lib/savedSearches';
import { teamsQuery } from '../../lib/teams';
import { combine, UNMATCHED_PARENTHESES } from './viewQuery';

/**
 * What the alert list asks the server, from its URL: the page of alerts and the count of each view. A
 * module of its own, small and in the console's first chunk, so that the first load of /alerts can ask
 * while the list page's own code is still on its way (prefetchAlertList).
 */

export const PAGE_SIZE = 50;

export const VIEWS = [
  { id: 'open', label: 'Open', query: 'status:open' },
  { id: 'unacked', label: 'Not acknowledged', query: 'status:open AND acknowledged:false' },
  { id: 'acked', label: 'Acknowledged', query: 'status:open AND acknowledged:true' },
  { id: 'closed', label: 'Closed', query: 'status:closed' },
  { id: 'all', label: 'All', query: '' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

/** The list's state in its URL: the search box's query, the saved filter's id, the view and the offset. */
export function listParams(params: URLSearchParams) {
  const viewId = (VIEWS.find((v) => v.id === params.get('view'))?.id ?? 'open') as ViewId;
  return {
    query: params.get('query') ?? '',
    searchId: params.get('search') ?? '',
    viewId,
    view: VIEWS.find((v) => v.id === viewId) ?? VIEWS[0],
    offset: Math.max(0, Number(params.get('offset')) || 0),
  };
}

/** The page of alerts and the views' counts (every count in one request: one scan of the alerts). */
export function alertListQueries({ query, searchId, view, offset }: ReturnType<typeof listParams>) {
  const fullQuery = combine(view.query, query);
  const savedSearch = searchId ? { searchIdentifier: searchId, searchIdentifierType: 'id' as const } : {};
  const countQueries = VIEWS.map((v) => combine(v.query, query));
  // Not sent: refused here as the server refuses a query, a 4xx the console does not retry, shown where
  // the server's refusal would be.
  const unmatched = () => Promise.reject(new ApiError(422, UNMATCHED_PARENTHESES));
  return {
    list: {
      queryKey: ['alerts', 'list', fullQuery, searchId, offset],
      queryFn: () =>
        fullQuery === undefined
          ? unmatched()
          : data<AlertSummary[]>(
              api.GET('/v2/alerts', {
                params: {
                  query: {
                    ...(fullQuery ? { query: fullQuery } : {}),
                    ...savedSearch,
                    offset,
                    limit: PAGE_SIZE,
                    sort: 'createdAt',
                    order: 'desc',
                  },
                },
              }),
            ),
    },
    counts: {
      queryKey: ['alerts', 'counts', countQueries, searchId],
      queryFn: () => {
        const queries = countQueries.filter((q) => q !== undefined);
        if (queries.length < countQueries.length) return unmatched();
        return data<{ query: string; count: number }[]>(
          api.GET('/v2/alerts/counts', { params: { query: { query: queries, ...savedSearch } } }),
        );
      },
    },
  };
}

/**
 * Asks for all the list at `search` (a URL's query string) shows: the alerts, the counts, the team names
 * and the saved filters, for its first render to find; each that came later would render the list again.
 */
export function prefetchAlertList(queryClient: QueryClient, { search }: { search: string }): void {
  const { list, counts } = alertListQueries(listParams(new URLSearchParams(search)));
  void queryClient.prefetchQuery(list);
  void queryClient.prefetchQuery(counts);
  void queryClient.prefetchQuery(teamsQuery);
  void queryClient.prefetchQuery(savedSearchListQuery);
}
