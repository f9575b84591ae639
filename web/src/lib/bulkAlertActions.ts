import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, data, messageOf } from '../api/client';
import { sendAction, settle, UNCONFIRMED, type AlertAction } from './alertActions';

/**
 * One action on a selection of alerts, in one request (POST /v2/bulk/alerts/{action}): Vigil answers
 * with the alerts done and those not done, each with why. One alert alone goes as its own page sends it.
 */

const SOURCE = 'Vigil console';

export interface BulkOutcome {
  succeeded: string[];
  failed: { id: string; reason: string }[];
  /** Sent, but whether it was done could not be learnt (one alert through its own endpoint only). */
  unconfirmed?: string[];
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

/**
 * One alert's action as its page sends it (POST /v2/alerts/{id}/{action}), told as a bulk outcome. The
 * bulk endpoint needs the rights to act on many alerts at once (alert-acknowledge-all, alert-close-all),
 * which a role may leave out while it lets its holder act on each alert.
 */
async function sendOneAction(id: string, action: AlertAction): Promise<BulkOutcome> {
  const status = await settle((await sendAction(id, action)).requestId);
  if (!status) return { succeeded: [], failed: [], unconfirmed: [id] };
  if (status.isSuccess) return { succeeded: [id], failed: [] };
  return { succeeded: [], failed: [{ id, reason: status.status }] };
}

const alertsWord = (n: number) => (n === 1 ? '1 alert' : `${n.toLocaleString()} alerts`);

/** What a bulk action did, in a sentence: "2 alerts acknowledged; 1 could not be." */
export function bulkSummary(kind: AlertAction['kind'], outcome: BulkOutcome): string {
  const done = `${alertsWord(outcome.succeeded.length)} ${DONE[kind]}`;
  if (outcome.failed.length === 0) return `${done}.`;
  return `${done}; ${alertsWord(outcome.failed.length)} could not be.`;
}

/**
 * Runs an action on a selection of alerts (one alert alone through its own endpoint); the outcome is the
 * mutation's data, for the page to show in more detail. The outcome is told here, not by the page: a
 * callback given to `mutate` runs only for the latest call and only while the page is shown, so a failure
 * would go untold once the person moved on. `labels` name the alerts in that message (by id otherwise).
 */
export function useBulkAlertAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({
      ids,
      action,
    }: {
      ids: string[];
      action: AlertAction;
      labels?: ReadonlyMap<string, string>;
    }) => {
      const [only] = ids;
      const outcome =
        ids.length === 1 && only !== undefined
          ? await sendOneAction(only, action)
          : await sendBulkAction(ids, action);
      return { kind: action.kind, outcome };
    },
    onSuccess: ({ kind, outcome }, { labels }) => {
      const [first] = outcome.failed;
      if (first) {
        notifications.show({
          color: 'red',
          title: bulkSummary(kind, outcome),
          message: `${labels?.get(first.id) ?? first.id}: ${first.reason}`,
        });
      } else if (outcome.unconfirmed?.length) {
        notifications.show({ color: 'yellow', title: 'Not confirmed', message: UNCONFIRMED });
      } else {
        notifications.show({ color: 'teal', message: bulkSummary(kind, outcome) });
      }
      for (const id of [...outcome.succeeded, ...(outcome.unconfirmed ?? [])])
        void queryClient.invalidateQueries({ queryKey: ['alert', id] });
      void queryClient.invalidateQueries({ queryKey: ['alerts'] });
    },
    onError: (error) => notifications.show({ color: 'red', title: 'Not done', message: messageOf(error) }),
  });
}
