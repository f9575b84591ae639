import { isTransientDatabaseError, type Db, type Tx } from '../../db/database.js';
import { startLoop } from '../../engine/loop.js';
import type { Logger } from '../../logger.js';
import {
  integrationsRepository as repo,
  type IntegrationWithTeams,
  type QueuedDeliveryRow,
} from '../repository.js';
import { securityHubSettings } from '../types.js';
import {
  addOutcomes,
  eventNotTaken,
  inLockOrder,
  noProgress,
  settleOutcome,
  type FindingSync,
} from './finding-sync.js';
import { parseSecurityHubEvent } from './findings.js';
import { looksLikeSnsMessage } from './sns.js';

/**
 * The workers' side of the intake: stored deliveries made into alerts, fairly and in bounded pieces.
 *
 * - One integration per transaction, chosen fairly: first those no processor of this process is working
 *   on, then the one served least recently. A transaction commits as soon as that integration's share is
 *   done, so a lone finding never waits for someone else's bulk to commit with it.
 * - Bounded: a transaction makes at most {@link FINDINGS_PER_TRANSACTION} findings into alerts; a larger
 *   delivery is taken in chunks, its progress and tally kept on its payload row, and stays queued meanwhile.
 * - Always one processor ready: when all but one of this process's processors are already on the same
 *   integration, the last takes only {@link FINDINGS_PER_SHORT_TRANSACTION} of it at a time, so it is
 *   never long away from a finding another integration sends. A single bulk sender still gets every
 *   processor.
 * - Isolated: each delivery, and each finding within it, succeeds or fails alone, with its own reason.
 *
 * Any number of processes may run it: SKIP LOCKED shares the deliveries out.
 */

/** Findings per transaction: enough to amortise a commit, few enough that a chunk takes a fraction of a second. */
export const FINDINGS_PER_TRANSACTION = 100;

/** What the one processor kept ready for other integrations takes of a busy one at a time. */
export const FINDINGS_PER_SHORT_TRANSACTION = 10;

/** Deliveries of one integration claimed at once (most deliveries hold one finding). */
const DELIVERIES_PER_CLAIM = 50;

export function createDeliveryProcessor(deps: {
  db: Db;
  log: Logger;
  sync: FindingSync;
  /** Processors (loops) in this process: each waits on PostgreSQL most of the time. */
  processors?: number;
}) {
  const { db, log, sync } = deps;
  const processors = deps.processors ?? 4;
  // This process's view of whom it is serving and when it last served each: enough for fairness, since every
  // process serves the least recently served first and SKIP LOCKED keeps them off each other's deliveries.
  const busy = new Map<string, number>();
  const lastServed = new Map<string, number>();
  let servedCounter = 0;

  function fairOrder(integrationIds: string[]): string[] {
    return [...integrationIds].sort(
      (a, b) =>
        (busy.get(a) ?? 0) - (busy.get(b) ?? 0) || (lastServed.get(a) ?? -1) - (lastServed.get(b) ?? -1),
    );
  }

  function markServing(integrationId: string): void {
    busy.set(integrationId, (busy.get(integrationId) ?? 0) + 1);
    if (lastServed.size > 10_000) lastServed.clear();
    lastServed.set(integrationId, ++servedCounter);
  }

  function doneServing(integrationId: string): void {
    const n = (busy.get(integrationId) ?? 1) - 1;
    if (n <= 0) busy.delete(integrationId);
    else busy.set(integrationId, n);
  }

  /** The EventBridge event inside a stored body (an SNS notification's Message, or the body itself). */
  function storedEvent(body: string): unknown {
    const parsed = JSON.parse(body) as unknown;
    return looksLikeSnsMessage(parsed)
      ? (JSON.parse((parsed as { Message: string }).Message) as unknown)
      : parsed;
  }

  /**
   * Processes up to `budget` findings of one stored delivery; returns how much of the budget it used
   * (at least 1, so that deliveries without findings count too).
   */
  async function processDelivery(
    tx: Tx,
    row: QueuedDeliveryRow,
    integration: IntegrationWithTeams,
    budget: number,
  ): Promise<number> {
    const context = { payloadId: row.id, requestId: row.request_id ?? `payload-${row.id}` };
    const settle = (verdict: string, reason: string | undefined, alertIds: string[] = []) =>
      repo.settleDelivery(tx, row.id, { verdict, reason: reason ?? null, alertIds });
    if (!integration.enabled) {
      await settle('ignored', 'the integration was turned off before the delivery was processed');
      return 1;
    }
    let raw: unknown;
    try {
      raw = storedEvent(row.body);
    } catch (error) {
      await settle('failed', `the stored delivery could not be read: ${(error as Error).message}`);
      return 1;
    }
    const settings = securityHubSettings(integration.settings);
    const event = parseSecurityHubEvent(raw);
    const notTaken = eventNotTaken(event, settings);
    if (notTaken) {
      await settle('ignored', notTaken);
      return 1;
    }
    if (event.kind === 'insight-results') {
      const outcome = settleOutcome(
        addOutcomes(noProgress(), [await sync.syncInsight(tx, integration, event, context)]),
        event,
      );
      await settle(outcome.verdict, outcome.reason, outcome.alertIds);
      return 1;
    }
    const findings = inLockOrder(event.findings);
    const slice = findings.slice(row.progress, row.progress + budget);
    const outcomes = await sync.syncFindings(tx, integration, settings, event, slice, context);
    const tally = addOutcomes(row.partial ?? noProgress(), outcomes);
    const progress = row.progress + slice.length;
    if (progress >= findings.length) {
      const outcome = settleOutcome(tally, event);
      await settle(outcome.verdict, outcome.reason, outcome.alertIds);
    } else {
      await repo.saveDeliveryProgress(tx, row.id, progress, tally);
    }
    return Math.max(1, slice.length);
  }

  async function processOnce(): Promise<boolean> {
    const waiting = await repo.integrationsWithQueuedDeliveries(db);
    if (waiting.length === 0) return false;
    let serving: string | undefined;
    let used = 0;
    try {
      await db.transaction().execute(async (tx) => {
        for (const integrationId of fairOrder(waiting)) {
          const budget =
            (busy.get(integrationId) ?? 0) >= processors - 1
              ? FINDINGS_PER_SHORT_TRANSACTION
              : FINDINGS_PER_TRANSACTION;
          const rows = await repo.claimQueuedDeliveries(
            tx,
            integrationId,
            Math.min(DELIVERIES_PER_CLAIM, budget),
          );
          if (rows.length === 0) continue;
          serving = integrationId;
          markServing(integrationId);
          const integration = await repo.getById(tx, integrationId);
          // Deleted meanwhile: its deliveries go with it (ON DELETE CASCADE).
          if (!integration) return;
          for (const row of rows) {
            if (used >= budget) break;
            used += await processDelivery(tx, row, integration, budget - used);
          }
          return;
        }
      });
    } catch (error) {
      // Two transactions holding findings in opposite orders, a lost connection: all of it runs again.
      if (isTransientDatabaseError(error)) {
        log.warn({ err: error }, 'a batch of deliveries will run again after a transient database error');
        // A lost race runs again at once; an unreachable database at the next tick.
        return (error as { code?: string }).code === '40P01' || (error as { code?: string }).code === '40001';
      }
      throw error;
    } finally {
      if (serving !== undefined) doneServing(serving);
    }
    return used > 0;
  }

  return {
    /**
     * Makes stored deliveries of one integration into alerts, in one transaction of at most
     * {@link FINDINGS_PER_TRANSACTION} findings. Returns true when it did some work (more may be waiting).
     */
    processOnce,

    /** Runs the processors until stopped; `wake` makes the idle ones look for work at once. */
    start(intervalMs = 50) {
      const loops = Array.from({ length: processors }, () =>
        startLoop('delivery processor', processOnce, intervalMs, log),
      );
      return {
        wake: () => loops.forEach((l) => l.wake()),
        stop: async () => {
          await Promise.all(loops.map((l) => l.stop()));
        },
      };
    },
  };
}

export type DeliveryProcessor = ReturnType<typeof createDeliveryProcessor>;
