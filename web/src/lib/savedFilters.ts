import { useCallback, useState } from 'react';

/** Saved alert filters: a name and a query, kept in this browser's localStorage (not on the server yet). */
export interface SavedFilter {
  name: string;
  query: string;
}

const KEY = 'vigil.savedFilters';

function load(): SavedFilter[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed)
      ? parsed.filter(
          (f): f is SavedFilter =>
            typeof f === 'object' && f !== null && typeof f.name === 'string' && typeof f.query === 'string',
        )
      : [];
  } catch {
    return [];
  }
}

export function useSavedFilters() {
  const [filters, setFilters] = useState<SavedFilter[]>(load);
  const store = useCallback((next: SavedFilter[]) => {
    setFilters(next);
    try {
      localStorage.setItem(KEY, JSON.stringify(next));
    } catch {
      // Storage full or refused: the filters last for this page only.
    }
  }, []);
  const save = (filter: SavedFilter) => store([...filters.filter((f) => f.name !== filter.name), filter]);
  const remove = (name: string) => store(filters.filter((f) => f.name !== name));
  return { filters, save, remove };
}
