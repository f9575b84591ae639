import type { AlertRow } from '../db/schema.js';

/** Alerts in the shape Opsgenie's Alert API v2 gives them. */

export function alertSummary(alert: AlertRow) {
  return {
    id: alert.id,
    tinyId: alert.tiny_id,
    alias: alert.alias,
    message: alert.message,
    status: alert.status,
    acknowledged: alert.acknowledged,
    isSeen: alert.is_seen,
    tags: alert.tags,
    snoozed: alert.snoozed,
    ...(alert.snoozed_until ? { snoozedUntil: alert.snoozed_until.toISOString() } : {}),
    count: alert.count,
    lastOccurredAt: alert.last_occurred_at.toISOString(),
    createdAt: alert.created_at.toISOString(),
    updatedAt: alert.updated_at.toISOString(),
    source: alert.source,
    owner: alert.owner,
    priority: alert.priority,
    responders: alert.responders,
    ...(alert.integration_id
      ? {
          integration: {
            id: alert.integration_id,
            name: alert.integration_name ?? '',
            type: alert.integration_type ?? '',
          },
        }
      : { integration: { id: '', name: 'API', type: 'API' } }),
    report: {
      ...(alert.ack_time !== null ? { ackTime: Number(alert.ack_time) } : {}),
      ...(alert.close_time !== null ? { closeTime: Number(alert.close_time) } : {}),
      ...(alert.acknowledged_by ? { acknowledgedBy: alert.acknowledged_by } : {}),
      ...(alert.closed_by ? { closedBy: alert.closed_by } : {}),
    },
  };
}

export function alertDetail(alert: AlertRow) {
  return {
    ...alertSummary(alert),
    actions: alert.actions,
    entity: alert.entity,
    description: alert.description,
    details: alert.details,
    visibleTo: alert.visible_to,
  };
}
