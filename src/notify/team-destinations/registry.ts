import type { AlertEventType } from '../../alerts/events.js';
import type { TeamDestinationKind } from './kind.js';
import { webhookKind } from './webhook.js';
import { slackKind } from '../slack/kind.js';
import { slackWebhookKind } from '../slack/webhook-kind.js';
import { teamsKind } from '../teams/kind.js';

/**
 * Every kind of team destination Vigil knows. A new kind is a module in this folder and one entry here:
 * the API's list of types, config validation, the event consumer's types and the delivery queue all
 * read from this.
 */
const KINDS: readonly TeamDestinationKind[] = [webhookKind, slackKind, slackWebhookKind, teamsKind];

const BY_TYPE = new Map(KINDS.map((k) => [k.type, k]));

/** The types the API accepts, in the order it documents them. */
export const TEAM_DESTINATION_TYPES: readonly string[] = KINDS.map((k) => k.type);

export function teamDestinationKind(type: string): TeamDestinationKind | undefined {
  return BY_TYPE.get(type);
}

export function takesEvent(kind: TeamDestinationKind, type: AlertEventType): boolean {
  return kind.events === 'all' || kind.events.includes(type);
}

/** The kinds that take events of `type`. */
export function kindsTaking(type: AlertEventType): string[] {
  return KINDS.filter((k) => takesEvent(k, type)).map((k) => k.type);
}

/** Every event type some kind takes ('all' when one takes every one): what the consumer subscribes to. */
export function eventTypesTaken(): readonly AlertEventType[] | 'all' {
  if (KINDS.some((k) => k.events === 'all')) return 'all';
  return [...new Set(KINDS.flatMap((k) => (k.events === 'all' ? [] : k.events)))];
}
