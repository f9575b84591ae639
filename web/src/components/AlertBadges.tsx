import { Badge } from '@mantine/core';
import type { AlertSummary, Priority } from '../api/types';

/** Background and text of each priority, each pair above 4.5:1. */
const PRIORITY_COLORS: Record<Priority, [string, string]> = {
  P1: ['red.8', 'white'],
  P2: ['orange.5', 'black'],
  P3: ['yellow.4', 'black'],
  P4: ['blue.8', 'white'],
  P5: ['gray.7', 'white'],
};

export function PriorityBadge({ priority }: { priority: Priority }) {
  return (
    <Badge
      color={PRIORITY_COLORS[priority][0]}
      c={PRIORITY_COLORS[priority][1]}
      variant="filled"
      radius="sm"
      aria-label={`Priority ${priority}`}
    >
      {priority}
    </Badge>
  );
}

export function statusOf(alert: Pick<AlertSummary, 'status' | 'acknowledged' | 'snoozed'>): {
  label: string;
  color: string;
} {
  if (alert.status === 'closed') return { label: 'Closed', color: 'gray' };
  if (alert.snoozed) return { label: 'Snoozed', color: 'violet' };
  if (alert.acknowledged) return { label: 'Acknowledged', color: 'blue' };
  return { label: 'Open', color: 'red' };
}

export function StatusBadge({ alert }: { alert: Pick<AlertSummary, 'status' | 'acknowledged' | 'snoozed'> }) {
  const { label, color } = statusOf(alert);
  return (
    <Badge color={color} variant="dot" radius="sm">
      {label}
    </Badge>
  );
}
