import { alertsRepository } from '../../../alerts/repository.js';
import type { Db } from '../../../db/database.js';
import type { Clock } from '../../../work/clock.js';
import type { AlertEventConsumer } from '../../../engine/consumers.js';
import { QUEUES } from '../../../work/queue-names.js';
import type { WorkSignal } from '../../../work/runner.js';
import { changeFor, describeChange, echoOf, unsendableIdentifier, writesBackTo } from './changes.js';
import { writebacksRepository } from './repository.js';

/**
 * Turns alert events made in Vigil into changes waiting to be written to their findings: durable, in the
 * event's own delivery, so that the sender can gather them into batches later.
 */

/** The consumer's name is also stored with its deliveries: renaming it would orphan them. */
export const WRITEBACK_CONSUMER = 'securityhub-writeback';

export function createChangeRecorder(deps: { db: Db; clock: Clock; signal: WorkSignal }): AlertEventConsumer {
  const { db, clock } = deps;
  return {
    name: WRITEBACK_CONSUMER,
    label: 'The Security Hub write-back',
    types: ['acknowledged', 'unacknowledged', 'closed', 'priority_changed', 'note_added'],
    handles: (event) => changeFor(event) !== undefined,
    async handle(event) {
      const change = changeFor(event);
      if (!change) return;
      const recorded = await db.transaction().execute(async (tx) => {
        // Per finding: an alert may hold findings of other integrations than the one that made the change.
        // First, so first of the transaction's locks: their integrations' rows, FOR SHARE until it commits,
        // so that a turn-off ends what is recorded here, or is read below (repository.ts's endUnsentOf).
        const findings = (await writebacksRepository.findingsToWriteBack(tx, event.alertId)).filter((f) =>
          writesBackTo(event, f.integrationId),
        );
        if (findings.length === 0) return 0;
        const seq = event.seq ?? 0;
        const now = clock.now();
        const madeAt = clock.fromSystemTime(new Date(event.at));
        const paused = new Map<string, string | undefined>();
        // Said once per event however many of the alert's findings it concerns (an alert may hold dozens).
        const lines = new Set<string>();
        for (const finding of findings) {
          // Spelled for the finding's own API: an event's alert may have findings of both formats.
          const written = changeFor(event, finding.format) ?? change;
          // Events may be handled out of order: a later change already recorded makes this one moot.
          const later = await writebacksRepository.hasLaterChange(tx, finding, change.field, seq);
          // A turned-off integration (or one a maintenance disables) sends no alert actions, as in Opsgenie;
          // what changed meanwhile is not sent when it is turned on again. Judged at the change's own time,
          // not now: the event may have waited, and a change made just before a maintenance began was made
          // while the integration was on (one made during it stays unsent, though recorded after it).
          if (!paused.has(finding.integrationId))
            paused.set(
              finding.integrationId,
              await writebacksRepository.pausedBy(tx, finding.integrationId, madeAt),
            );
          const pausedBy = later ? undefined : paused.get(finding.integrationId);
          // A finding AWS would refuse to identify (too long an Id, a sender's and not AWS's; an OCSF
          // finding without its account) is not sent, so that it cannot fail the 99 others of its request.
          const unsendable = later || pausedBy !== undefined ? undefined : unsendableIdentifier(finding);
          if (!later) {
            // An earlier change still waiting is replaced: only the latest value matters.
            await writebacksRepository.supersedeEarlierPending(tx, finding, change.field, seq, now);
            // The echo of this write will come back through intake: remember it, so it changes nothing.
            // Not a write that is never sent: a person setting that value later would pass for its echo.
            if (pausedBy === undefined && unsendable === undefined)
              await writebacksRepository.rememberWrittenBack(tx, finding, echoOf(written));
          }
          const notSent = pausedBy !== undefined ? `the integration is ${pausedBy}` : undefined;
          await writebacksRepository.insertChange(
            tx,
            {
              ...written,
              finding,
              alertId: event.alertId,
              eventId: event.eventId,
              seq,
              status: later || notSent !== undefined ? 'superseded' : unsendable ? 'failed' : 'pending',
              ...(unsendable !== undefined ? { lastError: unsendable } : {}),
              ...(notSent !== undefined ? { lastError: `not sent: ${notSent}` } : {}),
            },
            now,
          );
          const why =
            unsendable !== undefined
              ? `Could not update the finding in Security Hub: ${unsendable}`
              : notSent !== undefined
                ? `Not written to Security Hub (${describeChange(written)}): ${notSent}`
                : undefined;
          if (why !== undefined) lines.add(why);
        }
        // The alert may be gone already (its findings keep its changes): logged only while it exists.
        await alertsRepository.addLogsToExisting(
          tx,
          [...lines].map((log) => ({
            alertId: event.alertId,
            type: 'writeback',
            log,
            owner: 'Amazon Security Hub',
          })),
        );
        return findings.length;
      });
      if (recorded > 0) deps.signal.wake(QUEUES.writeback);
    },
  };
}
