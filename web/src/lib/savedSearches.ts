import { useQueries, useQuery } from '@tanstack/react-query';
import { api, data } from '../api/client';
import type { SavedSearch, SavedSearchSummary } from '../api/types';

/**
 * The alert list's saved filters are the organization's saved searches (/v2/alerts/saved-searches,
 * Opsgenie's): on the server, so they follow a person to any browser, and shared with everyone in the
 * organization, as Opsgenie shares them. Their owner (or an admin) changes or deletes one.
 */

export const SAVED_SEARCHES_KEY = ['saved-searches'] as const;

export const savedSearchListQuery = {
  queryKey: [...SAVED_SEARCHES_KEY, 'list'],
  queryFn: () => data<SavedSearchSummary[]>(api.GET('/v2/alerts/saved-searches')),
  staleTime: 30_000,
};

export function useSavedSearchList(enabled = true) {
  return useQuery({ ...savedSearchListQuery, enabled });
}

function readSavedSearch(id: string): Promise<SavedSearch> {
  return data<SavedSearch>(
    api.GET('/v2/alerts/saved-searches/{identifier}', {
      params: { path: { identifier: id }, query: { identifierType: 'id' } },
    }),
  );
}

const detailKey = (id: string) => [...SAVED_SEARCHES_KEY, 'detail', id];

/** One saved search, with its query and owner (the list names them only). */
export function useSavedSearch(id: string | undefined) {
  return useQuery({
    queryKey: detailKey(id ?? ''),
    queryFn: () => readSavedSearch(id ?? ''),
    enabled: Boolean(id),
    staleTime: 30_000,
    // A search deleted elsewhere answers 404: asking again would not change that.
    retry: false,
  });
}

/** The query and owner of each search listed, read when they are about to be shown. */
export function useSavedSearchDetails(list: SavedSearchSummary[], enabled: boolean) {
  return useQueries({
    queries: list.map((s) => ({
      queryKey: detailKey(s.id),
      queryFn: () => readSavedSearch(s.id),
      enabled,
      staleTime: 30_000,
    })),
  });
}

export function createSavedSearch(input: { name: string; query: string; ownerId: string }) {
  return data<SavedSearchSummary>(
    api.POST('/v2/alerts/saved-searches', {
      body: { name: input.name, query: input.query, owner: { id: input.ownerId } },
    }),
  );
}

export function findSavedSearchByName(name: string): Promise<SavedSearch> {
  return data<SavedSearch>(
    api.GET('/v2/alerts/saved-searches/{identifier}', {
      params: { path: { identifier: name }, query: { identifierType: 'name' } },
    }),
  );
}

export function deleteSavedSearch(id: string) {
  return data(
    api.DELETE('/v2/alerts/saved-searches/{identifier}', {
      params: { path: { identifier: id }, query: { identifierType: 'id' } },
    }),
  );
}

export function renameSavedSearch(id: string, name: string) {
  return data<{ id: string; name: string }>(
    api.PATCH('/v2/alerts/saved-searches/{identifier}', {
      params: { path: { identifier: id }, query: { identifierType: 'id' } },
      body: { name },
    }),
  );
}
