import type { QueryClient } from '@tanstack/react-query';
import { api, data } from '../../api/client';
import type { AlertDetail, AlertLog, AlertNote } from '../../api/types';
import { teamsQuery } from '../../lib/teams';

export interface AttachmentMeta {
  id: number;
  name: string;
}

/**
 * What an alert's page asks the server: the alert, its notes, its log and its attachments. A module of
 * its own, small and in the console's first chunk, so that the first load of an alert's page can ask
 * while the page's own code is still on its way (prefetchAlertPage).
 */
export function alertPageQueries(id: string) {
  const path = { identifier: id };
  const cursor = {
    identifierType: 'id' as const,
    direction: 'next' as const,
    order: 'desc' as const,
    limit: 100,
  };
  return {
    detail: {
      queryKey: ['alert', id, 'detail'],
      queryFn: () =>
        data<AlertDetail>(
          api.GET('/v2/alerts/{identifier}', { params: { path, query: { identifierType: 'id' } } }),
        ),
    },
    notes: {
      queryKey: ['alert', id, 'notes'],
      queryFn: () =>
        data<AlertNote[]>(api.GET('/v2/alerts/{identifier}/notes', { params: { path, query: cursor } })),
    },
    logs: {
      queryKey: ['alert', id, 'logs'],
      queryFn: () =>
        data<AlertLog[]>(api.GET('/v2/alerts/{identifier}/logs', { params: { path, query: cursor } })),
    },
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
  void queryClient.prefetchQuery(notes);
  void queryClient.prefetchQuery(logs);
  void queryClient.prefetchQuery(attachments);
  void queryClient.prefetchQuery(teamsQuery);
}
