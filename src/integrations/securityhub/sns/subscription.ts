import type { Db, Tx } from '../../../db/database.js';
import type { Logger } from '../../../logger.js';
import type { Clock } from '../../../work/clock.js';
import { storableText } from '../../../db/storable.js';
import { integrationsRepository as repo, type IntegrationWithTeams } from '../../repository.js';
import type { SecurityHubSettings } from '../../types.js';
import type { EventOutcome, FindingSync } from '../finding-sync.js';
import { ALERT_LIMITS, cut } from '../findings.js';
import type { SnsMessage } from './message.js';
import { subscribeUrlProblem } from './urls.js';

/**
 * The SNS subscriptions of an integration: confirming one when SNS asks, taking note when one is removed,
 * and which topics' notifications are taken. Both changes also make an alert, because a subscription
 * made or lost unnoticed changes which findings reach anybody.
 */

export interface SubscriptionDeps {
  db: Db;
  sync: Pick<FindingSync, 'createAlert'>;
  /** GETs an SNS SubscribeURL; the URL has been checked to be an SNS host. */
  confirmSubscription: (url: string) => Promise<{ status: number; body: string }>;
  /**
   * Milliseconds that only move forward (default performance.now): a wall clock stepped back would keep a
   * topic remembered as confirmed for as long as the step.
   */
  monotonicNow?: () => number;
  /** Stamps the subscription rows; how long a confirmation stays pending is measured on it. */
  clock: Pick<Clock, 'now'>;
  log?: Pick<Logger, 'info' | 'warn'>;
}

/** The work to store with the delivery, or why the confirmation is refused. */
export type ConfirmStep =
  | { ok: true; work: (tx: Tx) => Promise<EventOutcome> }
  | { ok: false; problem: 'not-allowed' | 'confirmation-failed'; reason: string };

// Confirmed topics change rarely and are asked about on every notification: a "yes" is remembered for a
// few seconds (an unsubscribe through this process forgets it at once).
const CONFIRMED_TOPIC_REMEMBERED_MS = 5_000;
const CONFIRMED_TOPICS_REMEMBERED = 10_000;
// How long a confirmation may stay pending and still be settled by a signed notification: the validity of
// the token in the SubscribeURL. Later, SNS has given up on it, and so does Vigil.
export const PENDING_CONFIRMATION_MS = 3 * 24 * 60 * 60 * 1000;

export function topicAllowed(settings: SecurityHubSettings, topicArn: string): boolean {
  return settings.allowedTopicArns.includes('*') || settings.allowedTopicArns.includes(topicArn);
}

/**
 * Which subscription an UnsubscribeConfirmation is about: the ARN SNS names in the signed Message ("You
 * have chosen to deactivate subscription <arn>."), else the x-amz-sns-subscription-arn header. The header is
 * not signed: taken first, a genuine UnsubscribeConfirmation of anybody's own subscription of the topic,
 * posted with the header naming Vigil's live one, would turn the topic off. Without signature checks
 * nothing is proven, and the header comes first as SNS's own statement. `mismatch` is set when both name
 * one and they differ. The ARN is null when neither names a subscription of the message's topic.
 */
export function removedSubscriptionArn(
  message: SnsMessage,
  headerArn: string | undefined,
  signed: boolean,
): { arn: string | null; mismatch?: { header: string; message: string } } {
  const ofTopic = (arn: string | undefined) =>
    arn !== undefined && arn.length <= 2048 && arn.startsWith(`${message.TopicArn}:`) && !/\s/.test(arn)
      ? storableText(arn)
      : null;
  const fromHeader = ofTopic(headerArn?.trim());
  const fromMessage = ofTopic(/\bsubscription (arn:\S+?)\.?(?:\s|$)/.exec(message.Message)?.[1]);
  const arn = signed ? (fromMessage ?? fromHeader) : (fromHeader ?? fromMessage);
  return fromHeader !== null && fromMessage !== null && fromHeader !== fromMessage
    ? { arn, mismatch: { header: fromHeader, message: fromMessage } }
    : { arn };
}

export function createSnsSubscriptions(deps: SubscriptionDeps) {
  const { db, sync } = deps;
  const now = deps.monotonicNow ?? (() => performance.now());
  const confirmedUntil = new Map<string, number>();
  const keyOf = (integrationId: string, topicArn: string) => `${integrationId}|${topicArn}`;

  async function isConfirmedTopic(integrationId: string, topicArn: string): Promise<boolean> {
    const key = keyOf(integrationId, topicArn);
    const until = confirmedUntil.get(key);
    if (until !== undefined && until > now()) return true;
    const confirmed = await repo.isConfirmedTopic(db, integrationId, topicArn);
    if (confirmed) {
      if (confirmedUntil.size > CONFIRMED_TOPICS_REMEMBERED) confirmedUntil.clear();
      confirmedUntil.set(key, now() + CONFIRMED_TOPIC_REMEMBERED_MS);
    }
    return confirmed;
  }

  return {
    /**
     * Whether a notification from this topic is taken. Without signature checks the TopicArn proves
     * nothing; it is still a filter when topics are listed.
     *
     * A verified notification from a topic being confirmed is taken, and confirms it: SNS delivers as soon
     * as it has processed the SubscribeURL GET, before Vigil stores `confirmed`, and drops for good what is
     * refused with a 4xx. It also settles a confirmation whose GET SNS accepted but whose storing failed.
     * The signature proves only that SNS published the message on the topic: the string SNS signs holds
     * no endpoint or subscription, so every subscriber of the topic holds the same signed bodies and could
     * post one here. That is why only a topic Vigil marked pending (it received the topic's signed
     * SubscriptionConfirmation at this endpoint and is confirming it) is confirmed this way, and only
     * within the confirmation token's validity (PENDING_CONFIRMATION_MS): a pending row left behind by a
     * crash does not stay open for good.
     */
    async acceptsNotification(
      integration: IntegrationWithTeams,
      settings: SecurityHubSettings,
      topicArn: string,
    ): Promise<boolean> {
      const checkTopic = settings.verifySignatures || settings.allowedTopicArns.length > 0;
      if (
        !checkTopic ||
        topicAllowed(settings, topicArn) ||
        (await isConfirmedTopic(integration.id, topicArn))
      ) {
        return true;
      }
      if (!settings.verifySignatures) return false;
      const at = deps.clock.now();
      const markedAfter = new Date(at.getTime() - PENDING_CONFIRMATION_MS);
      if (!(await repo.confirmPending(db, integration.id, topicArn, at, markedAfter))) return false;
      deps.log?.info(
        { integrationId: integration.id, topicArn },
        'SNS topic confirmed by a signed notification that came while its confirmation was pending',
      );
      return true;
    },

    /** Confirms with SNS at once; what it stores is left to the caller's transaction. */
    async confirm(
      integration: IntegrationWithTeams,
      settings: SecurityHubSettings,
      message: SnsMessage,
      requestId: string,
    ): Promise<ConfirmStep> {
      if (settings.allowedTopicArns.length > 0 && !topicAllowed(settings, message.TopicArn)) {
        return {
          ok: false,
          problem: 'not-allowed',
          reason: `Topic ${message.TopicArn} is not in this integration's allowedTopicArns.`,
        };
      }
      const url = message.SubscribeURL ?? '';
      const problem = subscribeUrlProblem(url);
      if (problem) return { ok: false, problem: 'not-allowed', reason: problem };
      // Stored before the GET, where every process sees it: SNS may deliver the topic's first
      // notifications before the answer to the GET is back (acceptsNotification).
      const begun = await repo.beginConfirmation(db, integration.id, message.TopicArn, deps.clock.now());
      const failed = async (reason: string): Promise<ConfirmStep> => {
        if (begun.marked)
          await repo.abandonConfirmation(
            db,
            integration.id,
            message.TopicArn,
            begun.previous,
            deps.clock.now(),
          );
        return { ok: false, problem: 'confirmation-failed', reason };
      };
      let answer: { status: number; body: string };
      try {
        answer = await deps.confirmSubscription(url);
      } catch (error) {
        return failed(`Confirming the subscription failed: ${(error as Error).message}`);
      }
      if (answer.status < 200 || answer.status >= 300) {
        return failed(`Confirming the subscription failed: SNS answered ${answer.status}.`);
      }
      const found = /<SubscriptionArn>([^<]{1,2048})<\/SubscriptionArn>/.exec(answer.body)?.[1];
      const subscriptionArn = found === undefined ? null : storableText(found);
      return {
        ok: true,
        work: async (tx) => {
          await repo.setSubscription(
            tx,
            integration.id,
            message.TopicArn,
            'confirmed',
            subscriptionArn,
            deps.clock.now(),
          );
          const { alert } = await sync.createAlert(tx, integration, requestId, {
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
              ...(subscriptionArn ? { SubscriptionArn: cut(subscriptionArn, ALERT_LIMITS.detailValue) } : {}),
            },
            priority: 'P5',
            source: 'Amazon SNS',
            team: integration.owner_team_id,
          });
          return { verdict: 'confirmed', reason: `subscribed to ${message.TopicArn}`, alertIds: [alert.id] };
        },
      };
    },

    /**
     * The work to store with an UnsubscribeConfirmation, in the caller's transaction. `headerArn` is the
     * x-amz-sns-subscription-arn header (see removedSubscriptionArn).
     */
    unsubscribed(
      integration: IntegrationWithTeams,
      settings: SecurityHubSettings,
      message: SnsMessage,
      requestId: string,
      headerArn: string | undefined,
    ): (tx: Tx) => Promise<EventOutcome> {
      const { arn: removed, mismatch } = removedSubscriptionArn(
        message,
        headerArn,
        settings.verifySignatures,
      );
      if (mismatch) {
        deps.log?.warn(
          { integrationId: integration.id, topicArn: message.TopicArn, ...mismatch, taken: removed },
          'an UnsubscribeConfirmation names another subscription in its x-amz-sns-subscription-arn header than in its message',
        );
      }
      return async (tx) => {
        const result = await repo.unsubscribeTopic(
          tx,
          integration.id,
          message.TopicArn,
          removed,
          deps.clock.now(),
        );
        if (!result.unsubscribed) {
          // The normal end of replacing a subscription: the new one was confirmed, then the old one
          // deleted. Nothing to page anyone about; the payload log keeps it.
          return {
            verdict: 'ignored',
            reason: `subscription ${removed ?? ''} of ${message.TopicArn} was removed; the confirmed subscription ${result.live.join(', ')} still delivers`,
            alertIds: [],
          };
        }
        confirmedUntil.delete(keyOf(integration.id, message.TopicArn));
        const { alert } = await sync.createAlert(tx, integration, requestId, {
          message: cut(
            `Amazon Security Hub integration ${integration.name} was unsubscribed from SNS`,
            ALERT_LIMITS.message,
          ),
          alias: cut(
            `securityhub-unsubscribed-${integration.id}-${message.TopicArn}`,
            ALERT_LIMITS.alias,
            '',
          ),
          description: `SNS reports that the subscription${removed ? ` ${removed}` : ''} of topic ${message.TopicArn} to this integration was removed. Findings from that topic no longer reach Vigil. If this was not intended, subscribe the endpoint URL to the topic again.`,
          tags: ['securityhub', 'sns', 'setup'],
          details: {
            TopicArn: message.TopicArn,
            ...(removed ? { SubscriptionArn: cut(removed, ALERT_LIMITS.detailValue) } : {}),
          },
          priority: 'P3',
          source: 'Amazon SNS',
          team: integration.owner_team_id,
        });
        return {
          verdict: 'unsubscribed',
          reason: `unsubscribed from ${message.TopicArn}`,
          alertIds: [alert.id],
        };
      };
    },
  };
}

export type SnsSubscriptions = ReturnType<typeof createSnsSubscriptions>;
