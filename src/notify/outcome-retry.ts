import { setTimeout as timeout } from 'node:timers/promises';
import type { Clock } from '../work/clock.js';
import { retryDelayMs } from '../work/backoff.js';

/**
 * Writing down what was sent, tried again while the database fails (a fail-over, a dropped connection):
 * a message sent whose outcome is left unrecorded is taken again once its claim's lease runs out, and
 * sent twice. Neither a person's channels (SMS, voice, email) nor a team's (Slack, Teams, a webhook)
 * have an idempotency key that would let the receiver drop the second.
 */

export interface OutcomeRetry {
  clock: Clock;
  /** The most tries, the first included. */
  tries: number;
  /**
   * No try starts after this instant on the clock (the claim's lease, less a margin for the try itself):
   * a write that lands after another round took the message over comes too late to keep it from going
   * again. Without it only `tries` bounds the retry.
   */
  until?: Date;
  /** Waits between tries; the real timers unless a test moves its clock instead. */
  sleep?: (ms: number) => Promise<void>;
  /** Told of each failure that is tried again (to log it), with the try that failed (from 1). */
  onRetry?: (error: unknown, attempt: number) => void;
}

/** The wait before the n-th retry: 200 ms doubling up to 5 s, jittered (about half a minute over 8 tries). */
export function outcomeRetryDelayMs(attempt: number): number {
  return retryDelayMs(attempt, { baseMs: 200, maxMs: 5000 });
}

/**
 * Runs `write` until it succeeds, waiting outcomeRetryDelayMs between tries; throws the last failure once
 * `tries` tries failed, or when the next would start after `until`. `write` is told which try it is (from
 * 1): a failed try may have committed, its answer lost (a connection dropped after the commit), so a
 * later try may find its rows already written, and has to tell that from rows another claim took.
 */
export async function retryingOutcome<T>(
  write: (attempt: number) => Promise<T>,
  options: OutcomeRetry,
): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => timeout(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await write(attempt);
    } catch (error) {
      const delay = outcomeRetryDelayMs(attempt);
      const late = options.until && options.clock.now().getTime() + delay > options.until.getTime();
      if (attempt >= options.tries || late) throw error;
      options.onRetry?.(error, attempt);
      await sleep(delay);
    }
  }
}
