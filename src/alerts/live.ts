import type { WorkRunner } from '../work/runner.js';
import type { Logger } from '../logger.js';

/** The channel migration 0011's trigger announces alert changes on, once per statement and organization. */
export const ALERTS_CHANNEL = 'vigil_alerts';

export interface AlertsChanged {
  /** Up to 100 of the alerts created or changed. */
  ids: string[];
  /** More alerts changed than `ids` names: refresh everything. */
  more: boolean;
}

export interface AlertFeed {
  /** Calls `onChange` for every change of the organization's alerts, until the returned function is called. */
  subscribe(orgId: string, onChange: (change: AlertsChanged) => void): () => void;
}

function parseAnnouncement(payload: string): { org: string; change: AlertsChanged } | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null) return undefined;
    const { org, ids, more } = value as Record<string, unknown>;
    if (typeof org !== 'string' || !Array.isArray(ids)) return undefined;
    return {
      org,
      change: { ids: ids.filter((id): id is string => typeof id === 'string'), more: more === true },
    };
  } catch {
    return undefined;
  }
}

/**
 * Fans the database's announcements of alert changes out to the console's open event streams: every API
 * process hears every change, whichever process made it, and tells the browsers of that organization.
 */
export function createAlertFeed(runner: Pick<WorkRunner, 'listenTo'>, log: Logger): AlertFeed {
  const subscribers = new Map<string, Set<(change: AlertsChanged) => void>>();
  runner.listenTo(ALERTS_CHANNEL, (payload) => {
    const announcement = parseAnnouncement(payload);
    if (!announcement) {
      log.warn({ payload: payload.slice(0, 200) }, 'an alert announcement could not be read');
      return;
    }
    for (const onChange of subscribers.get(announcement.org) ?? []) onChange(announcement.change);
  });
  return {
    subscribe(orgId, onChange) {
      let set = subscribers.get(orgId);
      if (!set) subscribers.set(orgId, (set = new Set()));
      set.add(onChange);
      return () => {
        set.delete(onChange);
        if (set.size === 0) subscribers.delete(orgId);
      };
    },
  };
}
