import { sql } from 'kysely';
import { lockNames } from '../../../db/advisory-locks.js';
import type { Queryable, Tx } from '../../../db/database.js';
import type { FindingFormat, WritebackField } from '../../../db/schema.js';
import { maintenanceRepository } from '../../../maintenance/repository.js';
import { integrationsRepository } from '../../repository.js';
import { securityHubSettings } from '../../types.js';
import type { RoleTarget } from './aws.js';
import { ECHO_WINDOW_MS } from '../echo-window.js';
import { alertsRepository } from '../../../alerts/repository.js';
import { describeChange, echoOf, type ClaimedChange, type FindingChange } from './changes.js';
import type { TokenBucket } from './rate-limit.js';
import type { QueueBacklog } from '../../../work/runner.js';

/**
 * The SQL of the write-back: the changes waiting in securityhub_writebacks and their lifecycle
 * (pending → sending under a lease → done, failed or superseded), the shared AWS rate buckets, the
 * integration's write-back status, and what the write-back reads of integrations and findings. Every
 * time is a parameter, from the engine's clock.
 */

/** A finding of an alert, in an integration that sends updates back. */
export interface WritableFinding {
  integrationId: string;
  findingKey: string;
  format: FindingFormat;
  productArn: string;
  findingId: string;
  awsAccountId: string | null;
}

export interface NewChange extends FindingChange {
  finding: WritableFinding;
  alertId: string;
  eventId: string;
  seq: number;
  status: 'pending' | 'failed' | 'superseded';
  lastError?: string;
}

/** One of Vigil's changes of a finding's field, as the intake weighs it against a value Security Hub sent. */
export interface FindingWrite extends FindingChange {
  id: string;
  alertId: string | null;
  /** The alert event's place in the outbox (a bigint as text), as ClaimedChange's. */
  seq: string;
  /** Still to be sent (pending), or being sent: a newer value set in Security Hub may end it. */
  unsent: boolean;
  /** Sent, or being sent (or superseded while it was): its value may be in Security Hub, and come back. */
  sent: boolean;
}

/** What the integration's page shows of the write-back's last outcome. */
export type WritebackStatus = { ok: true } | { ok: false; error: string };

export interface IntegrationOwner {
  orgId: string;
  integrationId: string;
  integrationName: string;
  ownerTeamId: string;
}

interface ClaimedRow {
  id: string;
  integration_id: string;
  alert_id: string | null;
  format: FindingFormat;
  product_arn: string;
  finding_id: string;
  aws_account_id: string | null;
  field: WritebackField;
  value: Record<string, string>;
  attempts: number;
  created_at: Date;
  seq: string;
}

/**
 * Whether a later change (by the alert event's order, then the row's, as the claim's batching orders
 * them) of the same field of `w`'s finding is sent or still to be: `w`'s value is then out of date. A
 * later change that failed or was itself superseded does not count, as in hasLaterChange.
 */
const overtaken = sql<boolean>`EXISTS (
  SELECT 1 FROM securityhub_writebacks l
  WHERE l.integration_id = w.integration_id AND l.finding_key = w.finding_key AND l.field = w.field
    AND (l.seq, l.id) > (w.seq, w.id) AND l.status IN ('pending', 'sending', 'done'))`;

/**
 * The changes among `ids` that are still being sent under `claimId`: one whose lease ran out and that
 * another process took over (a claim of its own), or that was settled or superseded since, is no longer
 * this claim's to renew, send or settle. As notify/repository.ts's `stillClaimed`, for this table.
 */
function stillClaimed(claimId: string, ids: readonly string[]) {
  return sql<boolean>`w.id = ANY(${ids}::bigint[]) AND w.claim_id = ${claimId}::uuid AND w.status = 'sending'`;
}

/**
 * The changes among `ids` that a turn-off (endUnsentOf) or a newer value (supersedeUnsent) ended while
 * they were being sent under `claimId`, and that still count as maybe sent (their lease kept): for a
 * claim that then did not send them (sender.ts finds them no longer its own before the request), so that
 * takeBackEnded undoes that count. Every other way out of 'sending' clears lease_until, or the claim_id.
 */
function endedUnderClaim(claimId: string, ids: readonly string[]) {
  return sql<boolean>`w.id = ANY(${ids}::bigint[]) AND w.claim_id = ${claimId}::uuid
    AND w.status = 'superseded' AND w.lease_until IS NOT NULL`;
}

/** A change that has just ended (failed or superseded), as forgetUnsent weighs it. */
interface EndedChange {
  id: string;
  integration_id: string;
  finding_key: string;
  field: WritebackField;
  value: Record<string, string>;
  /** The requests that may have been made for it: its attempts (claims that ended unsent not counted). */
  requests: number;
  /** What the last of them was answered, as outcomes.ts words it (last_error); null when none is known. */
  answer: string | null;
}

/**
 * The error names AWS answers a request with that it did not apply, as outcomes.ts words them (sender.ts's
 * `awsErrorText`, or an unprocessed finding's `ErrorCode: message`): a finding listed unprocessed for good
 * (AWS-FACTS §4), or a whole request refused (4xx: invalid, not allowed, unknown, throttled, conflicting).
 * A 5xx, a timeout or no answer at all is none of them: that request may have been applied, minutes later.
 */
const NOT_APPLIED_ERRORS: ReadonlySet<string> = new Set([
  'FindingNotFound',
  'InvalidInput',
  'DuplicatedFindingIdentifier',
  'FindingSizeExceeded',
  'InvalidInputException',
  'InvalidAccessException',
  'AccessDeniedException',
  'AccessDenied',
  'ResourceNotFoundException',
  'ValidationException',
  'LimitExceededException',
  'ThrottlingException',
  'TooManyRequestsException',
  'ConflictException',
]);

/**
 * How outcomes.ts begins the last_error of findings listed unprocessed with a code to retry
 * (ConcurrentUpdateError…), and cannotHaveLanded knows them by. Here rather than there: outcomes.ts
 * imports this module.
 */
export const UNPROCESSED_RETRY = 'Security Hub could not apply the update yet';

/**
 * The last_error of a change ended for `reason`, not by an answer of AWS (table `was` is the row as it
 * was before): the answer to its last request, if it had one, stays first, where cannotHaveLanded reads
 * it, of this change and, later, when another change of the same value ends.
 */
function endedFor(reason: string) {
  return sql<string>`coalesce(was.last_error || ${`; then ${reason}`}, ${reason}::text)`;
}

/**
 * Whether a change cannot have reached Security Hub: never sent, or sent once and answered with AWS's
 * word that it was not applied. Only the last answer is kept (last_error): of a change sent more than
 * once, an earlier request (a 5xx, a timeout) may still land after a later refusal, so it may have landed.
 */
function cannotHaveLanded(change: Pick<EndedChange, 'requests' | 'answer'>): boolean {
  if (change.requests <= 0) return true;
  if (change.requests > 1) return false;
  const answer = change.answer ?? '';
  if (answer.startsWith(UNPROCESSED_RETRY)) return true;
  const name = /^([A-Za-z]+):/.exec(answer)?.[1];
  return name !== undefined && NOT_APPLIED_ERRORS.has(name);
}

/**
 * Forgets, of what written_back remembers, the values of changes that ended without reaching AWS (failed
 * as AWS refused them, given up or superseded before they were sent, not sent because write-back was
 * turned off): the recorder remembers a value when it queues the change, and written_back knows no time,
 * so a value never sent would make a person's later setting of it in Security Hub pass for Vigil's echo
 * for good. A change that was sent and may have been applied (a timeout or a 5xx, retried, then
 * superseded or given up: AWS may take minutes to apply it, AWS-FACTS §4) keeps its value: its echo may
 * still come, and taken for a person's change it would end Vigil's waiting changes and act on the alert.
 * Only while the field still holds that value, and no other change of Vigil's carrying it may still echo
 * (one to be sent, one being sent, one sent within the echo window as writesOf reads them, or one ended
 * within it that may have landed): that one's echo is still to come.
 */
async function forgetUnsent(db: Queryable, ended: readonly EndedChange[], now: Date): Promise<void> {
  const since = new Date(now.getTime() - ECHO_WINDOW_MS);
  const endedNow = new Map(ended.map((c) => [c.id, c]));
  const weighed = ended.filter((c) => cannotHaveLanded(c));
  if (weighed.length === 0) return;
  // The other changes carrying each one's value, read at once for all: what the loop below writes is
  // securityhub_findings, never what this reads.
  const others = await sql<{
    n: string;
    id: string;
    status: string;
    attempts: number;
    lease_until: Date | null;
    updated_at: Date;
    last_error: string | null;
  }>`
    SELECT c.n, o.id, o.status, o.attempts, o.lease_until, o.updated_at, o.last_error
    FROM jsonb_array_elements(${JSON.stringify(
      weighed.map((c) => ({
        id: c.id,
        integration_id: c.integration_id,
        finding_key: c.finding_key,
        field: c.field,
        value: c.value,
      })),
    )}::jsonb) WITH ORDINALITY AS c(change, n)
    JOIN securityhub_writebacks o
      ON o.integration_id = (c.change ->> 'integration_id')::uuid
        AND o.finding_key = c.change ->> 'finding_key'
        AND o.field = c.change ->> 'field' AND o.id <> (c.change ->> 'id')::bigint
        -- A note's author is sent, but is no part of what its echo is recognised by.
        AND (o.value - 'UpdatedBy') = ((c.change -> 'value') - 'UpdatedBy')`.execute(db);
  for (const [i, change] of weighed.entries()) {
    const mayEcho = others.rows.some((o) => {
      // WITH ORDINALITY counts from 1.
      if (Number(o.n) !== i + 1) return false;
      if (o.status === 'pending' || o.status === 'sending') return true;
      if (o.updated_at < since) return false;
      if (o.status === 'done' || (o.status === 'superseded' && o.lease_until !== null)) return true;
      // Ended in this same statement: its last_error is already the reason it was ended.
      const known = endedNow.get(o.id) ?? { requests: o.attempts, answer: o.last_error };
      return !cannotHaveLanded(known);
    });
    if (mayEcho) continue;
    for (const [key, echoed] of Object.entries(echoOf(change))) {
      await sql`
        UPDATE securityhub_findings f SET written_back = f.written_back - ${key}::text
        WHERE f.integration_id = ${change.integration_id} AND f.finding_key = ${change.finding_key}
          AND f.written_back ->> ${key}::text = ${echoed}`.execute(db);
    }
  }
}

/** What forgetUnsent reads of the changes an update ends unsent (with the `answer` each update picks). */
const UNSENT_COLUMNS = [
  'w.id',
  'w.integration_id',
  'w.finding_key',
  'w.field',
  'w.value',
  'w.attempts as requests',
] as const;

/**
 * Ends the changes in `status` that the caller's conditions pick (added with `where`), for `reason`: as
 * supersedeUnsent and endUnsentOf end the changes Vigil has not finished with. lease_until is left as it
 * is: a change superseded while being sent may still land, and claimDue holds back the next change of
 * its field until that lease has passed. `was` is the row as it was before: its last_error is the answer
 * to its last request, if it had one.
 */
function endUnsent(tx: Tx, status: 'pending' | 'sending', reason: string, now: Date) {
  return tx
    .updateTable('securityhub_writebacks as w')
    .from('securityhub_writebacks as was')
    .set({ status: 'superseded', last_error: endedFor(reason), updated_at: now })
    .whereRef('was.id', '=', 'w.id')
    .where('w.status', '=', status)
    .returning([...UNSENT_COLUMNS, 'w.alert_id', 'was.last_error as answer']);
}

/**
 * Taken by every claim before it reads, and by a turn-off before it ends the changes (endUnsentOf): claims
 * run one at a time, each reading what the one before it committed. Two at once could each see the other's change of a finding's field as still pending (the
 * row locked, the claim not yet committed), and send an acknowledge and the close that follows it side
 * by side. A claim is one statement, short beside the requests it feeds (AWS takes 10 a second).
 */
export const CLAIM_LOCK = 'securityhub writeback claim';

/** The role an integration's settings give, with its region; or which of the two are missing. */
function roleOf(row: {
  id: string;
  name: string;
  external_id: string;
  settings: Record<string, unknown>;
}): RoleTarget | { missing: string[] } {
  const { roleArn, region } = securityHubSettings(row.settings);
  if (!roleArn || !region) {
    return { missing: [...(roleArn ? [] : ['roleArn']), ...(region ? [] : ['region'])] };
  }
  return { integrationId: row.id, integrationName: row.name, roleArn, externalId: row.external_id, region };
}

export const writebacksRepository = {
  /**
   * The findings of an alert whose integration writes back. Also those of an alert deleted since its event
   * (the delete clears their alert_id, migration 0054 keeps it as last_alert_id): its last changes still
   * go back. Not once a finding feeds another alert: the deleted alert's changes would then undo the new
   * one's state. Nor a finding bound to an alert someone else made under the alias the finding's alert had
   * before (`securityhub-` and 40 hex digits, findingAlias): while that was unreserved, a user could
   * open an alert with it first and have the finding counted into it; its close must not resolve the
   * finding (the finding's next event gives it its own alert, finding-sync.ts).
   *
   * The integrations' rows are locked FOR SHARE until the caller's commit, read as they are once locked:
   * a turn-off (which updates the row, then ends the changes waiting: endUnsentOf) waits for the changes
   * recorded in this transaction, or this waits for it and reads the integration off. First in the
   * recorder's transaction, before any change or finding row: see endUnsentOf for the order of locks.
   */
  async findingsToWriteBack(tx: Tx, alertId: string): Promise<WritableFinding[]> {
    const rows = await tx
      .selectFrom('securityhub_findings as f')
      .innerJoin('integrations as i', 'i.id', 'f.integration_id')
      .leftJoin('alerts as a', (join) => join.on('a.id', '=', alertId))
      .select([
        'f.integration_id',
        'f.finding_key',
        'f.format',
        'f.product_arn',
        'f.finding_id',
        'f.aws_account_id',
        'i.settings',
      ])
      .where((eb) =>
        eb.or([
          eb('f.alert_id', '=', alertId),
          eb.and([eb('f.alert_id', 'is', null), eb('f.last_alert_id', '=', alertId)]),
        ]),
      )
      .where(
        // That finding's own earlier alias, as finding-sync.ts findingDigest makes it (finding_key is the
        // key's digest): another alert under some such alias, one an alert policy grouped the finding
        // into, is the finding's, and writes back.
        sql<boolean>`NOT (a.id IS NOT NULL AND a.integration_id IS DISTINCT FROM f.integration_id
          AND a.alias = 'securityhub-' || left(encode(sha256(convert_to(
            f.integration_id::text || E'\n' || f.finding_key, 'UTF8')), 'hex'), 40))`,
      )
      .forShare('i')
      .execute();
    return rows
      .filter((r) => securityHubSettings(r.settings).sendUpdatesBack)
      .map((r) => ({
        integrationId: r.integration_id,
        findingKey: r.finding_key,
        format: r.format,
        productArn: r.product_arn,
        findingId: r.finding_id,
        awsAccountId: r.aws_account_id,
      }));
  },

  /** Whether a change of this field from a later event is recorded, and sent or still to be. */
  async hasLaterChange(
    tx: Tx,
    finding: WritableFinding,
    field: WritebackField,
    seq: number,
  ): Promise<boolean> {
    const row = await tx
      .selectFrom('securityhub_writebacks')
      .select('id')
      .where('integration_id', '=', finding.integrationId)
      .where('finding_key', '=', finding.findingKey)
      .where('field', '=', field)
      .where('seq', '>', String(seq) as never)
      .where('status', 'in', ['pending', 'sending', 'done'])
      .executeTakeFirst();
    return row !== undefined;
  },

  /**
   * Ends a finding's changes of these fields that Vigil has not finished with, because the intake has just
   * seen a newer state of the finding than theirs: a value someone set in Security Hub (the change would
   * silently undo it), or a new occurrence that opened another alert (`exceptAlert`: only the earlier
   * alerts' changes go; a close's RESOLVED sent now would mark the finding handled while the new alert is
   * open). Waiting ones (not yet claimed, or backing off before a retry) are never sent. One being sent
   * cannot be called back, but it is ended too, so that it is never retried: a retry, or a takeover of its
   * lapsed lease, only ever takes a change still `sending`. If it lands anyway, its echo is still
   * recognised (written_back is left as it is); a waiting one's value is forgotten when it cannot have
   * landed (forgetUnsent: not when an earlier request of it was answered a 5xx, or not at all).
   */
  async supersedeUnsent(
    tx: Tx,
    target: {
      integrationId: string;
      findingKey: string;
      fields: readonly WritebackField[];
      exceptAlert?: string;
      /** Only these changes (of those fields), when given: see finding-sync.ts's `overriddenInSecurityHub`. */
      ids?: readonly string[];
    },
    reason: string,
    now: Date,
  ): Promise<void> {
    if (target.fields.length === 0) return;
    const { exceptAlert, ids } = target;
    if (ids !== undefined && ids.length === 0) return;
    const end = (status: 'pending' | 'sending') =>
      endUnsent(tx, status, reason, now)
        .where('w.integration_id', '=', target.integrationId)
        .where('w.finding_key', '=', target.findingKey)
        .where('w.field', 'in', [...target.fields])
        .$if(exceptAlert !== undefined, (qb) =>
          qb.where((eb) => eb.or([eb('w.alert_id', 'is', null), eb('w.alert_id', '!=', exceptAlert ?? '')])),
        )
        .$if(ids !== undefined, (qb) => qb.where('w.id', 'in', [...(ids ?? [])]));
    await end('sending').execute();
    await forgetUnsent(tx, await end('pending').execute(), now);
  },

  /**
   * Ends every change of the integration that Vigil has not finished with when it no longer writes back
   * (turned off, or its write-back turned off), and says so on their alerts, once per alert and change
   * (as the recorder says it of a change made while the integration is off). Called in the transaction
   * that turns it off (integrations/service.ts), after its row is updated (and so locked): turning it on
   * again must not send what was waiting, as the sender would (it asks only when it sends). Does nothing
   * while it writes back. As supersedeUnsent: a waiting change is never sent, and its value is forgotten
   * when it cannot have landed (forgetUnsent); one being sent is ended too, so that its sender no longer
   * sends it (sender.ts renews the lease of, and sends, only changes still `sending`), though a request
   * already on its way may still land (its lease and its value kept, for its echo); one whose request had
   * not gone yet is taken back by its sender when it finds the change no longer its own (takeBackEnded).
   *
   * Serialised with the rest of the write-back: the change recorder reads the integration row FOR SHARE
   * (findingsToWriteBack), so a change it records as the integration is turned off is either committed
   * before this reads the changes (and ended here), or recorded once the turn-off is committed (and dropped
   * by the recorder); and the claim's lock (CLAIM_LOCK) is taken before the changes are read, so that no
   * claim moves a change from 'pending' to 'sending' between the two UPDATEs, where neither would end it.
   * Locks, in the order every write-back transaction takes them: the integration row (updated by the
   * caller here, FOR SHARE by the recorder), CLAIM_LOCK (here, and first in claimDue), then
   * securityhub_writebacks rows, then securityhub_findings rows (forgetUnsent, rememberWrittenBack), then
   * the alerts' (KEY SHARE, as their logs are added). Nothing in the write-back waits for an integration
   * row while holding any of the others.
   */
  async endUnsentOf(tx: Tx, integrationId: string, now: Date): Promise<void> {
    const row = await integrationsRepository.getById(tx, integrationId);
    if (!row || row.type !== 'AmazonSecurityHub') return;
    const reason = !row.enabled
      ? 'the integration is turned off'
      : !securityHubSettings(row.settings).sendUpdatesBack
        ? 'write-back was turned off'
        : undefined;
    if (reason === undefined) return;
    await lockNames(tx, [CLAIM_LOCK]);
    const end = (status: 'pending' | 'sending') =>
      endUnsent(tx, status, `not sent: ${reason}`, now).where('w.integration_id', '=', integrationId);
    const inFlight = await end('sending').execute();
    const waiting = await end('pending').execute();
    await forgetUnsent(tx, waiting, now);
    const lines = new Map<string, { alertId: string; log: string }>();
    const say = (ended: typeof waiting, words: (change: string) => string) => {
      for (const c of ended) {
        if (c.alert_id === null) continue;
        const log = words(describeChange(c));
        lines.set(`${c.alert_id}\n${log}`, { alertId: c.alert_id, log });
      }
    };
    say(waiting, (change) => `Not written to Security Hub (${change}): ${reason}`);
    say(
      inFlight,
      (change) => `Not written to Security Hub (${change}), unless its request had already gone: ${reason}`,
    );
    // The alert may be gone already (its findings keep its changes): logged only while it exists.
    await alertsRepository.addLogsToExisting(
      tx,
      [...lines.values()].map((l) => ({ ...l, type: 'writeback', owner: 'Amazon Security Hub' })),
    );
  },

  /**
   * A finding's changes of these fields that Vigil still has to send (pending, or sending), and those that
   * AWS took or may have taken (done, sending, or superseded while being sent: the only settling that
   * leaves lease_until set), each with the value it sends. For the intake, to tell Vigil's echo from a
   * value set in Security Hub. With `sentSince`, only those settled since then of the ones no longer
   * being sent: an echo of an older one would have come already (finding-sync.ts's ECHO_WINDOW_MS).
   */
  async writesOf(
    tx: Tx,
    integrationId: string,
    findingKey: string,
    fields: readonly WritebackField[],
    { sentSince }: { sentSince?: Date } = {},
  ): Promise<FindingWrite[]> {
    if (fields.length === 0) return [];
    const rows = await tx
      .selectFrom('securityhub_writebacks')
      .select(['id', 'alert_id', 'field', 'value', 'seq', 'status', 'lease_until'])
      .where('integration_id', '=', integrationId)
      .where('finding_key', '=', findingKey)
      .where('field', 'in', [...fields])
      .where((eb) =>
        eb.or([
          eb('status', 'in', ['pending', 'sending']),
          eb.and([
            eb.or([
              eb('status', '=', 'done'),
              eb.and([eb('status', '=', 'superseded'), eb('lease_until', 'is not', null)]),
            ]),
            sentSince !== undefined ? eb('updated_at', '>=', sentSince) : eb.lit(true),
          ]),
        ]),
      )
      .execute();
    return rows.map((r) => ({
      id: r.id,
      alertId: r.alert_id,
      field: r.field,
      value: r.value,
      seq: r.seq,
      unsent: r.status === 'pending' || r.status === 'sending',
      sent: r.status !== 'pending',
    }));
  },

  /** Supersedes the changes of this field from earlier events that have not been claimed yet. */
  async supersedeEarlierPending(
    tx: Tx,
    finding: WritableFinding,
    field: WritebackField,
    seq: number,
    now: Date,
  ): Promise<void> {
    const ended = await tx
      .updateTable('securityhub_writebacks')
      .set({ status: 'superseded', updated_at: now })
      .where('integration_id', '=', finding.integrationId)
      .where('finding_key', '=', finding.findingKey)
      .where('field', '=', field)
      .where('status', '=', 'pending')
      .where('seq', '<', String(seq) as never)
      .returning([
        'id',
        'integration_id',
        'finding_key',
        'field',
        'value',
        'attempts as requests',
        'last_error as answer',
      ])
      .execute();
    await forgetUnsent(tx, ended, now);
  },

  /** Remembers what Vigil wrote to the finding, so that its echo through intake changes nothing. */
  async rememberWrittenBack(tx: Tx, finding: WritableFinding, echo: Record<string, string>): Promise<void> {
    await sql`
      UPDATE securityhub_findings
      SET written_back = coalesce(written_back, '{}'::jsonb) || ${JSON.stringify(echo)}::jsonb
      WHERE integration_id = ${finding.integrationId} AND finding_key = ${finding.findingKey}`.execute(tx);
  },

  /** Records a change; a second delivery of the same event records nothing more. */
  async insertChange(tx: Tx, change: NewChange, now: Date): Promise<void> {
    await tx
      .insertInto('securityhub_writebacks')
      .values({
        integration_id: change.finding.integrationId,
        alert_id: change.alertId,
        finding_key: change.finding.findingKey,
        format: change.finding.format,
        product_arn: change.finding.productArn,
        finding_id: change.finding.findingId,
        aws_account_id: change.finding.awsAccountId,
        field: change.field,
        value: JSON.stringify(change.value),
        event_id: change.eventId,
        seq: change.seq,
        status: change.status,
        created_at: now,
        not_before: now,
        ...(change.lastError !== undefined ? { last_error: change.lastError } : {}),
      })
      .onConflict((oc) => oc.columns(['event_id', 'finding_key']).doNothing())
      .execute();
  },

  /**
   * Claims up to `limit` due changes under a lease until `leaseUntil`: pending ones whose backoff is over,
   * and sending ones whose lease lapsed (their process died), taken in turns across integrations, the
   * oldest of each first (one integration's backlog must not hold up the others'). Pending changes are
   * taken only from integrations whose changes have gathered (see the gather condition below), and never a
   * change while an earlier change of the same field of the same finding is in flight under a live lease
   * (being sent, or superseded while it was), so the two cannot cross. A due change that a later change of
   * its finding's field has overtaken is superseded rather than claimed: sent after the later one, its
   * older value would win.
   */
  async claimDue(
    tx: Tx,
    window: {
      now: Date;
      leaseUntil: Date;
      firstCreatedBefore: Date;
      quietSince: Date;
      eventsInFlight: boolean;
      limit: number;
      /** Names this claim: only it may renew, send and settle what it claims. */
      claimId: string;
    },
  ): Promise<ClaimedChange[]> {
    const { now } = window;
    await lockNames(tx, [CLAIM_LOCK]);
    // Picked once (MATERIALIZED), never again per row of the table: docs/architecture.md, "Claiming a batch".
    // Taken in turns, each integration's oldest first: by id alone, one integration's backlog (an
    // organization closing 100,000 findings: 1,000 requests at 9 a second) would fill every claim for
    // minutes, and another's acknowledgement, to another AWS account, would wait behind all of it. A
    // window function may not lock rows, so the turns are picked first (`picked`), then locked (`due`),
    // where the row's own conditions are read again on its latest version, as a locking read does.
    const result = await sql<ClaimedRow & { status: string }>`
      WITH picked AS MATERIALIZED (
        SELECT ranked.id FROM (
          SELECT w.id, row_number() OVER (PARTITION BY w.integration_id ORDER BY w.id) AS turn
          FROM securityhub_writebacks w
          -- A lapsed lease is taken over at once: its changes gathered when first claimed, and waiting for
          -- another change of the integration to become due could leave it unsent for good.
          WHERE ((w.status = 'sending' AND w.lease_until < ${now})
              OR (w.status = 'pending' AND w.not_before <= ${now}
                -- Gather: an integration's changes go when they pause with no alert event still on its way
                -- to becoming a change, or a while after the first of them; then all go together.
                AND w.integration_id IN (
                  SELECT g.integration_id FROM securityhub_writebacks g
                  WHERE g.status = 'pending' AND g.not_before <= ${now}
                  GROUP BY g.integration_id
                  HAVING min(g.created_at) <= ${window.firstCreatedBefore}
                      OR (max(g.created_at) <= ${window.quietSince} AND NOT ${window.eventsInFlight}))))
            AND NOT EXISTS (
              SELECT 1 FROM securityhub_writebacks s
              -- A change superseded while being sent keeps its lease (supersedeUnsent): its request may
              -- still land, and must not land after the next change of its field. Every other way out of
              -- 'sending' clears lease_until.
              WHERE s.status IN ('sending', 'superseded') AND s.lease_until >= ${now} AND s.id <> w.id
                AND s.integration_id = w.integration_id AND s.finding_key = w.finding_key AND s.field = w.field)
        ) AS ranked
        ORDER BY ranked.turn, ranked.id
        LIMIT ${window.limit}
      ),
      due AS MATERIALIZED (
        SELECT w.id, ${overtaken} AS overtaken
        FROM picked JOIN securityhub_writebacks w ON w.id = picked.id
        WHERE (w.status = 'sending' AND w.lease_until < ${now})
          OR (w.status = 'pending' AND w.not_before <= ${now})
        FOR UPDATE OF w SKIP LOCKED
      )
      UPDATE securityhub_writebacks w
      SET status = CASE WHEN due.overtaken THEN 'superseded' ELSE 'sending' END,
        lease_until = CASE WHEN due.overtaken THEN NULL ELSE ${window.leaseUntil}::timestamptz END,
        claim_id = CASE WHEN due.overtaken THEN NULL ELSE ${window.claimId}::uuid END,
        attempts = CASE WHEN due.overtaken THEN w.attempts ELSE w.attempts + 1 END,
        updated_at = ${now}
      FROM due WHERE w.id = due.id
      RETURNING w.id, w.integration_id, w.alert_id, w.format, w.product_arn, w.finding_id, w.aws_account_id, w.field, w.value, w.attempts, w.created_at, w.seq, w.status`.execute(
      tx,
    );
    return result.rows
      .filter((r) => r.status === 'sending')
      .map((r) => ({
        id: r.id,
        integrationId: r.integration_id,
        alertId: r.alert_id,
        format: r.format,
        productArn: r.product_arn,
        findingId: r.finding_id,
        awsAccountId: r.aws_account_id,
        field: r.field,
        value: r.value,
        attempts: r.attempts,
        createdAt: r.created_at,
        seq: r.seq,
      }));
  },

  /**
   * Ends changes that will never be sent: a later value replaced them, or write-back (or the integration)
   * was turned off. With `claimId`, only those still being sent under that claim, which did not send
   * them; those that a turn-off or a newer value ended meanwhile are taken back too (takeBackEnded). The
   * values of those that cannot have landed are forgotten (forgetUnsent). Returns their ids.
   */
  async supersede(
    db: Queryable,
    ids: readonly string[],
    now: Date,
    reason?: string,
    claimId?: string,
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    // `was` is the row as it was before: a change being sent under a claim that ends it unsent was not
    // sent by that claim (not an attempt, as release has it), and its last_error is the answer to the
    // request before, if there was one.
    const rows = await db
      .updateTable('securityhub_writebacks as w')
      .from('securityhub_writebacks as was')
      .set({
        status: 'superseded',
        lease_until: null,
        attempts: sql<number>`w.attempts - CASE WHEN was.status = 'sending' THEN 1 ELSE 0 END`,
        updated_at: now,
        ...(reason !== undefined ? { last_error: endedFor(reason) } : {}),
      })
      .whereRef('was.id', '=', 'w.id')
      .where(claimId !== undefined ? stillClaimed(claimId, ids) : sql<boolean>`w.id = ANY(${ids}::bigint[])`)
      .returning([...UNSENT_COLUMNS, 'was.last_error as answer'])
      .execute();
    await forgetUnsent(db, rows, now);
    // After the update, which matched only those still this claim's (and cleared their lease): those a
    // turn-off ended before it are taken back too. Before it, a turn-off between the two would end one
    // that neither matches.
    if (claimId !== undefined) await writebacksRepository.takeBackEnded(db, claimId, ids, now);
    return rows.map((r) => r.id);
  },

  /**
   * Renews the lease of the changes among `ids` still being sent under `claimId`, and returns their ids:
   * a sender sends only those (the others were taken over, or settled, while they waited their turn).
   */
  async keepClaim(
    db: Queryable,
    claimId: string,
    ids: readonly string[],
    leaseUntil: Date,
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .updateTable('securityhub_writebacks as w')
      .set({ lease_until: leaseUntil })
      .where(stillClaimed(claimId, ids))
      .returning('w.id')
      .execute();
    return rows.map((r) => r.id);
  },

  /**
   * Takes back, of the changes among `ids` that this claim did not send, those a turn-off or a newer value
   * ended while it held them (endedUnderClaim), as supersede does with a claim's changes it ends unsent:
   * their lease cleared (their request never went: nothing of theirs may land, and the next change of
   * their field need not wait for it), the claim's attempt taken back, and their value forgotten when
   * none of their requests can have landed (forgetUnsent). Else their lease and value would stand for a
   * request that may have landed: the value taken for Vigil's echo, for good. Returns their ids.
   */
  async takeBackEnded(db: Queryable, claimId: string, ids: readonly string[], now: Date): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .updateTable('securityhub_writebacks as w')
      .set({ lease_until: null, attempts: sql<number>`w.attempts - 1`, updated_at: now })
      .where(endedUnderClaim(claimId, ids))
      .returning([
        ...UNSENT_COLUMNS,
        // Ended for a reason of Vigil's (endedFor): the answer to its request before, if any, comes first.
        'w.last_error as answer',
      ])
      .execute();
    await forgetUnsent(db, rows, now);
    return rows.map((r) => r.id);
  },

  /**
   * Returns claimed changes unsent, as if they had not been claimed: to wait for more of their kind, or
   * (with `notBefore`) until the throttle that held their request back is over.
   */
  async release(db: Queryable, claimId: string, ids: readonly string[], notBefore?: Date): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable('securityhub_writebacks as w')
      .set((eb) => ({
        status: 'pending',
        lease_until: null,
        claim_id: null,
        attempts: eb('w.attempts', '-', 1),
        ...(notBefore !== undefined ? { not_before: notBefore } : {}),
      }))
      .where(stillClaimed(claimId, ids))
      .execute();
  },

  /** Settles changes AWS applied, those still this claim's; returns their ids. */
  async markDone(db: Queryable, claimId: string, ids: readonly string[], now: Date): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .updateTable('securityhub_writebacks as w')
      .set({ status: 'done', lease_until: null, updated_at: now })
      .where(stillClaimed(claimId, ids))
      .returning('w.id')
      .execute();
    return rows.map((r) => r.id);
  },

  /**
   * Puts a request's changes back to be retried together from `notBefore`, so that they go again in as
   * few requests as they went. Only those still being sent under this claim: a change another process
   * took over (after this one's lease lapsed) keeps that claim, or the outcome it settled. A change
   * overtaken while in flight (acknowledged, then closed) is superseded instead: the later change may
   * well be sent before this one's backoff is over, and this one's older value must not follow it.
   * Returns the ids of those it settled (put back or superseded).
   */
  async reschedule(
    db: Queryable,
    claimId: string,
    ids: readonly string[],
    notBefore: Date,
    error: string,
    now: Date,
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .updateTable('securityhub_writebacks as w')
      .set({
        status: sql<string>`CASE WHEN ${overtaken} THEN 'superseded' ELSE 'pending' END`,
        lease_until: null,
        claim_id: null,
        not_before: notBefore,
        last_error: error,
        updated_at: now,
      })
      .where(stillClaimed(claimId, ids))
      .returning('w.id')
      .execute();
    return rows.map((r) => r.id);
  },

  /**
   * Gives up on changes, those still this claim's (AWS refused them, or never took them in a day of
   * retries, or a throttle held them back all day): the values of those that cannot have landed are
   * forgotten (forgetUnsent). Returns their ids. `sent`: whether this claim sent them, `error` being
   * AWS's answer (the default); if not, the claim is no attempt (as release has it), and the answer to
   * their request before, if there was one, is still what tells whether they may have landed.
   */
  async markFailed(
    db: Queryable,
    claimId: string,
    ids: readonly string[],
    error: string,
    now: Date,
    { sent }: { sent: boolean } = { sent: true },
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .updateTable('securityhub_writebacks as w')
      .from('securityhub_writebacks as was')
      .set({
        status: 'failed',
        lease_until: null,
        updated_at: now,
        ...(sent
          ? { last_error: error }
          : { last_error: endedFor(error), attempts: sql<number>`w.attempts - 1` }),
      })
      .whereRef('was.id', '=', 'w.id')
      .where(stillClaimed(claimId, ids))
      .returning([...UNSENT_COLUMNS, 'w.last_error as answer'])
      .execute();
    await forgetUnsent(db, rows, now);
    return rows.map((r) => r.id);
  },

  /**
   * The changes due and not being sent (as claimDue reads them: pending ones whose backoff is over, and
   * sending ones whose lease lapsed), for the metrics; counted up to `limit`. Those the claim still holds
   * back a moment count too: gathering ends within a second (GATHER_MAX_MS), and a change behind an
   * earlier one of its field in flight waits at most that one's lease; both are part of the queue's lag.
   *
   * One walk of securityhub_writebacks_due from its earliest end: a change being sent keeps the not_before
   * it was claimed at (none later than that claim's `now`), so `not_before <= now` leaves none out. The
   * oldest is read from the same walk: a pending change waits from its not_before, and every change past
   * the first `limit` from one no earlier than theirs, so only a walk of `limit` changes all sending
   * (never: a lease lapses for one process's batch) could miss an older one.
   */
  async backlog(db: Queryable, now: Date, limit: number): Promise<QueueBacklog> {
    const row = await sql<{ due: string; oldest: Date | null }>`
      SELECT count(*) AS due,
             min(CASE WHEN status = 'pending' THEN not_before ELSE lease_until END) AS oldest
      FROM (
        SELECT status, not_before, lease_until FROM securityhub_writebacks
        WHERE status IN ('pending', 'sending') AND not_before <= ${now}
          AND (status = 'pending' OR lease_until < ${now})
        ORDER BY not_before
        LIMIT ${limit}) AS due`.execute(db);
    return { due: Number(row.rows[0]?.due ?? 0), oldestDueAt: row.rows[0]?.oldest ?? null };
  },

  /**
   * When a change not due at `now` may become claimable, for the sender to sleep until then: a backoff
   * or a throttle's hold ends (not_before), a lease runs out (to be taken over), or an in-flight change
   * that holds back the next change of its field stops doing so. And `gathering`: whether an integration's
   * due changes are still gathering (its first came after `firstCreatedBefore`), which a pause may end at
   * any moment.
   */
  async nextDue(
    db: Queryable,
    now: Date,
    firstCreatedBefore: Date,
  ): Promise<{ at: Date | null; gathering: boolean }> {
    const row = await sql<{ at: Date | null; gathering: boolean }>`
      SELECT least(
          (SELECT min(not_before) FROM securityhub_writebacks
            WHERE status = 'pending' AND not_before > ${now}),
          (SELECT min(lease_until) FROM securityhub_writebacks WHERE status = 'sending'),
          -- A change superseded while being sent keeps its lease, and holds back the next change of its
          -- field until then (claimDue).
          (SELECT min(s.lease_until) FROM securityhub_writebacks p
            JOIN securityhub_writebacks s ON s.integration_id = p.integration_id
              AND s.finding_key = p.finding_key AND s.field = p.field
            WHERE p.status = 'pending' AND p.not_before <= ${now}
              AND s.status = 'superseded' AND s.lease_until > ${now})) AS at,
        EXISTS (
          SELECT 1 FROM securityhub_writebacks WHERE status = 'pending' AND not_before <= ${now}
          GROUP BY integration_id HAVING min(created_at) > ${firstCreatedBefore}) AS gathering`.execute(db);
    return { at: row.rows[0]?.at ?? null, gathering: row.rows[0]?.gathering ?? false };
  },

  /** Locks `key`'s bucket until the transaction ends, making it full the first time the key is seen. */
  async lockRateBucket(tx: Tx, key: string, burst: number, now: Date): Promise<TokenBucket> {
    await tx
      .insertInto('aws_rate_buckets')
      .values({ key, tokens: burst, updated_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await tx
      .selectFrom('aws_rate_buckets')
      .select(['tokens', 'updated_at'])
      .where('key', '=', key)
      .forUpdate()
      .executeTakeFirst();
    return row
      ? { tokens: Number(row.tokens), updatedAt: row.updated_at }
      : { tokens: burst, updatedAt: now };
  },

  async saveRateBucket(tx: Tx, key: string, tokens: number, now: Date): Promise<void> {
    await tx
      .updateTable('aws_rate_buckets')
      .set({ tokens, updated_at: now })
      .where('key', '=', key)
      .execute();
  },

  /** The integration's write-back status column is the write-back's own: nothing else writes it. */
  async setIntegrationStatus(
    db: Queryable,
    integrationId: string,
    status: WritebackStatus,
    now: Date,
  ): Promise<void> {
    await db
      .updateTable('integrations')
      .set({ writeback_status: JSON.stringify({ ...status, at: now.toISOString() }) })
      .where('id', '=', integrationId)
      .execute();
  },

  /**
   * The role to assume and the integration's region (a finding's whose product names no region: sender.ts
   * sends each finding's change to its own region), or undefined when the integration writes nothing back.
   */
  async roleTarget(db: Queryable, integrationId: string): Promise<RoleTarget | undefined> {
    const row = await integrationsRepository.getById(db, integrationId);
    if (!row || !securityHubSettings(row.settings).sendUpdatesBack) return undefined;
    const target = roleOf(row);
    return 'missing' in target ? undefined : target;
  },

  /**
   * The role and region the role test checks (writeback.ts's `test`): those the settings give, whether
   * write-back is on or not yet, so that people can test a role before they turn write-back on; or which
   * of them is missing. Undefined when there is no such integration.
   */
  async roleToTest(
    db: Queryable,
    integrationId: string,
  ): Promise<RoleTarget | { missing: string[] } | undefined> {
    const row = await integrationsRepository.getById(db, integrationId);
    return row && roleOf(row);
  },

  /**
   * Why the integration writes nothing back whenever its changes were made, as read after "the
   * integration is": deleted, or turned off (its `enabled` flag keeps no history: as it is now);
   * undefined when it is on.
   */
  async switchedOff(db: Queryable, integrationId: string): Promise<string | undefined> {
    const row = await integrationsRepository.getById(db, integrationId);
    if (!row) return 'deleted';
    return row.enabled ? undefined : 'turned off';
  },

  /**
   * Why a change made at `madeAt` is not to be written back though write-back is set up, as read after
   * "the integration is": deleted or turned off (now, see switchedOff), or disabled by a maintenance open
   * at `madeAt` (which stands for turning it off, as the intake has it); undefined when it may be sent.
   * A maintenance is judged at the change's own time, not when it is recorded: the event queue may lag,
   * and one cancelled (or ended) since still disabled the integration then. The recorder reads it with
   * the integration's row locked (findingsToWriteBack): a turn-off under way is read once committed.
   */
  async pausedBy(db: Queryable, integrationId: string, madeAt: Date): Promise<string | undefined> {
    const off = await writebacksRepository.switchedOff(db, integrationId);
    if (off !== undefined) return off;
    const [open] = await maintenanceRepository.windowsCovering(db, integrationId, madeAt);
    return open ? `disabled by maintenance ${open.id}` : undefined;
  },

  async integrationOwner(db: Queryable, integrationId: string): Promise<IntegrationOwner | undefined> {
    const row = await integrationsRepository.getById(db, integrationId);
    if (!row) return undefined;
    return {
      orgId: row.org_id,
      integrationId: row.id,
      integrationName: row.name,
      ownerTeamId: row.owner_team_id,
    };
  },
};
