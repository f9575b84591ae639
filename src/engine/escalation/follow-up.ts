import type { AlertEvent } from '../../alerts/events.js';
import { planNotifications, type PlanRecipient } from '../../notify/planner.js';
import type { NotificationActionType } from '../../oncall/model.js';
import type { EngineTx } from './engine-tx.js';
import { notificationsRepository } from '../../notify/repository.js';
import { alertsRepository } from '../../alerts/repository.js';
import { accountsRepository } from '../../accounts/repository.js';
import type { Queryable } from '../../db/database.js';
import type { AlertRow, NotificationStopOn } from '../../db/schema.js';

const FOLLOW_UP: Partial<Record<AlertEvent['type'], NotificationActionType>> = {
  acknowledged: 'acknowledged-alert',
  closed: 'closed-alert',
  note_added: 'add-note',
  owner_assigned: 'assigned-alert',
};

function noteOf(event: AlertEvent): string | undefined {
  return 'note' in event && typeof event.note === 'string' ? event.note : undefined;
}

/**
 * Who hears of the event: the people already paged about the alert, or for an assignment its new owner
 * (as long as the alert is still theirs: a quick second assignment leaves the first one nothing to say).
 * Never the one who acted.
 */
async function recipientsOf(tx: Queryable, event: AlertEvent, alert: AlertRow): Promise<PlanRecipient[]> {
  if (event.type === 'owner_assigned') {
    // By id where the event has it: a login changed since moved the alert to the new username.
    const owner = await accountsRepository.findUser(tx, alert.org_id, event.ownerId ?? event.owner);
    if (!owner || alert.owner?.toLowerCase() !== owner.username.toLowerCase()) return [];
    return owner.id !== event.actor.userId ? [{ id: owner.id, why: 'its new owner' }] : [];
  }
  return (await notificationsRepository.pagedUserIds(tx, alert.id))
    .filter((id) => id !== event.actor.userId)
    .map((id) => ({ id, why: 'was paged for it' }));
}

function reasonOf(event: AlertEvent, kind: NotificationActionType): string {
  if (kind === 'add-note') return `${event.actor.name} added a note`;
  if (event.type === 'owner_assigned') return `${event.actor.name} assigned the alert to ${event.owner}`;
  return `${event.actor.name} ${event.type}`;
}

/**
 * Acknowledged, closed, a note: tells the people already paged about the alert (but not the one who
 * acted), if their rules ask for it; an assignment tells the new owner. Returns whether messages due now
 * were planned.
 */
export async function followUp({ tx, logs }: EngineTx, event: AlertEvent, now: Date): Promise<boolean> {
  const kind = FOLLOW_UP[event.type];
  if (!kind) return false;
  const alert = await alertsRepository.byId(tx, event.alertId);
  if (!alert) return false;
  const recipients = await recipientsOf(tx, event, alert);
  if (recipients.length === 0) return false;
  const note = noteOf(event);
  // An assignment's later steps are of no use once the alert is closed; the others report what happened.
  const stopOn: NotificationStopOn = kind === 'assigned-alert' ? 'closed' : 'none';
  const result = await planNotifications(tx, {
    alert,
    kind,
    recipients,
    keyPrefix: `${kind}:${event.eventId}`,
    now,
    reason: reasonOf(event, kind),
    stopOn,
    context: { actor: event.actor.name, ...(note ? { note } : {}) },
    quietWhenNoRule: true,
  });
  for (const line of result.lines) logs.add(alert.id, line);
  return result.dueNow;
}
