import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import type { User, UserPage } from '../api/types';

/**
 * The organization's people. GET /v2/users answers a page at a time (offset and limit) with the number
 * of people in all (totalCount), and searches usernames and full names (`query`) on the server.
 */

const PAGE_SIZE = 100;
/** Pages read at once when reading everyone: enough to be quick, few enough not to flood the server. */
const PARALLEL_PAGES = 4;
/** What a picker shows while one types: the server narrows it down, so a short list is enough. */
export const SEARCH_LIMIT = 20;

function readPage(offset: number, limit: number, query?: string): Promise<UserPage> {
  return unwrap<UserPage>(
    api.GET('/v2/users', {
      params: {
        query: { offset, limit, sort: 'username', order: 'asc', ...(query ? { query } : {}) },
      },
    }),
  );
}

async function readEveryone(): Promise<User[]> {
  const first = await readPage(0, PAGE_SIZE);
  const offsets: number[] = [];
  for (let offset = PAGE_SIZE; offset < first.totalCount; offset += PAGE_SIZE) offsets.push(offset);
  const pages = [first.data];
  for (let i = 0; i < offsets.length; i += PARALLEL_PAGES) {
    const batch = offsets.slice(i, i + PARALLEL_PAGES).map((o) => readPage(o, PAGE_SIZE));
    for (const page of await Promise.all(batch)) pages.push(page.data);
  }
  // Someone added while the pages are read shifts the later ones: the same person may come twice.
  const byId = new Map<string, User>();
  for (const user of pages.flat()) byId.set(user.id, user);
  return [...byId.values()];
}

/** Everyone in the organization, by username, read page by page. */
export function useAllUsers(enabled = true) {
  return useQuery({ queryKey: ['users', 'all'], queryFn: readEveryone, enabled, staleTime: 60_000 });
}

/** The first page of people by username: a short list to choose from before searching. */
export function useFirstUsers(enabled = true) {
  return useQuery({
    queryKey: ['users', 'first-page'],
    queryFn: async () => (await readPage(0, PAGE_SIZE)).data,
    enabled,
    staleTime: 60_000,
  });
}

/** The people whose username or full name holds `text`, asked of the server once typing pauses. */
export function useUserSearch(text: string, enabled = true) {
  const [settled] = useDebouncedValue(text.trim(), 200);
  return useQuery({
    queryKey: ['users', 'search', settled],
    queryFn: () => readPage(0, SEARCH_LIMIT, settled || undefined),
    enabled,
    // The previous answer stays listed while the next one comes, so the list does not flicker empty.
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}
