import { ApiError, messageOf } from '../api/client';
import { createSavedSearch, findSavedSearchByName } from './savedSearches';

/**
 * Saved filters as the console kept them before they moved to the server: in this browser's
 * localStorage. They are read only to offer moving them to the server, and cleared once they are.
 */

export interface LegacyFilter {
  name: string;
  query: string;
}

const KEY = 'vigil.savedFilters';

export function readLegacyFilters(): LegacyFilter[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed)
      ? parsed.filter(
          (f): f is LegacyFilter =>
            typeof f === 'object' && f !== null && typeof f.name === 'string' && typeof f.query === 'string',
        )
      : [];
  } catch {
    return [];
  }
}

/** Keeps only `filters` in this browser (those not moved yet); none left clears the key. */
export function keepLegacyFilters(filters: LegacyFilter[]): void {
  try {
    if (filters.length === 0) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, JSON.stringify(filters));
  } catch {
    // Storage refused: the offer comes back on the next visit, which is harmless.
  }
}

export interface MoveResult {
  moved: number;
  /** Filters with no query: they matched every alert, which the All view already shows. */
  dropped: number;
  failed: { filter: LegacyFilter; reason: string }[];
}

/**
 * Saves each filter as a saved search owned by the person. Names are unique in the whole organization:
 * when the name is taken by a search with the same query (moved from another browser, say), there is
 * nothing to do; by another query, the filter is saved under its name followed by the person's.
 */
export async function moveLegacyFilters(
  filters: LegacyFilter[],
  owner: { id: string; username: string },
): Promise<MoveResult> {
  const result: MoveResult = { moved: 0, dropped: 0, failed: [] };
  for (const filter of filters) {
    const name = filter.name.trim();
    const query = filter.query.trim();
    if (!query) {
      result.dropped++;
      continue;
    }
    try {
      try {
        await createSavedSearch({ name, query, ownerId: owner.id });
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 409)) throw error;
        const existing = await findSavedSearchByName(name);
        if (existing.query.trim() !== query) {
          await createSavedSearch({ name: `${name} (${owner.username})`, query, ownerId: owner.id });
        }
      }
      result.moved++;
    } catch (error) {
      result.failed.push({ filter, reason: messageOf(error) });
    }
  }
  return result;
}
