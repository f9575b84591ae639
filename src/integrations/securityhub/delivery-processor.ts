import { isLostRace, isTransientDatabaseError, type Db, type Tx } from '../../db/database.js';
import { QUEUES } from '../../work/queue-names.js';
import { BACKLOG_COUNT_LIMIT, type WorkQueueSpec, type WorkSignal } from '../../work/runner.js';
import type { Logger } from '../../logger.js';
import {
  integrationsRepository as repo,
  type IntegrationWithTeams,
  type QueuedDeliveryRow,
} from '../repository.js';
import { securityHubSettings, type SecurityHubSettings } from '../types.js';
import {
  addOutcomes,
  noProgress,
  planEvent,
  settleOutcome,
  type DeliveryContext,
  type FindingSync,
} from './finding-sync.js';
import { parseSecurityHubEvent, type NormalizedFinding, type ParsedEvent } from './findings.js';
import { looksLikeSnsMessage } from './sns/message.js';
import { SNS_MESSAGE_NOT_AN_EVENT } from './outcome.js';
import { storableText } from '../../db/storable.js';

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
const DELIVERIES_PER_CLAIM = FINDINGS_PER_TRANSACTION;

/**
 * How many findings a transaction on an integration may take: the full share, unless all the other
 * processors of the process are already on that integration, in which case this one stays near ready for
 * other integrations.
 */
export function findingsBudget(processorsOnIntegration: number, processors: number): number {
  return processors > 1 && processorsOnIntegration >= processors - 1
    ? FINDINGS_PER_SHORT_TRANSACTION
    : FINDINGS_PER_TRANSACTION;
}

/** What one transaction does with one claimed delivery. */
type DeliveryWork =
  | { row: QueuedDeliveryRow; kind: 'settle'; verdict: string; reason: string; alertIds: string[] }
  | { row: QueuedDeliveryRow; kind: 'insight'; event: ParsedEvent }
  | {
      row: QueuedDeliveryRow;
      kind: 'findings';
      event: ParsedEvent;
      settings: SecurityHubSettings;
      part: NormalizedFinding[];
      total: number;
    };

/** A notification's Message that started like a JSON object and is none (the intake does not parse it). */
class MessageNotAnEvent extends Error {}

/** The EventBridge event inside a stored body (an SNS notification's Message, or the body itself). */
function storedEvent(body: string): unknown {
  const parsed = JSON.parse(body) as unknown;
  if (!looksLikeSnsMessage(parsed)) return parsed;
  try {
    // As the intake read it: a NUL inside the Message's JSON text (which JSON does not allow) stands replaced.
    return JSON.parse(storableText((parsed as { Message: string }).Message)) as unknown;
  } catch {
    throw new MessageNotAnEvent();
  }
}

/**
 * Decides what to do with a delivery within `budget` findings, reading nothing but its row. A delivery
 * that stops being processed part-way (its integration turned off, its event type deselected) is
 * settled with what its earlier parts did.
 */
export function planDelivery(
  row: QueuedDeliveryRow,
  integration: IntegrationWithTeams,
  budget: number,
): DeliveryWork {
  const stop = (reason: string, event?: ParsedEvent): DeliveryWork => {
    if (row.progress === 0 || !row.partial || !event)
      return { row, kind: 'settle', verdict: 'ignored', reason, alertIds: [] };
    const sofar = settleOutcome(row.partial, event);
    return {
      row,
      kind: 'settle',
      verdict: sofar.verdict,
      reason: [sofar.reason, `the rest was not processed: ${reason}`].filter(Boolean).join('; '),
      alertIds: sofar.alertIds,
    };
  };
  let raw: unknown;
  try {
    raw = storedEvent(row.body);
  } catch (error) {
    if (error instanceof MessageNotAnEvent) return stop(SNS_MESSAGE_NOT_AN_EVENT);
    return {
      row,
      kind: 'settle',
      verdict: 'failed',
      reason: `the stored delivery could not be read: ${(error as Error).message}`,
      alertIds: [],
    };
  }
  const event = parseSecurityHubEvent(raw);
  if (!integration.enabled)
    return stop('the integration was turned off before the delivery was processed', event);
  const settings = securityHubSettings(integration.settings);
  const plan = planEvent(event, settings);
  if (plan.kind === 'not-taken') return stop(plan.reason, event);
  if (plan.kind === 'insight') return { row, kind: 'insight', event };
  return {
    row,
    kind: 'findings',
    event,
    settings,
    part: plan.findings.slice(row.progress, row.progress + budget),
    total: plan.findings.length,
  };
}

/** The budget a piece of work uses: its findings, and at least 1 (deliveries without findings count too). */
function cost(work: DeliveryWork): number {
  return work.kind === 'findings' ? Math.max(1, work.part.length) : 1;
}

export interface DeliveryObserver {
  /** A stored delivery was settled with this verdict (created, updated, ignored, failed, …). */
  settled(verdict: string): void;
}

export function createDeliveryProcessor(deps: {
  db: Db;
  log: Logger;
  sync: FindingSync;
  /** Told when alerts were made or changed (their events wait in the outbox). */
  signal: WorkSignal;
  /** Processors (loops) in this process: each waits on PostgreSQL most of the time. */
  processors?: number;
  /** Told of each delivery settled, once committed (the metrics). */
  observer?: DeliveryObserver;
}) {
  const { db, log, sync } = deps;
  const processors = deps.processors ?? 4;
  // This process's view of whom it is serving and when it last served each: enough for fairness, since every
  // process serves the least recently served first and SKIP LOCKED keeps them off each other's deliveries.
  const busy = new Map<string, number>();
  const lastServed = new Map<string, number>();
  let servedCounter = 0;
  // Where the next look for waiting integrations starts, so that past the first thousand none starves.
  let scanFrom: string | undefined;

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

  async function waitingIntegrations(): Promise<string[]> {
    const found = await repo.integrationsWithQueuedDeliveries(db, { after: scanFrom });
    scanFrom = found.length >= 1000 ? found[found.length - 1] : undefined;
    return found;
  }

  function contextOf(row: QueuedDeliveryRow): DeliveryContext {
    return { payloadId: row.id, requestId: row.request_id ?? `payload-${row.id}` };
  }

  /**
   * Does what was planned for a transaction's deliveries: the findings of all of them synced together
   * (a burst of one-finding deliveries costs a few statements, not a few each), then each delivery
   * settled, or its progress recorded.
   */
  async function run(
    tx: Tx,
    plans: DeliveryWork[],
    integration: IntegrationWithTeams,
  ): Promise<readonly { verdict: string }[]> {
    // The deliveries settled by this transaction, written together at its end in one statement.
    const settled: { id: string; verdict: string; reason: string | null; alertIds: string[] }[] = [];
    const settle = (
      row: QueuedDeliveryRow,
      outcome: { verdict: string; reason?: string | null; alertIds: string[] },
    ) =>
      void settled.push({
        id: row.id,
        verdict: outcome.verdict,
        reason: outcome.reason ?? null,
        alertIds: outcome.alertIds,
      });
    const findingWork = plans.filter(
      (w): w is Extract<DeliveryWork, { kind: 'findings' }> => w.kind === 'findings',
    );
    const settings = findingWork[0]?.settings;
    const outcomes = settings
      ? await sync.syncFindings(
          tx,
          integration,
          settings,
          findingWork.flatMap((w) =>
            w.part.map((finding) => ({ finding, event: w.event, context: contextOf(w.row) })),
          ),
        )
      : [];
    let next = 0;
    for (const work of plans) {
      const { row } = work;
      if (work.kind === 'settle') {
        settle(row, work);
      } else if (work.kind === 'insight') {
        const outcome = await sync.syncInsight(tx, integration, work.event, contextOf(row));
        settle(row, settleOutcome(addOutcomes(noProgress(), [outcome]), work.event));
      } else {
        const mine = outcomes.slice(next, next + work.part.length);
        next += work.part.length;
        const tally = addOutcomes(row.partial ?? noProgress(), mine);
        const progress = row.progress + work.part.length;
        if (progress >= work.total) settle(row, settleOutcome(tally, work.event));
        else await repo.saveDeliveryProgress(tx, row.id, progress, tally);
      }
    }
    await repo.settleDeliveries(tx, settled);
    return settled;
  }

  async function processOnce(): Promise<boolean> {
    const waiting = await waitingIntegrations();
    if (waiting.length === 0) return false;
    let serving: string | undefined;
    let used = 0;
    let settled: readonly { verdict: string }[] = [];
    try {
      await db.transaction().execute(async (tx) => {
        for (const integrationId of fairOrder(waiting)) {
          const budget = findingsBudget(busy.get(integrationId) ?? 0, processors);
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
          const plans: DeliveryWork[] = [];
          for (const row of rows) {
            if (used >= budget) break;
            const work = planDelivery(row, integration, budget - used);
            plans.push(work);
            used += cost(work);
          }
          // syncFindings locks every finding this transaction touches at once, in the one global order, so
          // two transactions on deliveries that share findings never wait on each other in a cycle.
          settled = await run(tx, plans, integration);
          return;
        }
      });
    } catch (error) {
      // Two transactions holding findings in opposite orders, a lost connection: all of it runs again.
      if (isTransientDatabaseError(error)) {
        log.warn({ err: error }, 'a batch of deliveries will run again after a transient database error');
        // A lost race runs again at once; an unreachable database at the next tick.
        return isLostRace(error);
      }
      throw error;
    } finally {
      if (serving !== undefined) doneServing(serving);
    }
    for (const { verdict } of settled) deps.observer?.settled(verdict);
    if (used > 0) deps.signal.wake(QUEUES.alertEvents);
    return used > 0;
  }

  return {
    /**
     * Makes stored deliveries of one integration into alerts, in one transaction of at most
     * {@link FINDINGS_PER_TRANSACTION} findings. Returns true when it did some work (more may be waiting).
     */
    processOnce,

    /** The processors as a queue of the work runner (the intake wakes it when it stores deliveries). */
    queue: (options: { idleMs?: number } = {}): WorkQueueSpec => ({
      name: QUEUES.deliveries,
      concurrency: processors,
      idleMs: options.idleMs ?? 1000,
      round: async () => ({ more: await processOnce() }),
      backlog: () => repo.deliveryBacklog(db, BACKLOG_COUNT_LIMIT),
    }),
  };
}

export type DeliveryProcessor = ReturnType<typeof createDeliveryProcessor>;
