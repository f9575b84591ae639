import { sql } from 'kysely';
import { type Queryable, type Tx, isUuid } from '../db/database.js';
import { deleteInBatches } from '../db/delete-in-batches.js';
import type { DeliveryProgress, IntegrationRow } from '../db/schema.js';
import { indexKey } from '../db/storable.js';
import { prepared } from '../db/prepared.js';
import { ECHO_WINDOW_MS } from './securityhub/echo-window.js';
import type { QueueBacklog } from '../work/runner.js';

/** How much longer than VIGIL_SNS_MAX_MESSAGE_AGE an SNS message id is kept (clock skew). */
export const SNS_REPLAY_MARGIN_MS = 60 * 60 * 1000;

/** The SQL for integrations, their SNS subscriptions and their payload log. */

/** What is recorded of a topic's SNS subscription; `pending` while a confirmation is in flight. */
export type SnsSubscriptionStatus = 'confirmed' | 'unsubscribed' | 'pending';

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
      /** Another of Opsgenie's type names, kept on an API integration (shown as its type). */
      opsgenie_type: string | null;
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

  /** Whether the integration suppresses the notifications of the alerts it creates (false once deleted). */
  async suppressesNotifications(db: Queryable, id: string): Promise<boolean> {
    const row = await db
      .selectFrom('integrations')
      .select(sql<boolean>`settings->'suppressNotifications' = 'true'::jsonb`.as('suppresses'))
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.suppresses === true;
  },

  async byEmailUsername(db: Queryable, emailUsername: string): Promise<IntegrationWithTeams | undefined> {
    return withTeams(db)
      .where('i.type', '=', 'Email')
      .where(sql<string>`i.settings->>'emailUsername'`, '=', emailUsername)
      .executeTakeFirst();
  },

  async list(db: Queryable, orgId: string, filter: { type?: string; teamId?: string }) {
    let query = withTeams(db).where('i.org_id', '=', orgId);
    // The type as shown: an Opsgenie type name kept (Prometheus…), else the kind.
    if (filter.type) query = query.where(sql<string>`coalesce(i.opsgenie_type, i.type)`, '=', filter.type);
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
      actions: string | null;
    }>,
  ): Promise<void> {
    await db
      .updateTable('integrations')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  },

  /**
   * Stores `actions` only if the integration's actions are still `basedOn` (what the caller read and
   * changed): false when another change came first, whose work would otherwise be overwritten.
   */
  async replaceActionsIf(
    db: Queryable,
    id: string,
    actions: string,
    basedOn: Record<string, unknown> | null,
  ): Promise<boolean> {
    const stored = basedOn === null ? null : JSON.stringify(basedOn);
    const result = await db
      .updateTable('integrations')
      .set({ actions, updated_at: new Date() })
      .where('id', '=', id)
      .where(sql<boolean>`actions IS NOT DISTINCT FROM ${stored}::jsonb`)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
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

  /**
   * Forgets the subscriptions confirmed under a key that no longer works: their endpoints carry the old
   * key, so they deliver nothing, and their removal is answered 401 and never seen here. Kept, they would
   * make the removal of the last subscription confirmed since look like one that still leaves another.
   */
  async forgetConfirmedSubscriptions(db: Queryable, integrationId: string, at: Date): Promise<void> {
    await db
      .updateTable('sns_subscriptions')
      .set({ confirmed_arns: [], updated_at: at })
      .where('integration_id', '=', integrationId)
      .execute();
  },

  /**
   * Records the topic as confirmed through `subscriptionArn` (null: SNS did not say which), or as
   * unsubscribed. A confirmed ARN joins the topic's other live ones; an unknown one empties the set, so
   * that any later removal turns the topic off: a page too many beats findings silently lost.
   */
  async setSubscription(
    db: Queryable,
    integrationId: string,
    topicArn: string,
    status: 'confirmed' | 'unsubscribed',
    subscriptionArn: string | null,
    at: Date,
  ): Promise<void> {
    const known = status === 'confirmed' && subscriptionArn !== null;
    const arns = known
      ? sql<
          string[]
        >`array_append(array_remove(sns_subscriptions.confirmed_arns, ${subscriptionArn}::text), ${subscriptionArn}::text)`
      : sql<string[]>`'{}'::text[]`;
    await db
      .insertInto('sns_subscriptions')
      .values({
        integration_id: integrationId,
        topic_arn: topicArn,
        status,
        subscription_arn: subscriptionArn,
        confirmed_arns: known ? [subscriptionArn] : [],
        updated_at: at,
      })
      .onConflict((oc) =>
        oc.columns(['integration_id', 'topic_arn']).doUpdateSet({
          status,
          // Not kept from before: an ARN left over from an earlier subscription would make the live one's
          // removal look like an older one's, ignored while the topic stops delivering.
          subscription_arn: subscriptionArn,
          confirmed_arns: arns,
          updated_at: at,
        }),
      )
      .execute();
  },

  /**
   * Marks the topic `pending` before its SubscribeURL is fetched, unless it is confirmed already (another
   * subscription of it delivers). Answers whether it marked it, and what it replaced, to put back when the
   * confirmation fails. The ARN of a removed subscription goes: the one being confirmed is another.
   */
  async beginConfirmation(
    db: Queryable,
    integrationId: string,
    topicArn: string,
    at: Date,
  ): Promise<{ marked: boolean; previous: SnsSubscriptionStatus | null }> {
    // One statement: what it replaced is read in the same snapshot as the mark is made.
    const { rows } = await sql<{ previous: SnsSubscriptionStatus | null; marked: boolean }>`
      WITH previous AS (
        SELECT status FROM sns_subscriptions WHERE integration_id = ${integrationId} AND topic_arn = ${topicArn}
      ), marked AS (
        INSERT INTO sns_subscriptions (integration_id, topic_arn, status, updated_at)
        VALUES (${integrationId}, ${topicArn}, 'pending', ${at})
        ON CONFLICT (integration_id, topic_arn) DO UPDATE
          SET status = 'pending', subscription_arn = NULL, confirmed_arns = '{}', updated_at = ${at}
          WHERE sns_subscriptions.status <> 'confirmed'
        RETURNING 1
      )
      SELECT (SELECT status FROM previous) AS previous, EXISTS (SELECT 1 FROM marked) AS marked
    `.execute(db);
    const row = rows[0];
    return { marked: row?.marked === true, previous: row?.previous ?? null };
  },

  /** Puts back what a failed confirmation replaced, unless something else has settled the topic since. */
  async abandonConfirmation(
    db: Queryable,
    integrationId: string,
    topicArn: string,
    previous: SnsSubscriptionStatus | null,
    at: Date,
  ): Promise<void> {
    await (
      previous === null || previous === 'pending'
        ? sql`DELETE FROM sns_subscriptions
            WHERE integration_id = ${integrationId} AND topic_arn = ${topicArn} AND status = 'pending'`
        : sql`UPDATE sns_subscriptions SET status = ${previous}, updated_at = ${at}
            WHERE integration_id = ${integrationId} AND topic_arn = ${topicArn} AND status = 'pending'`
    ).execute(db);
  },

  /**
   * A topic being confirmed since after `markedAfter` becomes confirmed; false when it was not pending, or
   * pending since longer. Which subscription delivers is unknown (empty set): any removal turns it off.
   */
  async confirmPending(
    db: Queryable,
    integrationId: string,
    topicArn: string,
    at: Date,
    markedAfter: Date,
  ): Promise<boolean> {
    const result = await sql`
      UPDATE sns_subscriptions
      SET status = 'confirmed', subscription_arn = NULL, confirmed_arns = '{}', updated_at = ${at}
      WHERE integration_id = ${integrationId} AND topic_arn = ${topicArn} AND status = 'pending'
        AND updated_at > ${markedAfter}
    `.execute(db);
    return (result.numAffectedRows ?? 0n) > 0n;
  },

  /**
   * Records that SNS removed `subscriptionArn` (null: unknown) of the topic. The topic stays confirmed
   * while another subscription Vigil confirmed is known to deliver: an earlier subscription's removal
   * (CloudFormation replacing the subscription or rolling back, a domain move) must not shut off the live
   * one. It is turned off when the removed one is unknown, or no other known one is left.
   */
  async unsubscribeTopic(
    tx: Tx,
    integrationId: string,
    topicArn: string,
    subscriptionArn: string | null,
    at: Date,
  ): Promise<{ unsubscribed: true } | { unsubscribed: false; live: string[] }> {
    const row = await tx
      .selectFrom('sns_subscriptions')
      .select(['status', 'subscription_arn', 'confirmed_arns'])
      .where('integration_id', '=', integrationId)
      .where('topic_arn', '=', topicArn)
      .forUpdate()
      .executeTakeFirst();
    if (row?.status === 'confirmed' && subscriptionArn !== null) {
      const live = row.confirmed_arns.filter((arn) => arn !== subscriptionArn);
      if (live.length > 0) {
        if (live.length < row.confirmed_arns.length) {
          await tx
            .updateTable('sns_subscriptions')
            .set({
              confirmed_arns: live,
              subscription_arn:
                row.subscription_arn === subscriptionArn ? live[live.length - 1]! : row.subscription_arn,
              updated_at: at,
            })
            .where('integration_id', '=', integrationId)
            .where('topic_arn', '=', topicArn)
            .execute();
        }
        return { unsubscribed: false, live };
      }
    }
    await integrationsRepository.setSubscription(
      tx,
      integrationId,
      topicArn,
      'unsubscribed',
      subscriptionArn,
      at,
    );
    return { unsubscribed: true };
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
      request_id?: string | null;
      /** On the engine's Clock, as retention's cut-off is (engine/retention.ts). */
      received_at: Date;
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
  async claimMessage(
    db: Queryable,
    integrationId: string,
    messageId: string,
    processedAt: Date,
  ): Promise<boolean> {
    const result = await db
      .insertInto('sns_processed_messages')
      .values({ integration_id: integrationId, message_id: indexKey(messageId), processed_at: processedAt })
      .onConflict((oc) => oc.columns(['integration_id', 'message_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  },

  /**
   * `snsMaxMessageAgeSeconds` is VIGIL_SNS_MAX_MESSAGE_AGE: an SNS message id is kept while a captured
   * copy of its message would still pass the age check, or a replay would be taken for a new message
   * (0, no age check: kept as long as the rest, so a replay is told only within that time).
   */
  async purge(db: Queryable, before: Date, now: Date, snsMaxMessageAgeSeconds = 0): Promise<number> {
    // A queued delivery is work still to do (the sender was told it is stored), however old it is.
    const payloads = await deleteInBatches(
      db,
      'integration_payloads',
      sql`received_at < ${before}::timestamptz AND verdict <> 'queued'`,
    );
    // The message ids that tell a retry, and the finished write-backs that tell an echo, are kept as long
    // as the deliveries, and never for less than a retry or an echo may take to come (a 1-day retention).
    const recognisesUntil = new Date(Math.min(before.getTime(), now.getTime() - ECHO_WINDOW_MS));
    // processed_at is this server's clock at receipt, the age check compares the message's Timestamp with
    // it: the margin covers a Timestamp ahead of it (the check takes up to 5 minutes) and some drift.
    const replayableUntil =
      snsMaxMessageAgeSeconds > 0
        ? now.getTime() - snsMaxMessageAgeSeconds * 1000 - SNS_REPLAY_MARGIN_MS
        : Number.POSITIVE_INFINITY;
    const messageIdsUntil = new Date(Math.min(recognisesUntil.getTime(), replayableUntil));
    await deleteInBatches(db, 'sns_processed_messages', sql`processed_at < ${messageIdsUntil}::timestamptz`);
    await deleteInBatches(
      db,
      'securityhub_writebacks',
      sql`status IN ('done', 'superseded', 'failed') AND updated_at < ${recognisesUntil}::timestamptz`,
    );
    // A finding that never fed an alert (it arrived passed, resolved or handled) is remembered only to be
    // compared with its next event; unseen for as long, it goes, and its next event is a new finding's.
    // One that fed an alert (alert_id, or last_alert_id once that alert was deleted) stays: the alert's
    // changes still go back to it. So does one a write-back names (one from before migration 0054 kept
    // last_alert_id): nothing is deleted that another row still reads. No index serves this daily scan:
    // one on last_seen_at, which every sighting sets, would keep each sighting's update from being HOT.
    await deleteInBatches(
      db,
      'securityhub_findings',
      sql`alert_id IS NULL AND last_alert_id IS NULL AND last_seen_at < ${recognisesUntil}::timestamptz
        AND NOT EXISTS (SELECT 1 FROM securityhub_writebacks w
                        WHERE w.integration_id = securityhub_findings.integration_id
                          AND w.finding_key = securityhub_findings.finding_key)`,
    );
    return payloads;
  },

  /**
   * Stores deliveries for the workers, in one statement: the duplicate check (by message id, hashed when
   * too long for the index), the payload record and so its place in the queue. Returns, in the input's
   * order, each delivery's payload id and whether it is new ("queued") or a retry ("duplicate").
   */
  async storeDeliveries(
    db: Queryable,
    batch: readonly StoredDeliveryInput[],
    receivedAt: Date,
  ): Promise<StoredDeliveryResult[]> {
    // A message id twice in one batch: the first is the delivery, the others its retries.
    const seen = new Set<string>();
    const firstOfItsId = batch.map((d) => {
      if (d.messageId === null) return true;
      const key = `${d.integrationId}|${d.messageId}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    // The bodies go as one binary parameter (their UTF-8 bytes end to end, with each one's length), which
    // PostgreSQL reads as it is: as a text[] literal, pg escaped every quote and backslash of every body
    // (about 25 µs of CPU for an SNS notification of 3.5 KB) and PostgreSQL parsed the escapes back.
    // convert_from checks the bytes are text it can store.
    const bodies = batch.map((d) => Buffer.from(d.body, 'utf8'));
    const result = await prepared(sql<{ ord: number; id: string; verdict: 'queued' | 'duplicate' }>`
      WITH bodies AS (SELECT ${Buffer.concat(bodies)}::bytea AS bytes),
      listed AS (
        SELECT * FROM unnest(
          ${batch.map((_, n) => n)}::int[], ${batch.map((d) => d.integrationId)}::uuid[],
          ${batch.map((d) => d.messageId)}::text[], ${batch.map((d) => (d.messageId === null ? null : indexKey(d.messageId)))}::text[],
          ${batch.map((d) => d.kind)}::text[], ${batch.map((d) => d.contentType)}::text[],
          ${bodies.map((b) => b.length)}::int[], ${batch.map((d) => d.requestId)}::text[],
          ${firstOfItsId}::boolean[]
        ) AS t(ord, integration_id, message_id, message_key, kind, content_type, body_length, request_id, first_of_its_id)
      ),
      input AS (
        SELECT listed.*,
               convert_from(substring(bodies.bytes
                                      FROM (sum(body_length) OVER (ORDER BY ord) - body_length + 1)::int
                                      FOR body_length), 'UTF8') AS body
        FROM listed CROSS JOIN bodies
      ),
      claim AS (
        INSERT INTO sns_processed_messages (integration_id, message_id, processed_at)
        SELECT integration_id, message_key, ${receivedAt}::timestamptz FROM input
        WHERE message_key IS NOT NULL AND first_of_its_id
        ON CONFLICT (integration_id, message_id) DO NOTHING
        RETURNING integration_id, message_id
      ),
      decided AS (
        SELECT input.*,
               CASE WHEN input.message_key IS NULL
                      OR (input.first_of_its_id AND EXISTS (
                            SELECT 1 FROM claim c
                            WHERE c.integration_id = input.integration_id AND c.message_id = input.message_key))
                    THEN 'queued' ELSE 'duplicate' END AS verdict
        FROM input
      ),
      payload AS (
        INSERT INTO integration_payloads (integration_id, message_id, kind, verdict, reason, content_type, body, request_id, received_at)
        SELECT integration_id, message_id, kind, verdict,
               CASE WHEN verdict = 'duplicate' THEN 'message ' || message_id || ' was already processed' END,
               content_type, body, request_id, ${receivedAt}::timestamptz
        FROM decided ORDER BY ord
        RETURNING id, verdict
      ),
      numbered AS (
        SELECT id, verdict, row_number() OVER (ORDER BY id) - 1 AS ord FROM payload
      )
      SELECT ord::int AS ord, id::text AS id, verdict FROM numbered`).execute(db);
    // Payload ids are handed out in insertion order, which is the batch's order.
    const byOrd = new Map(result.rows.map((r) => [Number(r.ord), r]));
    return batch.map((_, n) => {
      const row = byOrd.get(n);
      if (!row) throw new Error('the delivery was not stored');
      return { id: row.id, verdict: row.verdict };
    });
  },

  /**
   * The integrations that have deliveries waiting, read with a loose index scan (one index probe per
   * integration, however many deliveries wait), so choosing whom to serve next stays cheap under a backlog.
   */
  async integrationsWithQueuedDeliveries(
    db: Queryable,
    options: { after?: string; limit?: number } = {},
  ): Promise<string[]> {
    const limit = options.limit ?? 1000;
    const scan = (after: string | null) =>
      sql<{ integration_id: string }>`
      WITH RECURSIVE waiting AS (
        (SELECT integration_id FROM integration_payloads
         WHERE verdict = 'queued' AND (${after}::uuid IS NULL OR integration_id > ${after}::uuid)
         ORDER BY integration_id LIMIT 1)
        UNION ALL
        SELECT (SELECT p.integration_id FROM integration_payloads p
                WHERE p.verdict = 'queued' AND p.integration_id > waiting.integration_id
                ORDER BY p.integration_id LIMIT 1)
        FROM waiting WHERE waiting.integration_id IS NOT NULL
      )
      SELECT integration_id FROM waiting WHERE integration_id IS NOT NULL LIMIT ${limit}`.execute(db);
    const found = (await scan(options.after ?? null)).rows.map((r) => r.integration_id);
    // Past the end: go round from the start, so a long list is looked at a thousand at a time in turn.
    if (found.length < limit && options.after !== undefined) {
      for (const r of (await scan(null)).rows) {
        if (found.length >= limit || found.includes(r.integration_id)) break;
        found.push(r.integration_id);
      }
    }
    return found;
  },

  /**
   * The stored deliveries waiting for a processor (every queued one: claimQueuedDeliveries takes them
   * with no due time), for the metrics; counted up to `limit`. A delivery waits from when it was
   * received. Each integration's oldest is its first by id (the claim's order), found as
   * integrationsWithQueuedDeliveries finds them, one probe of integration_payloads_queued per waiting
   * integration: min(received_at) over the queued ones has no index, and through
   * integration_payloads_received it would walk every settled delivery received before them.
   */
  async deliveryBacklog(db: Queryable, limit: number): Promise<QueueBacklog> {
    const row = await sql<{ due: string; oldest: Date | null }>`
      WITH RECURSIVE waiting AS (
        (SELECT integration_id, id FROM integration_payloads
         WHERE verdict = 'queued' ORDER BY integration_id, id LIMIT 1)
        UNION ALL
        SELECT next.integration_id, next.id FROM waiting CROSS JOIN LATERAL (
          SELECT p.integration_id, p.id FROM integration_payloads p
          WHERE p.verdict = 'queued' AND p.integration_id > waiting.integration_id
          ORDER BY p.integration_id, p.id LIMIT 1) AS next
      )
      SELECT
        (SELECT count(*) FROM (
          SELECT 1 FROM integration_payloads WHERE verdict = 'queued' LIMIT ${limit}) AS due) AS due,
        (SELECT min(p.received_at) FROM waiting JOIN integration_payloads p ON p.id = waiting.id) AS oldest`.execute(
      db,
    );
    return { due: Number(row.rows[0]?.due ?? 0), oldestDueAt: row.rows[0]?.oldest ?? null };
  },

  /** The oldest waiting deliveries of one integration that no other worker holds, locked until commit. */
  async claimQueuedDeliveries(tx: Tx, integrationId: string, limit: number): Promise<QueuedDeliveryRow[]> {
    return tx
      .selectFrom('integration_payloads')
      .select(['id', 'integration_id', 'body', 'request_id', 'progress', 'partial'])
      .where('integration_id', '=', integrationId)
      .where('verdict', '=', 'queued')
      .orderBy('id')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  },

  /** Records how far a large delivery has been processed; it stays queued for the rest. */
  async saveDeliveryProgress(tx: Tx, id: string, progress: number, partial: DeliveryProgress): Promise<void> {
    await tx
      .updateTable('integration_payloads')
      .set({ progress, partial: JSON.stringify(partial) })
      .where('id', '=', id as never)
      .execute();
  },

  /** Settles deliveries with their verdicts, in one statement (a transaction's worth: one round trip). */
  async settleDeliveries(
    tx: Tx,
    settled: readonly { id: string; verdict: string; reason: string | null; alertIds: string[] }[],
  ): Promise<void> {
    if (settled.length === 0) return;
    // Each delivery's alert ids travel as one array literal (uuids, so nothing in them needs quoting).
    await prepared(sql`
      UPDATE integration_payloads p
      SET verdict = s.verdict, reason = s.reason, alert_ids = s.alert_ids::uuid[], partial = NULL
      FROM unnest(
        ${settled.map((d) => d.id)}::bigint[], ${settled.map((d) => d.verdict)}::text[],
        ${settled.map((d) => d.reason)}::text[], ${settled.map((d) => `{${d.alertIds.join(',')}}`)}::text[]
      ) AS s(id, verdict, reason, alert_ids)
      WHERE p.id = s.id`).execute(tx);
  },
};

export interface StoredDeliveryInput {
  integrationId: string;
  messageId: string | null;
  kind: string;
  contentType: string | null;
  body: string;
  requestId: string;
}

export interface StoredDeliveryResult {
  id: string;
  verdict: 'queued' | 'duplicate';
}

export interface QueuedDeliveryRow {
  id: string;
  integration_id: string;
  body: string;
  request_id: string | null;
  progress: number;
  partial: DeliveryProgress | null;
}
