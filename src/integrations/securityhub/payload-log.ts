import { isUnstorableValue, type Db, type Tx } from '../../db/database.js';
import type { Clock } from '../../work/clock.js';
import { QUEUES } from '../../work/queue-names.js';
import type { WorkSignal } from '../../work/runner.js';
import { integrationsRepository as repo, type StoredDeliveryInput } from '../repository.js';
import type { EventOutcome, Verdict } from './finding-sync.js';
import { cut } from './findings.js';

/**
 * The payload log: every delivery ends in it with its verdict, whether it was refused, ignored, or handled
 * at once (confirmations, unsubscribes, replays). Deliveries left to the workers are stored by
 * delivery-queue.ts instead.
 */

/** One delivery as it is logged. */
export type Delivery = Omit<StoredDeliveryInput, 'integrationId'>;

export function createPayloadLog(deps: { db: Db; clock: Clock; signal?: WorkSignal }) {
  const { db, clock } = deps;

  async function record(
    integrationId: string,
    delivery: Delivery,
    outcome: { verdict: Verdict; reason?: string; alertIds?: string[] },
    tx?: Tx,
  ): Promise<string> {
    return repo.recordPayload(tx ?? db, {
      integration_id: integrationId,
      message_id: delivery.messageId,
      kind: delivery.kind,
      verdict: outcome.verdict,
      reason: outcome.reason ?? null,
      alert_ids: outcome.alertIds ?? [],
      content_type: delivery.contentType,
      body: delivery.body,
      request_id: delivery.requestId,
      received_at: clock.now(),
    });
  }

  return {
    record,

    /**
     * Records a refused delivery; if even that cannot be stored, records it without its body. Returns the
     * record's id.
     */
    async recordRefusal(
      integrationId: string,
      delivery: Delivery,
      verdict: Verdict,
      reason: string,
    ): Promise<string> {
      try {
        return await record(integrationId, delivery, { verdict, reason });
      } catch (error) {
        if (!isUnstorableValue(error)) throw error;
        return record(
          integrationId,
          {
            ...delivery,
            body: `(not kept: ${(error as Error).message})`,
            kind: cut(delivery.kind, 100),
            messageId: delivery.messageId && cut(delivery.messageId, 200),
          },
          { verdict, reason },
        );
      }
    },

    /**
     * Runs the work of one delivery handled at once in a transaction that also claims its message id and
     * writes its payload record: either all of it is stored, or none of it and the sender retries. Returns
     * the outcome with its record's id.
     */
    async commit(
      integrationId: string,
      delivery: Delivery,
      work: (tx: Tx) => Promise<EventOutcome>,
    ): Promise<EventOutcome & { payloadId: string }> {
      const { messageId } = delivery;
      const result = await db.transaction().execute(async (tx) => {
        if (messageId && !(await repo.claimMessage(tx, integrationId, messageId, clock.now()))) {
          return undefined;
        }
        const outcome = await work(tx);
        return { ...outcome, payloadId: await record(integrationId, delivery, outcome, tx) };
      });
      if (result) {
        deps.signal?.wake(QUEUES.alertEvents);
        return result;
      }
      const duplicate = {
        verdict: 'duplicate' as const,
        reason: `message ${messageId ?? ''} was already processed`,
        alertIds: [],
      };
      return { ...duplicate, payloadId: await record(integrationId, delivery, duplicate) };
    },
  };
}

export type PayloadLog = ReturnType<typeof createPayloadLog>;
