import type { Logger } from '../logger.js';

export interface LoopHandle {
  /** Runs the step now instead of at the next tick (when the loop is idle; a running step is not disturbed). */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Runs `step` every `intervalMs`, and again at once while it says more work is waiting. A failing step
 * is logged and tried again on the next tick; `stop` waits for the step under way to finish.
 */
export function startLoop(
  name: string,
  step: () => Promise<boolean>,
  intervalMs: number,
  log: Logger,
): LoopHandle {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  // A wake during a step: run once more right after it, since the step may have missed the new work.
  let wokenWhileBusy = false;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    timer = undefined;
    busy = true;
    running = (async () => {
      try {
        do {
          wokenWhileBusy = false;
          while (!stopped && (await step())) {
            // more is waiting
          }
        } while (!stopped && wokenWhileBusy);
      } catch (error) {
        if (!stopped) log.error({ err: error, loop: name }, `${name} failed; it will run again`);
      }
      busy = false;
      if (!stopped) timer = setTimeout(tick, intervalMs);
    })();
  };
  tick();
  return {
    wake() {
      if (stopped) return;
      if (busy) {
        wokenWhileBusy = true;
        return;
      }
      if (timer) clearTimeout(timer);
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
