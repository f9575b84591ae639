import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AlertEvent } from '../../alerts/events.js';
import type { AlertSnapshot } from '../team-destinations/kind.js';
import { alertMessage } from './blocks.js';

/** The blocks of an alert's message within what Slack takes, whatever the alert's message is. */

const now = new Date().toISOString();

function messageOf(text: string) {
  const alert: AlertSnapshot = {
    id: randomUUID(),
    tinyId: '7',
    alias: 'odd',
    message: text,
    status: 'open',
    acknowledged: false,
    isSeen: false,
    tags: [],
    snoozed: false,
    count: 1,
    lastOccurredAt: now,
    createdAt: now,
    updatedAt: now,
    source: '',
    owner: '',
    priority: 'P1',
    responders: [],
    integration: { id: '', name: 'API', type: 'API' },
    report: {},
    actions: [],
    entity: '',
    description: '',
    details: {},
    visibleTo: [],
  };
  const event: AlertEvent = {
    type: 'created',
    priority: 'P1',
    eventId: randomUUID(),
    alertId: alert.id,
    orgId: randomUUID(),
    at: now,
    actor: { kind: 'system', name: 'test' },
  };
  return alertMessage({ alert, event, viewUrl: `https://vigil.example/alerts/${alert.id}`, buttons: true });
}

function textOf(block: unknown): string {
  return (block as { text: { text: string } }).text.text;
}

const BROKEN_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("a Slack message's blocks", () => {
  it('cuts a header of emoji to 150 UTF-16 units, no emoji split', () => {
    // 130 emoji: 260 units, though only 130 code points.
    const message = messageOf('\u{1F525}'.repeat(130));
    const header = message.blocks[0];
    assert.equal(header?.type, 'header');
    const text = textOf(header);
    assert.ok(text.length <= 150, `the header is ${text.length} UTF-16 units`);
    assert.doesNotMatch(text, BROKEN_SURROGATE);
    assert.ok(text.startsWith('[P1] #7 \u{1F525}'), text);
    assert.ok(text.endsWith('\u{1F525}…'), text.slice(-10));
    // Not cut shorter than it must be: at most one more emoji would have fitted.
    assert.ok(text.length >= 148, `the header is only ${text.length} UTF-16 units`);
  });

  it('keeps a flag whole when cutting a header', () => {
    const text = textOf(messageOf('\u{1F1EB}\u{1F1F7}'.repeat(80)).blocks[0]);
    assert.ok(text.length <= 150, `the header is ${text.length} UTF-16 units`);
    assert.match(text, /^\[P1\] #7 (?:\u{1F1EB}\u{1F1F7})+…$/u);
  });

  it("shows a message of spaces as a placeholder, never a blank section's text", () => {
    for (const blank of [' ', '   ', '\t\n ']) {
      const section = messageOf(blank).blocks.find((b) => b.type === 'section');
      const text = textOf(section);
      assert.notEqual(text.trim(), '', JSON.stringify(blank));
      assert.equal(text, '_(no message)_');
    }
    assert.equal(textOf(messageOf(' Disk full ').blocks.find((b) => b.type === 'section')), ' Disk full ');
  });
});
