import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutgoingNotification } from './channel.js';
import { LIMITS, renderNotificationEmail, renderSubject, renderThreadSubject } from './email-template.js';

function sampleNotification(overrides: Partial<OutgoingNotification> = {}): OutgoingNotification {
  return {
    idempotencyKey: 'notification:1:attempt',
    notificationId: '00000000-0000-4000-8000-000000000001',
    kind: 'create-alert',
    to: {
      address: 'alice@example.com',
      userId: '00000000-0000-4000-8000-0000000000aa',
      name: 'Alice',
      timeZone: 'Europe/Berlin',
    },
    alert: {
      id: '00000000-0000-4000-8000-0000000000a1',
      orgId: '00000000-0000-4000-8000-0000000000f1',
      tinyId: '12',
      message: 'Disk full on db-1',
      description: 'The volume /var/lib/postgresql is at 99%.',
      priority: 'P1',
      status: 'open',
      acknowledged: false,
      source: 'prometheus',
      entity: 'db-1',
      tags: ['disk', 'prod'],
      details: { host: 'db-1', region: 'eu-central-1' },
      count: 1,
      createdAt: new Date('2025-03-01T12:00:00Z'),
      integrationName: 'Alertmanager',
    },
    reason: 'escalation Ops rule 1, on call in schedule Primary',
    links: {
      acknowledge: 'https://vigil.example.com/v1/alert-actions/v1.ack',
      close: 'https://vigil.example.com/v1/alert-actions/v1.close',
      view: 'https://vigil.example.com/alerts/00000000-0000-4000-8000-0000000000a1',
    },
    ...overrides,
  };
}

describe('notification email template', () => {
  it('gives every email about one alert the same subject, follow-ups as replies, so mail clients thread them', () => {
    const base = sampleNotification();
    assert.equal(renderSubject(base), '[Vigil] #12: Disk full on db-1');
    assert.equal(renderThreadSubject(base), '[Vigil] #12: Disk full on db-1');
    for (const kind of ['acknowledged-alert', 'closed-alert', 'add-note'] as const) {
      assert.equal(renderSubject({ ...base, kind, actor: 'Bob' }), 'Re: [Vigil] #12: Disk full on db-1');
      assert.equal(renderThreadSubject({ ...base, kind }), '[Vigil] #12: Disk full on db-1');
    }
    // A priority change does not change the subject of later emails.
    const raised = { ...base, kind: 'add-note' as const, alert: { ...base.alert, priority: 'P3' as const } };
    assert.equal(renderSubject(raised), 'Re: [Vigil] #12: Disk full on db-1');
    assert.equal(renderNotificationEmail(raised).threadTopic, '[Vigil] #12: Disk full on db-1');
  });

  it("keeps the thread's message in the subject once the message is edited, and shows the new one in the body", () => {
    const thread = { message: 'Disk full on db-1' };
    const edited = sampleNotification({
      kind: 'add-note',
      actor: 'Bob',
      alert: { ...sampleNotification().alert, message: 'Disk full on db-2 <replica>' },
    });
    const email = renderNotificationEmail(edited, thread);
    assert.equal(email.subject, 'Re: [Vigil] #12: Disk full on db-1');
    assert.equal(email.threadTopic, '[Vigil] #12: Disk full on db-1');
    assert.ok(
      email.text.includes('\n\nDisk full on db-2 <replica>\nThe message was changed since the first email'),
    );
    assert.ok(email.html.includes('Disk full on db-2 &lt;replica&gt;</h1>'), email.html);
    assert.ok(email.html.includes('The message was changed since the first email'));
    assert.ok(email.html.includes('<title>Re: [Vigil] #12: Disk full on db-1</title>'));
    // The thread's own first email, and any email while the message is the thread's, say nothing of it.
    const unchanged = renderNotificationEmail(sampleNotification(), thread);
    assert.equal(unchanged.subject, '[Vigil] #12: Disk full on db-1');
    assert.ok(!unchanged.text.includes('changed since') && !unchanged.html.includes('changed since'));
  });

  it('says what happened and the current priority in the first line of both parts', () => {
    const cases = [
      [{ kind: 'create-alert' }, 'New alert: P1 #12', 'P1 · New alert · #12'],
      [
        { kind: 'acknowledged-alert', actor: 'Bob' },
        'Acknowledged by Bob: P1 #12',
        'P1 · Acknowledged by Bob · #12',
      ],
      [{ kind: 'acknowledged-alert' }, 'Acknowledged: P1 #12', 'P1 · Acknowledged · #12'],
      [{ kind: 'closed-alert', actor: 'Bob' }, 'Closed by Bob: P1 #12', 'P1 · Closed by Bob · #12'],
      [
        { kind: 'add-note', actor: 'Bob', note: 'on it' },
        'Note added by Bob: P1 #12',
        'P1 · Note added by Bob · #12',
      ],
      [
        { kind: 'add-note', alert: { ...sampleNotification().alert, priority: 'P3' } },
        'Note added: P3 #12',
        'P3 · Note added · #12',
      ],
    ] as const;
    for (const [overrides, textLine, htmlLine] of cases) {
      const { text, html } = renderNotificationEmail(sampleNotification(overrides));
      assert.equal(text.split('\n')[0], textLine);
      assert.ok(text.includes('\nDisk full on db-1\n'), text);
      const body = html.slice(html.indexOf('<body'));
      assert.match(body, new RegExp(`^<body[^>]*><div[^>]*><div[^>]*>${htmlLine}</div>`));
    }
  });

  it('keeps the subject on one line and short', () => {
    const message = sampleNotification({
      alert: {
        ...sampleNotification().alert,
        message: `line one\r\nBcc: evil@example.com\n${'x'.repeat(400)}`,
      },
    });
    for (const kind of ['create-alert', 'add-note'] as const) {
      const subject = renderSubject({ ...message, kind });
      assert.doesNotMatch(subject, /[\r\n]/);
      assert.ok(subject.length < LIMITS.subjectMessage + 30);
      assert.ok(subject.endsWith('…'));
    }
    // Cut on a character boundary: no half of a surrogate pair before the ellipsis.
    const emoji = sampleNotification({ alert: { ...sampleNotification().alert, message: '💾'.repeat(400) } });
    const cut = renderSubject({ ...emoji, kind: 'closed-alert' });
    assert.equal(cut, `Re: [Vigil] #12: ${'💾'.repeat(LIMITS.subjectMessage - 1)}…`);
  });

  it('puts everything needed to act in the text part', () => {
    const { text } = renderNotificationEmail(sampleNotification());
    for (const expected of [
      'New alert: P1 #12',
      'Disk full on db-1',
      'Acknowledge: https://vigil.example.com/v1/alert-actions/v1.ack',
      'Close: https://vigil.example.com/v1/alert-actions/v1.close',
      'View in Vigil: https://vigil.example.com/alerts/',
      'Priority: P1',
      'Status: Open',
      'Source: prometheus',
      'Entity: db-1',
      'Tags: disk, prod',
      'Integration: Alertmanager',
      'Created: 2025-03-01 13:00 (UTC+01:00, Europe/Berlin)',
      'The volume /var/lib/postgresql is at 99%.',
      '  host: db-1',
      'You get this because: escalation Ops rule 1, on call in schedule Primary.',
    ])
      assert.ok(text.includes(expected), `text lacks ${JSON.stringify(expected)}:\n${text}`);
  });

  it('renders buttons and the plain URLs in the HTML part, inline styles only', () => {
    const { html } = renderNotificationEmail(sampleNotification());
    assert.match(
      html,
      /<a href="https:\/\/vigil\.example\.com\/v1\/alert-actions\/v1\.ack" style="[^"]+">Acknowledge<\/a>/,
    );
    assert.match(
      html,
      /<a href="https:\/\/vigil\.example\.com\/v1\/alert-actions\/v1\.close" style="[^"]+">Close<\/a>/,
    );
    assert.ok(html.includes('>https://vigil.example.com/v1/alert-actions/v1.ack</span>'));
    assert.ok(html.includes('Disk full on db-1'));
    assert.ok(html.includes('eu-central-1'));
    assert.doesNotMatch(html, /<style|<script|class=/i);
    assert.match(html, /name="viewport"/);
  });

  it('escapes everything that came from the alert', () => {
    const evil = '<script>alert("x")</script>&';
    const message = sampleNotification({
      note: evil,
      actor: evil,
      reason: evil,
      alert: {
        ...sampleNotification().alert,
        message: evil,
        description: evil,
        source: evil,
        entity: evil,
        tags: [evil],
        details: { [evil]: evil },
        integrationName: evil,
        tinyId: evil,
      },
      kind: 'add-note',
    });
    const { html } = renderNotificationEmail(message);
    assert.doesNotMatch(html, /<script/);
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;'));
  });

  it('links only to web URLs', () => {
    const message = sampleNotification({
      links: { acknowledge: 'javascript:alert(1)', view: 'https://vigil.example.com/alerts/1' },
    });
    const { html, text } = renderNotificationEmail(message);
    assert.doesNotMatch(html, /javascript:/);
    assert.doesNotMatch(text, /javascript:/);
  });

  it('offers only the actions that still apply', () => {
    const acked = renderNotificationEmail(
      sampleNotification({
        kind: 'acknowledged-alert',
        actor: 'Bob',
        alert: { ...sampleNotification().alert, acknowledged: true },
      }),
    );
    assert.ok(!acked.text.includes('Acknowledge: '));
    assert.ok(acked.text.includes('Close: '));
    assert.ok(acked.text.startsWith('Acknowledged by Bob: P1 #12'));
    assert.ok(acked.text.includes('Status: Acknowledged'));

    const closed = renderNotificationEmail(
      sampleNotification({
        kind: 'closed-alert',
        actor: 'Bob',
        alert: { ...sampleNotification().alert, status: 'closed' },
      }),
    );
    assert.ok(!closed.text.includes('Acknowledge: ') && !closed.text.includes('Close: '));
    assert.doesNotMatch(closed.html, />Acknowledge<|>Close</);
    assert.ok(closed.text.includes('Status: Closed'));
  });

  it('shows the note and who wrote it', () => {
    const { text, html } = renderNotificationEmail(
      sampleNotification({ kind: 'add-note', actor: 'Bob', note: 'Restarting the replica now' }),
    );
    assert.ok(text.startsWith('Note added by Bob: P1 #12'));
    assert.ok(text.includes('Note from Bob:\nRestarting the replica now'));
    assert.ok(html.includes('Bob wrote:'));
    assert.ok(html.includes('Restarting the replica now'));
  });

  it('caps large alerts', () => {
    const details: Record<string, string> = {};
    for (let i = 0; i < 100; i++) details[`key${i}`] = 'v'.repeat(5000);
    const message = sampleNotification({
      alert: { ...sampleNotification().alert, description: 'd'.repeat(100_000), details },
    });
    const { text, html } = renderNotificationEmail(message);
    assert.ok(text.length < 25_000, `text is ${text.length}`);
    assert.ok(html.length < 40_000, `html is ${html.length}`);
    assert.ok(text.includes('(75 more in Vigil)'));
    assert.ok(html.includes('75 more in Vigil'));
    assert.ok(!text.includes('key30'));
  });

  it('falls back to UTC for a time zone it does not know', () => {
    const message = sampleNotification({ to: { ...sampleNotification().to, timeZone: 'Mars/Olympus' } });
    assert.ok(renderNotificationEmail(message).text.includes('Created: 2025-03-01 12:00 UTC'));
  });
});
