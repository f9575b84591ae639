/**
 * How long to wait before the n-th retry (n from 1): exponential from `baseMs`, capped at `maxMs`, with
 * ±20 % jitter so that many items failing together (a provider outage) do not come back together.
 */
export function retryDelayMs(attempt: number, options: { baseMs: number; maxMs: number }): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}
