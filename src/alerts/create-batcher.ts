import { isUnstorableValue, retryLostRaces, type Db } from '../db/database.js';
import type { AlertRow } from '../db/schema.js';
import { alertsRepository as repo, type CreateStatement } from './repository.js';

/**
 * Alert creates that arrive together (concurrent API requests) are written together: one statement and
 * one commit for all of them, so a busy sender is not held to one commit per alert. Each caller still
 * gets its answer only once its alert is committed. Two creates of one open alias cannot be counted in
 * one statement, so a batch is split into rounds in which each alias appears once, run one after the
 * other, in arrival order. If a round fails on a value, its creates are made one by one, so that only
 * the one at fault fails; if it lost a race (a deadlock), it runs again.
 */

interface Waiting {
  statement: CreateStatement;
  resolve: (created: { alert: AlertRow; inserted: boolean }) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 200;

export function createAlertBatcher(db: Db) {
  const waiting: Waiting[] = [];
  let scheduled = false;

  /** The n-th create of an alias in the batch goes in round n: in a round each alias appears once. */
  function rounds(batch: Waiting[]): Waiting[][] {
    const seen = new Map<string, number>();
    const out: Waiting[][] = [];
    for (const item of batch) {
      const key = `${item.statement.row.orgId}\n${item.statement.row.alias}`;
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      (out[n] ??= []).push(item);
    }
    return out;
  }

  async function run(round: Waiting[]): Promise<void> {
    try {
      // A round locks the open alerts it counts in arrival order, which another round (of this process or
      // another) or a bulk action may take in another order: the deadlock detector then aborts one side.
      // The statement is atomic, so running it again is safe, and better than failing every create in it.
      const made = await retryLostRaces(() =>
        repo.createOrDeduplicateMany(
          db,
          round.map((w) => w.statement),
        ),
      );
      round.forEach((w, i) => {
        const result = made[i];
        if (result) w.resolve(result);
        else w.reject(new Error('the alert insert returned no row'));
      });
    } catch (error) {
      if (round.length === 1 || !isUnstorableValue(error)) {
        for (const w of round) w.reject(error);
        return;
      }
      for (const w of round) {
        try {
          w.resolve(await retryLostRaces(() => repo.createOrDeduplicate(db, w.statement)));
        } catch (alone) {
          w.reject(alone);
        }
      }
    }
  }

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = waiting.splice(0, MAX_BATCH);
    if (waiting.length > 0) schedule();
    for (const round of rounds(batch)) await run(round);
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void flush());
  }

  return {
    create(statement: CreateStatement): Promise<{ alert: AlertRow; inserted: boolean }> {
      return new Promise((resolve, reject) => {
        waiting.push({ statement, resolve, reject });
        schedule();
      });
    },
  };
}
