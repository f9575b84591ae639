import type { AlertEvent } from '../../alerts/events.js';
import { cutToCharacters } from '../../alerts/limits.js';
import { addsOwnTeam, type TeamDelivery } from '../../notify/team-destinations/kind.js';
import { shrink, withinBudget } from '../../notify/team-destinations/payload.js';

/**
 * The JSON Opsgenie's Webhook integration POSTs (its "alert action data"), so that receivers written for
 * Opsgenie keep working: `{action, alert: {alertId, message, tags, tinyId, entity, alias, createdAt,
 * updatedAt, username, userId, ...}, source: {name, type}, integrationId, integrationName,
 * integrationType}`. Times are as Opsgenie gives them: `createdAt` in epoch milliseconds, `updatedAt` in
 * epoch nanoseconds. Opsgenie sends the description and details only with Create and custom actions (when
 * addAlertDescription and addAlertDetails allow), cut to 1,000 characters; so does this. A team added to
 * an alert is, as Opsgenie has it ("Outgoing integration triggers for team routings"), a Create to the
 * added team's integration (the alert as it is now) and an AddTeam to the others.
 */

/** Opsgenie's cut for description and detail values in the action data. */
export const OPSGENIE_TEXT_LIMIT = 1000;

/** Opsgenie's action for each event Vigil sends a Webhook integration; a custom action is sent by its name. */
export const OPSGENIE_ACTIONS = {
  created: 'Create',
  acknowledged: 'Acknowledge',
  unacknowledged: 'UnAcknowledge',
  closed: 'Close',
  snoozed: 'Snooze',
  snooze_ended: 'SnoozeEnded',
  note_added: 'AddNote',
  tags_added: 'AddTags',
  tags_removed: 'RemoveTags',
  details_added: 'AddDetails',
  details_removed: 'RemoveDetails',
  priority_changed: 'UpdatePriority',
  message_changed: 'UpdateMessage',
  description_changed: 'UpdateDescription',
  // Assigned to someone else; to oneself it is TakeOwnership (actionOf). Opsgenie's own sample payloads
  // (the alert action data its Webhook integration sends, as kept among zulip/zulip's Opsgenie fixtures:
  // takeownership.json, assignownership.json) have both, AssignOwnership with the new `owner`.
  owner_assigned: 'AssignOwnership',
  // Someone asking for the next escalation rule now: Opsgenie's "Escalate to next" action, EscalateNext.
  // Its `Escalate` is an escalation's rule firing (with escalationId, escalationName and escalationNotify
  // at the top level, zulip/zulip's escalate.json), which Vigil's engine does not send.
  escalated: 'EscalateNext',
  // Only a team added is sent (to the added team's own integration as a Create: actionOf).
  responder_added: 'AddTeam',
  deleted: 'Delete',
} as const satisfies Partial<Record<AlertEvent['type'], string>>;

export interface WebhookIntegrationRef {
  id: string;
  name: string;
  /** The team whose alerts it sends (its assignee team, else its owner team). */
  teamId: string | null;
}

export interface OpsgenieWebhookPayload {
  action: string;
  alert: Record<string, unknown>;
  source: { name: string; type: string };
  integrationId: string;
  integrationName: string;
  integrationType: 'Webhook';
}

function cut(text: string): string {
  // Whole characters, no marker: Opsgenie sends the first 1,000 as they are.
  return cutToCharacters(text, OPSGENIE_TEXT_LIMIT, '');
}

/** Whether the delivery is the first the integration hears of the alert: its team was added to it. */
function addsItsTeam(delivery: TeamDelivery, integration: WebhookIntegrationRef): boolean {
  return addsOwnTeam(delivery, integration.teamId);
}

/** What the payload needs beyond the delivery, read when it is sent (webhook.ts bodyOf). */
export interface OpsgenieFacts {
  /** An owner_assigned whose new owner is the user who made the change: Opsgenie's TakeOwnership. */
  ownerIsActor?: boolean;
}

function actionOf(delivery: TeamDelivery, integration: WebhookIntegrationRef, facts: OpsgenieFacts): string {
  const { event } = delivery;
  if (event.type === 'test') return 'Test';
  if (event.type === 'custom_action') return event.action;
  if (event.type === 'owner_assigned' && facts.ownerIsActor) return 'TakeOwnership';
  if (event.type === 'responder_added') {
    if (event.responder.type !== 'team') return 'AddResponder';
    return addsItsTeam(delivery, integration) ? 'Create' : 'AddTeam';
  }
  return (OPSGENIE_ACTIONS as Partial<Record<string, string>>)[event.type] ?? event.type;
}

/** Where the change came from, as Opsgenie names it: the channel's type, and the request's `source`. */
function sourceOf(event: TeamDelivery['event']): { name: string; type: string } {
  const name = 'source' in event && typeof event.source === 'string' ? event.source : '';
  const type =
    event.actor.kind === 'integration' ? 'integration' : event.actor.kind === 'system' ? 'system' : 'API';
  return { name, type };
}

/** What the event itself says, under Opsgenie's names. */
function eventFields(event: AlertEvent): Record<string, unknown> {
  switch (event.type) {
    case 'acknowledged':
    case 'unacknowledged':
    case 'closed':
      return event.note !== undefined ? { note: event.note } : {};
    case 'snoozed':
      return { snoozedUntil: event.until, ...(event.note !== undefined ? { note: event.note } : {}) };
    case 'note_added':
      return { note: event.note };
    case 'tags_added':
      return { addedTags: event.tags.join(',') };
    case 'tags_removed':
      return { removedTags: event.tags.join(',') };
    case 'details_added':
      return { addedDetails: event.keys };
    case 'details_removed':
      return { removedDetails: event.keys };
    case 'priority_changed':
      return { oldPriority: event.from, priority: event.to };
    case 'owner_assigned':
      return { owner: event.owner };
    case 'escalated':
      return event.escalationName !== undefined ? { escalationName: event.escalationName } : {};
    case 'responder_added':
      // Opsgenie's AddTeam names the team under `team`: its name, without the "Team " the log leads with
      // (alerts/responders.ts).
      return event.responder.type === 'team'
        ? { team: event.name.replace(/^Team /, '') }
        : { responder: event.name };
    default:
      return {};
  }
}

function alertOf(
  delivery: TeamDelivery,
  event: AlertEvent,
  integration: WebhookIntegrationRef,
): Record<string, unknown> {
  const { alert } = delivery;
  const who = { username: event.actor.name, userId: event.actor.userId ?? '' };
  if (!alert) {
    // Deleted: as its deleted event kept it, the fields Opsgenie's Delete carries (and receivers key on).
    const gone = delivery.deletedAlert ?? (event.type === 'deleted' ? event.alert : undefined);
    if (!gone) return { alertId: event.alertId, ...who, ...eventFields(event) };
    return {
      alertId: event.alertId,
      message: gone.message,
      tinyId: gone.tinyId,
      entity: gone.entity,
      alias: gone.alias,
      createdAt: Date.parse(gone.createdAt),
      updatedAt: Date.parse(gone.updatedAt) * 1_000_000,
      ...who,
      source: gone.source,
      priority: gone.priority,
      ...eventFields(event),
    };
  }
  const createdAtMs = Date.parse(alert.createdAt);
  const updatedAtMs = Date.parse(alert.updatedAt);
  const { config } = delivery.destination;
  const create = event.type === 'created' || addsItsTeam(delivery, integration);
  // Opsgenie sends them with Create and custom actions only.
  const full = create || event.type === 'custom_action';
  return {
    alertId: alert.id,
    message: alert.message,
    tags: alert.tags,
    tinyId: alert.tinyId,
    entity: alert.entity,
    alias: alert.alias,
    createdAt: createdAtMs,
    updatedAt: updatedAtMs * 1_000_000,
    ...who,
    source: alert.source,
    priority: alert.priority,
    ...(create
      ? {
          teams: alert.responders.filter((r) => r.type === 'team').map((r) => r.id),
          recipients: alert.responders.filter((r) => r.type !== 'team').map((r) => r.id),
        }
      : {}),
    ...(full && config.addAlertDescription !== false ? { description: cut(alert.description) } : {}),
    ...(full && config.addAlertDetails !== false
      ? {
          details: Object.fromEntries(
            Object.entries(alert.details).map(([key, value]) => [key, cut(String(value))]),
          ),
        }
      : {}),
    // A Create says what the alert is, not how the team came to it.
    ...(create ? {} : eventFields(event)),
  };
}

/** The payload of one delivery to a Webhook integration. */
export function opsgeniePayload(
  delivery: TeamDelivery,
  integration: WebhookIntegrationRef,
  facts: OpsgenieFacts = {},
): OpsgenieWebhookPayload {
  const { event } = delivery;
  const alert =
    event.type === 'test'
      ? { message: `A test of the Webhook integration "${integration.name}" from Vigil.` }
      : alertOf(delivery, event, integration);
  return {
    action: actionOf(delivery, integration, facts),
    alert,
    source: sourceOf(event),
    integrationId: integration.id,
    integrationName: integration.name,
    integrationType: 'Webhook',
  };
}

/**
 * What receivers key on, never cut: each is short already (the intake bounds the message to 130
 * characters, the alias to 512, the source to 100).
 */
const IDENTITY = new Set([
  'alertId',
  'message',
  'tinyId',
  'alias',
  'createdAt',
  'updatedAt',
  'userId',
  'source',
  'priority',
]);

/** Kept, cut short, besides the identity when nothing else fits. */
const ESSENTIALS = new Set(['entity', 'username']);

/**
 * The body to POST, as text (what is signed). Kept under the same budget as Vigil's own format: an alert's
 * details (up to the intake's 1 MiB) and tags make it as big as they are, and a receiver built for
 * Opsgenie's small bodies answers a bigger one 413 on every attempt, so it would never hear of the alert.
 * Opsgenie's shape has no place to say something was cut; the fields receivers key on are left whole.
 */
export function opsgenieWebhookBody(
  delivery: TeamDelivery,
  integration: WebhookIntegrationRef,
  facts: OpsgenieFacts = {},
): string {
  const payload = opsgeniePayload(delivery, integration, facts);
  const withAlert = (entries: [string, unknown][]) =>
    JSON.stringify({ ...payload, alert: Object.fromEntries(entries) });
  const entries = Object.entries(payload.alert);
  return withinBudget(
    JSON.stringify(payload),
    (limits) => withAlert(entries.map(([k, v]) => [k, IDENTITY.has(k) ? v : shrink(v, limits)])),
    // Only the identity at last: cannot exceed the budget (each field is short).
    () =>
      withAlert(
        entries
          .filter(([k]) => IDENTITY.has(k) || ESSENTIALS.has(k))
          .map(([k, v]) => [k, IDENTITY.has(k) ? v : shrink(v, { chars: 200, items: 5 })]),
      ),
  );
}
