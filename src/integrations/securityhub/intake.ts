import type { Config } from '../../config.js';
import { isTransientDatabaseError, isUnstorableValue, type Db, type Tx } from '../../db/database.js';
import { storableJson, storableText, TooDeeplyNested } from '../../db/storable.js';
import type { Logger } from '../../logger.js';
import { integrationsRepository as repo, type IntegrationWithTeams } from '../repository.js';
import { securityHubSettings, type SecurityHubSettings } from '../types.js';
import { createFindingSync, type EventOutcome, type Verdict } from './finding-sync.js';
import { ALERT_LIMITS, cut } from './findings.js';
import {
  looksLikeSnsMessage,
  parseSnsMessage,
  subscribeUrlProblem,
  verifySnsMessage,
  type SnsCertificateStore,
  type SnsMessage,
} from './sns.js';
import type { AlertsService } from '../../alerts/service.js';
import { QUEUES } from '../../engine/work/queue-names.js';
import type { WorkSignal } from '../../engine/work/runner.js';

export { closeReason, findingAlias, isEchoOfWriteBack, type Verdict } from './finding-sync.js';

/**
 * The Amazon Security Hub intake, as HTTP sees it: SNS deliveries (confirmations, notifications,
 * unsubscribes) and bare EventBridge events. Notifications and events are stored for the workers (see
 * delivery-processor.ts) and answered once stored; confirmations and unsubscribes are handled at once.
 * Every delivery ends in the payload log with its verdict.
 */

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
  /** Told when deliveries were stored (the workers take them at once) and alerts made. */
  signal?: WorkSignal;
}

const UNKNOWN_KEY =
  'Unknown integration API key: copy the endpoint URL from the integration again (the key may have been regenerated, or the integration deleted).';

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly verdict: Verdict,
    message: string,
  ) {
    super(message);
  }
}

/** A delivery PostgreSQL refused to store: sending it again can never succeed, so the sender gets a 4xx. */
class UnstorableDelivery extends Error {}

/** Deliveries stored together in one statement at most, and their bodies' size at most. */
const STORE_BATCH = 500;
const STORE_BATCH_BYTES = 8 * 1024 * 1024;

/** The integration of a delivery was deleted while the delivery arrived (a foreign key refused it). */
function isIntegrationGone(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23503';
}

export function createSecurityHubIntake(deps: IntakeDeps) {
  const { db, log } = deps;
  const sync = createFindingSync({ alerts: deps.alerts, log });

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

  async function record(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    delivery: { kind: string; messageId: string | null; requestId: string },
    verdict: Verdict,
    reason: string | undefined,
    alertIds: string[] = [],
    tx?: Tx,
  ): Promise<void> {
    await repo.recordPayload(tx ?? db, {
      integration_id: integration.id,
      message_id: delivery.messageId,
      kind: delivery.kind,
      verdict,
      reason: reason ?? null,
      alert_ids: alertIds,
      content_type: request.contentType ?? null,
      body: request.body,
      request_id: delivery.requestId,
    });
  }

  /** Records a refused delivery; if even that cannot be stored, records it without its body. */
  async function recordRefusal(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    delivery: { kind: string; messageId: string | null; requestId: string },
    verdict: Verdict,
    reason: string,
  ): Promise<void> {
    try {
      await record(integration, request, delivery, verdict, reason);
    } catch (error) {
      if (!isUnstorableValue(error)) throw error;
      await record(
        integration,
        { ...request, body: `(not kept: ${(error as Error).message})` },
        {
          ...delivery,
          kind: cut(delivery.kind, 100),
          messageId: delivery.messageId && cut(delivery.messageId, 200),
        },
        verdict,
        reason,
      );
    }
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
    delivery: { kind: string; messageId: string | null; requestId: string },
    work: (tx: Tx) => Promise<EventOutcome>,
  ): Promise<IntakeAnswer> {
    const { messageId } = delivery;
    const result = await db.transaction().execute(async (tx) => {
      if (messageId && !(await repo.claimMessage(tx, integration.id, messageId))) {
        return {
          verdict: 'duplicate' as Verdict,
          reason: `message ${messageId} was already processed`,
          alertIds: [],
        };
      }
      const outcome = await work(tx);
      await record(integration, request, delivery, outcome.verdict, outcome.reason, outcome.alertIds, tx);
      return outcome;
    });
    if (result.verdict === 'duplicate')
      await record(integration, request, delivery, 'duplicate', result.reason);
    else deps.signal?.wake(QUEUES.alertEvents);
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
   * Deliveries waiting to be stored. The sender's 2xx means the delivery is durably stored; the payload
   * log tells what became of it moments later. Deliveries arriving together are written together, in one
   * statement (one round trip and one commit for all of them): under load that is what lets the intake
   * keep up. If that statement fails for a reason other than the database's availability, each is stored
   * alone, so that a delivery PostgreSQL refuses fails by itself and never makes its neighbours' 503.
   */
  interface PendingDelivery {
    integrationId: string;
    messageId: string | null;
    kind: string;
    contentType: string | null;
    body: string;
    requestId: string;
    done: (result: { id: string; verdict: 'queued' | 'duplicate' }) => void;
    fail: (error: unknown) => void;
  }
  const waiting: PendingDelivery[] = [];
  let flushScheduled = false;

  async function flushDeliveries(): Promise<void> {
    flushScheduled = false;
    let count = 0;
    let bytes = 0;
    while (count < waiting.length && count < STORE_BATCH && (count === 0 || bytes < STORE_BATCH_BYTES)) {
      bytes += (waiting[count]?.body.length ?? 0) * 2;
      count++;
    }
    const batch = waiting.splice(0, count);
    if (waiting.length > 0 && !flushScheduled) {
      flushScheduled = true;
      setImmediate(() => void flushDeliveries());
    }
    if (batch.length === 0) return;
    try {
      const stored = await repo.storeDeliveries(db, batch);
      batch.forEach((d, n) => d.done(stored[n] as { id: string; verdict: 'queued' | 'duplicate' }));
      deps.signal?.wake(QUEUES.deliveries);
      return;
    } catch (error) {
      // Only a value, or an integration deleted meanwhile, can be one delivery's fault; anything else
      // (the database's state) fails them all alike.
      if (batch.length === 1 || !(isUnstorableValue(error) || isIntegrationGone(error))) {
        for (const d of batch) d.fail(error);
        return;
      }
      log.warn(
        { err: error, deliveries: batch.length },
        'storing deliveries together failed; storing each alone so that only the one at fault fails',
      );
    }
    let storedAny = false;
    for (const d of batch) {
      try {
        const [stored] = await repo.storeDeliveries(db, [d]);
        d.done(stored as { id: string; verdict: 'queued' | 'duplicate' });
        storedAny = true;
      } catch (error) {
        d.fail(error);
      }
    }
    if (storedAny) deps.signal?.wake(QUEUES.deliveries);
  }

  async function queueDelivery(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    delivery: { kind: string; messageId: string | null; requestId: string },
  ): Promise<IntakeAnswer> {
    const row = await new Promise<{ id: string; verdict: 'queued' | 'duplicate' }>((done, fail) => {
      waiting.push({
        integrationId: integration.id,
        messageId: delivery.messageId,
        kind: delivery.kind,
        contentType: request.contentType ?? null,
        body: request.body,
        requestId: delivery.requestId,
        done,
        fail: (error) =>
          fail(
            isUnstorableValue(error)
              ? new UnstorableDelivery((error as Error).message)
              : isIntegrationGone(error)
                ? new Refusal(401, 'refused', UNKNOWN_KEY)
                : error,
          ),
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
        ...(row.verdict === 'duplicate'
          ? { reason: `message ${delivery.messageId ?? ''} was already processed` }
          : {}),
        payloadId: row.id,
      },
    };
  }

  async function confirmSubscription(
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    request: IntakeRequest,
    message: SnsMessage,
    delivery: { kind: string; messageId: string | null; requestId: string },
  ): Promise<IntakeAnswer> {
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
      throw new Refusal(502, 'failed', `Confirming the subscription failed: SNS answered ${answer.status}.`);
    }
    const found = /<SubscriptionArn>([^<]{1,2048})<\/SubscriptionArn>/.exec(answer.body)?.[1];
    const subscriptionArn = found === undefined ? null : storableText(found);
    return commitDelivery(integration, request, delivery, async (tx) => {
      await repo.setSubscription(tx, integration.id, message.TopicArn, 'confirmed', subscriptionArn);
      const { alert } = await sync.createAlert(tx, integration, delivery.requestId, {
        message: cut(
          `Amazon Security Hub integration ${integration.name} is connected`,
          ALERT_LIMITS.message,
        ),
        alias: cut(`securityhub-subscription-${integration.id}-${message.TopicArn}`, ALERT_LIMITS.alias, ''),
        description: `Vigil confirmed the SNS subscription of topic ${message.TopicArn}${subscriptionArn ? ` (${subscriptionArn})` : ''}. Findings published to this topic now become alerts${integration.enabled ? '' : ' once the integration is turned on'}.`,
        tags: ['securityhub', 'sns', 'setup'],
        details: {
          TopicArn: message.TopicArn,
          ...(subscriptionArn ? { SubscriptionArn: cut(subscriptionArn, ALERT_LIMITS.detailValue) } : {}),
        },
        priority: 'P5',
        source: 'Amazon SNS',
        team: integration.owner_team_id,
      });
      return { verdict: 'confirmed', reason: `subscribed to ${message.TopicArn}`, alertIds: [alert.id] };
    });
  }

  async function unsubscribed(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    message: SnsMessage,
    delivery: { kind: string; messageId: string | null; requestId: string },
  ): Promise<IntakeAnswer> {
    return commitDelivery(integration, request, delivery, async (tx) => {
      await repo.setSubscription(tx, integration.id, message.TopicArn, 'unsubscribed', null);
      confirmedTopics.delete(`${integration.id}|${message.TopicArn}`);
      const { alert } = await sync.createAlert(tx, integration, delivery.requestId, {
        message: cut(
          `Amazon Security Hub integration ${integration.name} was unsubscribed from SNS`,
          ALERT_LIMITS.message,
        ),
        alias: cut(`securityhub-unsubscribed-${integration.id}-${message.TopicArn}`, ALERT_LIMITS.alias, ''),
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
    if (settings.verifySignatures) {
      // Checked on the message as signed; what follows reads it made storable.
      const verified = await verifySnsMessage(parsed.message, {
        certificates: deps.certificates,
        maxAgeSeconds: options.replay ? 0 : deps.config.snsMaxMessageAge,
      });
      if (!verified.ok) throw new Refusal(403, 'refused', `SNS signature check failed: ${verified.reason}`);
    }
    const message: SnsMessage = storableJson(parsed.message);
    const delivery = { kind: message.Type, messageId: message.MessageId, requestId };

    if (message.Type === 'SubscriptionConfirmation')
      return confirmSubscription(integration, settings, request, message, delivery);
    if (message.Type === 'UnsubscribeConfirmation')
      return unsubscribed(integration, request, message, delivery);

    // Notification. Without signature checks the TopicArn proves nothing; it is still a filter when topics
    // are listed.
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
      await record(integration, request, delivery, 'ignored', 'the integration is turned off');
      return {
        status: 200,
        body: { result: 'Accepted', verdict: 'ignored', reason: 'the integration is turned off' },
      };
    }
    let event: unknown;
    try {
      event = JSON.parse(message.Message);
    } catch {
      return commitDelivery(integration, request, delivery, async () => ({
        verdict: 'ignored',
        reason: 'the SNS Message is not JSON, so not an EventBridge event',
        alertIds: [],
      }));
    }
    if (!options.replay) return queueDelivery(integration, request, delivery);
    return commitDelivery(integration, request, { ...delivery, messageId: null }, (tx) =>
      sync.syncEvent(tx, integration, event, { requestId }),
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
    const id = (body as { id?: unknown } | null)?.id;
    const eventId = typeof id === 'string' && id !== '' ? storableText(id) : null;
    const delivery = { kind: 'EventBridge', messageId: eventId ? `eventbridge:${eventId}` : null, requestId };
    if (!integration.enabled) {
      await record(integration, request, delivery, 'ignored', 'the integration is turned off');
      return {
        status: 200,
        body: { result: 'Accepted', verdict: 'ignored', reason: 'the integration is turned off' },
      };
    }
    if (!options.replay) return queueDelivery(integration, request, delivery);
    return commitDelivery(integration, request, { ...delivery, messageId: null }, (tx) =>
      sync.syncEvent(tx, integration, body, { requestId }),
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
      await recordRefusal(
        integration,
        request,
        { kind: 'unknown', messageId: null, requestId },
        'refused',
        reason,
      ).catch((err: unknown) => log.warn({ err, requestId }, 'a refused delivery could not be logged'));
      return { status: 400, body: { result: 'Refused', verdict: 'refused', reason } };
    }
    const sns = looksLikeSnsMessage(body);
    const delivery = {
      kind: sns ? storableText(String((body as { Type: unknown }).Type)) : 'EventBridge',
      messageId: sns ? storableText(String((body as { MessageId: unknown }).MessageId)) : null,
      requestId,
    };
    try {
      return await handleParsed(integration, request, body, requestId, options);
    } catch (error) {
      let refusal: Refusal | undefined;
      if (error instanceof Refusal) refusal = error;
      else if (error instanceof TooDeeplyNested) {
        refusal = new Refusal(400, 'refused', `Not a valid delivery: ${error.message}.`);
      } else if (error instanceof UnstorableDelivery || isUnstorableValue(error)) {
        refusal = new Refusal(
          400,
          'refused',
          `Vigil cannot store this delivery (${(error as Error).message}); sending it again will not help. Check what the sender puts in it.`,
        );
      }
      if (refusal?.message === UNKNOWN_KEY) {
        return { status: 401, body: { result: 'Refused', verdict: 'refused', reason: UNKNOWN_KEY } };
      }
      if (refusal) {
        log.warn(
          { integrationId: integration.id, requestId, reason: refusal.message },
          'Security Hub delivery refused',
        );
        await recordRefusal(integration, request, delivery, refusal.verdict, refusal.message).catch(
          (err: unknown) => log.warn({ err, requestId }, 'a refused delivery could not be logged'),
        );
        return {
          status: refusal.status,
          body: { result: 'Refused', verdict: refusal.verdict, reason: refusal.message },
        };
      }
      // Anything else is Vigil's trouble (or its database's), not the sender's: a retry may help, and SNS and
      // EventBridge retry a 5xx, so the delivery is not lost.
      log.error(
        { err: error, integrationId: integration.id, requestId, transient: isTransientDatabaseError(error) },
        'Security Hub delivery could not be stored; the sender will retry',
      );
      return {
        status: 503,
        body: {
          result: 'Retry',
          verdict: 'failed',
          reason: 'The delivery could not be stored; it will be retried.',
        },
      };
    }
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
            reason: UNKNOWN_KEY,
          },
        };
      }
      return run(integration, request, requestId, { replay: false });
    },

    /** Processes a stored payload again, without the age and duplicate checks (signatures still apply). */
    async replay(
      integration: IntegrationWithTeams,
      stored: { body: string; content_type: string | null },
      requestId: string,
    ) {
      return run(
        integration,
        { keyInHeader: false, contentType: stored.content_type ?? undefined, body: stored.body },
        requestId,
        { replay: true },
      );
    },

    /** The finding state machine, shared with the workers that process stored deliveries. */
    sync,
  };
}

export type SecurityHubIntake = ReturnType<typeof createSecurityHubIntake>;
