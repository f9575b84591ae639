import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { OutgoingNotification } from '../channel.js';
import { smsText } from './sms-text.js';

/** Pages of one alert due together (repeats a provider outage held back) name that alert once. */

function page(tinyId: string, message: string): OutgoingNotification {
  return {
    idempotencyKey: randomUUID(),
    notificationId: randomUUID(),
    kind: 'create-alert',
    to: { address: '+14155550123', name: 'Pat', userId: 'u1', timeZone: 'UTC' },
    alert: {
      id: `a${tinyId}`,
      orgId: 'o1',
      tinyId,
      message,
      description: '',
      priority: 'P1',
      status: 'open',
      acknowledged: false,
      source: 'Security Hub',
      entity: '',
      tags: [],
      details: {},
      count: 1,
      createdAt: new Date(0),
      integrationName: null,
    },
    reason: '',
    links: { view: 'https://vigil.example.com/alerts/a1' },
  };
}

describe('an SMS bundle with two pages of one alert', () => {
  it('is the text of that one alert', () => {
    assert.equal(
      smsText([page('42', 'X'), page('42', 'X')], 3),
      'Vigil [P1] X (#42). Reply 3a to acknowledge, 3c to close',
    );
  });

  it('lists the alert once among others, and counts alerts, not pages', () => {
    assert.equal(
      smsText([page('42', 'X'), page('7', 'Y'), page('42', 'X')], 3),
      'Vigil, 2 alerts: [P1] X (#42); [P1] Y (#7). Reply 3aa to acknowledge all, 3cc to close all',
    );
  });
});
