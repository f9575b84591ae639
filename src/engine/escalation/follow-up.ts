import type { AlertEvent } from '../../alerts/events.js';
import { planNotifications } from '../../notify/planner.js';
import type { NotificationActionType } from '../../oncall/model.js';
import type { EngineTx } from './engine-tx.js';
import { notificationsRepository } from '../../notify/repository.js';
import { alertsRepository } from '../../alerts/repository.js';

const FOLLOW_UP: Partial<Record<AlertEvent['type'], NotificationActionType>> = {
  acknowledged: 'acknowledged-alert',
  closed: 'closed-alert',
  note_added: 'add-note',
};

function noteOf(event: AlertEvent): string | undefined {
  return 'note' in event && typeof event.note === 'string' ? event.note : undefined;
}

/**
 * Acknowledged, closed, a note: tells the people already paged about the alert (but not the one who
 * acted), if their rules ask for it. Returns whether messages due now were planned.
 */
export async function followUp({ tx, logs }: EngineTx, event: AlertEvent, now: Date): Promise<boolean> {
  const kind = FOLLOW_UP[event.type];
  if (!kind) return false;
  const alert = await alertsRepository.byId(tx, event.alertId);
  if (!alert) return false;
  const recipients = (await notificationsRepository.pagedUserIds(tx, alert.id))
    .filter((id) => id !== event.actor.userId)
    .map((id) => ({ id, why: 'was paged for it' }));
  const note = noteOf(event);
  const result = await planNotifications(tx, {
    alert,
    kind,
    recipients,
    keyPrefix: `${kind}:${event.eventId}`,
    now,
    reason: `${event.actor.name} ${kind === 'add-note' ? 'added a note' : event.type}`,
    stopOn: 'none',
    context: { actor: event.actor.name, ...(note ? { note } : {}) },
    quietWhenNoRule: true,
  });
  for (const line of result.lines) logs.add(alert.id, line);
  return result.dueNow;
}
