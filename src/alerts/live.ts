import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../work/clock.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkRunner } from '../work/runner.js';
import { alertFeedWishesRepository as wishes } from './live-repository.js';

/** The channel migration 0011's trigger announces alert changes on, once per statement and organization. */
export const ALERTS_CHANNEL = 'vigil_alerts';

export interface AlertsChanged {
  /** Up to 100 of the alerts created or changed. */
  ids: string[];
  /** More alerts changed than `ids` names: refresh everything. */
  more: boolean;
}

export interface AlertFeedSubscription {
  /** Settles once the database announces alert changes (a failure is logged, and retried by the queue). */
  ready: Promise<void>;
  unsubscribe(): void;
}

export interface AlertFeed {
  /** Calls `onChange` for every change of the organization's alerts, until unsubscribed. */
  subscribe(orgId: string, onChange: (change: AlertsChanged) => void): AlertFeedSubscription;
  /** Withdraws this process's wish, if it has one (a process that stops). */
  close(): Promise<void>;
}

/**
 * How long a process keeps wanting announcements after its last subscriber left: a console that
 * reloads subscribes again within a second or two, and need not wait for the wish to be said again.
 */
export const ALERT_FEED_LINGER_MS = 30_000;

/** How often a process that wants announcements renews its wish. */
export const ALERT_FEED_RENEW_MS = 30_000;

/** A wish not renewed for this long is another process's that is gone: forgotten. */
export const ALERT_FEED_FORGET_MS = 4 * ALERT_FEED_RENEW_MS;

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
 *
 * The database announces only while some process wants it (migration 0041): the feed says so from its
 * first subscriber until {@link ALERT_FEED_LINGER_MS} after its last, and its queue renews the wish,
 * withdraws it once the linger is over and forgets the wishes of processes that have gone.
 */
export function createAlertFeed(deps: {
  runner: Pick<WorkRunner, 'listenTo' | 'register' | 'wake'>;
  db: Db;
  clock: Clock;
  log: Logger;
  lingerMs?: number;
}): AlertFeed {
  const { runner, db, clock, log, lingerMs = ALERT_FEED_LINGER_MS } = deps;
  const processId = randomUUID();
  /** The open subscriptions by organization; an organization leaves with its last one. */
  const subscribers = new Map<string, Set<(change: AlertsChanged) => void>>();
  /** Whether this process wants the announcements (its row is, or is about to be, in the table). */
  let wanted = false;
  /** Once the last subscriber left: when the wish ends, on the clock. */
  let lingerUntil = 0;
  /** The wish's writes one after another, so that a withdrawal cannot overtake the renewal after it. */
  let said: Promise<void> = Promise.resolve();

  const say = (wants: boolean): Promise<void> => {
    wanted = wants;
    const write = said.then(() =>
      wants ? wishes.renew(db, processId, clock.now()) : wishes.withdraw(db, processId),
    );
    said = write.catch((error: unknown) => {
      log.error({ err: error }, 'could not say whether this process wants alert announcements');
    });
    return write;
  };

  runner.listenTo(
    ALERTS_CHANNEL,
    (payload) => {
      const announcement = parseAnnouncement(payload);
      if (!announcement) {
        log.warn({ payload: payload.slice(0, 200) }, 'an alert announcement could not be read');
        return;
      }
      for (const onChange of subscribers.get(announcement.org) ?? []) onChange(announcement.change);
    },
    () => {
      // The process was not listening for a while: every browser fetches what it shows again.
      for (const set of subscribers.values()) for (const onChange of set) onChange({ ids: [], more: true });
    },
  );

  runner.register({
    name: QUEUES.alertFeedWishes,
    idleMs: ALERT_FEED_RENEW_MS,
    async round(now) {
      const lingering = subscribers.size === 0;
      if (wanted && lingering && now.getTime() >= lingerUntil) await say(false);
      else if (wanted) await say(true);
      await wishes.forgetOlder(db, new Date(now.getTime() - ALERT_FEED_FORGET_MS));
      const renewal = now.getTime() + ALERT_FEED_RENEW_MS;
      return {
        more: false,
        nextDueAt: new Date(wanted && lingering ? Math.min(lingerUntil, renewal) : renewal),
      };
    },
  });

  return {
    subscribe(orgId, onChange) {
      let set = subscribers.get(orgId);
      if (!set) subscribers.set(orgId, (set = new Set()));
      set.add(onChange);
      if (!wanted) void say(true).catch(() => {});
      let subscribed = true;
      return {
        ready: said,
        unsubscribe() {
          if (!subscribed) return;
          subscribed = false;
          set.delete(onChange);
          if (set.size === 0) subscribers.delete(orgId);
          if (subscribers.size > 0) return;
          lingerUntil = clock.now().getTime() + lingerMs;
          runner.wake(QUEUES.alertFeedWishes);
        },
      };
    },

    async close() {
      if (wanted) await say(false).catch(() => {});
    },
  };
}
