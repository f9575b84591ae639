import type { Logger } from '../logger.js';

export interface LoopHandle {
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
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = (async () => {
      try {
        while (!stopped && (await step())) {
          // more is waiting
        }
      } catch (error) {
        if (!stopped) log.error({ err: error, loop: name }, `${name} failed; it will run again`);
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    })();
  };
  tick();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
