import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { AlertEvent } from '../../../alerts/events.js';
import { alertsRepository } from '../../../alerts/repository.js';
import type { AlertsService } from '../../../alerts/service.js';
import type { Db } from '../../../db/database.js';
import type { Priority, WritebackField } from '../../../db/schema.js';
import type { AlertEventConsumer } from '../../../engine/consumers.js';
import type { Logger } from '../../../logger.js';
import type { Clock } from '../../../engine/clock.js';
import { eventDeliveriesRepository } from '../../../engine/events/repository.js';
import { retryDelayMs } from '../../../engine/work/backoff.js';
import { QUEUES } from '../../../engine/work/queue-names.js';
import type { WorkQueueSpec, WorkSignal } from '../../../engine/work/runner.js';
import { integrationsRepository } from '../../repository.js';
import { securityHubSettings } from '../../types.js';
import { ALERT_LIMITS, cut, severityForPriority } from '../findings.js';
import { accountOf, type AwsAccess, type RoleTarget } from './aws.js';

/**
 * The write-back: what people do to alerts from findings goes back to the findings through
 * BatchUpdateFindings. Changes wait in securityhub_writebacks (durable, written from the alert's event),
 * are grouped by integration, region and identical change (up to 100 findings a request) after a short
 * gathering window, pass a rate limiter kept in PostgreSQL (shared by every process), and are retried
 * until they succeed, fail for good, or are a day old.
 */

export const MAX_FINDINGS_PER_REQUEST = 100;
const GATHER_MS = 250;
const PARTIAL_MAX_WAIT_MS = 1500;
/** A batch that fills fast (a bulk close) may wait this long to fill, so it still goes in whole requests. */
const FILLING_MAX_WAIT_MS = 5000;

/**
 * Whether a batch short of 100 waits for more. While changes keep coming (`active`), it waits up to
 * PARTIAL_MAX_WAIT_MS: a steady trickle (acknowledgements one by one) goes within that. A batch filling
 * fast (a bulk close: at least 20 changes, at a pace that fills it within 3 s) waits up to
 * FILLING_MAX_WAIT_MS even through a pause (a busy machine stalls the pipeline for moments), so that
 * closing 1,000 alerts still makes 10 requests.
 */
function holdsPartial(createdAt: readonly number[], active: boolean, nowMs: number): boolean {
  if (createdAt.length === 0) return false;
  const oldest = Math.min(...createdAt);
  if (active && oldest > nowMs - PARTIAL_MAX_WAIT_MS) return true;
  if (createdAt.length < 20) return false;
  const spanMs = Math.max(1, Math.max(...createdAt) - oldest);
  const fillMs = ((MAX_FINDINGS_PER_REQUEST - createdAt.length) * spanMs) / createdAt.length;
  return fillMs <= 2 * PARTIAL_MAX_WAIT_MS && oldest > nowMs - FILLING_MAX_WAIT_MS;
}

const GIVE_UP_MS = 24 * 3600_000;
const RETRYABLE_UNPROCESSED = new Set(['ConcurrentUpdateError', 'InternalFailure']);

export interface WritebackOptions {
  /** AWS's limit is 10 requests/s with a burst of 30 per account and region; Vigil keeps under it. */
  ratePerSecond?: number;
  burst?: number;
  /** How long a claimed batch is reserved for its process before another may take it over. */
  leaseSeconds?: number;
  /** Backoff between retries: from baseDelayMs doubling up to maxDelayMs, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** The change to write for an event made in Vigil, or undefined when the event writes nothing back. */
export function changeFor(
  event: AlertEvent,
): { field: WritebackField; value: Record<string, string> } | undefined {
  // Only what people (or the API, or rules) do in Vigil goes back: not the integration's own changes.
  if (event.actor.kind === 'integration') return undefined;
  switch (event.type) {
    case 'acknowledged':
      return { field: 'workflow', value: { Status: 'NOTIFIED' } };
    case 'unacknowledged':
      return { field: 'workflow', value: { Status: 'NEW' } };
    case 'closed':
      return { field: 'workflow', value: { Status: 'RESOLVED' } };
    case 'priority_changed':
      return { field: 'severity', value: { Label: severityForPriority(event.to as Priority) } };
    case 'note_added': {
      // BatchUpdateFindings takes a Note's Text and UpdatedBy of 1 to 512 characters each.
      const text = cut(event.note, 512);
      const by = cut(event.actor.kind === 'user' ? event.actor.name : 'Vigil', 512, '') || 'Vigil';
      return { field: 'note', value: { Text: text, UpdatedBy: by } };
    }
    default:
      return undefined;
  }
}

/** Security Hub's limit on a finding's Id and ProductArn in BatchUpdateFindings. */
const MAX_IDENTIFIER_LENGTH = 512;

/** Why AWS would refuse these identifiers, or undefined when it would take them. */
function unsendableIdentifier(productArn: string, findingId: string): string | undefined {
  if (findingId.length > MAX_IDENTIFIER_LENGTH)
    return `its Id is ${findingId.length} characters long; Security Hub allows ${MAX_IDENTIFIER_LENGTH}`;
  if (productArn.length > MAX_IDENTIFIER_LENGTH)
    return `its ProductArn is ${productArn.length} characters long; Security Hub allows ${MAX_IDENTIFIER_LENGTH}`;
  return undefined;
}

/** What the echo of a change looks like in the finding, for the intake's echo check. */
function echoOf(field: WritebackField, value: Record<string, string>): Record<string, string> {
  if (field === 'workflow') return { workflowStatus: value.Status ?? '' };
  if (field === 'severity') return { severityLabel: value.Label ?? '' };
  return { noteText: value.Text ?? '' };
}

interface ClaimedRow {
  id: string;
  integration_id: string;
  alert_id: string | null;
  product_arn: string;
  finding_id: string;
  field: WritebackField;
  value: Record<string, string>;
  attempts: number;
  created_at: Date;
  seq: string;
}

export function createWriteback(deps: {
  db: Db;
  log: Logger;
  aws: AwsAccess;
  alerts: AlertsService;
  /** Every time the write-back compares or records is this clock's (tests move it instead of waiting). */
  clock: Clock;
  /** Wakes the sender's queue when changes are recorded. */
  signal: WorkSignal;
  options?: WritebackOptions;
}) {
  const { db, log, aws, clock } = deps;
  const rate = deps.options?.ratePerSecond ?? 9;
  const burst = deps.options?.burst ?? 25;
  const leaseSeconds = deps.options?.leaseSeconds ?? 30;
  const baseDelayMs = deps.options?.baseDelayMs ?? 1000;
  const maxDelayMs = deps.options?.maxDelayMs ?? 300_000;

  /** Takes one token for (account, region) from the bucket every process shares, waiting as needed. */
  async function acquireToken(key: string): Promise<void> {
    for (;;) {
      const waitMs = await db.transaction().execute(async (tx) => {
        const now = clock.now();
        await sql`INSERT INTO aws_rate_buckets (key, tokens, updated_at) VALUES (${key}, ${burst}, ${now})
                  ON CONFLICT (key) DO NOTHING`.execute(tx);
        const row = (
          await sql<{ tokens: number; elapsed: number }>`
            SELECT tokens, EXTRACT(EPOCH FROM ${now}::timestamptz - updated_at)::float8 AS elapsed
            FROM aws_rate_buckets WHERE key = ${key} FOR UPDATE`.execute(tx)
        ).rows[0];
        const available = Math.min(
          burst,
          Number(row?.tokens ?? burst) + Math.max(0, Number(row?.elapsed ?? 0)) * rate,
        );
        if (available < 1) return ((1 - available) / rate) * 1000;
        await sql`UPDATE aws_rate_buckets SET tokens = ${available - 1}, updated_at = ${now} WHERE key = ${key}`.execute(
          tx,
        );
        return 0;
      });
      if (waitMs <= 0) return;
      await sleep(Math.max(10, waitMs));
    }
  }

  async function targetFor(integrationId: string): Promise<RoleTarget | undefined> {
    const row = await integrationsRepository.getById(db, integrationId);
    if (!row) return undefined;
    const settings = securityHubSettings(row.settings);
    if (!settings.sendUpdatesBack || !settings.roleArn || !settings.region) return undefined;
    return {
      integrationId: row.id,
      integrationName: row.name,
      roleArn: settings.roleArn,
      externalId: row.external_id,
      region: settings.region,
    };
  }

  async function setStatus(integrationId: string, status: Record<string, unknown>): Promise<void> {
    await db
      .updateTable('integrations')
      .set({ writeback_status: JSON.stringify({ ...status, at: new Date().toISOString() }) })
      .where('id', '=', integrationId)
      .execute();
  }

  async function logOnAlerts(rows: ClaimedRow[], text: string): Promise<void> {
    const alertIds = [...new Set(rows.flatMap((r) => (r.alert_id ? [r.alert_id] : [])))];
    if (alertIds.length === 0) return;
    await alertsRepository
      .addLogs(
        db,
        alertIds.map((alertId) => ({ alertId, type: 'writeback', log: text, owner: 'Amazon Security Hub' })),
      )
      .catch(() => {});
  }

  function describe(field: WritebackField, value: Record<string, string>): string {
    if (field === 'workflow') return `Workflow.Status ${value.Status}`;
    if (field === 'severity') return `Severity.Label ${value.Label}`;
    return 'the note';
  }

  async function markDone(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable('securityhub_writebacks')
      .set({ status: 'done', lease_until: null, updated_at: new Date() })
      .where('id', 'in', ids)
      .execute();
  }

  async function retryLater(rows: ClaimedRow[], error: string): Promise<void> {
    const now = clock.now().getTime();
    const expired = rows.filter((r) => now - r.created_at.getTime() > GIVE_UP_MS);
    const again = rows.filter((r) => now - r.created_at.getTime() <= GIVE_UP_MS);
    for (const row of again) {
      // Exponential backoff with jitter (by default from 1 s up to 5 min).
      const delay = retryDelayMs(Math.min(row.attempts, 20), { baseMs: baseDelayMs, maxMs: maxDelayMs });
      await db
        .updateTable('securityhub_writebacks')
        .set({
          status: 'pending',
          lease_until: null,
          not_before: new Date(now + delay),
          last_error: error,
          updated_at: new Date(),
        })
        .where('id', '=', row.id)
        .where('status', '=', 'sending')
        .execute();
    }
    if (expired.length > 0) await giveUp(expired, `${error} (retried for 24 hours)`, true);
  }

  async function giveUp(rows: ClaimedRow[], error: string, alertOwners: boolean): Promise<void> {
    await db
      .updateTable('securityhub_writebacks')
      .set({ status: 'failed', lease_until: null, last_error: error, updated_at: new Date() })
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    const first = rows[0];
    if (!first) return;
    await logOnAlerts(
      rows,
      `Could not update the finding in Security Hub (${describe(first.field, first.value)}): ${error}`,
    );
    await setStatus(first.integration_id, { ok: false, error });
    if (alertOwners) await alertOwnerTeam(first.integration_id, error);
  }

  async function alertOwnerTeam(integrationId: string, error: string): Promise<void> {
    const integration = await integrationsRepository.getById(db, integrationId);
    if (!integration) return;
    await deps.alerts
      .create(
        {
          orgId: integration.org_id,
          apiKeyId: '',
          userId: undefined,
          username: undefined,
          fullName: undefined,
          role: undefined,
        },
        randomUUID(),
        {
          message: cut(
            `Write-back to Amazon Security Hub is failing for ${integration.name}`,
            ALERT_LIMITS.message,
          ),
          alias: `securityhub-writeback-failing-${integration.id}`,
          description: cut(
            `Updates made in Vigil could not be written to Security Hub for 24 hours. Last error: ${error}\n\nCheck the integration's role ARN, external ID and region, then POST /v2/integrations/${integration.id}/test-writeback.`,
            ALERT_LIMITS.description,
          ),
          tags: ['securityhub', 'writeback'],
          priority: 'P2',
          source: 'Vigil',
        },
        {
          actor: { kind: 'system', name: 'Vigil' },
          resolvedResponders: [{ type: 'team', id: integration.owner_team_id }],
        },
      )
      .catch((e: unknown) =>
        log.error({ err: e }, 'could not alert the owner team about failing write-back'),
      );
  }

  /** Sends one group (same integration, same change, ≤100 findings) and settles its rows. */
  async function sendGroup(rows: ClaimedRow[]): Promise<void> {
    const first = rows[0];
    if (!first) return;
    const target = await targetFor(first.integration_id);
    if (!target) {
      await db
        .updateTable('securityhub_writebacks')
        .set({
          status: 'superseded',
          lease_until: null,
          last_error: 'write-back was turned off',
          updated_at: new Date(),
        })
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
      return;
    }
    const update =
      first.field === 'workflow'
        ? { Workflow: { Status: first.value.Status as 'NEW' } }
        : first.field === 'severity'
          ? { Severity: { Label: first.value.Label as 'LOW' } }
          : { Note: { Text: first.value.Text ?? '', UpdatedBy: first.value.UpdatedBy ?? 'Vigil' } };
    await acquireToken(`${accountOf(target.roleArn)}:${target.region}`);
    let answer;
    try {
      answer = await aws.batchUpdate(target, {
        FindingIdentifiers: rows.map((r) => ({ Id: r.finding_id, ProductArn: r.product_arn })),
        ...update,
      });
    } catch (error) {
      const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      const text = `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
      if (status === undefined || status === 429 || status >= 500) {
        log.warn({ integrationId: target.integrationId, status, error: text }, 'write-back will be retried');
        await retryLater(rows, text);
      } else {
        log.error({ integrationId: target.integrationId, status, error: text }, 'write-back refused');
        await giveUp(rows, text, false);
      }
      return;
    }
    const byKey = new Map(rows.map((r) => [`${r.product_arn}|${r.finding_id}`, r]));
    const retry: ClaimedRow[] = [];
    const failed: { row: ClaimedRow; error: string }[] = [];
    for (const u of answer.UnprocessedFindings ?? []) {
      const row = byKey.get(`${u.FindingIdentifier?.ProductArn}|${u.FindingIdentifier?.Id}`);
      if (!row) continue;
      byKey.delete(`${row.product_arn}|${row.finding_id}`);
      if (RETRYABLE_UNPROCESSED.has(u.ErrorCode ?? '')) retry.push(row);
      else failed.push({ row, error: `${u.ErrorCode}: ${u.ErrorMessage ?? ''}` });
    }
    const done = [...byKey.values()];
    await markDone(done.map((r) => r.id));
    if (done.length > 0) {
      await logOnAlerts(done, `Finding updated in Security Hub: ${describe(first.field, first.value)}`);
      await setStatus(first.integration_id, { ok: true });
    }
    if (retry.length > 0)
      await retryLater(
        retry,
        'Security Hub could not apply the update yet (ConcurrentUpdateError or InternalFailure)',
      );
    for (const f of failed) await giveUp([f.row], f.error, false);
  }

  /**
   * Claims what is due (gathered for GATHER_MS, no earlier change of the same field of the same finding
   * still in flight, or a lapsed lease taken over), keeps only the newest change per finding and field,
   * and sends the rest grouped. Returns how many rows it claimed.
   */
  async function flushOnce(now: Date): Promise<number> {
    // Alert events not yet turned into changes: a pause in new rows means nothing while they wait (a
    // busy machine can stall the event pipeline for longer than GATHER_MS in the middle of a burst).
    const eventsInFlight = await eventDeliveriesRepository.inFlight(db, consumer.name, now);
    const claimed = await db.transaction().execute(async (tx) => {
      const rows = await sql<ClaimedRow>`
        WITH due AS (
          SELECT w.id FROM securityhub_writebacks w
          WHERE ((w.status = 'pending' AND w.not_before <= ${now}) OR (w.status = 'sending' AND w.lease_until < ${now}))
            -- Gather: an integration's changes go when they pause for GATHER_MS with no alert event still
            -- on its way to becoming a change, or a second after the first of them; then all go together.
            AND w.integration_id IN (
              SELECT g.integration_id FROM securityhub_writebacks g
              WHERE g.status = 'pending' AND g.not_before <= ${now}
              GROUP BY g.integration_id
              HAVING min(g.created_at) <= ${new Date(now.getTime() - 1000)}
                  OR (max(g.created_at) <= ${new Date(now.getTime() - GATHER_MS)} AND NOT ${eventsInFlight}))
            AND NOT EXISTS (
              SELECT 1 FROM securityhub_writebacks s
              WHERE s.status = 'sending' AND s.lease_until >= ${now} AND s.id <> w.id
                AND s.integration_id = w.integration_id AND s.finding_key = w.finding_key AND s.field = w.field)
          ORDER BY w.id
          LIMIT 1000
          FOR UPDATE SKIP LOCKED
        )
        UPDATE securityhub_writebacks w
        SET status = 'sending', lease_until = ${new Date(now.getTime() + leaseSeconds * 1000)}, attempts = w.attempts + 1, updated_at = ${now}
        FROM due WHERE w.id = due.id
        RETURNING w.id, w.integration_id, w.alert_id, w.product_arn, w.finding_id, w.field, w.value, w.attempts, w.created_at, w.seq`.execute(
        tx,
      );
      // The newest change of a field wins: older ones claimed with it are superseded, never sent after it.
      const newest = new Map<string, ClaimedRow>();
      const superseded: string[] = [];
      for (const row of [...rows.rows].sort(
        (a, b) => Number(a.seq) - Number(b.seq) || Number(a.id) - Number(b.id),
      )) {
        const key = `${row.integration_id}|${row.product_arn}|${row.finding_id}|${row.field}`;
        const before = newest.get(key);
        if (before) superseded.push(before.id);
        newest.set(key, row);
      }
      if (superseded.length > 0) {
        await tx
          .updateTable('securityhub_writebacks')
          .set({ status: 'superseded', lease_until: null, updated_at: new Date() })
          .where('id', 'in', superseded)
          .execute();
      }
      return [...newest.values()];
    });
    if (claimed.length === 0) return 0;
    const groups = new Map<string, ClaimedRow[]>();
    for (const row of claimed) {
      const key = `${row.integration_id}|${row.field}|${JSON.stringify(row.value)}`;
      const list = groups.get(key) ?? [];
      list.push(row);
      groups.set(key, list);
    }
    // While an integration's changes are still arriving, a batch short of 100 waits for more (up to
    // PARTIAL_MAX_WAIT_MS): closing 250 alerts makes 100 + 100 + 50, however slowly the closes come.
    const nowMs = now.getTime();
    const newestByIntegration = new Map<string, number>();
    for (const row of claimed) {
      newestByIntegration.set(
        row.integration_id,
        Math.max(newestByIntegration.get(row.integration_id) ?? 0, row.created_at.getTime()),
      );
    }
    const held: string[] = [];
    for (const [key, group] of groups) {
      const active =
        eventsInFlight || (newestByIntegration.get(group[0]?.integration_id ?? '') ?? 0) > nowMs - GATHER_MS;
      const partial = group.length % MAX_FINDINGS_PER_REQUEST;
      const waiting = group.slice(group.length - partial).map((r) => r.created_at.getTime());
      if (partial > 0 && holdsPartial(waiting, active, nowMs)) {
        held.push(...group.slice(group.length - partial).map((r) => r.id));
        groups.set(key, group.slice(0, group.length - partial));
      }
    }
    if (held.length > 0) {
      await db
        .updateTable('securityhub_writebacks')
        .set((eb) => ({ status: 'pending', lease_until: null, attempts: eb('attempts', '-', 1) }))
        .where('id', 'in', held)
        .execute();
    }
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += MAX_FINDINGS_PER_REQUEST) {
        await sendGroup(group.slice(i, i + MAX_FINDINGS_PER_REQUEST)).catch(async (error: unknown) => {
          log.error({ err: error }, 'write-back batch failed; it will be retried');
          await retryLater(group.slice(i, i + MAX_FINDINGS_PER_REQUEST), (error as Error).message).catch(
            () => {},
          );
        });
      }
    }
    return claimed.length;
  }

  const consumer: AlertEventConsumer = {
    name: 'securityhub-writeback',
    types: ['acknowledged', 'unacknowledged', 'closed', 'priority_changed', 'note_added'],
    handles: (event) => changeFor(event) !== undefined,
    async handle(event) {
      const change = changeFor(event);
      if (!change) return;
      const recorded = await db.transaction().execute(async (tx) => {
        const findings = await tx
          .selectFrom('securityhub_findings as f')
          .innerJoin('integrations as i', 'i.id', 'f.integration_id')
          .select(['f.integration_id', 'f.finding_key', 'f.product_arn', 'f.finding_id', 'i.settings'])
          .where('f.alert_id', '=', event.alertId)
          .execute();
        const targets = findings.filter((f) => securityHubSettings(f.settings).sendUpdatesBack);
        if (targets.length === 0) return 0;
        const seq = event.seq ?? 0;
        for (const f of targets) {
          const sameField = tx
            .selectFrom('securityhub_writebacks')
            .select('id')
            .where('integration_id', '=', f.integration_id)
            .where('finding_key', '=', f.finding_key)
            .where('field', '=', change.field);
          // Events may be handled out of order: a later change already recorded makes this one moot.
          const later = await sameField
            .where('seq', '>', String(seq) as never)
            .where('status', 'in', ['pending', 'sending', 'done'])
            .executeTakeFirst();
          if (!later) {
            // An earlier change still waiting is replaced: only the latest value matters.
            await tx
              .updateTable('securityhub_writebacks')
              .set({ status: 'superseded', updated_at: new Date() })
              .where('integration_id', '=', f.integration_id)
              .where('finding_key', '=', f.finding_key)
              .where('field', '=', change.field)
              .where('status', '=', 'pending')
              .where('seq', '<', String(seq) as never)
              .execute();
            // The echo of this write will come back through intake: remember it, so it changes nothing.
            await sql`
              UPDATE securityhub_findings
              SET written_back = coalesce(written_back, '{}'::jsonb) || ${JSON.stringify(echoOf(change.field, change.value))}::jsonb
              WHERE integration_id = ${f.integration_id} AND finding_key = ${f.finding_key}`.execute(tx);
          }
          // Security Hub refuses identifiers longer than it allows: such a finding (a sender's, not AWS's)
          // is not sent, so that it cannot fail the 99 others of its request.
          const tooLong = unsendableIdentifier(f.product_arn, f.finding_id);
          await tx
            .insertInto('securityhub_writebacks')
            .values({
              integration_id: f.integration_id,
              alert_id: event.alertId,
              finding_key: f.finding_key,
              product_arn: f.product_arn,
              finding_id: f.finding_id,
              field: change.field,
              value: JSON.stringify(change.value),
              event_id: event.eventId,
              seq,
              status: later ? 'superseded' : tooLong ? 'failed' : 'pending',
              created_at: clock.now(),
              not_before: clock.now(),
              ...(tooLong && !later ? { last_error: tooLong } : {}),
            })
            .onConflict((oc) => oc.columns(['event_id', 'finding_key']).doNothing())
            .execute();
          if (tooLong && !later) {
            await alertsRepository.addLog(
              tx,
              event.alertId,
              'writeback',
              `Could not update the finding in Security Hub: ${tooLong}`,
              'Amazon Security Hub',
            );
          }
        }
        return targets.length;
      });
      if (recorded > 0) deps.signal.wake(QUEUES.writeback);
    },
  };

  /** While changes wait (gathering, or backing off), look again shortly; else sleep until woken. */
  async function somethingWaits(): Promise<boolean> {
    const row = await db
      .selectFrom('securityhub_writebacks')
      .select('id')
      .where('status', 'in', ['pending', 'sending'])
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  const queue = (options: { idleMs?: number } = {}): WorkQueueSpec => ({
    name: QUEUES.writeback,
    idleMs: options.idleMs ?? 5000,
    async round(now) {
      if ((await flushOnce(now)) > 0) return { more: true };
      return { more: false, nextDueAt: (await somethingWaits()) ? new Date(now.getTime() + 50) : null };
    },
  });

  return {
    consumer,
    /** The sender as a queue of the work runner. */
    queue,
    /** Assumes the role and makes one harmless call, reporting each step. */
    async test(integrationId: string) {
      const target = await targetFor(integrationId);
      if (!target) {
        return {
          ok: false,
          steps: [
            { step: 'settings', ok: false, error: 'sendUpdatesBack is off, or roleArn or region is missing' },
          ],
        };
      }
      const steps: { step: string; ok: boolean; error?: string }[] = [];
      try {
        await aws.credentialsFor(target);
        steps.push({ step: 'AssumeRole', ok: true });
      } catch (error) {
        steps.push({ step: 'AssumeRole', ok: false, error: awsError(error) });
        return { ok: false, steps };
      }
      try {
        await aws.probe(target);
        steps.push({ step: 'GetFindings', ok: true });
      } catch (error) {
        steps.push({ step: 'GetFindings', ok: false, error: awsError(error) });
        return { ok: false, steps };
      }
      return { ok: true, steps };
    },
  };
}

function awsError(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type Writeback = ReturnType<typeof createWriteback>;
