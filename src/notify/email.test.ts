import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { freePort } from '../db/embedded.js';
import { createLogger } from '../logger.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';
import type { NotificationChannel, OutgoingNotification } from './channel.js';
import { classifySmtpError, createEmailChannel, messageIdFor } from './email.js';

const log = createLogger('silent');

function notification(overrides: Partial<OutgoingNotification> = {}): OutgoingNotification {
  return {
    idempotencyKey: 'n-1',
    notificationId: '00000000-0000-4000-8000-000000000001',
    kind: 'create-alert',
    to: { address: 'alice@example.com', userId: 'u1', name: 'Alice', timeZone: 'UTC' },
    alert: {
      id: '00000000-0000-4000-8000-0000000000a1',
      orgId: '00000000-0000-4000-8000-0000000000f1',
      tinyId: '12',
      message: 'Disk full on db-1',
      description: 'almost out of space',
      priority: 'P1',
      status: 'open',
      acknowledged: false,
      source: 'prometheus',
      entity: 'db-1',
      tags: ['disk'],
      details: { host: 'db-1' },
      count: 1,
      createdAt: new Date('2025-03-01T12:00:00Z'),
      integrationName: null,
    },
    reason: 'on call in schedule Primary',
    links: {
      acknowledge: 'https://vigil.example.com/v1/alert-actions/v1.ack',
      close: 'https://vigil.example.com/v1/alert-actions/v1.close',
      view: 'https://vigil.example.com/alerts/a1',
    },
    ...overrides,
  };
}

let smtp: TestSmtpServer;
let channel: NotificationChannel;
before(async () => {
  smtp = await startTestSmtpServer();
  channel = createEmailChannel({ smtpUrl: smtp.url, from: 'Vigil <vigil@alerts.example.com>', log });
});
after(async () => {
  await channel.close?.();
  await smtp.stop();
});
beforeEach(() => smtp.clear());

describe('email channel', () => {
  it('opens several connections for a burst, or as many as the URL says (?maxConnections=)', async () => {
    const burst = () =>
      Array.from({ length: 6 }, (_, i) =>
        notification({
          idempotencyKey: `burst-${i}`,
          to: { ...notification().to, address: `p${i}@example.com` },
        }),
      );
    const sendAll = async (smtpUrl: string) => {
      smtp.clear();
      const burstChannel = createEmailChannel({ smtpUrl, from: 'vigil@example.com', log });
      try {
        const results = await Promise.all(burst().map((m) => burstChannel.send(m)));
        assert.deepEqual([...new Set(results.map((r) => r.status))], ['sent'], JSON.stringify(results));
        assert.equal((await smtp.waitForMessages(6)).length, 6);
        return smtp.connectionsOpened();
      } finally {
        await burstChannel.close?.();
      }
    };
    const pooled = await sendAll(smtp.url);
    assert.ok(pooled > 1 && pooled <= 6, `${pooled} connections for 6 messages at once`);
    assert.equal(await sendAll(`${smtp.url}?maxConnections=1`), 1);
  });

  it('tells the sender it takes as many sends at once as its pool has connections', async () => {
    const sized = (smtpUrl: string) => createEmailChannel({ smtpUrl, from: 'vigil@example.com', log });
    const [pooled, single] = [sized(smtp.url), sized(`${smtp.url}?maxConnections=1`)];
    try {
      assert.equal(pooled.sendsAtOnce, 8);
      assert.equal(single.sendsAtOnce, 1);
    } finally {
      await Promise.all([pooled.close?.(), single.close?.()]);
    }
  });

  it('takes a maxConnections of 0 or none as nodemailer does: its default of 5, not no sends at all', async () => {
    const sized = (smtpUrl: string) => createEmailChannel({ smtpUrl, from: 'vigil@example.com', log });
    const [zero, empty] = [sized(`${smtp.url}?maxConnections=0`), sized(`${smtp.url}?maxConnections=`)];
    try {
      assert.equal(zero.sendsAtOnce, 5);
      assert.equal(empty.sendsAtOnce, 5);
    } finally {
      await Promise.all([zero.close?.(), empty.close?.()]);
    }
  });

  it('sends a message with both parts and the headers receivers use', async () => {
    const result = await channel.send(notification());
    assert.equal(result.status, 'sent', JSON.stringify(result));
    const [mail] = await smtp.waitForMessages(1);
    assert.ok(mail);
    assert.equal(mail.from, 'vigil@alerts.example.com');
    assert.deepEqual(mail.to, ['alice@example.com']);
    assert.equal(mail.subject, '[Vigil] #12: Disk full on db-1');
    assert.equal(mail.headers['thread-topic'], '[Vigil] #12: Disk full on db-1');
    assert.ok(mail.text.includes('Acknowledge: https://vigil.example.com/v1/alert-actions/v1.ack'));
    assert.ok(mail.html.includes('href="https://vigil.example.com/v1/alert-actions/v1.close"'));
    assert.equal(mail.headers['from'], 'Vigil <vigil@alerts.example.com>');
    assert.equal(mail.headers['to'], 'alice@example.com');
    assert.equal(mail.headers['auto-submitted'], 'auto-generated');
    assert.equal(mail.headers['x-vigil-alert-id'], '00000000-0000-4000-8000-0000000000a1');
    assert.equal(mail.headers['x-priority'], '1 (Highest)');
    assert.equal(
      mail.headers['references'],
      '<vigil.alert.00000000-0000-4000-8000-0000000000a1@alerts.example.com>',
    );
    assert.match(mail.messageId, /^<vigil\.[0-9a-f]{40}@alerts\.example\.com>$/);
    assert.ok(result.status === 'sent' && result.providerId === mail.messageId);
    assert.ok(result.status === 'sent' && result.detail?.startsWith('250'));
  });

  it('keeps the Message-ID across retries of one message, and only there', async () => {
    await channel.send(notification());
    await channel.send(notification());
    await channel.send(notification({ idempotencyKey: 'n-2' }));
    const mails = await smtp.waitForMessages(3);
    assert.equal(mails[0]?.messageId, mails[1]?.messageId);
    assert.notEqual(mails[0]?.messageId, mails[2]?.messageId);
    assert.equal(mails[0]?.messageId, messageIdFor('n-1', 'vigil@alerts.example.com'));
  });

  it('threads follow-ups about the same alert', async () => {
    await channel.send(notification({ kind: 'acknowledged-alert', actor: 'Bob', idempotencyKey: 'n-3' }));
    const [mail] = await smtp.waitForMessages(1);
    assert.equal(mail?.subject, 'Re: [Vigil] #12: Disk full on db-1');
    assert.ok(mail?.text.startsWith('Acknowledged by Bob: P1 #12\n'), mail?.text);
    assert.equal(
      mail?.headers['in-reply-to'],
      '<vigil.alert.00000000-0000-4000-8000-0000000000a1@alerts.example.com>',
    );
    assert.equal(mail?.headers['x-priority'], undefined);
  });

  it('gives the page and its follow-ups one subject, so Gmail and Outlook put them in one thread', async () => {
    const thread = '<vigil.alert.00000000-0000-4000-8000-0000000000a1@alerts.example.com>';
    await channel.send(notification({ idempotencyKey: 'page' }));
    const [page] = await smtp.waitForMessages(1);
    await channel.send(
      notification({
        kind: 'acknowledged-alert',
        actor: 'Bob',
        idempotencyKey: 'ack',
        // The priority changed since the page: the subject must not.
        alert: { ...notification().alert, acknowledged: true, priority: 'P2' },
      }),
    );
    const [, ack] = await smtp.waitForMessages(2);
    assert.ok(page && ack);
    const base = (subject: string) => subject.replace(/^(re|fwd?):\s*/i, '');
    assert.equal(base(ack.subject), base(page.subject));
    assert.equal(base(page.subject), '[Vigil] #12: Disk full on db-1');
    assert.match(ack.subject, /^Re: /);
    assert.equal(ack.headers['thread-topic'], page.headers['thread-topic']);
    // The reply names the thread the page started: its reference, which the page carries too.
    const inReplyTo = ack.headers['in-reply-to'];
    assert.ok(
      inReplyTo === page.messageId || (inReplyTo === thread && page.headers['references'] === thread),
      `In-Reply-To ${inReplyTo}`,
    );
    assert.ok(ack.headers['references']?.includes(thread));
    // What the subject no longer says is the body's first line.
    assert.ok(ack.text.startsWith('Acknowledged by Bob: P2 #12\n'), ack.text);
    assert.ok(ack.html.includes('P2 · Acknowledged by Bob · #12'));
  });

  it('reports a refused recipient as failed', async () => {
    smtp.rejectRecipient('gone@example.com', 550, 'No such user');
    const result = await channel.send(
      notification({ to: { ...notification().to, address: 'gone@example.com' } }),
    );
    assert.equal(result.status, 'failed');
    assert.ok(result.status === 'failed' && /550/.test(result.error) && /No such user/.test(result.error));
    assert.equal(smtp.messages.length, 0);
  });

  it("keeps the recipient's address out of what a refusal carries, which the alert's log shows", async () => {
    const bob = (address: string) => notification({ to: { ...notification().to, name: 'Bob', address } });
    // Postfix, with the address as the relay was given it and in another case.
    smtp.rejectRecipient(
      'bob@example.com',
      550,
      '5.1.1 <Bob@Example.com>: Recipient address rejected: User unknown in local recipient table',
    );
    const unknown = await channel.send(bob('bob@example.com'));
    assert.equal(unknown.status, 'failed');
    assert.match(unknown.error, /550 5\.1\.1 <recipient>: Recipient address rejected: User unknown/);
    // Postgrey greylisting, retried; and a relay that echoes the bare address and the one it rewrote it to.
    smtp.rejectRecipient(
      'carol@example.com',
      450,
      '4.2.0 <carol@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/',
    );
    smtp.rejectRecipient(
      'dave@example.com',
      550,
      '5.1.1 dave@example.com... User unknown <dave@mail.example.com>',
    );
    const greylisted = await channel.send(bob('carol@example.com'));
    const echoed = await channel.send(bob('DAVE@example.com'));
    assert.equal(greylisted.status, 'retry');
    assert.equal(echoed.status, 'failed');
    for (const { error } of [unknown, greylisted, echoed]) {
      assert.doesNotMatch(error, /@/, error);
      assert.match(error, /<recipient>/, error);
    }
  });

  it("retries a message refused after DATA for Vigil's sender, and tells the operator to fix it", async () => {
    const lines: string[] = [];
    const recorded = createEmailChannel({
      smtpUrl: smtp.url,
      from: 'Vigil <vigil@alerts.example.com>',
      log: createLogger(
        'warn',
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(...chunk.toString().split('\n').filter(Boolean));
            done();
          },
        }),
      ),
    });
    try {
      // Amazon SES while VIGIL_EMAIL_FROM is not a verified identity: the refusal comes after the body.
      smtp.failNext(
        1,
        554,
        'data',
        'Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: vigil@alerts.example.com',
      );
      const refused = await recorded.send(notification());
      assert.equal(refused.status, 'retry', JSON.stringify(refused));
      assert.ok(refused.status === 'retry' && /identities failed the check/.test(refused.error));
      const logged = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
      assert.ok(
        logged.some((l) => l.level >= 50 && /VIGIL_SMTP_URL and VIGIL_EMAIL_FROM/.test(l.msg)),
        JSON.stringify(logged),
      );
      // Once the operator has verified it, the retry goes out.
      assert.equal((await recorded.send(notification())).status, 'sent');
    } finally {
      await recorded.close?.();
    }
  });

  it('reports a temporary refusal as retry, then sends', async () => {
    smtp.failNext(1, 451);
    const first = await channel.send(notification());
    assert.equal(first.status, 'retry');
    assert.ok(first.status === 'retry' && /451/.test(first.error));
    const second = await channel.send(notification());
    assert.equal(second.status, 'sent');
  });

  it('reports a message refused after DATA: 4xx retry, 5xx failed', async () => {
    smtp.failNext(1, 452, 'data');
    assert.equal((await channel.send(notification())).status, 'retry');
    smtp.failNext(1, 554, 'data');
    assert.equal((await channel.send(notification())).status, 'failed');
  });

  it('reports a relay that is down as retry', async () => {
    const port = await freePort();
    const down = createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'vigil@example.com', log });
    try {
      const result = await down.send(notification());
      assert.equal(result.status, 'retry');
    } finally {
      await down.close?.();
    }
  });

  it('reports a relay that never answers as retry', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const stuck = createEmailChannel({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      from: 'vigil@example.com',
      log,
      timeouts: { greetingTimeout: 200 },
    });
    try {
      const result = await stuck.send(notification());
      assert.equal(result.status, 'retry');
      assert.ok(result.status === 'retry' && /ETIMEDOUT/.test(result.error), JSON.stringify(result));
    } finally {
      await stuck.close?.();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('logs in when the URL has credentials', async () => {
    const secured = await startTestSmtpServer({ auth: { user: 'vigil', pass: 'p@ss word' } });
    const authed = createEmailChannel({ smtpUrl: secured.url, from: 'vigil@example.com', log });
    const wrong = createEmailChannel({
      smtpUrl: `smtp://vigil:nope@127.0.0.1:${secured.port}`,
      from: 'vigil@example.com',
      log,
    });
    try {
      assert.equal((await authed.send(notification())).status, 'sent');
      assert.equal(secured.messages[0]?.authUser, 'vigil');
      assert.equal((await wrong.send(notification())).status, 'retry');
    } finally {
      await authed.close?.();
      await wrong.close?.();
      await secured.stop();
    }
  });
});

describe('SMTP error classification', () => {
  it('fails on permanent refusals of the recipient or message, retries the rest', () => {
    const afterData = (responseCode: number, response: string) => ({
      message: `Message failed: ${response}`,
      code: 'EMESSAGE',
      command: 'DATA',
      responseCode,
      response,
    });
    const cases: [Parameters<typeof classifySmtpError>[0], string][] = [
      [{ message: 'x', code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550 }, 'failed'],
      [{ message: 'x', code: 'EENVELOPE', command: 'RCPT TO', responseCode: 450 }, 'retry'],
      [{ message: 'x', code: 'EENVELOPE', command: 'RCPT TO', responseCode: 503 }, 'retry'],
      [{ message: 'x', code: 'EMESSAGE', command: 'DATA', responseCode: 552 }, 'failed'],
      [{ message: 'x', code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 550 }, 'retry'],
      [{ message: 'x', code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535 }, 'retry'],
      [{ message: 'Invalid recipient "x"', code: 'EENVELOPE', command: 'API' }, 'failed'],
      [{ message: 'connect ECONNREFUSED', code: 'ESOCKET', command: 'CONN' }, 'retry'],
      [{ message: 'Greeting never received', code: 'ETIMEDOUT', command: 'CONN' }, 'retry'],
      [{ message: 'x', code: 'ECONNECTION', command: 'CONN', responseCode: 421 }, 'retry'],
      [afterData(554, '554 5.7.1 Message rejected as spam'), 'failed'],
      // Refusals of Vigil's sender that some relays give only after the message.
      [
        afterData(
          554,
          '554 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: vigil@example.com',
        ),
        'retry',
      ],
      [
        afterData(
          554,
          '554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAs; Failed to process message due to a permanent exception',
        ),
        'retry',
      ],
      [afterData(550, '550 5.7.60 SMTP; Client does not have permissions to send as this sender'), 'retry'],
    ];
    for (const [error, status] of cases)
      assert.equal(
        classifySmtpError(error, 'alice@example.com', 'vigil@example.com').status,
        status,
        JSON.stringify(error),
      );
  });
});
