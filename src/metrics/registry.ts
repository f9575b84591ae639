import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry of the process's metrics, with Node's own (CPU, memory, event-loop delay, GC) beside
 * Vigil's. One per running app, not prom-client's global one: tests start several apps in one process,
 * and each must count only its own.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
