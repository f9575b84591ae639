import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Principal } from '../../accounts/service.js';
import type { Actor } from '../../alerts/events.js';
import type { AlertsService } from '../../alerts/service.js';
import type { Config } from '../../config.js';
import { isDatabaseUnavailable, type Db, type Tx } from '../../db/database.js';
import type { AlertRow, Priority } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import { integrationsRepository as repo, type IntegrationWithTeams } from '../repository.js';
import { SEVERITY_LABELS, securityHubSettings, type SecurityHubSettings } from '../types.js';
import {
  ALERT_LIMITS,
  alertFieldsForFinding,
  alertFieldsForInsight,
  cut,
  parseSecurityHubEvent,
  priorityForSeverity,
  type NormalizedFinding,
  type ParsedEvent,
} from './findings.js';
import {
  looksLikeSnsMessage,
  parseSnsMessage,
  subscribeUrlProblem,
  verifySnsMessage,
  type SnsCertificateStore,
  type SnsMessage,
} from './sns.js';

/**
 * The Amazon Security Hub intake: SNS deliveries (confirmations, notifications, unsubscribes) and bare
 * EventBridge events, turned into alerts. Every delivery ends in the payload log with its verdict.
 */

export type Verdict =
  | 'created'
  | 'updated'
  | 'closed'
  | 'ignored'
  | 'refused'
  | 'duplicate'
  | 'confirmed'
  | 'unsubscribed'
  | 'failed';

export interface IntakeRequest {
  /** The key came in a header (EventBridge API destinations), not in the URL. */
  keyInHeader: boolean;
  contentType: string | undefined;
  body: string;
}

export interface IntakeAnswer {
  status: number;
  body: {
    result: string;
    verdict: Verdict | 'queued';
    reason?: string;
    alertIds?: string[];
    payloadId?: string;
  };
}

export interface IntakeDeps {
  db: Db;
  alerts: AlertsService;
  config: Config;
  log: Logger;
  certificates: SnsCertificateStore;
  /** GETs an SNS SubscribeURL; the URL has been checked to be an SNS host. */
  confirmSubscription: (url: string) => Promise<{ status: number; body: string }>;
}

interface FindingOutcome {
  verdict: Verdict;
  reason?: string;
  alertId?: string;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly verdict: Verdict,
    message: string,
  ) {
    super(message);
  }
}

const HANDLED = new Set(['NOTIFIED', 'RESOLVED', 'SUPPRESSED']);

/**
 * Why an open alert for this finding should close, or undefined. Compliance PASSED closes only when the
 * finding becomes PASSED: a finding that arrives PASSED may still deserve its alert (a custom action, say).
 */
export function closeReason(
  f: NormalizedFinding,
  settings: SecurityHubSettings,
  previousCompliance: string | null | undefined,
): string | undefined {
  if (f.workflowStatus === 'RESOLVED' && settings.autoClose.resolved)
    return "the finding's Workflow.Status is RESOLVED";
  if (f.workflowStatus === 'SUPPRESSED' && settings.autoClose.suppressed)
    return "the finding's Workflow.Status is SUPPRESSED";
  if (f.recordState === 'ARCHIVED' && settings.autoClose.archived)
    return "the finding's RecordState is ARCHIVED";
  if (
    f.complianceStatus === 'PASSED' &&
    settings.autoClose.passed &&
    previousCompliance &&
    previousCompliance !== 'PASSED'
  ) {
    return "the finding's Compliance.Status became PASSED";
  }
  return undefined;
}

/** One finding, one alert: the alias is derived from the integration and the finding's identity. */
export function findingAlias(integrationId: string, f: NormalizedFinding): string {
  const digest = createHash('sha256')
    .update(`${integrationId}\n${f.key.productArn}\n${f.key.id}`)
    .digest('hex');
  return `securityhub-${digest.slice(0, 40)}`;
}

/** True when what changed in the finding is only what Vigil itself wrote back (the write-back's echo). */
export function isEchoOfWriteBack(
  previous: {
    workflow_status: string | null;
    severity_label: string | null;
    note_text: string | null;
    written_back: Record<string, unknown> | null;
  },
  f: NormalizedFinding,
): boolean {
  const wrote = previous.written_back;
  if (!wrote) return false;
  const changes: [string, unknown, unknown][] = [
    ['workflowStatus', previous.workflow_status, f.workflowStatus ?? null],
    ['severityLabel', previous.severity_label, f.severityLabel],
    ['noteText', previous.note_text, f.note?.text ?? null],
  ];
  const changed = changes.filter(([, before, after]) => before !== after);
  return changed.length > 0 && changed.every(([field, , after]) => wrote[field] === after);
}

function teamOf(integration: IntegrationWithTeams): string {
  return integration.assignee_team_id ?? integration.owner_team_id;
}

function systemPrincipal(orgId: string): Principal {
  return {
    orgId,
    apiKeyId: '',
    userId: undefined,
    username: undefined,
    fullName: undefined,
    role: undefined,
  };
}

export function createSecurityHubIntake(deps: IntakeDeps) {
  const { db, alerts, log } = deps;

  // Confirmed topics change rarely and are asked about on every notification: remember a "yes" for a
  // few seconds (an unsubscribe through this process forgets it at once).
  const confirmedTopics = new Map<string, number>();
  async function isConfirmedTopic(integrationId: string, topicArn: string): Promise<boolean> {
    const key = `${integrationId}|${topicArn}`;
    if ((confirmedTopics.get(key) ?? 0) > Date.now()) return true;
    const confirmed = await repo.isConfirmedTopic(db, integrationId, topicArn);
    if (confirmed) {
      if (confirmedTopics.size > 10_000) confirmedTopics.clear();
      confirmedTopics.set(key, Date.now() + 5_000);
    }
    return confirmed;
  }

  function actorFor(integration: IntegrationWithTeams): Actor {
    return { kind: 'integration', name: integration.name, integrationId: integration.id };
  }

  async function createAlert(
    tx: Tx,
    integration: IntegrationWithTeams,
    requestId: string,
    fields: {
      message: string;
      alias: string;
      description: string;
      entity?: string;
      tags: string[];
      details: Record<string, string>;
      priority: Priority;
      source: string;
      team?: string;
    },
  ): Promise<{ alert: AlertRow; inserted: boolean }> {
    return alerts.create(
      systemPrincipal(integration.org_id),
      requestId,
      {
        message: fields.message,
        alias: fields.alias,
        description: fields.description,
        entity: fields.entity,
        tags: fields.tags,
        details: fields.details,
        priority: fields.priority,
        source: fields.source,
      },
      {
        tx,
        resolvedResponders: [{ type: 'team', id: fields.team ?? teamOf(integration) }],
        actor: actorFor(integration),
        integration: { id: integration.id, name: integration.name, type: integration.type },
      },
    );
  }

  async function processFinding(
    tx: Tx,
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    event: ParsedEvent,
    finding: NormalizedFinding,
    requestId: string,
  ): Promise<FindingOutcome> {
    const isCustomAction = event.kind === 'custom-action';
    if (SEVERITY_LABELS.indexOf(finding.severityLabel) < SEVERITY_LABELS.indexOf(settings.minimumSeverity)) {
      return {
        verdict: 'ignored',
        reason: `severity ${finding.severityLabel} is below the minimum ${settings.minimumSeverity}`,
      };
    }
    // Serialises work on one finding across requests and processes; released at commit.
    const lockKey = `${integration.id}\n${finding.key.productArn}\n${finding.key.id}`;
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`.execute(tx);
    const previous = await tx
      .selectFrom('securityhub_findings')
      .selectAll()
      .where('integration_id', '=', integration.id)
      .where('product_arn', '=', finding.key.productArn)
      .where('finding_id', '=', finding.key.id)
      .executeTakeFirst();

    if (previous && !isCustomAction && isEchoOfWriteBack(previous, finding)) {
      await saveFinding(tx, integration, finding, previous.alert_id);
      return {
        verdict: 'ignored',
        reason: 'the update only reflects what Vigil wrote back',
        alertId: previous.alert_id ?? undefined,
      };
    }

    // Deliveries may be processed out of order: an update older than the one applied changes nothing.
    const before = Date.parse(previous?.finding_updated_at ?? '');
    const now = Date.parse(finding.updatedAt ?? '');
    if (!isCustomAction && Number.isFinite(before) && Number.isFinite(now) && now < before) {
      return {
        verdict: 'ignored',
        reason: 'an older version of the finding than the one already applied',
        alertId: previous?.alert_id ?? undefined,
      };
    }
    const open = previous?.alert_id ? await alerts.lockInTx(tx, previous.alert_id) : undefined;
    const alert = open?.status === 'open' ? open : undefined;
    const reason = closeReason(finding, settings, previous?.compliance_status);
    const actor = actorFor(integration);
    const fields = alertFieldsForFinding(finding, {
      actionName: event.actionName,
      actionDescription: event.actionDescription,
    });

    if (alert) {
      if (reason) {
        await alerts.applyInTx(tx, alert, { kind: 'close' }, actor, {
          note: `Closed by Amazon Security Hub: ${reason}.`,
          source: 'Amazon Security Hub',
        });
        await saveFinding(tx, integration, finding, alert.id);
        return { verdict: 'closed', reason, alertId: alert.id };
      }
      const providerChanged =
        finding.providerSeverityLabel !== undefined &&
        previous?.provider_severity !== null &&
        previous?.provider_severity !== undefined &&
        previous.provider_severity !== finding.providerSeverityLabel;
      const changed = Object.keys(fields.details).filter((k) => alert.details[k] !== fields.details[k]);
      await alerts.recordRepeat(
        tx,
        alert,
        {
          details: fields.details,
          priority:
            providerChanged && finding.providerSeverityLabel
              ? priorityForSeverity(finding.providerSeverityLabel)
              : undefined,
          summary:
            changed.length > 0
              ? `Finding updated in Security Hub (${changed.join(', ')} changed)`
              : 'Finding sent again by Security Hub',
        },
        actor,
      );
      await saveFinding(tx, integration, finding, alert.id);
      return { verdict: 'updated', alertId: alert.id };
    }

    // A finding that stays passed after its alert closed opens nothing; one that first arrives passed may.
    const passedAgain =
      previous !== undefined && finding.complianceStatus === 'PASSED' && settings.autoClose.passed;
    if (reason || passedAgain) {
      await saveFinding(tx, integration, finding, previous?.alert_id ?? null);
      return {
        verdict: 'ignored',
        reason: `${reason ?? "the finding's Compliance.Status is PASSED"}, and it has no open alert`,
      };
    }
    if (
      !isCustomAction &&
      !settings.alertOnHandledFindings &&
      finding.workflowStatus &&
      HANDLED.has(finding.workflowStatus)
    ) {
      await saveFinding(tx, integration, finding, previous?.alert_id ?? null);
      return {
        verdict: 'ignored',
        reason: `the finding is already ${finding.workflowStatus} (alertOnHandledFindings is off)`,
      };
    }
    const { alert: created } = await createAlert(tx, integration, requestId, {
      ...fields,
      alias: findingAlias(integration.id, finding),
    });
    await saveFinding(tx, integration, finding, created.id);
    return { verdict: 'created', alertId: created.id };
  }

  async function saveFinding(
    tx: Tx,
    integration: IntegrationWithTeams,
    f: NormalizedFinding,
    alertId: string | null,
  ) {
    const state = {
      alert_id: alertId,
      provider_severity: f.providerSeverityLabel ?? null,
      severity_label: f.severityLabel,
      workflow_status: f.workflowStatus ?? null,
      record_state: f.recordState ?? null,
      compliance_status: f.complianceStatus ?? null,
      note_text: f.note?.text ?? null,
      finding_updated_at: f.updatedAt ?? null,
      last_seen_at: new Date(),
    };
    await tx
      .insertInto('securityhub_findings')
      .values({
        integration_id: integration.id,
        product_arn: f.key.productArn,
        finding_id: f.key.id,
        ...state,
      })
      .onConflict((oc) => oc.columns(['integration_id', 'product_arn', 'finding_id']).doUpdateSet(state))
      .execute();
  }

  /** Turns one EventBridge event into alert changes, in the caller's transaction. */
  async function processEvent(
    tx: Tx,
    integration: IntegrationWithTeams,
    raw: unknown,
    requestId: string,
  ): Promise<{ verdict: Verdict; reason?: string; alertIds: string[] }> {
    const settings = securityHubSettings(integration.settings);
    const event = parseSecurityHubEvent(raw);
    if (event.kind === 'unsupported') {
      return {
        verdict: 'ignored',
        reason: event.skipped[0]?.reason ?? 'not a Security Hub event',
        alertIds: [],
      };
    }
    if (!settings.eventTypes.includes(event.kind)) {
      return {
        verdict: 'ignored',
        reason: `event type "${event.detailType}" is not selected in this integration`,
        alertIds: [],
      };
    }
    if (event.kind === 'insight-results') {
      const fields = alertFieldsForInsight(event);
      const { alert } = await createAlert(tx, integration, requestId, {
        ...fields,
        alias: `securityhub-insight-${event.eventId ?? requestId}`,
      });
      return { verdict: 'created', alertIds: [alert.id] };
    }
    // Findings in a stable order, so two requests locking the same findings cannot deadlock.
    const findings = [...event.findings].sort((a, b) =>
      `${a.key.productArn}\n${a.key.id}`.localeCompare(`${b.key.productArn}\n${b.key.id}`),
    );
    const outcomes: FindingOutcome[] = [];
    for (const finding of findings) {
      outcomes.push(await processFinding(tx, integration, settings, event, finding, requestId));
    }
    const alertIds = [...new Set(outcomes.flatMap((o) => (o.alertId ? [o.alertId] : [])))];
    if (outcomes.length === 0) {
      return {
        verdict: 'ignored',
        reason: event.skipped[0]?.reason ?? 'the event holds no findings',
        alertIds,
      };
    }
    // The strongest outcome names the delivery; the reasons of the others are kept.
    const rank: Verdict[] = ['created', 'closed', 'updated', 'ignored'];
    const verdict = rank.find((v) => outcomes.some((o) => o.verdict === v)) ?? 'ignored';
    const reasons = outcomes.filter((o) => o.reason).map((o) => o.reason);
    const skipped = event.skipped.map((s) => `finding ${s.index} skipped: ${s.reason}`);
    const reason = [...new Set([...reasons, ...skipped])].join('; ') || undefined;
    return { verdict, reason, alertIds };
  }

  async function record(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    kind: string,
    messageId: string | null,
    verdict: Verdict,
    reason: string | undefined,
    alertIds: string[] = [],
    tx?: Tx,
  ): Promise<void> {
    await repo.recordPayload(tx ?? db, {
      integration_id: integration.id,
      message_id: messageId,
      kind,
      verdict,
      reason: reason ?? null,
      alert_ids: alertIds,
      content_type: request.contentType ?? null,
      body: request.body,
    });
  }

  function topicAllowed(settings: SecurityHubSettings, topicArn: string): boolean {
    return settings.allowedTopicArns.includes('*') || settings.allowedTopicArns.includes(topicArn);
  }

  /**
   * Runs the work of one accepted delivery in a transaction that also claims its message id and writes
   * its payload record: either all of it is stored, or none of it and the sender retries.
   */
  async function commitDelivery(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    kind: string,
    messageId: string | null,
    work: (tx: Tx) => Promise<{ verdict: Verdict; reason?: string; alertIds: string[] }>,
  ): Promise<IntakeAnswer> {
    const result = await db.transaction().execute(async (tx) => {
      if (messageId && !(await repo.claimMessage(tx, integration.id, messageId))) {
        return {
          verdict: 'duplicate' as Verdict,
          reason: `message ${messageId} was already processed`,
          alertIds: [],
        };
      }
      const outcome = await work(tx);
      await record(
        integration,
        request,
        kind,
        messageId,
        outcome.verdict,
        outcome.reason,
        outcome.alertIds,
        tx,
      );
      return outcome;
    });
    if (result.verdict === 'duplicate') {
      await record(integration, request, kind, messageId, 'duplicate', result.reason);
    }
    return {
      status: 200,
      body: {
        result: 'Accepted',
        verdict: result.verdict,
        ...(result.reason ? { reason: result.reason } : {}),
        alertIds: result.alertIds,
      },
    };
  }

  /**
   * Stores a delivery for the workers to turn into alerts: the duplicate check, the payload record and
   * its job. The sender's 2xx means the delivery is durably stored; the payload log tells what became of
   * it moments later. Deliveries arriving together are written together, in one statement (one round
   * trip and one commit for all of them): under load that is what lets the intake keep up.
   */
  interface QueuedDelivery {
    integrationId: string;
    messageId: string | null;
    kind: string;
    contentType: string | null;
    body: string;
    done: (result: { id: string; verdict: 'queued' | 'duplicate' }) => void;
    fail: (error: unknown) => void;
  }
  const waiting: QueuedDelivery[] = [];
  let flushScheduled = false;

  async function flushDeliveries(): Promise<void> {
    flushScheduled = false;
    const batch = waiting.splice(0, 500);
    if (waiting.length > 0 && !flushScheduled) {
      flushScheduled = true;
      setImmediate(() => void flushDeliveries());
    }
    if (batch.length === 0) return;
    // A message id twice in one batch: the first is the delivery, the others its retries.
    const seen = new Set<string>();
    const firstOfItsId = batch.map((d) => {
      if (d.messageId === null) return true;
      const key = `${d.integrationId}|${d.messageId}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    try {
      const result = await sql<{ ord: number; id: string; verdict: 'queued' | 'duplicate' }>`
        WITH input AS (
          SELECT * FROM unnest(
            ${batch.map((_, n) => n)}::int[], ${batch.map((d) => d.integrationId)}::uuid[],
            ${batch.map((d) => d.messageId)}::text[], ${batch.map((d) => d.kind)}::text[],
            ${batch.map((d) => d.contentType)}::text[], ${batch.map((d) => d.body)}::text[],
            ${firstOfItsId}::boolean[]
          ) AS t(ord, integration_id, message_id, kind, content_type, body, first_of_its_id)
        ),
        claim AS (
          INSERT INTO sns_processed_messages (integration_id, message_id)
          SELECT integration_id, message_id FROM input WHERE message_id IS NOT NULL AND first_of_its_id
          ON CONFLICT (integration_id, message_id) DO NOTHING
          RETURNING integration_id, message_id
        ),
        decided AS (
          SELECT input.*,
                 CASE WHEN input.message_id IS NULL
                        OR (input.first_of_its_id AND EXISTS (
                              SELECT 1 FROM claim c
                              WHERE c.integration_id = input.integration_id AND c.message_id = input.message_id))
                      THEN 'queued' ELSE 'duplicate' END AS verdict
          FROM input
        ),
        payload AS (
          INSERT INTO integration_payloads (integration_id, message_id, kind, verdict, reason, content_type, body)
          SELECT integration_id, message_id, kind, verdict,
                 CASE WHEN verdict = 'duplicate' THEN 'message ' || message_id || ' was already processed' END,
                 content_type, body
          FROM decided ORDER BY ord
          RETURNING id, verdict
        ),
        numbered AS (
          SELECT id, verdict, row_number() OVER (ORDER BY id) - 1 AS ord FROM payload
        )
        SELECT ord::int AS ord, id::text AS id, verdict FROM numbered`.execute(db);
      // Payload ids are handed out in insertion order, which is the batch's order.
      const byOrd = new Map(result.rows.map((r) => [Number(r.ord), r]));
      batch.forEach((d, n) => {
        const row = byOrd.get(n);
        if (row) d.done({ id: row.id, verdict: row.verdict });
        else d.fail(new Error('the delivery was not stored'));
      });
    } catch (error) {
      for (const d of batch) d.fail(error);
    }
  }

  async function queueDelivery(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    kind: string,
    messageId: string | null,
  ): Promise<IntakeAnswer> {
    const row = await new Promise<{ id: string; verdict: 'queued' | 'duplicate' }>((done, fail) => {
      waiting.push({
        integrationId: integration.id,
        messageId,
        kind,
        contentType: request.contentType ?? null,
        body: request.body,
        done,
        fail,
      });
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(() => void flushDeliveries());
      }
    });
    return {
      status: 200,
      body: {
        result: 'Accepted',
        verdict: row.verdict,
        ...(row.verdict === 'duplicate' ? { reason: `message ${messageId} was already processed` } : {}),
        payloadId: row.id,
      },
    };
  }

  async function handleSns(
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    request: IntakeRequest,
    body: unknown,
    requestId: string,
    options: { replay: boolean },
  ): Promise<IntakeAnswer> {
    const parsed = parseSnsMessage(body);
    if (!parsed.ok) throw new Refusal(400, 'refused', `Not a valid SNS message: ${parsed.reason}`);
    const message: SnsMessage = parsed.message;
    const kind = message.Type;
    if (settings.verifySignatures) {
      const verified = await verifySnsMessage(message, {
        certificates: deps.certificates,
        maxAgeSeconds: options.replay ? 0 : deps.config.snsMaxMessageAge,
      });
      if (!verified.ok) throw new Refusal(403, 'refused', `SNS signature check failed: ${verified.reason}`);
    }

    if (message.Type === 'SubscriptionConfirmation') {
      if (settings.allowedTopicArns.length > 0 && !topicAllowed(settings, message.TopicArn)) {
        throw new Refusal(
          403,
          'refused',
          `Topic ${message.TopicArn} is not in this integration's allowedTopicArns.`,
        );
      }
      const url = message.SubscribeURL ?? '';
      const problem = subscribeUrlProblem(url);
      if (problem) throw new Refusal(403, 'refused', problem);
      let answer: { status: number; body: string };
      try {
        answer = await deps.confirmSubscription(url);
      } catch (error) {
        throw new Refusal(502, 'failed', `Confirming the subscription failed: ${(error as Error).message}`);
      }
      if (answer.status < 200 || answer.status >= 300) {
        throw new Refusal(
          502,
          'failed',
          `Confirming the subscription failed: SNS answered ${answer.status}.`,
        );
      }
      const subscriptionArn = /<SubscriptionArn>([^<]+)<\/SubscriptionArn>/.exec(answer.body)?.[1] ?? null;
      return commitDelivery(integration, request, kind, message.MessageId, async (tx) => {
        await repo.setSubscription(tx, integration.id, message.TopicArn, 'confirmed', subscriptionArn);
        const { alert } = await createAlert(tx, integration, requestId, {
          message: cut(
            `Amazon Security Hub integration ${integration.name} is connected`,
            ALERT_LIMITS.message,
          ),
          alias: cut(
            `securityhub-subscription-${integration.id}-${message.TopicArn}`,
            ALERT_LIMITS.alias,
            '',
          ),
          description: `Vigil confirmed the SNS subscription of topic ${message.TopicArn}${subscriptionArn ? ` (${subscriptionArn})` : ''}. Findings published to this topic now become alerts${integration.enabled ? '' : ' once the integration is turned on'}.`,
          tags: ['securityhub', 'sns', 'setup'],
          details: {
            TopicArn: message.TopicArn,
            ...(subscriptionArn ? { SubscriptionArn: subscriptionArn } : {}),
          },
          priority: 'P5',
          source: 'Amazon SNS',
          team: integration.owner_team_id,
        });
        return { verdict: 'confirmed', reason: `subscribed to ${message.TopicArn}`, alertIds: [alert.id] };
      });
    }

    if (message.Type === 'UnsubscribeConfirmation') {
      return commitDelivery(integration, request, kind, message.MessageId, async (tx) => {
        await repo.setSubscription(tx, integration.id, message.TopicArn, 'unsubscribed', null);
        confirmedTopics.delete(`${integration.id}|${message.TopicArn}`);
        const { alert } = await createAlert(tx, integration, requestId, {
          message: cut(
            `Amazon Security Hub integration ${integration.name} was unsubscribed from SNS`,
            ALERT_LIMITS.message,
          ),
          alias: cut(
            `securityhub-unsubscribed-${integration.id}-${message.TopicArn}`,
            ALERT_LIMITS.alias,
            '',
          ),
          description: `SNS reports that the subscription of topic ${message.TopicArn} to this integration was removed. Findings from that topic no longer reach Vigil. If this was not intended, subscribe the endpoint URL to the topic again.`,
          tags: ['securityhub', 'sns', 'setup'],
          details: { TopicArn: message.TopicArn },
          priority: 'P3',
          source: 'Amazon SNS',
          team: integration.owner_team_id,
        });
        return {
          verdict: 'unsubscribed',
          reason: `unsubscribed from ${message.TopicArn}`,
          alertIds: [alert.id],
        };
      });
    }

    // Notification
    // Without signature checks the TopicArn proves nothing; it is still a filter when topics are listed.
    const checkTopic = settings.verifySignatures || settings.allowedTopicArns.length > 0;
    const allowed =
      !checkTopic ||
      topicAllowed(settings, message.TopicArn) ||
      (await isConfirmedTopic(integration.id, message.TopicArn));
    if (!allowed) {
      throw new Refusal(
        403,
        'refused',
        `Topic ${message.TopicArn} has no confirmed subscription to this integration; subscribe it (the confirmation is automatic) or add it to allowedTopicArns.`,
      );
    }
    if (!integration.enabled) {
      await record(integration, request, kind, message.MessageId, 'ignored', 'the integration is turned off');
      return {
        status: 200,
        body: { result: 'Accepted', verdict: 'ignored', reason: 'the integration is turned off' },
      };
    }
    let event: unknown;
    try {
      event = JSON.parse(message.Message);
    } catch {
      return commitDelivery(integration, request, kind, message.MessageId, async () => ({
        verdict: 'ignored',
        reason: 'the SNS Message is not JSON, so not an EventBridge event',
        alertIds: [],
      }));
    }
    if (!options.replay) return queueDelivery(integration, request, kind, message.MessageId);
    return commitDelivery(integration, request, kind, null, (tx) =>
      processEvent(tx, integration, event, requestId),
    );
  }

  async function handleParsed(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    body: unknown,
    requestId: string,
    options: { replay: boolean },
  ): Promise<IntakeAnswer> {
    const settings = securityHubSettings(integration.settings);
    if (looksLikeSnsMessage(body)) return handleSns(integration, settings, request, body, requestId, options);

    // A bare EventBridge event: raw message delivery, or an EventBridge API destination.
    if (settings.verifySignatures && !request.keyInHeader && !options.replay) {
      throw new Refusal(
        403,
        'refused',
        'This integration verifies SNS signatures and the body is not an SNS message. For EventBridge API destinations send the key in the X-Api-Key header; for SNS raw message delivery turn verifySignatures off.',
      );
    }
    if (!integration.enabled) {
      await record(integration, request, 'EventBridge', null, 'ignored', 'the integration is turned off');
      return {
        status: 200,
        body: { result: 'Accepted', verdict: 'ignored', reason: 'the integration is turned off' },
      };
    }
    const eventId =
      typeof (body as { id?: unknown } | null)?.id === 'string' ? (body as { id: string }).id : null;
    if (!options.replay) {
      return queueDelivery(integration, request, 'EventBridge', eventId ? `eventbridge:${eventId}` : null);
    }
    return commitDelivery(integration, request, 'EventBridge', null, (tx) =>
      processEvent(tx, integration, body, requestId),
    );
  }

  async function run(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    requestId: string,
    options: { replay: boolean },
  ): Promise<IntakeAnswer> {
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch (error) {
      const reason = `The body is not valid JSON: ${(error as Error).message}`;
      await record(integration, request, 'unknown', null, 'refused', reason).catch(() => {});
      return { status: 400, body: { result: 'Refused', verdict: 'refused', reason } };
    }
    const messageId = looksLikeSnsMessage(body) ? String((body as { MessageId: unknown }).MessageId) : null;
    const kind = looksLikeSnsMessage(body) ? String((body as { Type: unknown }).Type) : 'EventBridge';
    try {
      return await handleParsed(integration, request, body, requestId, options);
    } catch (error) {
      if (error instanceof Refusal) {
        log.warn({ integrationId: integration.id, reason: error.message }, 'Security Hub delivery refused');
        await record(integration, request, kind, messageId, error.verdict, error.message).catch(() => {});
        return {
          status: error.status,
          body: { result: 'Refused', verdict: error.verdict, reason: error.message },
        };
      }
      if (isDatabaseUnavailable(error) || (error as { code?: unknown }).code !== undefined) {
        log.error({ err: error, integrationId: integration.id }, 'Security Hub delivery could not be stored');
        return {
          status: 503,
          body: {
            result: 'Retry',
            verdict: 'failed',
            reason: 'The delivery could not be stored; it will be retried.',
          },
        };
      }
      throw error;
    }
  }

  async function processBatch(limit: number): Promise<number> {
    return db.transaction().execute(async (tx) => {
      const queued = await tx
        .selectFrom('integration_payloads')
        .select(['id', 'integration_id', 'body'])
        .where('verdict', '=', 'queued')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute();
      const integrations = new Map<string, IntegrationWithTeams | undefined>();
      for (const stored of queued) {
        const settle = (verdict: Verdict, reason: string | undefined, alertIds: string[] = []) =>
          tx
            .updateTable('integration_payloads')
            .set({ verdict, reason: reason ?? null, alert_ids: alertIds })
            .where('id', '=', stored.id as never)
            .execute();
        if (!integrations.has(stored.integration_id)) {
          integrations.set(stored.integration_id, await repo.getById(tx, stored.integration_id));
        }
        const integration = integrations.get(stored.integration_id);
        if (!integration) continue;
        if (!integration.enabled) {
          await settle('ignored', 'the integration was turned off before the delivery was processed');
          continue;
        }
        await sql`SAVEPOINT delivery`.execute(tx);
        try {
          const body = JSON.parse(stored.body) as unknown;
          const event = looksLikeSnsMessage(body)
            ? (JSON.parse((body as { Message: string }).Message) as unknown)
            : body;
          const outcome = await processEvent(tx, integration, event, randomUUID());
          await settle(outcome.verdict, outcome.reason, outcome.alertIds);
          await sql`RELEASE SAVEPOINT delivery`.execute(tx);
        } catch (error) {
          await sql`ROLLBACK TO SAVEPOINT delivery`.execute(tx);
          // Transient database trouble (a deadlock with another batch, a lost connection): the whole
          // batch rolls back and runs again on the next tick.
          const code = (error as { code?: string }).code;
          if (isDatabaseUnavailable(error) || code === '40P01' || code === '40001') throw error;
          log.error({ err: error, payloadId: stored.id }, 'a stored delivery could not be made into alerts');
          await settle(
            'failed',
            `Vigil could not process this delivery: ${(error as Error).message}; replay it once fixed.`,
          );
        }
      }
      return queued.length;
    });
  }

  return {
    async handle(
      integration: IntegrationWithTeams | undefined,
      request: IntakeRequest,
      requestId: string,
    ): Promise<IntakeAnswer> {
      if (!integration) {
        return {
          status: 401,
          body: {
            result: 'Refused',
            verdict: 'refused',
            reason:
              'Unknown integration API key: copy the endpoint URL from the integration again (the key may have been regenerated).',
          },
        };
      }
      return run(integration, request, requestId, { replay: false });
    },

    /**
     * Turns queued deliveries into alerts, up to `limit` of them in one transaction (one commit for the
     * lot), each behind a savepoint so one that fails is set aside without undoing the others. Any
     * number of processes may run this: SKIP LOCKED shares the queue out. Returns how many it took.
     */
    async processQueued(limit = 100): Promise<number> {
      try {
        return await processBatch(limit);
      } catch (error) {
        // Two batches holding findings in opposite orders: PostgreSQL ends one; it runs again next tick.
        if ((error as { code?: string }).code === '40P01') {
          log.warn('two delivery batches deadlocked; the one rolled back will run again');
          return 0;
        }
        throw error;
      }
    },

    /** Processes a stored payload again, without the age and duplicate checks (signatures still apply). */
    async replay(
      integration: IntegrationWithTeams,
      stored: { body: string; content_type: string | null },
      requestId: string,
    ) {
      return run(
        integration,
        {
          keyInHeader: false,
          contentType: stored.content_type ?? undefined,
          body: stored.body,
        },
        requestId,
        {
          replay: true,
        },
      );
    },
  };
}

export type SecurityHubIntake = ReturnType<typeof createSecurityHubIntake>;
