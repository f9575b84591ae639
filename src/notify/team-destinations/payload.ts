import type { AlertEvent } from '../../alerts/events.js';
import type { TeamDelivery } from './kind.js';

/**
 * The JSON a webhook receives for an event (Standard Webhooks' suggested shape):
 * `{"type":"alert.acknowledged","timestamp":"…","data":{"alert":{…},"event":{…}}}`. The alert is the
 * alert as it is when the delivery is sent (as the API shows it, with its console link), the event what
 * changed. Kept under {@link MAX_PAYLOAD_BYTES}: long texts, lists and maps are cut (and `data.truncated`
 * says so) rather than a delivery refused by a receiver's body limit.
 */

export const MAX_PAYLOAD_BYTES = 20_000;

/** How a body over the budget is cut, tighter each step until it fits (the Opsgenie format's too). */
const SHRINK_STEPS = [
  { chars: 2000, items: 50 },
  { chars: 500, items: 20 },
  { chars: 100, items: 10 },
] as const;

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: {
    alert: Record<string, unknown> | null;
    event: Record<string, unknown>;
    truncated?: true;
  };
}

/** `alert.created`, `alert.note_added`…; the test event is `test`. */
export function webhookEventType(type: string): string {
  return type === 'test' ? 'test' : `alert.${type}`;
}

/** The event as receivers see it: what changed, by whom; no organization id, no internal order. */
function eventOf(delivery: TeamDelivery): Record<string, unknown> {
  const { event } = delivery;
  const common = {
    id: event.eventId,
    type: event.type,
    at: event.at,
    actor: { kind: event.actor.kind, name: event.actor.name },
  };
  if (event.type === 'test') {
    return { ...common, message: `A test of the destination "${delivery.destination.name}" from Vigil.` };
  }
  // Everything the event says beyond its envelope: note, priority from/to, until, tags, keys, owner…
  // Not a deleted alert's `alert`: what the destinations are matched by, not the change (`data.alert`
  // is null once the alert is deleted).
  const {
    eventId: _eventId,
    orgId: _orgId,
    at: _at,
    actor: _actor,
    seq: _seq,
    type: _type,
    alert: _alert,
    ...specific
  } = event as AlertEvent & { alert?: unknown };
  return { ...common, ...specific };
}

function alertOf(delivery: TeamDelivery): Record<string, unknown> | null {
  if (!delivery.alert) return null;
  const { visibleTo: _visibleTo, isSeen: _isSeen, description, details, ...alert } = delivery.alert;
  // An Opsgenie Webhook integration may leave them out (its addAlertDescription and addAlertDetails).
  const { config } = delivery.destination;
  return {
    ...alert,
    ...(config.addAlertDescription === false ? {} : { description }),
    ...(config.addAlertDetails === false ? {} : { details }),
    url: delivery.links.view,
  };
}

function cutString(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max;
  // Not between the halves of a surrogate pair.
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}

/** Every string, list and map in `value` cut to the limits (ids and times are far below them). */
export function shrink(value: unknown, limits: { chars: number; items: number }): unknown {
  if (typeof value === 'string') return cutString(value, limits.chars);
  if (Array.isArray(value)) return value.slice(0, limits.items).map((v) => shrink(v, limits));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, Math.max(limits.items, 24))
        .map(([k, v]) => [cutString(k, 200), shrink(v, limits)]),
    );
  }
  return value;
}

/**
 * A body within {@link MAX_PAYLOAD_BYTES}: the whole one if it fits, else the first of {@link SHRINK_STEPS}'
 * cuts (`cutAt`) that fits, else `last`, which cannot exceed it (the fields it keeps are short).
 */
export function withinBudget(
  whole: string,
  cutAt: (limits: (typeof SHRINK_STEPS)[number]) => string,
  last: () => string,
): string {
  const fits = (body: string) => Buffer.byteLength(body, 'utf8') <= MAX_PAYLOAD_BYTES;
  if (fits(whole)) return whole;
  for (const limits of SHRINK_STEPS) {
    const cut = cutAt(limits);
    if (fits(cut)) return cut;
  }
  return last();
}

/** The body to POST, as text (what is signed). */
export function webhookBody(delivery: TeamDelivery): string {
  const payload: WebhookPayload = {
    type: webhookEventType(delivery.event.type),
    timestamp: delivery.event.at,
    data: { alert: alertOf(delivery), event: eventOf(delivery) },
  };
  // Only the essentials at last: cannot exceed the limit (each field is short).
  const essentials = (source: Record<string, unknown> | null, keys: string[]) =>
    source &&
    Object.fromEntries(
      keys.filter((k) => k in source).map((k) => [k, shrink(source[k], { chars: 200, items: 5 })]),
    );
  return withinBudget(
    JSON.stringify(payload),
    (limits) =>
      JSON.stringify({
        ...payload,
        data: { ...(shrink(payload.data, limits) as WebhookPayload['data']), truncated: true },
      }),
    () =>
      JSON.stringify({
        ...payload,
        data: {
          alert: essentials(payload.data.alert, [
            'id',
            'tinyId',
            'message',
            'status',
            'acknowledged',
            'priority',
            'url',
          ]),
          event: essentials(payload.data.event, ['id', 'type', 'at', 'actor', 'alertId']),
          truncated: true,
        },
      }),
  );
}
