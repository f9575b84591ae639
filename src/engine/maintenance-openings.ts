import type { Db } from '../db/database.js';
import type { Clock } from '../work/clock.js';
import { maintenanceRepository } from '../maintenance/repository.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkQueueSpec, WorkSignal } from '../work/runner.js';
import { autoClosesRepository } from './auto-close.js';
import { autoRestartsRepository } from './auto-restart.js';
import { notificationHoldsRepository } from './notification-holds.js';

/**
 * The `maintenance-openings` work queue: what a notification policy started lasts only while the policy is
 * on, and a maintenance that disables the policy switches it off while open. So when such a maintenance
 * opens (at its creation if it starts at once, or at its start on the engine's clock), the policy's held
 * alerts are let go (a `hold_released` event each, as when the policy is disabled) and its pending
 * auto-restarts and auto-closes are dropped.
 *
 * Nothing records which maintenance was handled: each round looks at every maintenance open now, and finds
 * only what is still there (while the maintenance is open the policy makes no new holds, restarts or
 * closes). The maintenance service wakes the queue on every change, and the round says when the next
 * planned one opens.
 * A round that runs again before the engine has handled its events sends them again: the engine then finds
 * those holds gone, and does nothing more.
 */
export function maintenanceOpeningsQueue(deps: { db: Db; signal: WorkSignal; clock: Clock }): WorkQueueSpec {
  const { db, signal, clock } = deps;
  return {
    name: QUEUES.maintenanceOpenings,
    idleMs: 10 * 60_000,
    async round(now) {
      const released = await db.transaction().execute(async (tx) => {
        await autoRestartsRepository.dropMaintained(tx, now);
        await autoClosesRepository.dropMaintained(tx, now);
        return notificationHoldsRepository.releaseMaintained(tx, now, clock.toSystemTime(now));
      });
      if (released > 0) signal.wake(QUEUES.alertEvents);
      return { more: false, nextDueAt: await maintenanceRepository.nextPolicyOpening(db, now) };
    },
  };
}
