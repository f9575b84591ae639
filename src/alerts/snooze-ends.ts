import type { Clock } from '../work/clock.js';
import type { WorkQueueSpec } from '../work/runner.js';
import { QUEUES } from '../work/queue-names.js';
import type { AlertsService } from './service.js';

/**
 * Ends snoozes when their time comes, from the alert rows themselves: a snooze needs no job of its own,
 * and a later snooze of the same alert simply moves the time. The queue sleeps until the next snooze ends
 * (a new snooze wakes it). A snooze's end is a time a person gave, on the system clock: the engine's clock
 * converts.
 */
export function snoozeEndsQueue(
  alerts: AlertsService,
  clock: Clock,
  options: { idleMs?: number } = {},
): WorkQueueSpec {
  const batch = 100;
  return {
    name: QUEUES.snoozeEnds,
    idleMs: options.idleMs ?? 60_000,
    async round(now) {
      const due = await alerts.dueSnoozes(clock.toSystemTime(now), batch);
      for (const snooze of due) await alerts.endSnooze(snooze.id, snooze.until.toISOString());
      if (due.length >= batch) return { more: true };
      const next = await alerts.nextSnoozeEnd();
      return { more: false, nextDueAt: next && clock.fromSystemTime(next) };
    },
  };
}
