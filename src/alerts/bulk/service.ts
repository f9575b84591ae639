import type { Principal } from '../../accounts/service.js';
import { isUuid } from '../../db/database.js';
import { ALERT_MISSING, type ActionMeta, type AlertAction, type AlertsService } from '../service.js';

/**
 * One action on many alerts in one request (Vigil's own, not Opsgenie's): the console's bulk bar. Each
 * alert is acted on as the single action acts on it (alerts/service.ts `actOnMany`); each that cannot
 * be is reported with the reason, and the others are done.
 */

/** The most alerts one request may name: a selection of pages of the console's list, not a whole backlog. */
export const MAX_BULK_ALERTS = 500;

/** The single actions a bulk request can run, by the name in its path. */
export const BULK_ACTIONS = [
  'acknowledge',
  'unacknowledge',
  'close',
  'addNote',
  'snooze',
  'assign',
  'escalate',
  'priority',
] as const;
export type BulkActionKind = (typeof BULK_ACTIONS)[number];
export type BulkAction = Extract<AlertAction, { kind: BulkActionKind }>;

export interface BulkOutcome {
  /** The ids acted on (or already as asked: acknowledging an acknowledged alert succeeds, as alone). */
  succeeded: string[];
  failed: { id: string; reason: string }[];
}

export const NOT_AN_ID =
  'Not an alert id: an alert id is a UUID, such as 3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b.';

/** The identifiers once each, in the order given; ids differing only in case are one alert. */
function distinct(identifiers: readonly string[]): string[] {
  const seen = new Set<string>();
  return identifiers.filter((id) => {
    const key = isUuid(id) ? id.toLowerCase() : id;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function createBulkAlertActions(alerts: AlertsService) {
  return {
    async run(
      p: Principal,
      identifiers: readonly string[],
      action: BulkAction,
      meta: ActionMeta,
    ): Promise<BulkOutcome> {
      const ids = distinct(identifiers);
      const wellFormed = ids.filter(isUuid);
      const outcomes =
        wellFormed.length > 0 ? await alerts.actOnMany(p, wellFormed, action, meta) : undefined;
      const result: BulkOutcome = { succeeded: [], failed: [] };
      for (const id of ids) {
        const outcome = isUuid(id) ? outcomes?.get(id) : undefined;
        if (outcome?.success) result.succeeded.push(id);
        else
          result.failed.push({
            id,
            reason: isUuid(id) ? (outcome?.status ?? ALERT_MISSING) : NOT_AN_ID,
          });
      }
      return result;
    },
  };
}

export type BulkAlertActions = ReturnType<typeof createBulkAlertActions>;
