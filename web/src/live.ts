import { useQueryClient, type Query, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { EVENTS_URL } from './api/console';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

type QueryMatch = (query: Query) => boolean;

/**
 * Since when (on `performance.now()`'s timeline) no stream has told this page what changed: the page's
 * start, then each drop or close of a stream that was open. A new stream asks the server for what
 * changed since, widened by the server's margin.
 */
let unheardSince = 0;

/** The longest replay the server takes (a day); it says `more` long before, when it cannot tell. */
const REPLAY_MAX_MS = 86_400_000;

/**
 * Reads queries again after a change. A query being read at that moment is read again once that read
 * has succeeded, as it may have been answered before the change: invalidating it at once would do
 * nothing during its first read (TanStack Query lets that read go on) and would cancel any other,
 * holding the page back.
 */
function createRereader(queryClient: QueryClient) {
  const cache = queryClient.getQueryCache();
  /** The queries to read again once the read under way is over (a failed one is left to its retries). */
  const onceRead = new Set<string>();
  const unsubscribe = cache.subscribe((event) => {
    const { query } = event;
    if (!onceRead.has(query.queryHash)) return;
    if (event.type === 'removed') onceRead.delete(query.queryHash);
    else if (event.type === 'updated' && query.state.fetchStatus !== 'fetching') {
      onceRead.delete(query.queryHash);
      if (event.action.type === 'success')
        void queryClient.invalidateQueries({ queryKey: query.queryKey, exact: true });
    }
  });
  return {
    readAgain(matches: QueryMatch) {
      for (const query of cache.findAll({ fetchStatus: 'fetching', predicate: matches }))
        onceRead.add(query.queryHash);
      void queryClient.invalidateQueries({
        predicate: (query) => matches(query) && !onceRead.has(query.queryHash),
      });
    },
    stop: unsubscribe,
  };
}

/**
 * Keeps the alert queries fresh from the server's event stream: an `alerts` event names the alerts
 * created or changed; the lists and counts are read again (at most every 300 ms), and so is any open
 * alert among them, or every open alert when the event says more changed than it names. A stream
 * first tells what changed while no stream was open: since the page started, for the first one
 * (`?replay=`), and since the last position it heard when EventSource reconnects by itself (the
 * `Last-Event-ID` it sends); where the server cannot tell, it says `more`, and everything is read again.
 */
export function useLiveAlerts(): LiveState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  // Counts the attempts after the server refused the stream: each one opens a new EventSource.
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const replay = Math.min(REPLAY_MAX_MS, Math.max(0, Math.ceil(performance.now() - unheardSince)));
    const source = new EventSource(`${EVENTS_URL}?replay=${replay}`, { withCredentials: true });
    const rereader = createRereader(queryClient);
    const pending = new Set<string>();
    /** An event said that more changed than it names (or the server missed some): every alert is stale. */
    let everything = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const flush = () => {
      timer = undefined;
      // readAgain matches the queries before it returns, so what was pending may be cleared after it.
      rereader.readAgain(
        (query) =>
          query.queryKey[0] === 'alerts' ||
          (query.queryKey[0] === 'alert' && (everything || pending.has(String(query.queryKey[1])))),
      );
      pending.clear();
      everything = false;
    };

    let live = false;
    source.onopen = () => {
      live = true;
      setState('live');
    };
    const stopHearing = () => {
      if (live) unheardSince = performance.now();
      live = false;
    };
    let retry: ReturnType<typeof setTimeout> | undefined;
    source.onerror = () => {
      stopHearing();
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
      stopHearing();
      source.close();
      rereader.stop();
      if (timer) clearTimeout(timer);
      if (retry) clearTimeout(retry);
    };
  }, [queryClient, attempt]);

  return state;
}
