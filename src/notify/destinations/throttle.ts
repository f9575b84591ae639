import type { Db } from '../../db/database.js';
import { notificationsRepository } from '../repository.js';
import type { ThrottleRule } from './destination.js';
import { CONTACT_METHOD_TYPES, throttleOf } from './registry.js';

/**
 * The longest window of any destination type's throttle (voice's 15 minutes): no throttle counts a send
 * older than that, and retention deletes those (engine/retention.ts).
 */
export function longestThrottleWindowMs(): number {
  return Math.max(
    0,
    ...CONTACT_METHOD_TYPES.flatMap((type) => throttleOf(type).map((rule) => rule.windowMs)),
  );
}

/**
 * Retention's purge of what the SMS and voice throttles counted (kept apart from their messages,
 * migration 0084), once past the longest window, on the engine's clock.
 */
export function throttleSendsPurge(db: Db): { what: string; purge: (now: Date) => Promise<number> } {
  return {
    what: "texts and calls past their throttle's window",
    purge: (now) =>
      notificationsRepository.purgeThrottleSends(db, new Date(now.getTime() - longestThrottleWindowMs())),
  };
}

/**
 * When the next message to one address may go, given the times earlier ones went (any order): `now`
 * when every rule has room, otherwise the moment the strictest rule's window frees a place.
 */
export function nextAllowedAt(rules: readonly ThrottleRule[], sentAt: readonly Date[], now: Date): Date {
  const times = sentAt.map((d) => d.getTime()).sort((a, b) => b - a);
  let at = now.getTime();
  for (const rule of rules) {
    if (rule.limit < 1) continue;
    // The limit-th most recent send in the window is the one that has to age out first.
    const blocking = times.filter((t) => t > now.getTime() - rule.windowMs)[rule.limit - 1];
    if (blocking !== undefined) at = Math.max(at, blocking + rule.windowMs);
  }
  return new Date(at);
}

/**
 * What a round sends when its decision from an unlocked read (`first`, whose messages it then marked) is
 * checked against what counted once it held the locks (`checked`): only what both let through. Another
 * round let messages to the same address through in between; every other message waits, as `checked`
 * says where it says so. (The sender takes back the marks of those held back.)
 */
export function bothAllow<Row extends { id: string }, Wait extends { row: Row }>(
  rows: readonly Row[],
  first: { go: Row[]; wait: Wait[] },
  checked: { go: Row[]; wait: Wait[] },
): { go: Row[]; wait: Wait[] } {
  const stillGo = new Set(checked.go.map((r) => r.id));
  const go = first.go.filter((r) => stillGo.has(r.id));
  const going = new Set(go.map((r) => r.id));
  const waits = new Map([...first.wait, ...checked.wait].map((w) => [w.row.id, w]));
  return { go, wait: rows.flatMap((r) => (going.has(r.id) ? [] : (waits.get(r.id) ?? []))) };
}
