import { randomUUID } from 'node:crypto';
import type { Principal } from '../accounts/service.js';
import type { Db, Queryable } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../work/clock.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkRunner } from '../work/runner.js';
import { alertFeedWishesRepository as wishes } from './live-repository.js';
import { ALERT_REPLAY_MARGIN_MS, createAlertReplay } from './live-replay.js';
import { alertsRepository, type AlertScope } from './repository.js';
import { alertScopeOf } from './visibility.js';

/** The channel migration 0011's trigger announces alert changes on, once per statement and organization. */
export const ALERTS_CHANNEL = 'vigil_alerts';

export interface AlertsChanged {
  /** Up to 100 of the alerts created or changed. */
  ids: string[];
  /** More alerts changed than `ids` names: refresh everything. */
  more: boolean;
  /**
   * Who may see which alerts changed in the organization (team members, a user's role, custom role,
   * username or blocked flag, a custom role's rights; migration 0067; an integration's team, key, access
   * or enabled flag; migration 0068), for these users, the holders of these custom roles and the keys of
   * these integrations, or for anyone when it names none: their streams read their scope again.
   */
  scope?: {
    users?: string[];
    roles?: string[];
    integrations?: string[];
    /** A user's own row changed (role, custom role, username, blocked): what a key cache holds of them. */
    principal?: true;
  };
}

/** Whether a change of who sees what names nobody: it is anyone's in the organization. */
export function isForAnyone(scope: NonNullable<AlertsChanged['scope']>): boolean {
  return !scope.users && !scope.roles && !scope.integrations;
}

export interface AlertFeedSubscription {
  /** Settles once the database announces alert changes (a failure is logged, and retried by the queue). */
  ready: Promise<void>;
  /**
   * The position the subscription is told from: what it missed was told first, from there on. None
   * when the process could not tell what it missed (it was told `more`).
   */
  from: string | undefined;
  /** The position {@link ChangeListener} would be given now: every change heard has been passed on. */
  position(): string;
  unsubscribe(): void;
}

/**
 * What a new subscriber may have missed: the changes after a position an earlier subscription was
 * given, or those of the last `pastMs` milliseconds.
 */
export type MissedChanges = { after: string } | { pastMs: number };

/**
 * Called for each change, with the feed's position once it is passed on: the process and the time (on
 * its clock) up to which every change it heard has been. Given back as `missed: {after}` by a later
 * subscription on the same process, it gets what was heard since; on another process, `more`.
 */
export type ChangeListener = (change: AlertsChanged, position: string) => void;

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

/** A position: the process it is on, and a time on its clock. Opaque to everyone else. */
const POSITION = /^([0-9a-f-]{36})\.(\d{1,15})$/;
const positionAt = (processId: string, at: number) => `${processId}.${at}`;

function parseAnnouncement(payload: string): { org: string; change: AlertsChanged } | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null) return undefined;
    const { org, ids, more, scope, users, roles, integrations, principal } = value as Record<string, unknown>;
    if (typeof org !== 'string' || !Array.isArray(ids)) return undefined;
    const strings = (list: unknown[]) => list.filter((item): item is string => typeof item === 'string');
    return {
      org,
      change: {
        ids: strings(ids),
        more: more === true,
        ...(scope === true
          ? {
              scope: {
                ...(Array.isArray(users) ? { users: strings(users) } : {}),
                ...(Array.isArray(roles) ? { roles: strings(roles) } : {}),
                ...(Array.isArray(integrations) ? { integrations: strings(integrations) } : {}),
                ...(principal === true ? { principal: true as const } : {}),
              },
            }
          : {}),
      },
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
  /**
   * Called when this process hears that a user's own row changed (or who sees what changed for anyone),
   * before its streams are told: what this process keeps of who its callers are (the accounts' key
   * cache) may predate a change another process made.
   */
  onScopeChange?: () => void;
  /** As `onScopeChange`, for a change of integrations (migration 0068): the integrations' key cache. */
  onIntegrationScopeChange?: () => void;
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
  const now = () => clock.now().getTime();

  // What this process heard lately, for subscribers that ask what they missed: trusted only while
  // every announcement reaches it, that is while it listens and its wish is in the table.
  const replay = createAlertReplay();
  let listening = false;
  let wishWritten = false;
  const hearingChanged = () => {
    if (listening && wishWritten) replay.hearingFrom(now());
    else replay.deaf();
  };
  const tellEveryone = (change: AlertsChanged) => {
    const position = positionAt(processId, now());
    for (const set of subscribers.values()) for (const onChange of set) onChange(change, position);
  };

  const say = (wants: boolean): Promise<void> => {
    wanted = wants;
    if (!wants) {
      wishWritten = false;
      hearingChanged();
    }
    const write = said.then(async () => {
      if (!wants) return wishes.withdraw(db, processId);
      const { inserted } = await wishes.renew(db, processId, clock.now());
      if (!wanted) return;
      if (inserted && wishWritten) {
        // Another process forgot the wish (a renewal late beyond ALERT_FEED_FORGET_MS, or clocks far
        // apart): announcements may have stopped meanwhile, unnoticed.
        log.warn("this process's wish for alert announcements had been forgotten; written again");
        wishWritten = false;
        hearingChanged();
        tellEveryone({ ids: [], more: true, scope: {} });
      }
      // Changes committed from now on are announced (ones whose statement ran before may not be).
      wishWritten = true;
      hearingChanged();
    });
    said = write.catch((error: unknown) => {
      // Not renewed, the wish may be forgotten by another process, and the announcements stop.
      wishWritten = false;
      hearingChanged();
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
      // Only a change of a user's own row, or of anyone's (unnamed): what a key cache holds of its callers.
      const { scope } = announcement.change;
      if (scope && (scope.principal || isForAnyone(scope))) deps.onScopeChange?.();
      if (scope?.integrations) deps.onIntegrationScopeChange?.();
      const at = now();
      replay.record(announcement.org, announcement.change, at);
      const position = positionAt(processId, at);
      for (const onChange of subscribers.get(announcement.org) ?? []) onChange(announcement.change, position);
    },
    {
      listening(resumed) {
        listening = true;
        hearingChanged();
        // The process was not listening for a while: every browser fetches what it shows again, and every
        // stream reads its scope again (who sees what may have changed unheard).
        if (resumed) tellEveryone({ ids: [], more: true, scope: {} });
      },
      lost() {
        listening = false;
        hearingChanged();
      },
    },
  );

  /** The time of a position this process gave, or undefined for another process's (or none). */
  const sinceOf = (position: string): number | undefined => {
    const match = POSITION.exec(position);
    return match && match[1] === processId ? Number(match[2]) : undefined;
  };

  runner.register({
    name: QUEUES.alertFeedWishes,
    idleMs: ALERT_FEED_RENEW_MS,
    async round(now) {
      replay.forgetOlder(now.getTime());
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
      const at = now();
      let from: string | undefined = positionAt(processId, at);
      if (missed) {
        const since = 'after' in missed ? sinceOf(missed.after) : at - missed.pastMs - ALERT_REPLAY_MARGIN_MS;
        const heard = since === undefined ? undefined : replay.since(orgId, since, at);
        if (heard && since !== undefined) {
          from = positionAt(processId, since);
          for (const h of heard) onChange(h.change, positionAt(processId, h.at));
        } else {
          onChange({ ids: [], more: true }, positionAt(processId, at));
          from = undefined;
        }
      }
      if (!wanted) void say(true).catch(() => {});
      let subscribed = true;
      return {
        ready: said,
        from,
        position: () => positionAt(processId, now()),
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

/**
 * Which changed alerts an event stream's caller may see, in two steps so that the stream can keep its
 * caller's scope a while (a user's costs two or three queries) rather than read it for every change.
 */
export interface AlertVisibility {
  /** The alerts `p` may see (alerts/visibility.ts). */
  scopeOf(p: Principal): Promise<AlertScope>;
  /** Which of these alerts are within the scope, in their order: all of them, without a query, for most. */
  among(scope: AlertScope, ids: readonly string[]): Promise<string[]>;
}

/** {@link AlertVisibility} on `db`: the alert scope `GET /v2/alerts` filters by, and which ids are in it. */
export function alertVisibility(db: Queryable): AlertVisibility {
  return {
    scopeOf: (p) => alertScopeOf(db, p),
    async among(scope, ids) {
      if (!scope.integration && !scope.viewer) return [...ids];
      const visible = new Set(await alertsRepository.idsInScope(db, scope, ids));
      return ids.filter((id) => visible.has(id));
    },
  };
}
