import type { Config } from '../../config.js';
import { isTransientDatabaseError, isUnstorableValue, type Db, type Tx } from '../../db/database.js';
import { storableJson, storableText, TooDeeplyNested } from '../../db/storable.js';
import type { Clock } from '../../work/clock.js';
import type { WorkSignal } from '../../work/runner.js';
import type { Logger } from '../../logger.js';
import type { AlertsService } from '../../alerts/service.js';
import type { IntegrationWithTeams } from '../repository.js';
import { securityHubSettings, type SecurityHubSettings } from '../types.js';
import { createDeliveryQueue, IntegrationGone, UnstorableDelivery } from './delivery-queue.js';
import { createFindingSync, type EventOutcome } from './finding-sync.js';
import {
  CouldNotCheck,
  Refusal,
  SNS_MESSAGE_NOT_AN_EVENT,
  UNKNOWN_KEY,
  UNKNOWN_KEY_OUTCOME,
  type IntakeOutcome,
} from './outcome.js';
import { createPayloadLog, type Delivery } from './payload-log.js';
import type { SnsCertificateStore } from './sns/certificates.js';
import { looksLikeSnsMessage, mayBeJsonObject, parseSnsMessage, type SnsMessage } from './sns/message.js';
import { createSnsSubscriptions } from './sns/subscription.js';
import { verifySnsMessage } from './sns/verify.js';

export type { IntakeOutcome, RefusalKind } from './outcome.js';

/**
 * The Amazon Security Hub intake: SNS deliveries (confirmations, notifications, unsubscribes) and bare
 * EventBridge events. Notifications and events are stored for the workers (see delivery-processor.ts) and
 * accepted once stored; confirmations and unsubscribes are handled at once. Every delivery ends in the
 * payload log with its verdict. It answers with an {@link IntakeOutcome}; what that means in HTTP is the
 * route's business.
 */

export interface IntakeRequest {
  /** The key came in a header (EventBridge API destinations), not in the URL. */
  keyInHeader: boolean;
  contentType: string | undefined;
  body: string;
  /**
   * The x-amz-sns-subscription-arn header: the subscription SNS delivered through (absent on a
   * SubscriptionConfirmation). An UnsubscribeConfirmation's tells which subscription was removed.
   */
  subscriptionArn?: string;
}

export interface IntakeDeps {
  db: Db;
  alerts: AlertsService;
  config: Config;
  log: Logger;
  certificates: SnsCertificateStore;
  /** GETs an SNS SubscribeURL; the URL has been checked to be an SNS host. */
  confirmSubscription: (url: string) => Promise<{ status: number; body: string }>;
  /** Stamps the deliveries, so that retention (on the same clock) sees their true age. */
  clock: Clock;
  /** Told when deliveries were stored (the workers take them at once) and alerts made. */
  signal?: WorkSignal;
  /** Milliseconds that only move forward, for the confirmed-topic memory (default performance.now). */
  monotonicNow?: () => number;
  /**
   * When a maintenance disables the integration now, why ("disabled by maintenance ... until ..."). Asked
   * on every delivery, so it must answer from memory most of the time.
   */
  disabledBy?: (integrationId: string) => Promise<string | undefined>;
}

/** A delivery before it is known what it is. */
type Received = Omit<Delivery, 'kind' | 'messageId'>;

interface Options {
  replay: boolean;
  /**
   * A replay's delivery was let in the first time (its record's verdict is not `refused`). A bare event
   * carries no signature, and the payload log does not keep where its key came: only one let in before
   * (its key in the header, or signatures off then) is taken again by an integration that verifies them.
   */
  admittedBefore?: boolean;
}

const TURNED_OFF = 'the integration is turned off';

function handled(outcome: EventOutcome & { payloadId: string }): IntakeOutcome {
  return {
    outcome: 'accepted',
    verdict: outcome.verdict,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
    alertIds: outcome.alertIds,
    payloadId: outcome.payloadId,
  };
}

export function createSecurityHubIntake(deps: IntakeDeps) {
  const { db, log } = deps;
  const sync = createFindingSync({ alerts: deps.alerts, log, clock: deps.clock });
  const payloads = createPayloadLog({ db, clock: deps.clock, signal: deps.signal });
  const queue = createDeliveryQueue({ db, log, clock: deps.clock, signal: deps.signal });
  const subscriptions = createSnsSubscriptions({
    db,
    sync,
    confirmSubscription: deps.confirmSubscription,
    monotonicNow: deps.monotonicNow,
    clock: deps.clock,
    log,
  });

  /** Why the integration takes no events now: turned off, or disabled by a maintenance. */
  async function whyOff(integration: IntegrationWithTeams): Promise<string | undefined> {
    if (!integration.enabled) return TURNED_OFF;
    const maintenance = await deps.disabledBy?.(integration.id);
    return maintenance && `the integration is ${maintenance}`;
  }

  async function ignoreTurnedOff(
    integration: IntegrationWithTeams,
    delivery: Delivery,
    reason: string,
  ): Promise<IntakeOutcome> {
    const payloadId = await payloads.record(integration.id, delivery, { verdict: 'ignored', reason });
    return { outcome: 'accepted', verdict: 'ignored', reason, payloadId };
  }

  /**
   * Does the delivery's work in the transaction that logs it. A replayed notification or event is a new
   * delivery: under the original's message id it would be answered as that message's duplicate.
   */
  async function commit(
    integration: IntegrationWithTeams,
    delivery: Delivery,
    work: (tx: Tx) => Promise<EventOutcome>,
    options?: Options,
  ): Promise<IntakeOutcome> {
    const logged = options?.replay ? { ...delivery, messageId: null } : delivery;
    return handled(await payloads.commit(integration.id, logged, work));
  }

  /** An event for the workers; a replay is processed at once, as a new delivery. */
  async function takeEvent(
    integration: IntegrationWithTeams,
    delivery: Delivery,
    event: unknown,
    options: Options,
  ): Promise<IntakeOutcome> {
    if (options.replay) {
      return commit(
        integration,
        delivery,
        (tx) => sync.syncEvent(tx, integration, event, { requestId: delivery.requestId }),
        options,
      );
    }
    return queueDelivery(integration, delivery);
  }

  /** Stores the delivery for the workers, who read the event from its stored body. */
  async function queueDelivery(
    integration: IntegrationWithTeams,
    delivery: Delivery,
  ): Promise<IntakeOutcome> {
    const row = await queue.store({ integrationId: integration.id, ...delivery });
    return {
      outcome: 'accepted',
      verdict: row.verdict,
      ...(row.verdict === 'duplicate'
        ? { reason: `message ${delivery.messageId ?? ''} was already processed` }
        : {}),
      payloadId: row.id,
    };
  }

  async function handleSns(
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    request: IntakeRequest,
    received: Received,
    body: unknown,
    options: Options,
  ): Promise<IntakeOutcome> {
    const parsed = parseSnsMessage(body);
    if (!parsed.ok) throw new Refusal('invalid', `Not a valid SNS message: ${parsed.reason}`);
    if (settings.verifySignatures) {
      // Checked on the message as signed; what follows reads it made storable.
      const verified = await verifySnsMessage(parsed.message, {
        certificates: deps.certificates,
        maxAgeSeconds: options.replay ? 0 : deps.config.snsMaxMessageAge,
      });
      if (!verified.ok && verified.retryable)
        throw new CouldNotCheck(`The SNS signature could not be checked: ${verified.reason}`);
      if (!verified.ok) throw new Refusal('not-allowed', `SNS signature check failed: ${verified.reason}`);
    }
    const message: SnsMessage = storableJson(parsed.message);
    const delivery: Delivery = { ...received, kind: message.Type, messageId: message.MessageId };
    switch (message.Type) {
      case 'SubscriptionConfirmation':
        return confirm(integration, settings, delivery, message);
      case 'UnsubscribeConfirmation':
        return commit(
          integration,
          delivery,
          subscriptions.unsubscribed(
            integration,
            settings,
            message,
            delivery.requestId,
            request.subscriptionArn,
          ),
        );
      case 'Notification':
        return notification(integration, settings, delivery, message, options);
    }
  }

  async function confirm(
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    delivery: Delivery,
    message: SnsMessage,
  ): Promise<IntakeOutcome> {
    const step = await subscriptions.confirm(integration, settings, message, delivery.requestId);
    if (!step.ok) throw new Refusal(step.problem, step.reason);
    return commit(integration, delivery, step.work);
  }

  async function notification(
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    delivery: Delivery,
    message: SnsMessage,
    options: Options,
  ): Promise<IntakeOutcome> {
    if (!(await subscriptions.acceptsNotification(integration, settings, message.TopicArn))) {
      throw new Refusal(
        'not-allowed',
        `Topic ${message.TopicArn} has no confirmed subscription to this integration; subscribe it (the confirmation is automatic) or add it to allowedTopicArns.`,
      );
    }
    const off = await whyOff(integration);
    if (off) return ignoreTurnedOff(integration, delivery, off);
    const notAnEvent = () =>
      commit(
        integration,
        delivery,
        async () => ({ verdict: 'ignored', reason: SNS_MESSAGE_NOT_AN_EVENT, alertIds: [] }),
        options,
      );
    // The workers parse the event from the stored body; parsing it here as well cost about 17 µs of the
    // request's 370 µs of CPU (docs/performance.md). What cannot be a JSON object (such as a test message
    // published from the SNS console) is answered at once; a Message that only starts like one is settled
    // by the workers alike.
    if (!options.replay) {
      return mayBeJsonObject(message.Message) ? queueDelivery(integration, delivery) : notAnEvent();
    }
    let event: unknown;
    try {
      event = JSON.parse(message.Message);
    } catch {
      return notAnEvent();
    }
    return takeEvent(integration, delivery, event, options);
  }

  /** A bare EventBridge event: raw message delivery, or an EventBridge API destination. */
  async function handleEvent(
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    request: IntakeRequest,
    received: Received,
    body: unknown,
    options: Options,
  ): Promise<IntakeOutcome> {
    if (settings.verifySignatures && !request.keyInHeader && !(options.replay && options.admittedBefore)) {
      throw new Refusal(
        'not-allowed',
        'This integration verifies SNS signatures and the body is not an SNS message. For EventBridge API destinations send the key in the X-Api-Key header; for SNS raw message delivery turn verifySignatures off.',
      );
    }
    const id = (body as { id?: unknown } | null)?.id;
    const eventId = typeof id === 'string' && id !== '' ? storableText(id) : null;
    const delivery: Delivery = {
      ...received,
      kind: 'EventBridge',
      messageId: eventId ? `eventbridge:${eventId}` : null,
    };
    const off = await whyOff(integration);
    if (off) return ignoreTurnedOff(integration, delivery, off);
    return takeEvent(integration, delivery, body, options);
  }

  /** Turns what went wrong into the sender's answer, logging it when it is the sender's to fix. */
  async function refused(
    integration: IntegrationWithTeams,
    delivery: Delivery,
    error: unknown,
  ): Promise<IntakeOutcome> {
    let refusal: Refusal | undefined;
    if (error instanceof Refusal) refusal = error;
    else if (error instanceof IntegrationGone) refusal = new Refusal('integration-gone', UNKNOWN_KEY);
    else if (error instanceof TooDeeplyNested) {
      refusal = new Refusal('invalid', `Not a valid delivery: ${error.message}.`);
    } else if (error instanceof UnstorableDelivery || isUnstorableValue(error)) {
      refusal = new Refusal(
        'unstorable',
        `Vigil cannot store this delivery (${(error as Error).message}); sending it again will not help. Check what the sender puts in it.`,
      );
    }
    // Its integration is gone, so there is no payload log left to record it in.
    if (refusal?.kind === 'integration-gone') return refusal.outcome;
    if (error instanceof CouldNotCheck) return couldNotCheck(integration, delivery, error);
    if (refusal) {
      log.warn(
        { integrationId: integration.id, requestId: delivery.requestId, reason: refusal.message },
        'Security Hub delivery refused',
      );
      return logRefusal(integration, delivery, refusal);
    }
    // Anything else is Vigil's trouble (or its database's), not the sender's: a retry may help, and SNS and
    // EventBridge retry a 5xx, so the delivery is not lost.
    log.error(
      {
        err: error,
        integrationId: integration.id,
        requestId: delivery.requestId,
        transient: isTransientDatabaseError(error),
      },
      'Security Hub delivery could not be stored; the sender will retry',
    );
    return {
      outcome: 'unavailable',
      verdict: 'failed',
      reason: 'The delivery could not be stored; it will be retried.',
    };
  }

  /**
   * A delivery Vigil could not check (an SNS certificate fetch failed): answered 503 so that SNS retries
   * it rather than drop it, as a 403 would make it, and logged so that the operator sees why.
   */
  async function couldNotCheck(
    integration: IntegrationWithTeams,
    delivery: Delivery,
    error: CouldNotCheck,
  ): Promise<IntakeOutcome> {
    log.warn(
      { integrationId: integration.id, requestId: delivery.requestId, reason: error.message },
      'Security Hub delivery could not be checked; the sender will retry',
    );
    const reason = `${error.message}; it will be retried.`;
    const payloadId = await payloads
      .recordRefusal(integration.id, delivery, 'failed', reason)
      .catch((err: unknown) => {
        log.warn({ err, requestId: delivery.requestId }, 'an unchecked delivery could not be logged');
        return undefined;
      });
    return { outcome: 'unavailable', verdict: 'failed', reason, ...(payloadId ? { payloadId } : {}) };
  }

  /** A refusal in the payload log, answered with its record's id (none when even logging it failed). */
  async function logRefusal(
    integration: IntegrationWithTeams,
    delivery: Delivery,
    refusal: Refusal,
  ): Promise<IntakeOutcome> {
    const payloadId = await payloads
      .recordRefusal(integration.id, delivery, refusal.outcome.verdict, refusal.message)
      .catch((err: unknown) => {
        log.warn({ err, requestId: delivery.requestId }, 'a refused delivery could not be logged');
        return undefined;
      });
    return payloadId ? { ...refusal.outcome, payloadId } : refusal.outcome;
  }

  async function run(
    integration: IntegrationWithTeams,
    request: IntakeRequest,
    requestId: string,
    options: Options,
  ): Promise<IntakeOutcome> {
    const received = { contentType: request.contentType ?? null, body: request.body, requestId };
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch (error) {
      const refusal = new Refusal('invalid', `The body is not valid JSON: ${(error as Error).message}`);
      return logRefusal(integration, { ...received, kind: 'unknown', messageId: null }, refusal);
    }
    const sns = looksLikeSnsMessage(body);
    try {
      const settings = securityHubSettings(integration.settings);
      return sns
        ? await handleSns(integration, settings, request, received, body, options)
        : await handleEvent(integration, settings, request, received, body, options);
    } catch (error) {
      // Refused as it came: what it claimed to be, before it was checked.
      const delivery: Delivery = {
        ...received,
        kind: sns ? storableText(String((body as { Type: unknown }).Type)) : 'EventBridge',
        messageId: sns ? storableText(String((body as { MessageId: unknown }).MessageId)) : null,
      };
      return refused(integration, delivery, error);
    }
  }

  return {
    async handle(
      integration: IntegrationWithTeams | undefined,
      request: IntakeRequest,
      requestId: string,
    ): Promise<IntakeOutcome> {
      if (!integration) return UNKNOWN_KEY_OUTCOME;
      return run(integration, request, requestId, { replay: false });
    },

    /** Processes a stored payload again, without the age and duplicate checks (signatures still apply). */
    async replay(
      integration: IntegrationWithTeams,
      stored: { body: string; content_type: string | null; verdict: string },
      requestId: string,
    ): Promise<IntakeOutcome> {
      return run(
        integration,
        { keyInHeader: false, contentType: stored.content_type ?? undefined, body: stored.body },
        requestId,
        { replay: true, admittedBefore: stored.verdict !== 'refused' },
      );
    },

    /** The finding state machine, shared with the workers that process stored deliveries. */
    sync,
  };
}

export type SecurityHubIntake = ReturnType<typeof createSecurityHubIntake>;
