import { useQueryClient, type Query, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { EVENTS_URL } from './api/console';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

const isAlertQuery = (query: Query): boolean =>
  query.queryKey[0] === 'alerts' || query.queryKey[0] === 'alert';

/**
 * Fetches again the alert queries (lists, counts, alerts) read before the stream opened: a change made
 * between such a read and the stream's opening is announced to no one, so without this the page would
 * show it only after the next change. A query still being fetched is fetched again once it is done (not
 * cancelled, so the page is not held back). Returns what stops waiting for those.
 */
function refetchWhatPredates(queryClient: QueryClient, openedAt: number): () => void {
  const cache = queryClient.getQueryCache();
  const inFlight = new Set(
    cache.findAll({ fetchStatus: 'fetching', predicate: isAlertQuery }).map((query) => query.queryHash),
  );
  void queryClient.invalidateQueries({
    predicate: (query) =>
      isAlertQuery(query) && !inFlight.has(query.queryHash) && query.state.dataUpdatedAt < openedAt,
  });
  if (inFlight.size === 0) return () => {};
  const stop = cache.subscribe(({ query }) => {
    if (!inFlight.has(query.queryHash) || query.state.fetchStatus === 'fetching') return;
    inFlight.delete(query.queryHash);
    void queryClient.invalidateQueries({ queryKey: query.queryKey, exact: true });
    if (inFlight.size === 0) stop();
  });
  return stop;
}

/**
 * Keeps the alert queries fresh from the server's event stream: an `alerts` event names the alerts
 * created or changed; the lists and counts are refetched (at most every 300 ms), and so is any open
 * alert among them, or every open alert when the event says more changed than it names. EventSource
 * reconnects by itself after a drop.
 */
export function useLiveAlerts(): LiveState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const source = new EventSource(EVENTS_URL, { withCredentials: true });
    const pending = new Set<string>();
    /** An event said that more changed than it names (or the server missed some): every alert is stale. */
    let everything = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const flush = () => {
      timer = undefined;
      void queryClient.invalidateQueries({ queryKey: ['alerts'] });
      if (everything) void queryClient.invalidateQueries({ queryKey: ['alert'] });
      else for (const id of pending) void queryClient.invalidateQueries({ queryKey: ['alert', id] });
      pending.clear();
      everything = false;
    };

    let stopWaiting = () => {};
    source.onopen = () => {
      setState('live');
      // Whatever changed before the stream was open (at first, or while it was down) was announced to
      // no one: what the page read before is read again.
      stopWaiting();
      stopWaiting = refetchWhatPredates(queryClient, Date.now());
    };
    let retry: ReturnType<typeof setTimeout> | undefined;
    source.onerror = () => {
      setState('reconnecting');
      // The browser retries by itself unless the server refused the stream; then try again later.
      if (source.readyState === EventSource.CLOSED)
        retry = setTimeout(() => setAttempt((n) => n + 1), 10_000);
    };
    source.addEventListener('alerts', (event) => {
      try {
        const parsed = JSON.parse((event as MessageEvent<string>).data) as { ids?: unknown; more?: unknown };
        if (Array.isArray(parsed.ids))
          for (const id of parsed.ids) if (typeof id === 'string') pending.add(id);
        if (parsed.more === true) everything = true;
      } catch {
        // A malformed event still means something changed.
        everything = true;
      }
      timer ??= setTimeout(flush, 300);
    });
    return () => {
      source.close();
      stopWaiting();
      if (timer) clearTimeout(timer);
      if (retry) clearTimeout(retry);
    };
  }, [queryClient, attempt]);

  return state;
}
