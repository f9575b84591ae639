import type { AlertsChanged } from './live.js';

/** How long a process keeps the announcements it heard, for a stream that opens to ask what it missed. */
export const ALERT_REPLAY_KEEP_MS = 120_000;

/** At most this many announcements kept per organization; a busier one replays "refresh everything". */
export const ALERT_REPLAY_MAX_PER_ORG = 500;

/**
 * What a stream asks for is widened by this much: the browser measures its own time and the processes
 * theirs, and a change is heard a little after it commits. A change replayed needlessly costs a read.
 */
export const ALERT_REPLAY_MARGIN_MS = 5_000;

export interface Heard {
  at: number;
  change: AlertsChanged;
}

interface OrgReplay {
  heard: Heard[];
  /** Complete from this time on: nothing later was dropped to keep within the limit. */
  completeFrom: number;
}

/**
 * The announcements a process heard lately, so that a console whose stream opens gets what changed
 * between its first reads and the opening (or while its stream was down) instead of reading everything
 * again. The record is complete only from the moment the process's wish to hear was written: before
 * that the database may have announced nothing (migration 0041), and a stream asking for earlier is
 * told to refresh everything.
 */
export function createAlertReplay(options: { keepMs?: number; maxPerOrg?: number } = {}) {
  const keepMs = options.keepMs ?? ALERT_REPLAY_KEEP_MS;
  const maxPerOrg = options.maxPerOrg ?? ALERT_REPLAY_MAX_PER_ORG;
  const orgs = new Map<string, OrgReplay>();
  /** Since when every announcement reached this process; undefined while it may miss some. */
  let hearingSince: number | undefined;

  const forgetOlder = (org: OrgReplay, now: number) => {
    let drop = 0;
    while (drop < org.heard.length && org.heard[drop]!.at < now - keepMs) drop++;
    if (drop > 0) org.heard.splice(0, drop);
  };

  return {
    /** Announcements reach this process from now on (its wish is written, its listener connected). */
    hearingFrom(now: number): void {
      hearingSince ??= now;
    },
    /** Announcements may not reach this process any more: what it kept cannot be trusted to be whole. */
    deaf(): void {
      hearingSince = undefined;
      orgs.clear();
    },
    /** Forgets what is older than it keeps, in every organization (also those no one asks about). */
    forgetOlder(now: number): void {
      for (const [orgId, org] of orgs) {
        forgetOlder(org, now);
        if (org.heard.length === 0) orgs.delete(orgId);
      }
    },
    record(orgId: string, change: AlertsChanged, now: number): void {
      if (hearingSince === undefined) return;
      let org = orgs.get(orgId);
      if (!org) orgs.set(orgId, (org = { heard: [], completeFrom: hearingSince }));
      forgetOlder(org, now);
      org.heard.push({ at: now, change });
      if (org.heard.length > maxPerOrg) org.completeFrom = org.heard.shift()!.at + 1;
    },
    /**
     * The changes of the organization heard at or after `since`, oldest first; or `undefined` when this
     * process cannot tell them all (it was not hearing then, or has dropped some since).
     */
    since(orgId: string, since: number, now: number): Heard[] | undefined {
      if (hearingSince === undefined || since < hearingSince || since > now || since < now - keepMs)
        return undefined;
      const org = orgs.get(orgId);
      if (!org) return [];
      forgetOlder(org, now);
      if (org.heard.length === 0) orgs.delete(orgId);
      if (since < org.completeFrom) return undefined;
      return org.heard.filter((h) => h.at >= since);
    },
  };
}

export type AlertReplay = ReturnType<typeof createAlertReplay>;
