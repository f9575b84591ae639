import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useMemo, useRef } from 'react';
import { ApiError, api, data, messageOf, unwrap } from '../api/client';
import type { Accepted, Priority, RequestStatus } from '../api/types';

export type AlertAction =
  | { kind: 'acknowledge' }
  | { kind: 'unacknowledge' }
  | { kind: 'close' }
  | { kind: 'note'; note: string }
  | { kind: 'priority'; priority: Priority }
  | { kind: 'snooze'; endTime: string }
  | { kind: 'assign'; username: string }
  | { kind: 'escalate'; escalation?: { id: string } };

const SOURCE = 'Vigil console';

export const ACTION_WORDS: Record<AlertAction['kind'], string> = {
  acknowledge: 'Acknowledged',
  unacknowledge: 'Unacknowledged',
  close: 'Closed',
  note: 'Note added',
  priority: 'Priority changed',
  snooze: 'Snoozed',
  assign: 'Assigned',
  escalate: 'Escalated',
};

/** Sends one action; Vigil answers 202 and applies it a moment later. */
export function sendAction(id: string, action: AlertAction): Promise<Accepted> {
  const path = { identifier: id };
  const query = { identifierType: 'id' as const };
  const params = { path, query };
  switch (action.kind) {
    case 'acknowledge':
      return unwrap(api.POST('/v2/alerts/{identifier}/acknowledge', { params, body: { source: SOURCE } }));
    case 'unacknowledge':
      return unwrap(api.POST('/v2/alerts/{identifier}/unacknowledge', { params, body: { source: SOURCE } }));
    case 'close':
      return unwrap(api.POST('/v2/alerts/{identifier}/close', { params, body: { source: SOURCE } }));
    case 'note':
      return unwrap(
        api.POST('/v2/alerts/{identifier}/notes', { params, body: { note: action.note, source: SOURCE } }),
      );
    case 'priority':
      return unwrap(
        api.PUT('/v2/alerts/{identifier}/priority', {
          params,
          body: { priority: action.priority, source: SOURCE },
        }),
      );
    case 'snooze':
      return unwrap(
        api.POST('/v2/alerts/{identifier}/snooze', {
          params,
          body: { endTime: action.endTime, source: SOURCE },
        }),
      );
    case 'assign':
      return unwrap(
        api.POST('/v2/alerts/{identifier}/assign', {
          params,
          body: { owner: { username: action.username }, source: SOURCE },
        }),
      );
    case 'escalate':
      return unwrap(
        api.POST('/v2/alerts/{identifier}/escalate', {
          params,
          body: { ...(action.escalation ? { escalation: action.escalation } : {}), source: SOURCE },
        }),
      );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (briefly) until Vigil has processed the request, and says how it went. Undefined when that could
 * not be learnt: no answer in time, or the status itself could not be read. It is then neither done nor
 * failed, and the person is told to check the alert.
 */
export async function settle(requestId: string): Promise<RequestStatus | undefined> {
  for (let attempt = 0; attempt < 12; attempt++) {
    await sleep(attempt === 0 ? 150 : 300);
    try {
      return await data<RequestStatus>(
        api.GET('/v2/alerts/requests/{requestId}', { params: { path: { requestId } } }),
      );
    } catch (error) {
      // Only a 404 means "not processed yet"; any other error says nothing of how the action went.
      if (!(error instanceof ApiError && error.status === 404)) return undefined;
    }
  }
  return undefined;
}

/** What the person is told of an action sent but never confirmed (see settle). */
export const UNCONFIRMED = 'Sent, but its result could not be confirmed: check the alert.';

export function refreshAlert(queryClient: QueryClient, id: string) {
  void queryClient.invalidateQueries({ queryKey: ['alert', id] });
  void queryClient.invalidateQueries({ queryKey: ['alerts'] });
}

/** Runs `work` on every item, at most `size` at a time. */
async function pool<T, R>(items: T[], size: number, work: (item: T) => Promise<R>) {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index] as T) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

/**
 * Sends an action once: `send(key, work)` runs `work` unless a call of the same key is in flight, and is
 * false when it did not. The key is taken as it is sent (a mutation's `isPending` comes a render later,
 * so a key pressed twice at once went twice) and let go when that call's own promise settles: a
 * mutation's per-call callbacks run for its latest call only (TanStack Query), so released from them an
 * earlier key (a, then c) would be held for good. Several keys may be in flight at once, each let go
 * alone: a, c, a sends one acknowledge. A page gives one key to what must not overlap, and tells apart
 * what may. `work` is a `mutateAsync` call, its failure shown by the mutation's own onError.
 */
export function useSendOnce() {
  const sending = useRef(new Set<string>());
  return useMemo(
    () => ({
      send(key: string, work: () => Promise<unknown>): boolean {
        const inFlight = sending.current;
        if (inFlight.has(key)) return false;
        inFlight.add(key);
        const release = () => {
          inFlight.delete(key);
        };
        work().then(release, release);
        return true;
      },
    }),
    [],
  );
}

/** Runs actions on one or many alerts, tells the outcome, and refetches what changed. */
export function useAlertAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ ids, action }: { ids: string[]; action: AlertAction }) => {
      const results = await pool(ids, 6, async (id) => {
        const accepted = await sendAction(id, action);
        const status = await settle(accepted.requestId);
        if (status && !status.isSuccess) throw new Error(status.status);
        return status !== undefined;
      });
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      const unconfirmed = results.filter((r) => r.status === 'fulfilled' && !r.value).length;
      return { ids, action, failed: failed.map((r) => messageOf(r.reason)), unconfirmed };
    },
    onSuccess: ({ ids, action, failed, unconfirmed }) => {
      const done = ids.length - failed.length - unconfirmed;
      if (failed.length > 0) {
        notifications.show({
          color: 'red',
          title: `${failed.length} of ${ids.length} could not be done`,
          message: failed[0],
        });
      } else if (unconfirmed > 0) {
        notifications.show({
          color: 'yellow',
          title: 'Not confirmed',
          message:
            ids.length === 1
              ? UNCONFIRMED
              : `${ACTION_WORDS[action.kind]}: ${done} alerts; ${unconfirmed} sent, but their result could not be confirmed: check them.`,
        });
      } else {
        notifications.show({
          color: 'teal',
          message:
            ids.length === 1 ? ACTION_WORDS[action.kind] : `${ACTION_WORDS[action.kind]}: ${done} alerts`,
        });
      }
      for (const id of ids) void queryClient.invalidateQueries({ queryKey: ['alert', id] });
      void queryClient.invalidateQueries({ queryKey: ['alerts'] });
    },
    onError: (error) => notifications.show({ color: 'red', title: 'Not done', message: messageOf(error) }),
  });
}
