import type { WorkQueueSpec } from '../work/runner.js';
import { QUEUES } from '../work/queue-names.js';
import type { HeartbeatsService } from './service.js';

/**
 * Expires heartbeats, from their rows: each enabled heartbeat carries the time it expires unless pinged
 * (`expires_at`, on the engine's Clock, which is the `now` the runner hands each round). A round claims
 * the due ones (SKIP LOCKED: any number of workers share the queue, and one expiry raises one alert),
 * raises their alerts, and sleeps until the next expiry; a ping, a new heartbeat or a change wakes it.
 */
/** How long a round waits before looking again at a due heartbeat another worker holds. */
const HELD_RETRY_MS = 100;

export function heartbeatExpiryQueue(
  heartbeats: HeartbeatsService,
  options: { idleMs?: number; batch?: number } = {},
): WorkQueueSpec {
  const batch = options.batch ?? 50;
  return {
    name: QUEUES.heartbeats,
    idleMs: options.idleMs ?? 60_000,
    async round(now) {
      const claimed = await heartbeats.expireDue(now, batch);
      if (claimed >= batch) return { more: true };
      const next = await heartbeats.nextExpiry();
      // One still due is held by another worker, which is expiring it: look again shortly, not at once
      // (the round would spin until that worker commits), in case it rolls back.
      const soon = new Date(now.getTime() + HELD_RETRY_MS);
      return { more: false, nextDueAt: next && next < soon ? soon : next };
    },
  };
}
