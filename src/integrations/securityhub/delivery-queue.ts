import { isUnstorableValue, type Db } from '../../db/database.js';
import { QUEUES } from '../../work/queue-names.js';
import type { WorkSignal } from '../../work/runner.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import {
  integrationsRepository as repo,
  type StoredDeliveryInput,
  type StoredDeliveryResult,
} from '../repository.js';

/**
 * Deliveries stored for the workers (see delivery-processor.ts). The sender's 2xx means the delivery is
 * durably stored; the payload log tells what became of it moments later. Deliveries arriving together are
 * written together, in one statement (one round trip and one commit for all of them): under load that is
 * what lets the intake keep up. If that statement fails for a reason other than the database's
 * availability, each is stored alone, so that a delivery PostgreSQL refuses fails by itself and never makes
 * its neighbours' 503.
 */

/** Deliveries stored together in one statement at most, and their bodies' size at most. */
const STORE_BATCH = 500;
const STORE_BATCH_BYTES = 8 * 1024 * 1024;

/** A delivery PostgreSQL refused to store: sending it again can never succeed. */
export class UnstorableDelivery extends Error {}

/** The integration of a delivery was deleted while the delivery arrived. */
export class IntegrationGone extends Error {}

function isIntegrationGone(error: unknown): boolean {
  // A foreign key refused the row.
  return (error as { code?: unknown } | null)?.code === '23503';
}

/** Only a value, or an integration deleted meanwhile, can be one delivery's fault. */
function isOneDeliverysFault(error: unknown): boolean {
  return isUnstorableValue(error) || isIntegrationGone(error);
}

interface PendingDelivery extends StoredDeliveryInput {
  done: (result: StoredDeliveryResult) => void;
  fail: (error: unknown) => void;
}

export function createDeliveryQueue(deps: { db: Db; log: Logger; clock: Clock; signal?: WorkSignal }) {
  const { db, log, clock } = deps;
  const waiting: PendingDelivery[] = [];
  let flushScheduled = false;

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => void flush());
  }

  function nextBatch(): PendingDelivery[] {
    let count = 0;
    let bytes = 0;
    while (count < waiting.length && count < STORE_BATCH && (count === 0 || bytes < STORE_BATCH_BYTES)) {
      bytes += (waiting[count]?.body.length ?? 0) * 2;
      count++;
    }
    return waiting.splice(0, count);
  }

  async function flush(): Promise<void> {
    flushScheduled = false;
    const batch = nextBatch();
    if (waiting.length > 0) scheduleFlush();
    if (batch.length === 0) return;
    try {
      const stored = await repo.storeDeliveries(db, batch, clock.now());
      batch.forEach((d, n) => d.done(stored[n] as StoredDeliveryResult));
      deps.signal?.wake(QUEUES.deliveries);
      return;
    } catch (error) {
      // A failure not of one delivery's making (the database's state) fails them all alike.
      if (batch.length === 1 || !isOneDeliverysFault(error)) {
        for (const d of batch) d.fail(error);
        return;
      }
      log.warn(
        { err: error, deliveries: batch.length },
        'storing deliveries together failed; storing each alone so that only the one at fault fails',
      );
    }
    let storedAny = false;
    for (const d of batch) {
      try {
        const [stored] = await repo.storeDeliveries(db, [d], clock.now());
        d.done(stored as StoredDeliveryResult);
        storedAny = true;
      } catch (error) {
        d.fail(error);
      }
    }
    if (storedAny) deps.signal?.wake(QUEUES.deliveries);
  }

  return {
    /**
     * Stores a delivery with those arriving in the same tick. Rejects with {@link UnstorableDelivery} or
     * {@link IntegrationGone} when it is the delivery's own fault, else with the database's error.
     */
    store(delivery: StoredDeliveryInput): Promise<StoredDeliveryResult> {
      return new Promise((done, fail) => {
        waiting.push({
          ...delivery,
          done,
          fail: (error) =>
            fail(
              isUnstorableValue(error)
                ? new UnstorableDelivery((error as Error).message)
                : isIntegrationGone(error)
                  ? new IntegrationGone((error as Error).message)
                  : error,
            ),
        });
        scheduleFlush();
      });
    },
  };
}

export type DeliveryQueue = ReturnType<typeof createDeliveryQueue>;
