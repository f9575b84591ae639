import { sql } from 'kysely';
import { alertsRepository } from '../alerts/repository.js';
import type { Db } from '../db/database.js';
import type { AlertRow, NotificationRow } from '../db/schema.js';
import type { Clock } from '../engine/clock.js';
import { formatDuration, LATE_AFTER_MS } from '../engine/escalation/plan.js';
import { retryDelayMs as backoff } from '../engine/work/backoff.js';
import { QUEUES } from '../engine/work/queue-names.js';
import type { WorkQueueSpec } from '../engine/work/runner.js';
import type { Logger } from '../logger.js';
import type { ContactMethodType } from '../oncall/model.js';
import type { DeliveryResult, NotificationChannel, OutgoingNotification } from './channel.js';
import { whyUnwanted } from './planner.js';

/**
 * Delivers planned messages. Every worker process runs one; each claims due rows with SKIP LOCKED and a
 * lease (state `sending`), so a message is handed to one process at a time. A process that dies mid-send
 * leaves the lease to run out, and another takes the message over. The result is recorded on the row and
 * on the alert's activity log. Temporary failures are retried with backoff; permanent ones are not.
 *
 * A page (`create-alert`) is only sent while the alert is still open, unacknowledged and not snoozed:
 * the check happens here, at the moment of sending, whatever was planned earlier.
 */

export interface ActionLinkMaker {
  url(
    claims: { alertId: string; userId: string; orgId: string; action: 'acknowledge' | 'close' },
    now: Date,
  ): string;
}

export interface NotificationSenderOptions {
  db: Db;
  log: Logger;
  clock: Clock;
  channels: ReadonlyMap<ContactMethodType, NotificationChannel>;
  links: ActionLinkMaker;
  publicUrl: string;
  /**
   * How long a claimed message is this process's before another may take it over. It must outlast the
   * slowest send of a batch: two rounds of 24 messages over the email pool's 8 connections are six turns
   * of at most 10 s to connect, 10 s for the greeting and 30 s of socket time each, so 300 s; 360 s
   * leaves room.
   */
  leaseMs?: number;
  /** Temporary failures are retried this many times in all. */
  maxAttempts?: number;
  /** Messages claimed (and sent side by side) per round. */
  batchSize?: number;
}

export interface NotificationSender {
  /** Sends the messages due at `now`, up to one batch; returns how many it claimed. */
  sendDue(now: Date): Promise<number>;
  /** The due messages as a queue of the work runner. */
  queue(options?: { idleMs?: number }): WorkQueueSpec;
}

/** A temporary failure is tried again after 15 s, 30 s, 1 min … up to 15 min, with jitter. */
export function retryDelayMs(attempt: number): number {
  return backoff(attempt, { baseMs: 15_000, maxMs: 15 * 60_000 });
}

export function createNotificationSender(options: NotificationSenderOptions): NotificationSender {
  const { db, log, clock, channels, links } = options;
  const leaseMs = options.leaseMs ?? 360_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const batchSize = options.batchSize ?? 24;

  async function claim(now: Date): Promise<NotificationRow[]> {
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const result = await sql<NotificationRow>`
      UPDATE notifications n
      SET state = 'sending', lease_until = ${leaseUntil}, attempts = n.attempts + 1, updated_at = now()
      WHERE n.id IN (
        SELECT id FROM notifications
        WHERE (state = 'pending' AND due_at <= ${now}) OR (state = 'sending' AND lease_until < ${now})
        ORDER BY due_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING n.*`.execute(db);
    return result.rows;
  }

  interface Outcome {
    row: NotificationRow;
    changes: {
      state: 'sent' | 'failed' | 'cancelled' | 'pending';
      dueAt?: Date;
      providerId?: string;
      error?: string;
      sentAt?: Date;
    };
    logLine: string | undefined;
  }

  /**
   * Records a round's outcomes in one statement: each only if the message is still this claim's (its
   * lease was not taken over), with its line on the alert's activity log.
   */
  async function record(outcomes: readonly Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const input = outcomes.map((o, ord) => ({
      ord,
      id: o.row.id,
      attempts: o.row.attempts,
      state: o.changes.state,
      due_at: o.changes.dueAt?.toISOString() ?? null,
      provider_id: o.changes.providerId ?? null,
      sent_at: o.changes.sentAt?.toISOString() ?? null,
      last_error: o.changes.error ?? null,
    }));
    await db.transaction().execute(async (tx) => {
      const updated = await sql<{ id: string }>`
        WITH input AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS r(
            ord int, id uuid, attempts int, state text, due_at timestamptz, provider_id text,
            sent_at timestamptz, last_error text)
        )
        UPDATE notifications n
        SET state = i.state, lease_until = NULL, updated_at = now(),
            due_at = coalesce(i.due_at, n.due_at), provider_id = coalesce(i.provider_id, n.provider_id),
            sent_at = coalesce(i.sent_at, n.sent_at), last_error = i.last_error
        FROM input i
        WHERE n.id = i.id AND n.state = 'sending' AND n.attempts = i.attempts
        RETURNING n.id`.execute(tx);
      const mine = new Set(updated.rows.map((r) => r.id));
      await alertsRepository.addLogs(
        tx,
        outcomes.flatMap((o) =>
          o.logLine && mine.has(o.row.id)
            ? [{ alertId: o.row.alert_id, type: 'notification', log: o.logLine, owner: 'Vigil' }]
            : [],
        ),
      );
    });
  }

  function render(
    row: NotificationRow,
    alert: AlertRow,
    user: { full_name: string; username: string; time_zone: string },
    now: Date,
  ): OutgoingNotification {
    const claims = { alertId: alert.id, userId: row.user_id, orgId: alert.org_id };
    const actionable = alert.status === 'open';
    return {
      idempotencyKey: row.idempotency_key,
      notificationId: row.id,
      kind: row.kind,
      to: {
        address: row.address,
        userId: row.user_id,
        userName: user.full_name || user.username,
        timeZone: user.time_zone,
      },
      alert: {
        id: alert.id,
        tinyId: alert.tiny_id,
        message: alert.message,
        description: alert.description,
        priority: alert.priority,
        status: alert.status,
        acknowledged: alert.acknowledged,
        source: alert.source,
        entity: alert.entity,
        tags: alert.tags,
        details: alert.details,
        count: alert.count,
        createdAt: alert.created_at,
        integrationName: alert.integration_name,
      },
      reason: row.reason,
      ...(row.context.actor ? { actor: row.context.actor } : {}),
      ...(row.context.note ? { note: row.context.note } : {}),
      links: {
        ...(actionable && !alert.acknowledged
          ? { acknowledge: links.url({ ...claims, action: 'acknowledge' }, now) }
          : {}),
        ...(actionable ? { close: links.url({ ...claims, action: 'close' }, now) } : {}),
        view: `${options.publicUrl}/v2/alerts/${alert.id}`,
      },
    };
  }

  async function deliver(
    row: NotificationRow,
    alert: AlertRow | undefined,
    user: { full_name: string; username: string; time_zone: string } | undefined,
    now: Date,
    outcomes: Outcome[],
  ): Promise<void> {
    const finish = (row: NotificationRow, changes: Outcome['changes'], logLine: string | undefined) => {
      outcomes.push({ row, changes, logLine });
    };
    const channel = channels.get(row.method);
    const label = channel?.label ?? row.method;
    // Names, not addresses: alert logs are read with integration keys too.
    const who = user ? user.full_name || user.username : 'a user who no longer exists';
    const unwanted = whyUnwanted(row.stop_on, alert);
    if (unwanted || !alert || !user) {
      const why = !alert ? 'the alert was deleted' : (unwanted ?? 'the user no longer exists');
      finish(
        row,
        { state: 'cancelled', error: why },
        alert ? `${label} to ${who} not sent: ${why}` : undefined,
      );
      return;
    }
    if (!channel) {
      const error =
        row.method === 'email'
          ? 'email is not set up: set VIGIL_SMTP_URL (and VIGIL_EMAIL_FROM) and restart Vigil'
          : `Vigil cannot send ${row.method} messages yet`;
      finish(row, { state: 'failed', error }, `${label} to ${who} not sent: ${error}`);
      return;
    }
    let result: DeliveryResult;
    try {
      result = await channel.send(render(row, alert, user, now));
    } catch (error) {
      result = { status: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
    const lateMs = now.getTime() - row.due_at.getTime();
    const late = lateMs > LATE_AFTER_MS ? ` (${formatDuration(lateMs)} after it was due)` : '';
    if (result.status === 'sent') {
      finish(
        row,
        { state: 'sent', providerId: result.providerId, sentAt: clock.now() },
        `${label} sent to ${who}${late}${result.detail ? `: ${result.detail}` : ''}`,
      );
    } else if (result.status === 'retry' && row.attempts < maxAttempts) {
      const delay = retryDelayMs(row.attempts);
      finish(
        row,
        { state: 'pending', dueAt: new Date(clock.now().getTime() + delay), error: result.error },
        `${label} to ${who} failed for now (attempt ${row.attempts} of ${maxAttempts}); trying again in ${formatDuration(delay)}: ${result.error}`,
      );
    } else {
      const why = result.status === 'retry' ? `gave up after ${row.attempts} attempts` : 'not retried';
      finish(
        row,
        { state: 'failed', error: result.error },
        `${label} to ${who} failed (${why}): ${result.error}`,
      );
    }
  }

  async function sendDue(now: Date): Promise<number> {
    const rows = await claim(now);
    if (rows.length === 0) return 0;
    const alertIds = [...new Set(rows.map((r) => r.alert_id))];
    const userIds = [...new Set(rows.map((r) => r.user_id))];
    const [alertRows, userRows] = await Promise.all([
      db.selectFrom('alerts').selectAll().where('id', 'in', alertIds).execute(),
      db
        .selectFrom('users')
        .select(['id', 'full_name', 'username', 'time_zone', 'blocked'])
        .where('id', 'in', userIds)
        .execute(),
    ]);
    const alertsById = new Map(alertRows.map((a) => [a.id, a]));
    const usersById = new Map(userRows.filter((u) => !u.blocked).map((u) => [u.id, u]));
    const outcomes: Outcome[] = [];
    await Promise.all(
      rows.map((row) =>
        deliver(row, alertsById.get(row.alert_id), usersById.get(row.user_id), now, outcomes).catch(
          (error) => {
            // The lease runs out and another round takes the message again.
            log.error({ err: error, notificationId: row.id }, 'a notification could not be sent');
          },
        ),
      ),
    );
    await record(outcomes);
    return rows.length;
  }

  /** When the next message falls due, or a claimed one's lease runs out. */
  async function nextDue(): Promise<Date | null> {
    const row = await sql<{ at: Date | null }>`
      SELECT least(
        (SELECT min(due_at) FROM notifications WHERE state = 'pending'),
        (SELECT min(lease_until) FROM notifications WHERE state = 'sending')) AS at`.execute(db);
    return row.rows[0]?.at ?? null;
  }

  return {
    sendDue,
    queue: ({ idleMs } = {}) => ({
      name: QUEUES.notifications,
      // Two rounds side by side keep the email pool busy while one records its outcomes.
      concurrency: 2,
      idleMs: idleMs ?? 5000,
      async round(now) {
        if ((await sendDue(now)) >= batchSize) return { more: true };
        return { more: false, nextDueAt: await nextDue() };
      },
    }),
  };
}
