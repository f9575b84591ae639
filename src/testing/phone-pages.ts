import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { createLogger } from '../logger.js';
import type { NotificationChannel, OutgoingNotification } from '../notify/channel.js';
import type { Channels } from '../notify/destinations/registry.js';
import { createNotificationSender, type NotificationSender } from '../notify/sender.js';
import { ShiftedClock } from '../work/clock.js';
import { createTestDatabase } from './harness.js';

type PhoneMethod = 'sms' | 'voice';

/** A person with a verified phone contact. */
export interface Phoned {
  userId: string;
  contactId: string;
}

/**
 * Texts and calls on a real PostgreSQL, for the throttle's tests: an organization, people with phone
 * contacts, alerts with pages due, and senders whose SMS and voice channels record what they were handed
 * (a send whose alert or message id is in `held` waits until its promise settles). The clock is moved by
 * hand.
 */
export interface PhonePages {
  db: Db;
  clock: ShiftedClock;
  orgId: string;
  handed: { address: string; message: string; notificationId: string }[];
  held: Map<string, Promise<void>>;
  sender(): NotificationSender;
  person(method: PhoneMethod, phone: string): Promise<Phoned>;
  /** An open alert; its id. */
  alert(message: string): Promise<string>;
  /** A page of `alertId` to `to` at `phone`, due `inMs` from now; its id. */
  page(
    alertId: string,
    method: PhoneMethod,
    to: Phoned,
    phone: string,
    options?: { inMs?: number; attempts?: number },
  ): Promise<string>;
  /** An open alert with a page due now; both ids. */
  pagedAlert(
    message: string,
    method: PhoneMethod,
    to: Phoned,
    phone: string,
  ): Promise<{ alertId: string; pageId: string }>;
  close(): Promise<void>;
}

export async function startPhonePages(orgName: string, poolSize = 6): Promise<PhonePages> {
  const db = createDb(createPool(await createTestDatabase({ migrated: true }), poolSize));
  const clock = new ShiftedClock();
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES (${orgName}) RETURNING id`.execute(db);
  const orgId = org.rows[0]?.id ?? '';
  const handed: PhonePages['handed'] = [];
  const held = new Map<string, Promise<void>>();
  const channel = (type: PhoneMethod): NotificationChannel => ({
    type,
    async send(message: OutgoingNotification) {
      handed.push({
        address: message.to.address,
        message: message.alert.message,
        notificationId: message.notificationId,
      });
      await held.get(message.alert.id);
      await held.get(message.notificationId);
      return { status: 'sent', providerId: randomUUID() };
    },
  });
  const channels: Channels = {
    get: (name) => (name === 'sms' || name === 'voice' ? channel(name) : undefined),
    whyUnavailable: () => 'not in this test',
    close: async () => {},
  };
  const log = createLogger('silent');

  const pages: PhonePages = {
    db,
    clock,
    orgId,
    handed,
    held,
    sender: () =>
      createNotificationSender({
        db,
        log,
        clock,
        channels,
        links: { url: () => 'https://vigil.test/act' },
        publicUrl: 'https://vigil.test',
      }),
    async person(method, phone) {
      const user = await sql<{ id: string }>`
        INSERT INTO users (org_id, username, full_name, role)
        VALUES (${orgId}, ${`pat.${randomUUID()}@example.com`}, 'Pat', 'user') RETURNING id`.execute(db);
      const userId = user.rows[0]?.id ?? '';
      const contact = await sql<{ id: string }>`
        INSERT INTO contact_methods (user_id, method, address, verified_at)
        VALUES (${userId}, ${method}, ${phone}, now()) RETURNING id`.execute(db);
      return { userId, contactId: contact.rows[0]?.id ?? '' };
    },
    async alert(message) {
      const alert = await sql<{ id: string }>`
        INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, ${message})
        RETURNING id`.execute(db);
      return alert.rows[0]?.id ?? '';
    },
    async page(alertId, method, to, phone, options = {}) {
      const dueAt = new Date(clock.now().getTime() + (options.inMs ?? 0));
      const page = await sql<{ id: string }>`
        INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, contact_method_id, method,
          address, kind, stop_on, due_at, attempts)
        VALUES (${randomUUID()}, ${orgId}, ${alertId}, ${to.userId}, ${to.contactId}, ${method}, ${phone},
          'create-alert', 'acknowledged', ${dueAt}, ${options.attempts ?? 0})
        RETURNING id`.execute(db);
      return page.rows[0]?.id ?? '';
    },
    async pagedAlert(message, method, to, phone) {
      const alertId = await pages.alert(message);
      return { alertId, pageId: await pages.page(alertId, method, to, phone) };
    },
    close: () => db.destroy(),
  };
  return pages;
}
