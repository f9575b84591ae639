import { sql } from 'kysely';
import { type Queryable, isUuid } from '../db/database.js';
import type { IntegrationRow } from '../db/schema.js';

/** The SQL for integrations, their SNS subscriptions and their payload log. */

/** A delivery in the payload log; the body only when it was asked for. */
export interface PayloadRow {
  id: string;
  received_at: Date;
  message_id: string | null;
  kind: string;
  verdict: string;
  reason: string | null;
  alert_ids: string[];
  content_type: string | null;
  body?: string;
}

export type IntegrationWithTeams = IntegrationRow & {
  owner_team_name: string;
  assignee_team_name: string | null;
};

function withTeams(db: Queryable) {
  return db
    .selectFrom('integrations as i')
    .innerJoin('teams as o', 'o.id', 'i.owner_team_id')
    .leftJoin('teams as a', 'a.id', 'i.assignee_team_id')
    .selectAll('i')
    .select(['o.name as owner_team_name', 'a.name as assignee_team_name']);
}

export const integrationsRepository = {
  async insert(
    db: Queryable,
    row: {
      org_id: string;
      type: string;
      name: string;
      owner_team_id: string;
      assignee_team_id: string | null;
      enabled: boolean;
      api_key_lookup: string;
      api_key_hash: Buffer;
      external_id: string;
      settings: string;
    },
  ): Promise<string> {
    const inserted = await db
      .insertInto('integrations')
      .values(row)
      .returning('id')
      .executeTakeFirstOrThrow();
    return inserted.id;
  },

  async get(db: Queryable, orgId: string, id: string): Promise<IntegrationWithTeams | undefined> {
    if (!isUuid(id)) return undefined;
    return withTeams(db).where('i.org_id', '=', orgId).where('i.id', '=', id).executeTakeFirst();
  },

  async getById(db: Queryable, id: string): Promise<IntegrationWithTeams | undefined> {
    return withTeams(db).where('i.id', '=', id).executeTakeFirst();
  },

  async byKeyLookup(db: Queryable, lookup: string): Promise<IntegrationWithTeams[]> {
    return withTeams(db).where('i.api_key_lookup', '=', lookup).execute();
  },

  async list(db: Queryable, orgId: string, filter: { type?: string; teamId?: string }) {
    let query = withTeams(db).where('i.org_id', '=', orgId);
    if (filter.type) query = query.where('i.type', '=', filter.type);
    if (filter.teamId) {
      const teamId = filter.teamId;
      query = query.where((eb) =>
        eb.or([eb('i.owner_team_id', '=', teamId), eb('i.assignee_team_id', '=', teamId)]),
      );
    }
    return query.orderBy('i.name').execute();
  },

  async update(
    db: Queryable,
    id: string,
    changes: Partial<{
      name: string;
      owner_team_id: string;
      assignee_team_id: string | null;
      enabled: boolean;
      api_key_lookup: string;
      api_key_hash: Buffer;
      settings: string;
    }>,
  ): Promise<void> {
    await db
      .updateTable('integrations')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  },

  async delete(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('integrations').where('id', '=', id).execute();
  },

  async subscriptions(db: Queryable, integrationId: string) {
    return db
      .selectFrom('sns_subscriptions')
      .selectAll()
      .where('integration_id', '=', integrationId)
      .orderBy('topic_arn')
      .execute();
  },

  async setSubscription(
    db: Queryable,
    integrationId: string,
    topicArn: string,
    status: 'confirmed' | 'unsubscribed',
    subscriptionArn: string | null,
  ): Promise<void> {
    await db
      .insertInto('sns_subscriptions')
      .values({
        integration_id: integrationId,
        topic_arn: topicArn,
        status,
        subscription_arn: subscriptionArn,
      })
      .onConflict((oc) =>
        oc.columns(['integration_id', 'topic_arn']).doUpdateSet({
          status,
          subscription_arn: sql`coalesce(excluded.subscription_arn, sns_subscriptions.subscription_arn)`,
          updated_at: new Date(),
        }),
      )
      .execute();
  },

  async isConfirmedTopic(db: Queryable, integrationId: string, topicArn: string): Promise<boolean> {
    const row = await db
      .selectFrom('sns_subscriptions')
      .select('status')
      .where('integration_id', '=', integrationId)
      .where('topic_arn', '=', topicArn)
      .executeTakeFirst();
    return row?.status === 'confirmed';
  },

  async recordPayload(
    db: Queryable,
    row: {
      integration_id: string;
      message_id: string | null;
      kind: string;
      verdict: string;
      reason: string | null;
      alert_ids: string[];
      content_type: string | null;
      body: string;
    },
  ): Promise<string> {
    const inserted = await db
      .insertInto('integration_payloads')
      .values(row)
      .returning('id')
      .executeTakeFirstOrThrow();
    return inserted.id;
  },

  async payloads(
    db: Queryable,
    integrationId: string,
    page: { before?: string; limit: number; verdict?: string; includeBody: boolean },
  ) {
    let query = db
      .selectFrom('integration_payloads')
      .select(['id', 'received_at', 'message_id', 'kind', 'verdict', 'reason', 'alert_ids', 'content_type'])
      .where('integration_id', '=', integrationId);
    if (page.includeBody) query = query.select('body');
    if (page.before) query = query.where('id', '<', page.before as never);
    if (page.verdict) query = query.where('verdict', '=', page.verdict);
    return query.orderBy('id', 'desc').limit(page.limit).execute() as Promise<PayloadRow[]>;
  },

  async payload(db: Queryable, integrationId: string, id: string) {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    return db
      .selectFrom('integration_payloads')
      .selectAll()
      .where('integration_id', '=', integrationId)
      .where('id', '=', id as never)
      .executeTakeFirst();
  },

  /** Marks an SNS MessageId as acted on; false when it already was (a retry). */
  async claimMessage(db: Queryable, integrationId: string, messageId: string): Promise<boolean> {
    const result = await db
      .insertInto('sns_processed_messages')
      .values({ integration_id: integrationId, message_id: messageId })
      .onConflict((oc) => oc.columns(['integration_id', 'message_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  },

  async purge(db: Queryable, olderThanDays: number): Promise<number> {
    const cutoff = sql<Date>`now() - make_interval(days => ${olderThanDays})`;
    const payloads = await db
      .deleteFrom('integration_payloads')
      .where('received_at', '<', cutoff)
      .executeTakeFirst();
    await db.deleteFrom('sns_processed_messages').where('processed_at', '<', cutoff).execute();
    // Finished write-backs: kept as long as the deliveries that led to them, then gone.
    await db
      .deleteFrom('securityhub_writebacks')
      .where('status', 'in', ['done', 'superseded', 'failed'])
      .where('updated_at', '<', cutoff)
      .execute();
    return Number(payloads.numDeletedRows);
  },
};
