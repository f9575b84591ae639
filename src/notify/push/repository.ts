import type { Queryable } from '../../db/database.js';
import type { PushSubscriptionsTable } from '../../db/schema.js';
import { sql, type Selectable } from 'kysely';

/** The SQL for Web Push subscriptions. No rules here: see service.ts. */

export type PushSubscriptionRow = Selectable<PushSubscriptionsTable>;

export const pushRepository = {
  async insert(
    q: Queryable,
    row: Omit<PushSubscriptionRow, 'created_at' | 'last_sent_at'>,
  ): Promise<PushSubscriptionRow> {
    return q.insertInto('push_subscriptions').values(row).returningAll().executeTakeFirstOrThrow();
  },

  async findByEndpoint(q: Queryable, endpoint: string): Promise<PushSubscriptionRow | undefined> {
    return q
      .selectFrom('push_subscriptions')
      .selectAll()
      .where('endpoint', '=', endpoint)
      .forUpdate()
      .executeTakeFirst();
  },

  async find(q: Queryable, id: string): Promise<PushSubscriptionRow | undefined> {
    return q.selectFrom('push_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** The subscription with the organization of its user (for checking who may remove it). */
  async findWithOrg(
    q: Queryable,
    id: string,
  ): Promise<(PushSubscriptionRow & { org_id: string }) | undefined> {
    return q
      .selectFrom('push_subscriptions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .selectAll('s')
      .select('u.org_id')
      .where('s.id', '=', id)
      .executeTakeFirst();
  },

  /**
   * New keys for a device, and a new endpoint when its browser renewed the subscription: the same row,
   * so the same contact method (whose address is the row's id) and the same rule steps.
   */
  async updateKeys(
    q: Queryable,
    id: string,
    changes: { endpoint?: string; p256dh: string; auth: string; device_name: string },
  ): Promise<PushSubscriptionRow> {
    return q
      .updateTable('push_subscriptions')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async listForUser(q: Queryable, userId: string): Promise<PushSubscriptionRow[]> {
    return q
      .selectFrom('push_subscriptions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  },

  async markSent(q: Queryable, id: string, at: Date): Promise<void> {
    await q.updateTable('push_subscriptions').set({ last_sent_at: at }).where('id', '=', id).execute();
  },

  /**
   * Points a person's messages still to be sent (pending, or being sent) to the contact `gone` at the
   * contact `heir` instead, and the rule step that planned them with them: the device that replaces a gone
   * one gets them. Their action links are made when they are sent, so they name the heir. Not those the
   * rules `keepRules` planned that the heir has a copy of (the same alert, rule and step delay): those rules
   * page the heir already, and lose the gone device's steps, so those messages to it are dropped when they
   * fall due (moved, the heir would get the page twice). One whose heir step was given after the page was
   * planned has no copy, and moves.
   *
   * A moved message another round is sending (claimed, still to be sent to the gone device, or checked
   * against its contact and found changed) is taken from that round and due again: the outcome that round
   * records would otherwise land on the moved message, and end it unsent. Its attempt stays spent, so the
   * next claim is another attempt, which the old round's outcome never matches. Except `inProgress`: the
   * message whose own send found the device gone, whose round tries it again (and that retry lands).
   */
  async moveUnsentNotifications(
    q: Queryable,
    userId: string,
    gone: string,
    heir: { contactId: string; address: string },
    options: { inProgress?: string | undefined; keepRules?: readonly string[] } = {},
  ): Promise<number> {
    const keepRules = options.keepRules ?? [];
    const takenBack =
      options.inProgress === undefined
        ? sql<boolean>`state = 'sending'`
        : sql<boolean>`state = 'sending' AND id::text <> ${options.inProgress}`;
    let update = q
      .updateTable('notifications')
      .set({
        contact_method_id: heir.contactId,
        address: heir.address,
        rule_step: sql<string | null>`CASE WHEN rule_step IS NULL THEN NULL
          ELSE jsonb_set(rule_step, '{contactId}', to_jsonb(${heir.contactId}::text)) END`,
        state: sql<'pending' | 'sending'>`CASE WHEN ${takenBack} THEN 'pending' ELSE state END`,
        lease_until: sql<Date | null>`CASE WHEN ${takenBack} THEN NULL ELSE lease_until END`,
        let_through_at: sql<Date | null>`CASE WHEN ${takenBack} THEN NULL ELSE let_through_at END`,
      })
      .where('user_id', '=', userId)
      .where('method', '=', 'mobile')
      .where('contact_method_id', '=', gone)
      .where('state', 'in', ['pending', 'sending']);
    if (keepRules.length > 0) {
      // A keepRules rule's message is dropped only when the heir has its own copy: the same alert, rule
      // and step delay. A heir step given after the page was planned has none, and then the message moves.
      const heirHasCopy = sql<boolean>`EXISTS (
        SELECT 1 FROM notifications AS h
        WHERE h.contact_method_id = ${heir.contactId}
          AND h.alert_id = notifications.alert_id
          AND h.rule_id = notifications.rule_id
          AND h.rule_step -> 'sendAfterMinutes' = notifications.rule_step -> 'sendAfterMinutes')`;
      update = update.where((eb) =>
        eb.or([eb('rule_id', 'is', null), eb('rule_id', 'not in', [...keepRules]), eb.not(heirHasCopy)]),
      );
    }
    const moved = await update.executeTakeFirst();
    return Number(moved.numUpdatedRows);
  },
};
