import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, data, messageOf } from '../api/client';
import type { AlertAction } from './alertActions';

/**
 * One action on a selection of alerts, in one request (POST /v2/bulk/alerts/{action}): Vigil answers
 * with the alerts done and those not done, each with why.
 */

const SOURCE = 'Vigil console';

export interface BulkOutcome {
  succeeded: string[];
  failed: { id: string; reason: string }[];
}

/** The past participle of each action, in a sentence: "3 alerts acknowledged". */
const DONE: Record<AlertAction['kind'], string> = {
  acknowledge: 'acknowledged',
  unacknowledge: 'unacknowledged',
  close: 'closed',
  note: 'given the note',
  priority: 'given the new priority',
  snooze: 'snoozed',
  assign: 'assigned',
  escalate: 'escalated',
};

export function sendBulkAction(identifiers: string[], action: AlertAction): Promise<BulkOutcome> {
  const meta = { identifiers, source: SOURCE };
  switch (action.kind) {
    case 'acknowledge':
      return data<BulkOutcome>(api.POST('/v2/bulk/alerts/acknowledge', { body: meta }));
    case 'unacknowledge':
      return data<BulkOutcome>(api.POST('/v2/bulk/alerts/unacknowledge', { body: meta }));
    case 'close':
      return data<BulkOutcome>(api.POST('/v2/bulk/alerts/close', { body: meta }));
    case 'note':
      return data<BulkOutcome>(api.POST('/v2/bulk/alerts/addNote', { body: { ...meta, note: action.note } }));
    case 'priority':
      return data<BulkOutcome>(
        api.POST('/v2/bulk/alerts/priority', { body: { ...meta, priority: action.priority } }),
      );
    case 'snooze':
      return data<BulkOutcome>(
        api.POST('/v2/bulk/alerts/snooze', { body: { ...meta, endTime: action.endTime } }),
      );
    case 'assign':
      return data<BulkOutcome>(
        api.POST('/v2/bulk/alerts/assign', { body: { ...meta, owner: { username: action.username } } }),
      );
    case 'escalate':
      return data<BulkOutcome>(
        api.POST('/v2/bulk/alerts/escalate', { body: { ...meta, escalation: action.escalation } }),
      );
  }
}

const alertsWord = (n: number) => (n === 1 ? '1 alert' : `${n.toLocaleString()} alerts`);

/** What a bulk action did, in a sentence: "2 alerts acknowledged; 1 could not be." */
export function bulkSummary(kind: AlertAction['kind'], outcome: BulkOutcome): string {
  const done = `${alertsWord(outcome.succeeded.length)} ${DONE[kind]}`;
  if (outcome.failed.length === 0) return `${done}.`;
  return `${done}; ${alertsWord(outcome.failed.length)} could not be.`;
}

/** Runs an action on a selection of alerts; the outcome is the mutation's data, for the page to show. */
export function useBulkAlertAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ ids, action }: { ids: string[]; action: AlertAction }) => ({
      kind: action.kind,
      outcome: await sendBulkAction(ids, action),
    }),
    onSuccess: ({ kind, outcome }) => {
      if (outcome.failed.length === 0)
        notifications.show({ color: 'teal', message: bulkSummary(kind, outcome) });
      for (const id of outcome.succeeded) void queryClient.invalidateQueries({ queryKey: ['alert', id] });
      void queryClient.invalidateQueries({ queryKey: ['alerts'] });
    },
    onError: (error) => notifications.show({ color: 'red', title: 'Not done', message: messageOf(error) }),
  });
}
