import type { ThrottleRule } from './destination.js';

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
