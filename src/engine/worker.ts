import { run, type Runner, type TaskList, type Logger as WorkerLogger } from 'graphile-worker';
import { Logger as GraphileLogger } from 'graphile-worker';
import type pg from 'pg';
import type { AlertsService } from '../alerts/service.js';
import type { IntegrationsService } from '../integrations/service.js';
import type { Logger } from '../logger.js';
import type { AlertEventConsumer } from './consumers.js';
import { dispatchAlertEvent } from './consumers.js';
import type { TaskName, TaskPayloads } from './jobs.js';

export interface WorkerDeps {
  pool: pg.Pool;
  log: Logger;
  alerts: AlertsService;
  consumers: readonly AlertEventConsumer[];
  integrations: IntegrationsService;
  requestRetentionDays: number;
  payloadRetentionDays: number;
  /** Forgets which alert events the engine handled, after the days given. */
  purgeHandledEvents: (olderThanDays: number) => Promise<number>;
  concurrency?: number;
}

type Handlers = { [K in TaskName]: (payload: TaskPayloads[K]) => Promise<void> };

function workerLogger(log: Logger): WorkerLogger {
  return new GraphileLogger(() => (level, message, meta) => {
    const fields = { component: 'worker', ...(meta ?? {}) };
    // Connections PostgreSQL closes while Vigil stops are expected, not errors.
    const code = (meta as { error?: { code?: unknown } } | undefined)?.error?.code;
    if (level === 'error' && code !== '57P01') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else log.debug(fields, message);
  });
}

/** Starts graphile-worker in this process with Vigil's tasks and their schedule. */
export async function startWorker(deps: WorkerDeps): Promise<Runner> {
  const { log } = deps;
  const handlers: Handlers = {
    'alert-event': (event) => dispatchAlertEvent(deps.consumers, event, log),
    'alert-unsnooze': async ({ alertId, until }) => {
      await deps.alerts.endSnooze(alertId, until);
    },
    'purge-alert-requests': async () => {
      const removed = await deps.alerts.purgeRequests(deps.requestRetentionDays);
      if (removed > 0) log.info({ removed }, 'purged old alert request records');
      const payloads = await deps.integrations.purge(deps.payloadRetentionDays);
      if (payloads > 0) log.info({ removed: payloads }, 'purged integration payloads past retention');
      await deps.purgeHandledEvents(7);
    },
  };
  // The payload arrives as JSON from PostgreSQL; it was typed when it was written by enqueueJob.
  const taskList: TaskList = Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [
      name,
      (payload: unknown) => (handler as (p: unknown) => Promise<void>)(payload),
    ]),
  );
  return run({
    pgPool: deps.pool,
    taskList,
    concurrency: deps.concurrency ?? 10,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: workerLogger(log),
    crontab: '17 * * * * purge-alert-requests ?max=3',
  });
}
