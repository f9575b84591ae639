import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import nodemailer from 'nodemailer';
import { startTestSmtpServer, type TestSmtpServer } from './smtp.js';

let smtp: TestSmtpServer;
before(async () => {
  smtp = await startTestSmtpServer();
});
after(() => smtp.stop());
beforeEach(() => smtp.clear());

function transport(url = smtp.url) {
  return nodemailer.createTransport(url);
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
}

test('receives and parses a message with both parts', async () => {
  const mailer = transport();
  const info = await mailer.sendMail({
    from: 'vigil@example.test',
    to: 'alice@example.test, bob@example.test',
    subject: 'Hello ünïcode',
    text: 'plain body',
    html: '<p>html body</p>',
    messageId: '<abc@vigil.test>',
    headers: { 'X-Vigil-Test': 'yes' },
  });
  assert.deepEqual(info.accepted, ['alice@example.test', 'bob@example.test']);
  const [mail] = await smtp.waitForMessages(1);
  assert.ok(mail);
  assert.equal(mail.from, 'vigil@example.test');
  assert.deepEqual(mail.to, ['alice@example.test', 'bob@example.test']);
  assert.equal(mail.subject, 'Hello ünïcode');
  assert.equal(mail.text.trim(), 'plain body');
  assert.equal(mail.html, '<p>html body</p>');
  assert.equal(mail.messageId, '<abc@vigil.test>');
  assert.equal(mail.headers['x-vigil-test'], 'yes');
  assert.match(mail.raw, /^Subject: /m);
  mailer.close();
});

test('headers only: the header block read (folded lines joined), the bodies left, each message reported', async () => {
  const reported: string[] = [];
  const light = await startTestSmtpServer({
    headersOnly: true,
    onMessage: (mail) => reported.push(mail.headers['x-vigil-alert-id'] ?? ''),
  });
  try {
    const mailer = transport(light.url);
    const sentAt = Date.now();
    await mailer.sendMail({
      from: 'vigil@example.test',
      to: 'alice@example.test',
      subject: 'Plain subject',
      text: 'plain body\n\nX-Not-A-Header: body text',
      html: '<p>html body</p>',
      messageId: '<light@vigil.test>',
      headers: { 'X-Vigil-Alert-Id': 'a1', 'X-Long': `${'word '.repeat(40)}end` },
    });
    const [mail] = await light.waitForMessages(1);
    assert.ok(mail);
    assert.deepEqual(reported, ['a1']);
    assert.equal(mail.subject, 'Plain subject');
    assert.equal(mail.messageId, '<light@vigil.test>');
    assert.equal(mail.headers['x-long'], `${'word '.repeat(40)}end`);
    assert.equal(mail.headers['x-not-a-header'], undefined);
    assert.equal(mail.text, '');
    assert.equal(mail.html, '');
    assert.match(mail.raw, /plain body/);
    assert.ok(mail.receivedAt.getTime() >= sentAt - 1000 && mail.receivedAt.getTime() <= Date.now());
    mailer.close();
  } finally {
    await light.stop();
  }
});

test('a rejected recipient is refused permanently at RCPT TO, the others get it', async () => {
  smtp.rejectRecipient('Gone@example.test');
  const mailer = transport();
  await assert.rejects(
    mailer.sendMail({ from: 'vigil@example.test', to: 'gone@example.test', subject: 's', text: 't' }),
    (error: SmtpFailure) => error.code === 'EENVELOPE' && error.responseCode === 550,
  );
  const info = await mailer.sendMail({
    from: 'vigil@example.test',
    to: 'gone@example.test, alice@example.test',
    subject: 's',
    text: 't',
  });
  assert.deepEqual(info.rejected, ['gone@example.test']);
  const [mail] = await smtp.waitForMessages(1);
  assert.deepEqual(mail?.to, ['alice@example.test']);
  mailer.close();
});

test('failNext answers temporary failures, then accepts again', async () => {
  smtp.failNext(2);
  const mailer = transport();
  const send = () =>
    mailer.sendMail({ from: 'vigil@example.test', to: 'a@example.test', subject: 's', text: 't' });
  for (let i = 0; i < 2; i++)
    await assert.rejects(send(), (error: SmtpFailure) => error.responseCode === 451);
  await send();
  assert.equal(smtp.messages.length, 1);

  smtp.failNext(1, 452, 'data');
  await assert.rejects(
    send(),
    (error: SmtpFailure) => error.code === 'EMESSAGE' && error.responseCode === 452,
  );
  assert.equal(smtp.messages.length, 1);
  smtp.failNext(1, 421, 'mail');
  await assert.rejects(send(), (error: SmtpFailure) => error.responseCode === 421);
  mailer.close();
});

test('waitForMessages times out', async () => {
  await assert.rejects(smtp.waitForMessages(1, 50), /timed out/);
});

test('auth, when configured, is required and checked', async () => {
  const secured = await startTestSmtpServer({ auth: { user: 'mailer', pass: 's3cret' } });
  try {
    assert.match(secured.url, /^smtp:\/\/mailer:s3cret@127\.0\.0\.1:\d+$/);
    const mail = { from: 'vigil@example.test', to: 'a@example.test', subject: 's', text: 't' };
    await transport(secured.url).sendMail(mail);
    assert.equal(secured.messages[0]?.authUser, 'mailer');
    await assert.rejects(
      transport(`smtp://mailer:wrong@127.0.0.1:${secured.port}`).sendMail(mail),
      (error: SmtpFailure) => error.code === 'EAUTH',
    );
    await assert.rejects(transport(`smtp://127.0.0.1:${secured.port}`).sendMail(mail));
  } finally {
    await secured.stop();
  }
});

test('stop closes pooled connections promptly', async () => {
  const other = await startTestSmtpServer();
  const mailer = nodemailer.createTransport({ host: '127.0.0.1', port: other.port, pool: true });
  await mailer.sendMail({ from: 'vigil@example.test', to: 'a@example.test', subject: 's', text: 't' });
  const started = Date.now();
  await other.stop();
  // Well under the server's 10 s close timeout, which stop would wait out for a pooled connection.
  assert.ok(Date.now() - started < 5000);
  mailer.close();
});
