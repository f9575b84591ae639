import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AlertEvent, AlertEventInput, DeletedAlert } from '../../alerts/events.js';
import type { AlertSnapshot, TeamDelivery } from '../../notify/team-destinations/kind.js';
import { WEBHOOK_EVENTS } from '../../notify/team-destinations/webhook.js';
import { MAX_PAYLOAD_BYTES } from '../../notify/team-destinations/payload.js';
import {
  OPSGENIE_ACTIONS,
  OPSGENIE_TEXT_LIMIT,
  opsgeniePayload,
  opsgenieWebhookBody,
} from './opsgenie-payload.js';

/** The mapping of Vigil's alert events to the JSON Opsgenie's Webhook integration sends, event by event. */

/** Its team is the alert's second, added after it was made (the events of team-2 below). */
const integration = { id: randomUUID(), name: 'Outgoing hooks', teamId: 'team-2' };
const createdAt = '2026-01-05T10:00:00.123Z';
const updatedAt = '2026-01-05T10:05:00.456Z';
const alert: AlertSnapshot = {
  id: randomUUID(),
  tinyId: '23',
  alias: 'disk-full-db-1',
  message: 'Disk full on db-1',
  status: 'open',
  acknowledged: false,
  isSeen: false,
  tags: ['db', 'disk'],
  snoozed: false,
  count: 1,
  lastOccurredAt: createdAt,
  createdAt,
  updatedAt,
  source: 'prometheus',
  owner: '',
  priority: 'P2',
  responders: [
    { type: 'team', id: 'team-1' },
    { type: 'user', id: 'user-1' },
    { type: 'team', id: 'team-2' },
  ],
  integration: { id: '', name: 'API', type: 'API' },
  report: {},
  actions: ['Restart'],
  entity: 'db-1',
  description: 'The disk is full.',
  details: { region: 'eu-west-1' },
  visibleTo: [],
};
const userId = randomUUID();

/** An event as a test gives it: the alert, organization and actor are filled in. */
type EventInput = AlertEventInput extends infer T
  ? T extends unknown
    ? Omit<T, 'alertId' | 'orgId' | 'actor'>
    : never
  : never;

function deliveryOf(
  input: EventInput,
  config: Record<string, unknown> = {},
  snapshot: AlertSnapshot | undefined = alert,
): TeamDelivery {
  const event = {
    eventId: randomUUID(),
    alertId: alert.id,
    orgId: randomUUID(),
    at: updatedAt,
    actor: { kind: 'user', name: 'pat@example.com', userId },
    source: 'web',
    ...input,
  } as AlertEvent;
  return {
    deliveryId: randomUUID(),
    attempt: 1,
    destination: {
      id: randomUUID(),
      orgId: event.orgId,
      name: `Webhook integration ${integration.id}`,
      teamId: null,
      integrationId: integration.id,
      config: { url: 'https://hooks.example.com/og', secret: 'x', ...config },
    },
    event,
    alert: snapshot,
    links: { view: `https://vigil.example.com/alerts/${alert.id}` },
  };
}

const payloadOf = (input: EventInput, config?: Record<string, unknown>, snapshot?: AlertSnapshot) =>
  opsgeniePayload(deliveryOf(input, config, snapshot), integration);

describe("Opsgenie's Webhook integration payload", () => {
  it('has an Opsgenie action for every event Vigil sends a webhook', () => {
    for (const type of WEBHOOK_EVENTS) {
      if (type === 'custom_action') continue;
      assert.ok(type in OPSGENIE_ACTIONS, `${type} has an action`);
    }
  });

  it('sends Create with the alert fields, its teams and recipients, description and details', () => {
    const payload = payloadOf({ type: 'created', priority: 'P2' });
    assert.deepEqual(payload, {
      action: 'Create',
      alert: {
        alertId: alert.id,
        message: 'Disk full on db-1',
        tags: ['db', 'disk'],
        tinyId: '23',
        entity: 'db-1',
        alias: 'disk-full-db-1',
        createdAt: Date.parse(createdAt),
        // Opsgenie gives updatedAt in nanoseconds.
        updatedAt: Date.parse(updatedAt) * 1_000_000,
        username: 'pat@example.com',
        userId,
        source: 'prometheus',
        priority: 'P2',
        teams: ['team-1', 'team-2'],
        recipients: ['user-1'],
        description: 'The disk is full.',
        details: { region: 'eu-west-1' },
      },
      source: { name: 'web', type: 'API' },
      integrationId: integration.id,
      integrationName: 'Outgoing hooks',
      integrationType: 'Webhook',
    });
    const text = JSON.stringify(payload);
    assert.match(text, /"updatedAt":\d{19}[,}]/, 'updatedAt is written as a whole number');
  });

  it('leaves out the description and details when the flags say, and cuts them to 1,000 characters', () => {
    const off = payloadOf(
      { type: 'created', priority: 'P2' },
      { addAlertDescription: false, addAlertDetails: false },
    );
    assert.ok(!('description' in off.alert));
    assert.ok(!('details' in off.alert));
    const long = payloadOf(
      { type: 'created', priority: 'P2' },
      {},
      {
        ...alert,
        description: 'd'.repeat(5000),
        details: { log: 'l'.repeat(5000) },
      },
    );
    assert.equal((long.alert.description as string).length, OPSGENIE_TEXT_LIMIT);
    assert.equal((long.alert.details as Record<string, string>).log?.length, OPSGENIE_TEXT_LIMIT);
  });

  it('sends the description and details with Create and custom actions only', () => {
    const acked = payloadOf({ type: 'acknowledged' });
    assert.ok(!('description' in acked.alert));
    assert.ok(!('details' in acked.alert));
    assert.ok(!('teams' in acked.alert));
    const custom = payloadOf({ type: 'custom_action', action: 'Restart' });
    assert.equal(custom.action, 'Restart');
    assert.equal(custom.alert.description, 'The disk is full.');
    assert.deepEqual(custom.alert.details, { region: 'eu-west-1' });
  });

  it('maps each change to its action, with what the change says', () => {
    const cases: [EventInput, string, Record<string, unknown>][] = [
      [{ type: 'acknowledged', note: 'on it' }, 'Acknowledge', { note: 'on it' }],
      [{ type: 'acknowledged' }, 'Acknowledge', {}],
      [{ type: 'unacknowledged' }, 'UnAcknowledge', {}],
      [{ type: 'closed', note: 'fixed' }, 'Close', { note: 'fixed' }],
      [
        { type: 'snoozed', until: '2026-01-05T11:00:00.000Z' },
        'Snooze',
        { snoozedUntil: '2026-01-05T11:00:00.000Z' },
      ],
      [{ type: 'snooze_ended' }, 'SnoozeEnded', {}],
      [{ type: 'note_added', note: 'disk cleaned' }, 'AddNote', { note: 'disk cleaned' }],
      [{ type: 'tags_added', tags: ['a', 'b'] }, 'AddTags', { addedTags: 'a,b' }],
      [{ type: 'tags_removed', tags: ['db'] }, 'RemoveTags', { removedTags: 'db' }],
      [{ type: 'details_added', keys: ['region'] }, 'AddDetails', { addedDetails: ['region'] }],
      [{ type: 'details_removed', keys: ['region'] }, 'RemoveDetails', { removedDetails: ['region'] }],
      [
        { type: 'priority_changed', from: 'P3', to: 'P1' },
        'UpdatePriority',
        { oldPriority: 'P3', priority: 'P1' },
      ],
      [{ type: 'message_changed' }, 'UpdateMessage', {}],
      [{ type: 'description_changed' }, 'UpdateDescription', {}],
      [{ type: 'owner_assigned', owner: 'sam@example.com' }, 'AssignOwnership', { owner: 'sam@example.com' }],
      // A person's "escalate to next": Opsgenie's Escalate is an escalation's rule firing.
      [{ type: 'escalated', escalationName: 'Night' }, 'EscalateNext', { escalationName: 'Night' }],
      [{ type: 'deleted' }, 'Delete', {}],
    ];
    for (const [input, action, fields] of cases) {
      const payload = payloadOf(input);
      assert.equal(payload.action, action, input.type);
      assert.equal(payload.alert.alertId, alert.id, input.type);
      assert.equal(payload.alert.message, alert.message, input.type);
      assert.equal(payload.alert.username, 'pat@example.com', input.type);
      assert.equal(payload.integrationType, 'Webhook');
      for (const [key, value] of Object.entries(fields)) {
        assert.deepEqual(payload.alert[key], value, `${input.type}: ${key}`);
      }
      if (!('note' in fields)) assert.ok(!('note' in payload.alert), `${input.type} has no note`);
    }
  });

  it("sends a team added as a Create of the alert as it is to the team's own integration, and as AddTeam to the others", () => {
    const added = {
      type: 'responder_added',
      responder: { type: 'team', id: 'team-2' },
      name: 'Team Joiners',
    } as const;
    const created = payloadOf({ type: 'created', priority: 'P2' });
    const joined = payloadOf(added);
    assert.equal(joined.action, 'Create');
    // Who added the team made the Create.
    assert.deepEqual(joined.alert, created.alert);

    const other = payloadOf({ ...added, responder: { type: 'team', id: 'team-9' }, name: 'Team Later' });
    assert.equal(other.action, 'AddTeam');
    assert.equal(other.alert.team, 'Later');
    assert.equal(other.alert.alertId, alert.id);
    assert.ok(!('description' in other.alert));
    assert.ok(!('teams' in other.alert));
  });

  it('names the integration as the source of a change an integration made, and the alert of a deleted one', () => {
    const delivery = deliveryOf({ type: 'closed' });
    delivery.event.actor = { kind: 'integration', name: 'Prometheus', integrationId: randomUUID() };
    assert.deepEqual(opsgeniePayload(delivery, integration).source, { name: 'web', type: 'integration' });

    // A deleted event recorded before it kept the alert.
    const gone = opsgeniePayload({ ...deliveryOf({ type: 'deleted' }), alert: undefined }, integration);
    assert.equal(gone.action, 'Delete');
    assert.deepEqual(gone.alert, { alertId: alert.id, username: 'pat@example.com', userId });
  });

  it('sends an alert assigned to the user who assigned it as TakeOwnership', () => {
    const assigned = deliveryOf({ type: 'owner_assigned', owner: 'pat@example.com' });
    assert.equal(opsgeniePayload(assigned, integration).action, 'AssignOwnership');
    const taken = opsgeniePayload(assigned, integration, { ownerIsActor: true });
    assert.equal(taken.action, 'TakeOwnership');
    assert.equal(taken.alert.owner, 'pat@example.com');
  });

  it("sends a deleted alert as its deleted event kept it, the fields of Opsgenie's Delete", () => {
    const kept: DeletedAlert = {
      tinyId: alert.tinyId,
      alias: alert.alias,
      message: alert.message,
      entity: alert.entity,
      source: alert.source,
      priority: alert.priority,
      createdAt,
      updatedAt,
      teamIds: ['team-1', 'team-2'],
      integrationId: null,
    };
    const expected = {
      alertId: alert.id,
      message: 'Disk full on db-1',
      tinyId: '23',
      entity: 'db-1',
      alias: 'disk-full-db-1',
      createdAt: Date.parse(createdAt),
      updatedAt: Date.parse(updatedAt) * 1_000_000,
      username: 'pat@example.com',
      userId,
      source: 'prometheus',
      priority: 'P2',
    };
    const deleted = opsgeniePayload(
      { ...deliveryOf({ type: 'deleted', alert: kept }), alert: undefined },
      integration,
    );
    assert.equal(deleted.action, 'Delete');
    assert.deepEqual(deleted.alert, expected);
    // Another change sent after the deletion (a retry), given the snapshot its deleted event kept.
    const closed = opsgeniePayload(
      { ...deliveryOf({ type: 'closed', note: 'gone' }), alert: undefined, deletedAlert: kept },
      integration,
    );
    assert.equal(closed.action, 'Close');
    assert.deepEqual(closed.alert, { ...expected, note: 'gone' });
  });

  describe('its body', () => {
    const bodyOf = (snapshot: AlertSnapshot, input: EventInput = { type: 'created', priority: 'P2' }) =>
      opsgenieWebhookBody(deliveryOf(input, {}, snapshot), integration);
    const size = (body: string) => Buffer.byteLength(body, 'utf8');

    function assertKeyFields(body: string, action: string) {
      assert.ok(size(body) <= MAX_PAYLOAD_BYTES, `${size(body)} bytes`);
      const parsed = JSON.parse(body) as ReturnType<typeof opsgeniePayload>;
      assert.equal(parsed.action, action);
      assert.equal(parsed.alert.alertId, alert.id);
      assert.equal(parsed.alert.message, alert.message);
      assert.equal(parsed.alert.alias, alert.alias);
      assert.equal(parsed.alert.tinyId, alert.tinyId);
      assert.equal(parsed.alert.source, alert.source);
      assert.equal(parsed.alert.priority, alert.priority);
      assert.equal(parsed.alert.createdAt, Date.parse(createdAt));
      assert.equal(parsed.alert.updatedAt, Date.parse(updatedAt) * 1_000_000);
      assert.deepEqual(parsed.source, { name: 'web', type: 'API' });
      assert.equal(parsed.integrationId, integration.id);
      assert.equal(parsed.integrationType, 'Webhook');
      return parsed;
    }

    it('is the payload as it is for an alert of usual size', () => {
      const delivery = deliveryOf({ type: 'created', priority: 'P2' });
      assert.equal(
        opsgenieWebhookBody(delivery, integration),
        JSON.stringify(opsgeniePayload(delivery, integration)),
      );
    });

    it("is cut under Vigil's body budget for an alert of a thousand long details, the key fields whole", () => {
      const details = Object.fromEntries(
        Array.from({ length: 1000 }, (_, i) => [`${i}-${'k'.repeat(400)}`.slice(0, 400), 'v'.repeat(1000)]),
      );
      const big: AlertSnapshot = {
        ...alert,
        details,
        tags: Array.from({ length: 200 }, (_, i) => `${i}${'t'.repeat(999)}`),
        description: 'd'.repeat(15000),
      };
      // Over a megabyte uncut.
      assert.ok(
        size(
          JSON.stringify(
            opsgeniePayload(deliveryOf({ type: 'created', priority: 'P2' }, {}, big), integration),
          ),
        ) > 1_000_000,
      );

      const created = assertKeyFields(bodyOf(big), 'Create');
      // Cut, not dropped: the first details and tags are still there.
      const keptDetails = Object.keys(created.alert.details as Record<string, string>);
      assert.ok(keptDetails.length > 0 && keptDetails.length < 1000, `${keptDetails.length} details`);
      assert.ok(keptDetails[0]?.startsWith('0-k'));
      const keptTags = created.alert.tags as string[];
      assert.ok(keptTags.length > 0 && keptTags.length < 200, `${keptTags.length} tags`);
      assert.ok(keptTags[0]?.startsWith('0t'));
      assert.ok(typeof created.alert.description === 'string' && created.alert.description.startsWith('ddd'));

      assertKeyFields(bodyOf(big, { type: 'custom_action', action: 'Restart' }), 'Restart');
    });

    it('keeps only the key fields when even the cut details would not fit', () => {
      // Control characters are written as six bytes each: the cut keys and values still pass the budget.
      const details = Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [`${i}${'\u0001'.repeat(399)}`, '\u0001'.repeat(1000)]),
      );
      const body = bodyOf({ ...alert, details });
      const parsed = assertKeyFields(body, 'Create');
      assert.ok(!('details' in parsed.alert));
      assert.equal(parsed.alert.username, 'pat@example.com');
    });
  });
});
