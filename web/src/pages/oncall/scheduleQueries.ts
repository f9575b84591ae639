import type { QueryClient } from '@tanstack/react-query';
import { api, data } from '../../api/client';
import type { NextOnCalls, OnCalls } from '../../api/types';
import { schedulesQuery } from '../../lib/oncall';

/**
 * What the on-call page asks the server: the schedules (`schedulesQuery`), and who is on call now and
 * next in each. A module of its own, small and in the console's first chunk, so that the first load of
 * the page can ask while its own code is still on its way (prefetchOnCall).
 */
export function onCallQueries(scheduleId: string) {
  const params = { path: { identifier: scheduleId }, query: { flat: false } };
  return {
    now: {
      queryKey: ['schedule', scheduleId, 'on-calls'],
      queryFn: () => data<OnCalls>(api.GET('/v2/schedules/{identifier}/on-calls', { params })),
    },
    next: {
      queryKey: ['schedule', scheduleId, 'next'],
      queryFn: () => data<NextOnCalls>(api.GET('/v2/schedules/{identifier}/next-on-calls', { params })),
    },
  };
}

/** Asks for the schedules, then for who is on call in each, for the page's first render to find. */
export function prefetchOnCall(queryClient: QueryClient): void {
  void queryClient.fetchQuery(schedulesQuery).then(
    (schedules) => {
      for (const schedule of schedules) {
        const { now, next } = onCallQueries(schedule.id);
        void queryClient.prefetchQuery(now);
        void queryClient.prefetchQuery(next);
      }
    },
    // Shown by the page, which asks again.
    () => undefined,
  );
}
