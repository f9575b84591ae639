import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../work/clock.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkRunner } from '../work/runner.js';
import { alertFeedWishesRepository as wishes } from './live-repository.js';
import { ALERT_REPLAY_MARGIN_MS, createAlertReplay } from './live-replay.js';

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
  /** The position {@link ChangeListener} would be given now: every change heard has been passed on. */
  position(): number;
  unsubscribe(): void;
}

/**
 * What a new subscriber may have missed: the changes since a position of an earlier subscription, or
 * those of the last `pastMs` milliseconds.
 */
export type MissedChanges = { after: number } | { pastMs: number };

/**
 * Called for each change, with the feed's position once it is passed on: the time (on the process's
 * clock) up to which every change heard has been. Given back as `missed: {after}` by a later
 * subscription, it gets what was heard since.
 */
export type ChangeListener = (change: AlertsChanged, position: number) => void;

export interface AlertFeed {
  /**
   * Calls `onChange` for every change of the organization's alerts, until unsubscribed. With `missed`,
   * first for the changes heard in that time, or once with `more` when this process cannot tell them
   * all.
   */
  subscribe(orgId: string, onChange: ChangeListener, missed?: MissedChanges): AlertFeedSubscription;
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
  const subscribers = new Map<string, Set<ChangeListener>>();
  /** Whether this process wants the announcements (its row is, or is about to be, in the table). */
  let wanted = false;
  /** Once the last subscriber left: when the wish ends, on the clock. */
  let lingerUntil = 0;
  /** The wish's writes one after another, so that a withdrawal cannot overtake the renewal after it. */
  let said: Promise<void> = Promise.resolve();
  const replay = createAlertReplay();
  const now = () => clock.now().getTime();

  const say = (wants: boolean): Promise<void> => {
    wanted = wants;
    if (!wants) replay.deaf();
    const write = said.then(async () => {
      if (!wants) return wishes.withdraw(db, processId);
      await wishes.renew(db, processId, clock.now());
      // Changes committed from now on are announced (ones whose statement ran before may not be).
      if (wanted) replay.hearingFrom(now());
    });
    said = write.catch((error: unknown) => {
      // Not renewed, the wish may be forgotten by another process, and the announcements stop.
      replay.deaf();
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
      const at = now();
      replay.record(announcement.org, announcement.change, at);
      for (const onChange of subscribers.get(announcement.org) ?? []) onChange(announcement.change, at);
    },
    () => {
      // The process was not listening for a while: every browser fetches what it shows again.
      const at = now();
      replay.deaf();
      if (wanted) replay.hearingFrom(at);
      for (const set of subscribers.values())
        for (const onChange of set) onChange({ ids: [], more: true }, at);
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
    subscribe(orgId, onChange, missed) {
      let set = subscribers.get(orgId);
      if (!set) subscribers.set(orgId, (set = new Set()));
      set.add(onChange);
      if (missed) {
        const at = now();
        const since = ('after' in missed ? missed.after : at - missed.pastMs) - ALERT_REPLAY_MARGIN_MS;
        const heard = replay.since(orgId, since, at);
        if (heard) for (const { change, at: heardAt } of heard) onChange(change, heardAt);
        else onChange({ ids: [], more: true }, at);
      }
      if (!wanted) void say(true).catch(() => {});
      let subscribed = true;
      return {
        ready: said,
        position: now,
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
