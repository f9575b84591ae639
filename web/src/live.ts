import { useQueryClient, type Query, type QueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { EVENTS_URL } from './api/console';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

type QueryMatch = (query: Query) => boolean;

/**
 * Where the last stream left this page: the position it last gave (opaque; the server reads it), from
 * which a new stream tells what changed since. Before any, a stream asks for the changes since the page
 * started (`performance.now()` is the time since then).
 */
let lastPosition: string | undefined;

/** The longest replay the server takes (a day); it says `more` long before, when it cannot tell. */
const REPLAY_MAX_MS = 86_400_000;

/**
 * How long to wait before a new stream: after a dropped one, after the server refused one, and after
 * it ended this one for a newer tab of the same user (`evicted`): coming back at once would end another
 * tab's in turn.
 */
const RECONNECT_MS = 3_000;
const REFUSED_RETRY_MS = 10_000;
const EVICTED_RETRY_MS = 120_000;

/**
 * The list's views' counts are read again at most this often, the list itself within 300 ms: a count
 * reads every alert of the organization the search leaves (a page of the list, an index's few rows), so
 * reading them on each change kept a server core busy for one console while alerts kept changing.
 */
const COUNTS_EVERY_MS = 5_000;

const isCounts: QueryMatch = (query) => query.queryKey[0] === 'alerts' && query.queryKey[1] === 'counts';

function streamUrl(): string {
  if (lastPosition !== undefined) return `${EVENTS_URL}?after=${encodeURIComponent(lastPosition)}`;
  const replay = Math.min(REPLAY_MAX_MS, Math.max(0, Math.ceil(performance.now())));
  return `${EVENTS_URL}?replay=${replay}`;
}

type Rereader = ReturnType<typeof createRereader>;

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
 * created or changed; the lists are read again (at most every 300 ms), the counts too but at most every
 * 5 s (COUNTS_EVERY_MS), and so is any open alert among them, or every open alert when the event says more changed than it names. A stream first
 * tells what changed while no stream was open: since the last position a stream gave (`?after=`), or
 * since the page started (`?replay=`); where the server cannot tell, it says `more`, and everything is
 * read again. The console opens each new stream itself (not EventSource's own reconnection, which
 * would ask again for what the first URL said), a few seconds after a drop.
 */
export function useLiveAlerts(): LiveState {
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  // Counts the streams opened after one ended: each attempt opens a new EventSource.
  const [attempt, setAttempt] = useState(0);
  // Outlives each stream: a read to be done again once over must be, whichever stream asked for it.
  const rereader = useRef<Rereader | undefined>(undefined);

  useEffect(() => {
    const own = createRereader(queryClient);
    rereader.current = own;
    return () => {
      own.stop();
      rereader.current = undefined;
    };
  }, [queryClient]);

  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const source = new EventSource(streamUrl(), { withCredentials: true });
    const pending = new Set<string>();
    /** An event said that more changed than it names (or the server missed some): every alert is stale. */
    let everything = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    /** A change was heard since the counts were last read; they are read again when `countsTimer` ends. */
    let countsStale = false;
    let countsTimer: ReturnType<typeof setTimeout> | undefined;
    let countsReadAt = -Infinity;

    // Both match the queries before they return, so what was pending may be cleared after them. At
    // unmount the rereader may have stopped first: the queries are then marked stale, to be read when
    // next shown, since the next stream starts past these changes.
    const readAgain = (matches: QueryMatch) => {
      if (rereader.current) rereader.current.readAgain(matches);
      else void queryClient.invalidateQueries({ predicate: matches });
    };
    const flushCounts = () => {
      countsTimer = undefined;
      if (!countsStale) return;
      countsStale = false;
      countsReadAt = performance.now();
      readAgain(isCounts);
    };
    const flush = () => {
      timer = undefined;
      readAgain(
        (query) =>
          (query.queryKey[0] === 'alerts' && !isCounts(query)) ||
          (query.queryKey[0] === 'alert' && (everything || pending.has(String(query.queryKey[1])))),
      );
      pending.clear();
      everything = false;
      // The first change after a quiet while shows in the counts as soon as in the list; those that
      // follow it within COUNTS_EVERY_MS, together once that time is up.
      countsStale = true;
      const wait = countsReadAt + COUNTS_EVERY_MS - performance.now();
      if (wait <= 0) flushCounts();
      else countsTimer ??= setTimeout(flushCounts, wait);
    };
    const positionFrom = (value: unknown) => {
      if (typeof value === 'string') lastPosition = value;
    };

    source.onopen = () => setState('live');
    let retry: ReturnType<typeof setTimeout> | undefined;
    source.onerror = () => {
      setState('reconnecting');
      // CLOSED: the server refused the stream (not a 200 event stream); otherwise it dropped.
      const refused = source.readyState === EventSource.CLOSED;
      source.close();
      retry ??= setTimeout(() => setAttempt((n) => n + 1), refused ? REFUSED_RETRY_MS : RECONNECT_MS);
    };
    source.addEventListener('evicted', () => {
      setState('reconnecting');
      source.close();
      retry ??= setTimeout(() => setAttempt((n) => n + 1), EVICTED_RETRY_MS);
    });
    source.addEventListener('position', (event) => {
      try {
        positionFrom(JSON.parse((event as MessageEvent<string>).data));
      } catch {
        // Not a position: the last one stays.
      }
    });
    source.addEventListener('alerts', (event) => {
      try {
        const parsed = JSON.parse((event as MessageEvent<string>).data) as {
          ids?: unknown;
          more?: unknown;
          position?: unknown;
        };
        if (Array.isArray(parsed.ids))
          for (const id of parsed.ids) if (typeof id === 'string') pending.add(id);
        if (parsed.more === true) everything = true;
        positionFrom(parsed.position);
      } catch {
        // A malformed event still means something changed.
        everything = true;
      }
      timer ??= setTimeout(flush, 300);
    });
    return () => {
      source.close();
      if (retry) clearTimeout(retry);
      // Heard, and past the position kept: read now what the next stream will not tell again.
      if (timer) {
        clearTimeout(timer);
        flush();
      }
      if (countsTimer) {
        clearTimeout(countsTimer);
        flushCounts();
      }
    };
  }, [queryClient, attempt]);

  return state;
}
