import { sql } from 'kysely';
import type { Queryable } from '../../db/database.js';
import { deleteInBatches } from '../../db/delete-in-batches.js';
import type { EmailMessagesTable } from '../../db/schema.js';
import { indexKey } from '../../db/storable.js';

/** The SQL of Email integrations' taken messages, by Message-ID (migration 0028). */

/** How long a Message-ID is remembered: past the 5 days a sending MTA keeps retrying (Postfix's default). */
export const EMAIL_MESSAGE_RETENTION_DAYS = 7;

export type EmailMessageVerdict = EmailMessagesTable['verdict'];

export interface EmailMessageRow {
  request_id: string;
  verdict: EmailMessageVerdict;
  alert_id: string | null;
  received_at: Date;
}

export const emailMessagesRepository = {
  /** What came of this message for this integration, when it was taken before. */
  async find(db: Queryable, integrationId: string, messageId: string): Promise<EmailMessageRow | undefined> {
    return db
      .selectFrom('email_messages')
      .select(['request_id', 'verdict', 'alert_id', 'received_at'])
      .where('integration_id', '=', integrationId)
      .where('message_key', '=', indexKey(messageId))
      .executeTakeFirst();
  },

  /**
   * Claims the message for the integration, with what comes of it. False when it is already claimed: by
   * an earlier delivery, or by one in another transaction, which this waits for (and claims after, if
   * that one rolls back).
   */
  async claim(
    db: Queryable,
    row: {
      integrationId: string;
      messageId: string;
      requestId: string;
      receivedAt: Date;
      verdict: EmailMessageVerdict;
      alertId?: string | null;
    },
  ): Promise<boolean> {
    const inserted = await db
      .insertInto('email_messages')
      .values({
        integration_id: row.integrationId,
        message_key: indexKey(row.messageId),
        request_id: row.requestId,
        received_at: row.receivedAt,
        verdict: row.verdict,
        alert_id: row.alertId ?? null,
      })
      .onConflict((oc) => oc.columns(['integration_id', 'message_key']).doNothing())
      .returning('request_id')
      .executeTakeFirst();
    return inserted !== undefined;
  },

  /** What came of a claimed message, once known. */
  async settle(
    db: Queryable,
    integrationId: string,
    messageId: string,
    outcome: { verdict: EmailMessageVerdict; alertId: string | null },
  ): Promise<void> {
    await db
      .updateTable('email_messages')
      .set({ verdict: outcome.verdict, alert_id: outcome.alertId })
      .where('integration_id', '=', integrationId)
      .where('message_key', '=', indexKey(messageId))
      .execute();
  },

  /** Forgets the messages taken before `olderThan`: a sender's retries are over by then. */
  async purge(db: Queryable, olderThan: Date): Promise<number> {
    return deleteInBatches(db, 'email_messages', sql`received_at < ${olderThan}::timestamptz`);
  },
};
