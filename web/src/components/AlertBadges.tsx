import type { AlertSummary, Priority } from '../api/types';

/*
 * Plain elements styled by app.css (`.vigil-badge`), not Mantine's Badge: the alert list shows two in
 * each of its 50 rows, and Mantine's components were most of the time the list took to render
 * (docs/performance.md). Each priority's colours are a pair above 4.5:1.
 */

export function PriorityBadge({ priority }: { priority: Priority }) {
  return (
    <span className="vigil-badge" data-priority={priority} aria-label={`Priority ${priority}`}>
      {priority}
    </span>
  );
}

export type AlertStatus = 'closed' | 'snoozed' | 'acknowledged' | 'open';

const STATUS_LABELS: Record<AlertStatus, string> = {
  closed: 'Closed',
  snoozed: 'Snoozed',
  acknowledged: 'Acknowledged',
  open: 'Open',
};

export function statusOf(alert: Pick<AlertSummary, 'status' | 'acknowledged' | 'snoozed'>): {
  status: AlertStatus;
  label: string;
} {
  const status: AlertStatus =
    alert.status === 'closed'
      ? 'closed'
      : alert.snoozed
        ? 'snoozed'
        : alert.acknowledged
          ? 'acknowledged'
          : 'open';
  return { status, label: STATUS_LABELS[status] };
}

export function StatusBadge({ alert }: { alert: Pick<AlertSummary, 'status' | 'acknowledged' | 'snoozed'> }) {
  const { status, label } = statusOf(alert);
  return (
    <span className="vigil-badge vigil-badge-dot" data-status={status}>
      {label}
    </span>
  );
}
