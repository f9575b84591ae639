import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import pg from 'pg';
import { createDb, createPool } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { emailMessagesRepository } from './repository.js';
import { startInboundSmtp } from './smtp-listener.js';

/**
 * Email integrations on the real server and its real SMTP listener, sent to with nodemailer as an MTA
 * would: a message to an enabled integration's address becomes an alert of that integration's team;
 * unknown, other-domain and disabled addresses are refused at RCPT TO and make nothing; a message over the
 * size limit is refused with 552 and the listener goes on; hostile content (NUL, a huge subject) is kept,
 * made safe and cut, not lost; each recipient integration gets its own alert, once per Message-ID however
 * often the sender retries. With a create action's appendAttachments, the message's files become the
 * alert's attachments, within the attachment limits, once however often the message is retried.
 */

const DOMAIN = 'inbound.vigil.test';
const MAX_BYTES = 64 * 1024;
/** The attachment limits, small so a test message can pass them (VIGIL_ATTACHMENT_MAX_BYTES's least). */
const ATTACHMENT_MAX_BYTES = 1024;
const ATTACHMENTS_PER_ALERT = 3;
const PUBLIC_URL = 'https://vigil.example.test';
const run = randomUUID().slice(0, 8);
let server: TestServer;
let smtpPort: number;
let teamA: string;
let teamB: string;
let ops: { id: string; username: string };
let search: { id: string; username: string };
/** The suite's server's warnings and errors, one JSON line each. */
const serverLog: string[] = [];

const call = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

interface SmtpError extends Error {
  responseCode?: number;
  response?: string;
  rejected?: string[];
}

async function send(message: SendMailOptions) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtpPort,
    secure: false,
    ignoreTLS: true,
  });
  try {
    return await transport.sendMail({ from: 'monitor@example.org', ...message });
  } finally {
    transport.close();
  }
}

async function sendRefused(message: SendMailOptions): Promise<SmtpError> {
  try {
    await send(message);
  } catch (error) {
    return error as SmtpError;
  }
  assert.fail('the message was accepted');
}

/** A reply once the server has closed the connection. */
const CLOSED = '(connection closed)';

/**
 * One SMTP connection spoken line by line: each final reply in turn (the greeting first), and CLOSED for
 * each once the server has closed the connection.
 */
function smtpConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  let closed = false;
  const arrived: string[] = [];
  const waiting: ((reply: string) => void)[] = [];
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    for (const resolve of waiting.splice(0)) resolve(CLOSED);
  });
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    // A final reply line is "NNN text"; "NNN-text" lines continue it.
    let match;
    while ((match = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer))) {
      const end = match.index + match[0].length;
      const reply = match[0].trim();
      buffer = buffer.slice(end);
      const resolve = waiting.shift();
      if (resolve) resolve(reply);
      else arrived.push(reply);
    }
  });
  const next = () =>
    new Promise<string>((resolve) => {
      const reply = arrived.shift();
      if (reply !== undefined) resolve(reply);
      else if (closed) resolve(CLOSED);
      else waiting.push(resolve);
    });
  return {
    socket,
    next,
    /** Sends the command (unless the connection is closed) and answers its reply. */
    command(line: string): Promise<string> {
      const reply = next();
      if (!closed) socket.write(`${line}\r\n`);
      return reply;
    },
  };
}

/** Speaks SMTP line by line (no SIZE parameter, as an old MTA), and answers each command's final reply. */
async function rawSmtp(commands: string[], port = smtpPort): Promise<string[]> {
  const connection = smtpConnection(port);
  await connection.next(); // the greeting
  const replies: string[] = [];
  for (const command of commands) replies.push(await connection.command(command));
  connection.socket.end();
  return replies;
}

async function payloads(integrationId: string): Promise<Json[]> {
  return (await call('GET', `/v2/integrations/${integrationId}/payloads?limit=100&includeBody=true`)).data;
}

const alertCount = async (): Promise<number> => (await call('GET', '/v2/alerts/count')).data.count;

async function emailIntegration(ownerTeam: string, username: string) {
  const made = await call('POST', '/v2/integrations', {
    type: 'Email',
    name: `Email ${username}`,
    ownerTeam: { id: ownerTeam },
    emailUsername: username,
  });
  return { id: made.data.id as string, username };
}

describe('Email integrations', () => {
  before(async () => {
    server = await startTestServer({
      env: {
        VIGIL_INBOUND_SMTP_PORT: '0',
        VIGIL_INBOUND_SMTP_HOST: '127.0.0.1',
        VIGIL_INBOUND_EMAIL_DOMAIN: DOMAIN,
        VIGIL_INBOUND_EMAIL_MAX_BYTES: String(MAX_BYTES),
        VIGIL_ATTACHMENT_MAX_BYTES: String(ATTACHMENT_MAX_BYTES),
        VIGIL_ATTACHMENTS_PER_ALERT: String(ATTACHMENTS_PER_ALERT),
        VIGIL_PUBLIC_URL: PUBLIC_URL,
      },
      logTo: new PassThrough().on('data', (chunk: Buffer) =>
        serverLog.push(...chunk.toString('utf8').split('\n').filter(Boolean)),
      ),
      logLevel: 'warn',
    });
    assert.ok(server.app.smtpPort, 'the SMTP listener runs');
    smtpPort = server.app.smtpPort;
    teamA = (await call('POST', '/v2/teams', { name: `Ops ${run}` })).data.id;
    teamB = (await call('POST', '/v2/teams', { name: `Search ${run}` })).data.id;
    ops = await emailIntegration(teamA, `ops-${run}`);
    search = await emailIntegration(teamB, `search.alerts_${run}`);
  });

  after(async () => {
    await server?.stop();
  });

  it('shows the address, and refuses a taken, missing or malformed emailUsername', async () => {
    const got = (await call('GET', `/v2/integrations/${ops.id}`)).data;
    assert.equal(got.type, 'Email');
    assert.equal(got.emailUsername, ops.username);
    assert.equal(got.emailAddress, `${ops.username}@${DOMAIN}`);

    const taken = await server.call('POST', '/v2/integrations', {
      type: 'Email',
      name: `another ${run}`,
      ownerTeam: { id: teamB },
      emailUsername: ops.username,
    });
    assert.equal(taken.status, 409, JSON.stringify(taken.body));
    const missing = await server.call('POST', '/v2/integrations', {
      type: 'Email',
      name: `no address ${run}`,
      ownerTeam: { id: teamA },
    });
    assert.equal(missing.status, 422, JSON.stringify(missing.body));
    const upper = await server.call('POST', '/v2/integrations', {
      type: 'Email',
      name: `upper ${run}`,
      ownerTeam: { id: teamA },
      emailUsername: 'Ops<script>',
    });
    assert.ok(upper.status === 400 || upper.status === 422, JSON.stringify(upper.body));
    // Mail servers refuse two dots in a row in an address (RFC 5321): no mail would ever reach it.
    const dots = await server.call('POST', '/v2/integrations', {
      type: 'Email',
      name: `dots ${run}`,
      ownerTeam: { id: teamA },
      emailUsername: `ops..${run}`,
    });
    assert.ok(dots.status === 400 || dots.status === 422, JSON.stringify(dots.body));
    const onApi = await server.call('POST', '/v2/integrations', {
      type: 'API',
      name: `api ${run}`,
      ownerTeam: { id: teamA },
      emailUsername: `api-${run}`,
    });
    assert.equal(onApi.status, 422, JSON.stringify(onApi.body));
    const names = (await call('GET', '/v2/integrations?type=Email')).data.map((i: Json) => i.name);
    assert.deepEqual(names.sort(), [`Email ${ops.username}`, `Email ${search.username}`].sort());

    // Taking another's address on update is refused too, and changes nothing.
    const renamed = await server.call('PATCH', `/v2/integrations/${search.id}`, {
      emailUsername: ops.username,
    });
    assert.equal(renamed.status, 409, JSON.stringify(renamed.body));
    assert.equal((await call('GET', `/v2/integrations/${search.id}`)).data.emailUsername, search.username);
  });

  it("makes an alert of the message, for the integration's team", async () => {
    const subject = `Disk full on db-1 ${run}`;
    const info = await send({
      to: `${ops.username}@${DOMAIN}`,
      subject,
      text: 'The disk of db-1 is 99% full.\nCheck /var/lib/postgresql.',
      messageId: `<disk-${run}@example.org>`,
    });
    assert.deepEqual(info.accepted, [`${ops.username}@${DOMAIN}`]);
    const [logged] = await payloads(ops.id);
    assert.equal(logged.verdict, 'created');
    assert.equal(logged.kind, 'email');
    assert.equal(logged.messageId, `<disk-${run}@example.org>`);
    assert.match(logged.body, /Check \/var\/lib\/postgresql/);
    const alert = (await call('GET', `/v2/alerts/${logged.alertIds[0]}`)).data;
    assert.equal(alert.message, subject);
    assert.equal(alert.description, 'The disk of db-1 is 99% full.\nCheck /var/lib/postgresql.');
    assert.equal(alert.source, 'monitor@example.org');
    assert.equal(alert.details.from, 'monitor@example.org');
    assert.equal(alert.details.to, `${ops.username}@${DOMAIN}`);
    assert.equal(alert.details.messageId, `<disk-${run}@example.org>`);
    assert.deepEqual(alert.responders, [{ type: 'team', id: teamA }]);
    assert.deepEqual(alert.integration, { id: ops.id, name: `Email ${ops.username}`, type: 'Email' });

    // Each message is an alert of its own, even with the same subject: Opsgenie sets no alias.
    await send({ to: `${ops.username}@${DOMAIN}`, subject, text: 'again' });
    const [second] = await payloads(ops.id);
    assert.notEqual(second.alertIds[0], logged.alertIds[0]);
    assert.equal((await call('GET', `/v2/alerts/${second.alertIds[0]}`)).data.count, 1);
  });

  it('refuses unknown addresses and other domains at RCPT TO, and makes nothing', async () => {
    const before = await alertCount();
    for (const to of [`nobody-${run}@${DOMAIN}`, `${ops.username}@elsewhere.example.com`]) {
      const error = await sendRefused({ to, subject: 'should not arrive', text: 'x' });
      assert.equal(error.responseCode, 550, error.message);
      assert.deepEqual(error.rejected, [to]);
    }
    assert.equal(await alertCount(), before);
  });

  it('closes a connection (421) after 20 refused recipients, and looks up no more of its recipients', async () => {
    const recipients = Array.from({ length: 30 }, (_, i) => `RCPT TO:<guess-${i}-${run}@${DOMAIN}>`);
    const replies = await rawSmtp(['EHLO sender.example.org', 'MAIL FROM:<a@example.org>', ...recipients]);
    assert.match(replies[1] ?? '', /^250 /);
    const answers = replies.slice(2);
    assert.equal(answers.slice(0, 20).filter((r) => /^550 /.test(r)).length, 20, answers.join('\n'));
    assert.match(answers[20] ?? '', /^421 .*too many refused recipients/, answers.join('\n'));
    assert.deepEqual(answers.slice(21), Array<string>(9).fill(CLOSED));
    // Another connection is served as ever.
    const info = await send({
      to: `${ops.username}@${DOMAIN}`,
      subject: `after the guesses ${run}`,
      text: 'x',
    });
    assert.deepEqual(info.accepted, [`${ops.username}@${DOMAIN}`]);
  });

  it("refuses a disabled integration's address, and takes it again once enabled", async () => {
    await call('POST', `/v2/integrations/${search.id}/disable`);
    const error = await sendRefused({ to: `${search.username}@${DOMAIN}`, subject: 'off', text: 'x' });
    assert.equal(error.responseCode, 550, error.message);
    assert.equal((await payloads(search.id)).length, 0);
    await call('POST', `/v2/integrations/${search.id}/enable`);
    await send({ to: `${search.username}@${DOMAIN}`, subject: `back on ${run}`, text: 'x' });
    const [logged] = await payloads(search.id);
    assert.equal(logged.verdict, 'created');
    assert.equal((await call('GET', `/v2/alerts/${logged.alertIds[0]}`)).data.message, `back on ${run}`);
  });

  it('refuses a message over the size limit with 552, and goes on taking mail', async () => {
    const before = (await payloads(ops.id)).length;
    const error = await sendRefused({
      to: `${ops.username}@${DOMAIN}`,
      subject: 'huge',
      text: 'y'.repeat(MAX_BYTES * 2),
    });
    assert.equal(error.responseCode, 552, error.message);
    assert.equal((await payloads(ops.id)).length, before);
    await send({ to: `${ops.username}@${DOMAIN}`, subject: `small ${run}`, text: 'fits' });
    const [logged] = await payloads(ops.id);
    assert.equal(logged.verdict, 'created');
    assert.equal((await call('GET', `/v2/alerts/${logged.alertIds[0]}`)).data.message, `small ${run}`);
  });

  it('refuses with 552 a message over the limit whose sender gave no SIZE, read to its end', async () => {
    const before = (await payloads(ops.id)).length;
    const replies = await rawSmtp([
      'EHLO sender.example.org',
      'MAIL FROM:<monitor@example.org>',
      `RCPT TO:<${ops.username}@${DOMAIN}>`,
      'DATA',
      `Subject: too big\r\n\r\n${'z'.repeat(200)}\r\n`.repeat(Math.ceil((MAX_BYTES * 2) / 200)) + '.',
      'QUIT',
    ]);
    assert.match(replies[4] ?? '', /^552 /, replies.join(' | '));
    assert.equal((await payloads(ops.id)).length, before);
  });

  it('keeps a message with NUL bytes and a 10,000-character subject, made safe and cut', async () => {
    const subject = `nul\0here ${'s'.repeat(10_000)}`;
    await send({
      to: `${ops.username}@${DOMAIN}`,
      subject,
      text: 'before\0after',
      headers: { 'X-Extra': 'z' },
    });
    const [logged] = await payloads(ops.id);
    assert.equal(logged.verdict, 'created');
    const alert = (await call('GET', `/v2/alerts/${logged.alertIds[0]}`)).data;
    assert.equal(Array.from(alert.message as string).length, 130);
    assert.ok(alert.message.startsWith('nul\uFFFDhere sss'), alert.message);
    // The limits module keeps the subject in details, as far as a detail may be long.
    assert.ok(
      alert.details.fullMessage.startsWith('nul\uFFFDhere sss'),
      alert.details.fullMessage.slice(0, 20),
    );
    assert.ok(alert.details.fullMessage.length >= 7999, String(alert.details.fullMessage.length));
    assert.equal(alert.description, 'before\uFFFDafter');
  });

  it('cuts a body over the Alert API’s 15,000 characters into the description, the whole in the payload log', async () => {
    const body = `start ${'b'.repeat(20_000)} end`;
    await send({ to: `${ops.username}@${DOMAIN}`, subject: 'long body', text: body });
    const [logged] = await payloads(ops.id);
    assert.equal(logged.verdict, 'created');
    const alert = (await call('GET', `/v2/alerts/${logged.alertIds[0]}`)).data;
    assert.equal(alert.message, 'long body');
    assert.ok(alert.description.startsWith('start bbb'));
    assert.ok(alert.description.length <= 15_000, String(alert.description.length));
  });

  it('refuses for good (554) a message the parser cannot read, rather than have it retried forever', async () => {
    // More MIME parts than mailparser takes (1,000): it throws on every attempt, so "try again later"
    // (451) would keep the message in the sender's queue for days, to fail each time.
    const parts = Array.from({ length: 1001 }, (_, i) => `--b\r\n\r\npart ${i}\r\n`).join('');
    const body = `Content-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`;
    const before = await alertCount();
    const error = await sendRefused({
      envelope: { from: 'monitor@example.org', to: [`${ops.username}@${DOMAIN}`] },
      raw: `From: monitor@example.org\r\nTo: ${ops.username}@${DOMAIN}\r\nSubject: many parts\r\n${body}`,
    });
    assert.equal(error.responseCode, 554, error.message);
    assert.match(error.response ?? '', /could not be read/);
    assert.equal(await alertCount(), before);
    // The listener goes on taking mail.
    await send({ to: `${ops.username}@${DOMAIN}`, subject: `after the many parts ${run}`, text: 'x' });
    assert.equal(await alertCount(), before + 1);
  });

  it('takes mail for an integration a maintenance disables, logs it as ignored, and makes no alert', async () => {
    const made = await call('POST', '/v1/maintenance', {
      description: `mail pause ${run}`,
      time: { type: 'for-5-minutes' },
      rules: [{ state: 'disabled', entity: { id: search.id, type: 'integration' } }],
    });
    const before = await alertCount();
    try {
      // Refusing would bounce the mail to its sender, and a retry later would page after the pause.
      await send({ to: `${search.username}@${DOMAIN}`, subject: `paused ${run}`, text: 'x' });
      const [logged] = await payloads(search.id);
      assert.equal(logged.verdict, 'ignored');
      assert.match(logged.reason, /maintenance/i);
      assert.deepEqual(logged.alertIds, []);
      assert.equal(await alertCount(), before);
    } finally {
      await call('DELETE', `/v1/maintenance/${made.data.id}`);
    }
  });

  it('refuses (550) a message whose every integration was turned off or deleted after RCPT TO, and logs it', async () => {
    /** Speaks up to DATA's 354 for `recipients`, runs `meanwhile`, then sends the body: its reply. */
    async function sentAcross(recipients: string[], subject: string, meanwhile: () => Promise<unknown>) {
      const connection = smtpConnection(smtpPort);
      await connection.next(); // the greeting
      const replies: string[] = [];
      for (const line of ['EHLO mta.example.org', 'MAIL FROM:<monitor@example.org>'])
        replies.push(await connection.command(line));
      for (const to of recipients) replies.push(await connection.command(`RCPT TO:<${to}@${DOMAIN}>`));
      replies.push(await connection.command('DATA'));
      assert.deepEqual(
        replies.map((r) => r.slice(0, 3)),
        [...Array<string>(2 + recipients.length).fill('250'), '354'],
        replies.join(' | '),
      );
      await meanwhile();
      const reply = await connection.command(
        `From: monitor@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\nimportant\r\n.`,
      );
      await connection.command('QUIT');
      return reply;
    }
    const before = await alertCount();

    // Turned off: the integration's payload log says so, and the sender is told for good.
    const off = await emailIntegration(teamA, `late-off-${run}`);
    const offReply = await sentAcross([off.username], `off-${run}`, () =>
      call('POST', `/v2/integrations/${off.id}/disable`),
    );
    assert.match(offReply, /^550 5\.1\.1 .*no enabled Email integration/, offReply);
    assert.ok(offReply.includes(`${off.username}@${DOMAIN}`), offReply);
    const [logged, ...more] = await payloads(off.id);
    assert.deepEqual(more, []);
    assert.equal(logged.verdict, 'ignored');
    assert.equal(logged.messageId, `<off-${run}@example.org>`);
    assert.match(logged.reason, /turned off since RCPT TO/);
    assert.match(logged.body, /important/);

    // Deleted: no payload log is left to say it, so the server's log does.
    const gone = await emailIntegration(teamA, `late-gone-${run}`);
    const goneReply = await sentAcross([gone.username], `gone-${run}`, () =>
      call('DELETE', `/v2/integrations/${gone.id}`),
    );
    assert.match(goneReply, /^550 5\.1\.1 /, goneReply);
    assert.ok(
      serverLog.some((line) => line.includes(`${gone.username}@${DOMAIN}`)),
      `the server logs the address: ${serverLog.join('\n')}`,
    );
    assert.equal(await alertCount(), before);

    // One recipient gone does not fail its neighbours: the message is taken (250) for the rest.
    const third = await emailIntegration(teamA, `late-third-${run}`);
    const mixedReply = await sentAcross([third.username, ops.username], `mixed-${run}`, () =>
      call('POST', `/v2/integrations/${third.id}/disable`),
    );
    assert.match(mixedReply, /^250 .*1 alert made/, mixedReply);
    assert.equal((await payloads(third.id))[0]?.verdict, 'ignored');
    const [taken] = await payloads(ops.id);
    assert.equal(taken.verdict, 'created');
    assert.equal(taken.messageId, `<mixed-${run}@example.org>`);
    assert.equal(await alertCount(), before + 1);
  });

  it('keeps a message that is not UTF-8 in the payload log byte for byte, and says how it was read', async () => {
    const connection = smtpConnection(smtpPort);
    await connection.next(); // the greeting
    for (const line of [
      'EHLO mta.example.org',
      'MAIL FROM:<monitor@example.org>',
      `RCPT TO:<${ops.username}@${DOMAIN}>`,
      'DATA',
    ])
      await connection.command(line);
    // An 8bit ISO-8859-1 body (é is 0xE9, è 0xE8), as old monitoring tools send; a NUL too.
    const latin = connection.next();
    connection.socket.write(
      Buffer.from(
        `From: monitor@example.org\r\nSubject: latin ${run}\r\nContent-Type: text/plain; charset=iso-8859-1\r\n` +
          'Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 cr\xe8me\0br\xfbl\xe9e\r\n.\r\n',
        'latin1',
      ),
    );
    assert.match(await latin, /^250 /);
    await connection.command('QUIT');
    const [logged] = await payloads(ops.id);
    assert.equal(logged.verdict, 'created');
    assert.ok(
      logged.body.endsWith('caf\u00e9 cr\u00e8me\uFFFDbr\u00fbl\u00e9e\r\n'),
      JSON.stringify(logged.body.slice(-30)),
    );
    assert.equal(logged.contentType, 'message/rfc822; x-decoded=latin1');
    const alert = (await call('GET', `/v2/alerts/${logged.alertIds[0]}`)).data;
    assert.equal(alert.description, 'caf\u00e9 cr\u00e8me\uFFFDbr\u00fbl\u00e9e');

    // UTF-8 is kept as it is, and said to be plain message/rfc822.
    await send({ to: `${ops.username}@${DOMAIN}`, subject: `utf8 ${run}`, text: 'caf\u00e9 \u{1F525}' });
    const [utf8] = await payloads(ops.id);
    assert.equal(utf8.contentType, 'message/rfc822');
    assert.match(utf8.body, /Subject: utf8/);
  });

  it('makes no alert of a bounce, an automatic reply or a page of Vigil come back, and logs each as ignored', async () => {
    const before = await alertCount();
    const to = `${search.username}@${DOMAIN}`;
    await send({
      to,
      subject: `out of office ${run}`,
      text: 'x',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    await send({ to, subject: `page ${run}`, text: 'x', headers: { 'X-Vigil-Alert-Id': randomUUID() } });
    await send({ to, subject: `undeliverable ${run}`, text: 'x', envelope: { from: '', to: [to] } });
    // A NUL in the header is made storable, so the message still has its line in the payload log. (Sent
    // raw: nodemailer would put the NUL in an encoded word, which no parser reads in this header.)
    const replies = await rawSmtp([
      'EHLO sender.example.org',
      'MAIL FROM:<away@example.org>',
      `RCPT TO:<${to}>`,
      'DATA',
      `Subject: away ${run}\r\nAuto-Submitted: auto-replied\0x\r\n\r\nx\r\n.`,
      'QUIT',
    ]);
    assert.match(replies[4] ?? '', /^250 /, replies.join(' | '));
    const logged = (await payloads(search.id)).slice(0, 4).map((p) => p.reason as string);
    assert.deepEqual(
      logged.map((reason) => /a bounce|an automatic reply|Vigil's own pages/.exec(reason)?.[0]),
      ['an automatic reply', 'a bounce', "Vigil's own pages", 'an automatic reply'],
      logged.join(' | '),
    );
    assert.match(logged[0] ?? '', /auto-replied\uFFFDx/);
    assert.equal(await alertCount(), before);
    // Mail a machine sends on its own (as monitoring systems do) is what the integration is for.
    await send({
      to,
      subject: `disk full ${run}`,
      text: 'x',
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
    assert.equal(await alertCount(), before + 1);
  });

  it('makes one alert per recipient integration, each for its own team', async () => {
    const subject = `shared outage ${run}`;
    const info = await send({
      to: [`${ops.username}@${DOMAIN}`, `${search.username.toUpperCase()}@${DOMAIN}`],
      subject,
      text: 'both teams care',
    });
    assert.equal(info.accepted.length, 2);
    const [toOps] = await payloads(ops.id);
    const [toSearch] = await payloads(search.id);
    const opsAlert = (await call('GET', `/v2/alerts/${toOps.alertIds[0]}`)).data;
    const searchAlert = (await call('GET', `/v2/alerts/${toSearch.alertIds[0]}`)).data;
    assert.notEqual(opsAlert.id, searchAlert.id);
    for (const alert of [opsAlert, searchAlert]) assert.equal(alert.message, subject);
    assert.deepEqual(opsAlert.responders, [{ type: 'team', id: teamA }]);
    assert.deepEqual(searchAlert.responders, [{ type: 'team', id: teamB }]);
    assert.equal(searchAlert.integration.id, search.id);
  });
  it('takes a Message-ID once per integration: a message retried after one recipient failed makes one alert each', async () => {
    const db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    const messageId = `<retried-${run}@example.org>`;
    const message = {
      to: [`${ops.username}@${DOMAIN}`, `${search.username}@${DOMAIN}`],
      subject: `retried ${run}`,
      text: 'both teams care, once',
      messageId,
    };
    const alertsOf = async () =>
      (
        await db.query(
          `SELECT integration_id, count(*)::int AS n FROM alerts WHERE details->>'messageId' = $1
           GROUP BY integration_id`,
          [messageId],
        )
      ).rows.reduce((all: Record<string, number>, r: Json) => ({ ...all, [r.integration_id]: r.n }), {});
    try {
      // The second recipient's alert fails (the database refuses it) after the first's was made: the
      // message is answered 451, and the sender will send all of it again.
      await db.query(`CREATE FUNCTION email_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused for the test'; END $$`);
      await db.query(`CREATE TRIGGER email_test_refuse BEFORE INSERT ON alerts FOR EACH ROW
        WHEN (NEW.integration_id = '${search.id}') EXECUTE FUNCTION email_test_refuse()`);
      const error = await sendRefused(message);
      assert.equal(error.responseCode, 451, error.message);
      assert.deepEqual(await alertsOf(), { [ops.id]: 1 });
      await db.query('DROP TRIGGER email_test_refuse ON alerts');

      // The retry: the first recipient had it already, the second makes its alert now.
      const retried = await send(message);
      assert.match(retried.response, /1 alert made, 1 recipient had taken it already/);
      assert.deepEqual(await alertsOf(), { [ops.id]: 1, [search.id]: 1 });
      const [opsLogged] = await payloads(ops.id);
      assert.equal(opsLogged.verdict, 'duplicate');
      assert.equal(opsLogged.messageId, messageId);
      assert.deepEqual(opsLogged.alertIds, []);
      assert.match(opsLogged.reason, /already received/);
      const [searchLogged] = await payloads(search.id);
      assert.equal(searchLogged.verdict, 'created');
      assert.equal(
        (await call('GET', `/v2/alerts/${searchLogged.alertIds[0]}`)).data.message,
        `retried ${run}`,
      );
      // The one alert each is the one the record names, with its request.
      const taken = await db.query(
        'SELECT integration_id, alert_id, verdict, request_id FROM email_messages WHERE message_key = $1',
        [messageId],
      );
      assert.equal(taken.rows.length, 2);
      const searchTaken = taken.rows.find((r: Json) => r.integration_id === search.id);
      assert.equal(searchTaken.alert_id, searchLogged.alertIds[0]);
      assert.equal(searchTaken.verdict, 'created');
      const request = (await call('GET', `/v2/alerts/requests/${searchTaken.request_id}`)).data;
      assert.equal(request.alertId, searchLogged.alertIds[0]);

      // Again, and nothing more is made.
      const third = await send(message);
      assert.match(third.response, /0 alerts made, 2 recipients had taken it already/);
      assert.deepEqual(await alertsOf(), { [ops.id]: 1, [search.id]: 1 });
    } finally {
      await db.query('DROP TRIGGER IF EXISTS email_test_refuse ON alerts');
      await db.query('DROP FUNCTION IF EXISTS email_test_refuse()');
      await db.end();
    }
  });

  it('makes an alert of every copy of a message without a Message-ID, as it always has', async () => {
    const subject = `no message id ${run}`;
    const raw = `From: monitor@example.org\r\nTo: ${ops.username}@${DOMAIN}\r\nSubject: ${subject}\r\n\r\nbody\r\n`;
    const envelope = { from: 'monitor@example.org', to: [`${ops.username}@${DOMAIN}`] };
    await send({ envelope, raw });
    await send({ envelope, raw });
    const logged = (await payloads(ops.id)).slice(0, 2);
    assert.deepEqual(
      logged.map((p) => [p.verdict, p.messageId]),
      [
        ['created', null],
        ['created', null],
      ],
    );
    assert.notEqual(logged[0]?.alertIds[0], logged[1]?.alertIds[0]);
  });

  it('tells apart two Message-IDs alike in their first 1,200 characters', async () => {
    const common = 'x'.repeat(1200);
    const envelope = { from: 'monitor@example.org', to: [`${ops.username}@${DOMAIN}`] };
    const before = (await payloads(ops.id)).length;
    for (const end of ['first', 'second']) {
      const subject = `long message id ${end} ${run}`;
      // Folded over lines, as a mail writer keeps a header under its line limit.
      const id = `<${common}.${end}.${run}@example.org>`.replace(/(.{900})/g, '$1\r\n ');
      const raw = `From: monitor@example.org\r\nTo: ${ops.username}@${DOMAIN}\r\nMessage-ID: ${id}\r\nSubject: ${subject}\r\n\r\nbody\r\n`;
      await send({ envelope, raw });
    }
    const logged = (await payloads(ops.id)).slice(0, (await payloads(ops.id)).length - before);
    assert.deepEqual(
      logged.map((p) => p.verdict),
      ['created', 'created'],
    );
  });

  it('forgets a Message-ID after the retention, so the table does not grow', async () => {
    const pool = createPool(server.databaseUrl, 1);
    const db = createDb(pool);
    try {
      const old = `<old-${run}@example.org>`;
      const recent = `<recent-${run}@example.org>`;
      const receivedAt = { [old]: new Date(Date.now() - 8 * 86_400_000), [recent]: new Date() };
      for (const messageId of [old, recent])
        assert.ok(
          await emailMessagesRepository.claim(db, {
            integrationId: ops.id,
            messageId,
            requestId: randomUUID(),
            receivedAt: receivedAt[messageId] ?? new Date(),
            verdict: 'created',
          }),
        );
      const removed = await emailMessagesRepository.purge(db, new Date(Date.now() - 7 * 86_400_000));
      assert.ok(removed >= 1, String(removed));
      assert.equal(await emailMessagesRepository.find(db, ops.id, old), undefined);
      assert.ok(await emailMessagesRepository.find(db, ops.id, recent));
    } finally {
      await db.destroy();
    }
  });

  describe('close, acknowledge and add-note actions', () => {
    /**
     * Opsgenie's recovery set-up: a PROBLEM mail makes the alert, aliased by its sender; a mail no create
     * action matches goes on to the close, then acknowledge, then add-note actions, aliased alike.
     */
    let monitor: { id: string; username: string };
    const contains = (value: string) => ({
      conditionMatchType: 'match-all-conditions',
      conditions: [{ field: 'message', operation: 'contains', expectedValue: value }],
    });

    before(async () => {
      monitor = await emailIntegration(teamA, `monitor-${run}`);
      await call('PUT', `/v2/integrations/${monitor.id}/actions`, {
        create: [{ name: 'Problem', filter: contains('PROBLEM'), alias: '{{source}}' }],
        close: [{ name: 'Recovery', filter: contains('RECOVERY'), alias: '{{source}}' }],
        acknowledge: [{ name: 'Seen', filter: contains('ACKNOWLEDGED'), alias: '{{source}}' }],
        addNote: [{ name: 'Update', filter: contains('UPDATE'), alias: '{{source}}' }],
      });
    });

    const alertOf = async (id: string): Promise<Json> => (await call('GET', `/v2/alerts/${id}`)).data;
    const logsOf = async (id: string): Promise<string[]> =>
      (await call('GET', `/v2/alerts/${id}/logs?order=asc&limit=100`)).data.map((l: Json) => l.log);
    const notesOf = async (id: string): Promise<string[]> =>
      (await call('GET', `/v2/alerts/${id}/notes?order=asc&limit=100`)).data.map((n: Json) => n.note);

    /** Sends a PROBLEM from `from`, and answers the alert it made. */
    async function problem(from: string): Promise<string> {
      await send({
        from,
        to: `${monitor.username}@${DOMAIN}`,
        subject: `PROBLEM: db-1 down ${run}`,
        text: 'down',
      });
      const [logged] = await payloads(monitor.id);
      assert.equal(logged.verdict, 'created', JSON.stringify(logged));
      const alert = await alertOf(logged.alertIds[0]);
      assert.equal(alert.alias, from);
      assert.equal(alert.status, 'open');
      return alert.id as string;
    }

    it('closes the alert of the PROBLEM mail when its RECOVERY mail comes, and makes none', async () => {
      const from = `nagios-${run}@example.org`;
      const alertId = await problem(from);
      const before = await alertCount();
      const info = await send({
        from,
        to: `${monitor.username}@${DOMAIN}`,
        subject: `RECOVERY: db-1 up ${run}`,
        text: 'db-1 is up again.',
      });
      assert.match(info.response, /0 alerts made, 1 alert closed/);
      assert.equal(await alertCount(), before);
      const [logged] = await payloads(monitor.id);
      assert.equal(logged.verdict, 'closed', JSON.stringify(logged));
      assert.deepEqual(logged.alertIds, [alertId]);
      const alert = await alertOf(alertId);
      assert.equal(alert.status, 'closed');
      assert.match(logged.reason, new RegExp(`^closed alert #${alert.tinyId} .*close action 'Recovery'`));
      const logs = await logsOf(alertId);
      assert.ok(
        logs.some((l) => l === `Alert closed by Email ${monitor.username}`),
        logs.join('\n'),
      );
      // The action's note is by default the message's body.
      assert.deepEqual(await notesOf(alertId), ['db-1 is up again.']);
    });

    it('acknowledges the open alert, or adds a note to it, as the first matching action says', async () => {
      const from = `zabbix-${run}@example.org`;
      const alertId = await problem(from);
      const before = await alertCount();
      const acked = await send({
        from,
        to: `${monitor.username}@${DOMAIN}`,
        subject: `ACKNOWLEDGED: db-1 ${run}`,
        text: 'on it',
      });
      assert.match(acked.response, /0 alerts made, 1 alert updated/);
      let [logged] = await payloads(monitor.id);
      assert.equal(logged.verdict, 'updated', JSON.stringify(logged));
      assert.match(logged.reason, /^acknowledged alert #\d+ .*acknowledge action 'Seen'/);
      let alert = await alertOf(alertId);
      assert.equal(alert.status, 'open');
      assert.equal(alert.acknowledged, true);

      await send({
        from,
        to: `${monitor.username}@${DOMAIN}`,
        subject: `UPDATE: db-1 ${run}`,
        text: 'failing over to db-2',
      });
      [logged] = await payloads(monitor.id);
      assert.equal(logged.verdict, 'updated', JSON.stringify(logged));
      assert.deepEqual(logged.alertIds, [alertId]);
      assert.ok((await notesOf(alertId)).includes('failing over to db-2'));
      alert = await alertOf(alertId);
      assert.equal(alert.status, 'open');
      assert.equal(await alertCount(), before);
    });

    it('records a RECOVERY with no open alert of its alias as matched, with nothing to close, and makes no alert', async () => {
      const from = `quiet-${run}@example.org`;
      const before = await alertCount();
      const info = await send({
        from,
        to: `${monitor.username}@${DOMAIN}`,
        subject: `RECOVERY: nothing ${run}`,
        text: 'up',
      });
      assert.match(info.response, /0 alerts made/);
      const [logged] = await payloads(monitor.id);
      assert.equal(logged.verdict, 'ignored', JSON.stringify(logged));
      assert.match(
        logged.reason,
        new RegExp(`close action 'Recovery', but there is no open alert with alias ${from} to close`),
      );
      assert.deepEqual(logged.alertIds, []);
      assert.equal(await alertCount(), before);
    });
  });

  describe("a create action's appendAttachments", () => {
    /** Its create action appends attachments, and makes the subject the alias (one alert per subject). */
    let files: { id: string; username: string };
    /** Its create action leaves appendAttachments out: false, Opsgenie's default. */
    let plain: { id: string; username: string };
    let db: pg.Client;

    before(async () => {
      files = await emailIntegration(teamA, `files-${run}`);
      plain = await emailIntegration(teamA, `plain-${run}`);
      await call('PUT', `/v2/integrations/${files.id}/actions`, {
        create: [{ name: 'Attach', alias: '{{message}}', appendAttachments: true }],
      });
      await call('PUT', `/v2/integrations/${plain.id}/actions`, { create: [{ name: 'Plain' }] });
      db = new pg.Client({ connectionString: server.databaseUrl });
      await db.connect();
    });

    after(async () => {
      await db?.end();
    });

    /** The alert the integration's latest message made. */
    async function latestAlert(integrationId: string): Promise<string> {
      const [logged] = await payloads(integrationId);
      assert.equal(logged?.verdict, 'created', JSON.stringify(logged));
      return logged.alertIds[0] as string;
    }

    /** The alert's attachments as the API lists them, each with the bytes its download link serves. */
    async function attachmentsOf(alertId: string) {
      const listed = (await call('GET', `/v2/alerts/${alertId}/attachments`)).data as Json[];
      const out: { name: string; type: string | null; content: Buffer }[] = [];
      for (const { id, name } of listed) {
        const { url } = (await call('GET', `/v2/alerts/${alertId}/attachments/${id}`)).data;
        assert.ok(url.startsWith(`${PUBLIC_URL}/v1/alert-attachments/`), url);
        const response = await fetch(`${server.url}${new URL(url).pathname}`);
        assert.equal(response.status, 200);
        out.push({
          name,
          type: response.headers.get('content-type'),
          content: Buffer.from(await response.arrayBuffer()),
        });
      }
      return out;
    }

    const logsOf = async (alertId: string): Promise<string[]> =>
      (await call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`)).data.map((l: Json) => l.log);

    it('puts the files on the alert byte for byte, and not the images of the HTML body', async () => {
      const shown = (await call('GET', `/v2/integrations/${files.id}/actions`)).data.create;
      assert.equal(shown[0].appendAttachments, true);
      const csv = Buffer.from('host,disk\ndb-1,99%\n');
      const dump = randomBytes(ATTACHMENT_MAX_BYTES);
      await send({
        to: `${files.username}@${DOMAIN}`,
        subject: `with files ${run}`,
        text: 'see the files',
        html: '<p>see the files</p><img src="cid:logo@example.org">',
        attachments: [
          { filename: 'disks.csv', content: csv, contentType: 'text/csv' },
          { filename: '../../core.bin', content: dump, contentType: 'application/octet-stream' },
          {
            filename: 'logo.png',
            content: randomBytes(64),
            contentType: 'image/png',
            cid: 'logo@example.org',
          },
        ],
      });
      const alertId = await latestAlert(files.id);
      assert.deepEqual(await attachmentsOf(alertId), [
        { name: 'disks.csv', type: 'text/csv', content: csv },
        { name: 'core.bin', type: 'application/octet-stream', content: dump },
      ]);
      const stored = await db.query(
        'SELECT name, added_by, added_by_integration_id FROM alert_attachments WHERE alert_id = $1 ORDER BY id',
        [alertId],
      );
      assert.deepEqual(stored.rows, [
        { name: 'disks.csv', added_by: `Email ${files.username}`, added_by_integration_id: files.id },
        { name: 'core.bin', added_by: `Email ${files.username}`, added_by_integration_id: files.id },
      ]);
      const logs = await logsOf(alertId);
      assert.ok(
        logs.includes(
          `Attachment disks.csv (${csv.length} bytes) attached from the email by Email ${files.username}`,
        ),
        logs.join('\n'),
      );
      assert.ok(
        logs.includes(
          `Attachment core.bin (${dump.length} bytes) attached from the email by Email ${files.username}`,
        ),
        logs.join('\n'),
      );
    });

    it('attaches nothing when the create action leaves appendAttachments false, or no actions are set', async () => {
      const subject = `no files wanted ${run}`;
      await send({
        to: [`${plain.username}@${DOMAIN}`, `${ops.username}@${DOMAIN}`],
        subject,
        text: 'a file that must stay in the mail',
        attachments: [{ filename: 'notes.txt', content: 'not for the alert', contentType: 'text/plain' }],
      });
      for (const integration of [plain, ops]) {
        const alertId = await latestAlert(integration.id);
        assert.equal((await call('GET', `/v2/alerts/${alertId}`)).data.message, subject);
        assert.deepEqual((await call('GET', `/v2/alerts/${alertId}/attachments`)).data, []);
        const stored = await db.query(
          'SELECT count(*)::int AS n FROM alert_attachments WHERE alert_id = $1',
          [alertId],
        );
        assert.equal(stored.rows[0].n, 0);
        assert.ok(!(await logsOf(alertId)).some((l) => /attach/i.test(l)));
      }
    });

    it('leaves out a file over the size limit and those past the per-alert limit, says so, and makes the alert', async () => {
      const small = (n: number) => Buffer.from(`file ${n}\n`);
      await send({
        to: `${files.username}@${DOMAIN}`,
        subject: `too much ${run}`,
        text: 'many files',
        attachments: [
          { filename: 'huge.bin', content: randomBytes(ATTACHMENT_MAX_BYTES + 1) },
          ...[1, 2, 3, 4, 5].map((n) => ({
            filename: `f${n}.txt`,
            content: small(n),
            contentType: 'text/plain',
          })),
        ],
      });
      const alertId = await latestAlert(files.id);
      assert.equal((await call('GET', `/v2/alerts/${alertId}`)).data.message, `too much ${run}`);
      assert.deepEqual(
        (await attachmentsOf(alertId)).map((a) => [a.name, a.content.toString()]),
        [1, 2, 3].map((n) => [`f${n}.txt`, small(n).toString()]),
      );
      const logs = await logsOf(alertId);
      assert.ok(
        logs.includes(
          `Attachment huge.bin (${ATTACHMENT_MAX_BYTES + 1} bytes) of the email not attached: larger than the limit of ${ATTACHMENT_MAX_BYTES} bytes (VIGIL_ATTACHMENT_MAX_BYTES)`,
        ),
        logs.join('\n'),
      );
      assert.ok(
        logs.includes(
          `2 attachments of the email not attached, as the alert already has ${ATTACHMENTS_PER_ALERT} attachments, the most one alert may have (VIGIL_ATTACHMENTS_PER_ALERT): f4.txt, f5.txt`,
        ),
        logs.join('\n'),
      );
    });

    it("puts a de-duplicated message's files on the alert it counts into, within the per-alert limit", async () => {
      const subject = `repeating ${run}`;
      const file = (name: string) => ({ filename: name, content: `${name}\n`, contentType: 'text/plain' });
      await send({
        to: `${files.username}@${DOMAIN}`,
        subject,
        text: 'first',
        attachments: [file('first-1.txt'), file('first-2.txt')],
      });
      const alertId = await latestAlert(files.id);
      await send({
        to: `${files.username}@${DOMAIN}`,
        subject,
        text: 'second',
        attachments: [file('second-1.txt'), file('second-2.txt')],
      });
      assert.equal(await latestAlert(files.id), alertId, 'the same alias: the same alert');
      const alert = (await call('GET', `/v2/alerts/${alertId}`)).data;
      assert.equal(alert.count, 2);
      assert.deepEqual(
        (await attachmentsOf(alertId)).map((a) => a.name),
        ['first-1.txt', 'first-2.txt', 'second-1.txt'],
      );
      const logs = await logsOf(alertId);
      assert.ok(
        logs.includes(
          `Attachment of the email not attached, as the alert already has ${ATTACHMENTS_PER_ALERT} attachments, the most one alert may have (VIGIL_ATTACHMENTS_PER_ALERT): second-2.txt`,
        ),
        logs.join('\n'),
      );
    });

    it('adds the files once, with the alert: a retried Message-ID does not add them again', async () => {
      const messageId = `<files-retried-${run}@example.org>`;
      const message = {
        to: `${files.username}@${DOMAIN}`,
        subject: `files retried ${run}`,
        text: 'retried',
        messageId,
        attachments: [
          { filename: 'one.txt', content: 'one\n', contentType: 'text/plain' },
          { filename: `refused-${run}.txt`, content: 'two\n', contentType: 'text/plain' },
        ],
      };
      const alertsOf = async () =>
        (await db.query(`SELECT id FROM alerts WHERE details->>'messageId' = $1`, [messageId])).rows.map(
          (r: Json) => r.id as string,
        );
      try {
        // The second file's insert fails after the alert and the first file were written: all of it is
        // undone, and the sender is told to try again.
        await db.query(`CREATE FUNCTION email_test_refuse_file() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'refused for the test'; END $$`);
        await db.query(`CREATE TRIGGER email_test_refuse_file BEFORE INSERT ON alert_attachments FOR EACH ROW
          WHEN (NEW.name = 'refused-${run}.txt') EXECUTE FUNCTION email_test_refuse_file()`);
        const error = await sendRefused(message);
        assert.equal(error.responseCode, 451, error.message);
        assert.deepEqual(await alertsOf(), []);
        const orphans = await db.query(
          `SELECT count(*)::int AS n FROM alert_attachments WHERE name = 'one.txt'
          AND alert_id IN (SELECT id FROM alerts WHERE integration_id = $1)`,
          [files.id],
        );
        assert.equal(orphans.rows[0].n, 0);
        await db.query('DROP TRIGGER email_test_refuse_file ON alert_attachments');

        await send(message);
        const [alertId, ...others] = await alertsOf();
        assert.ok(alertId);
        assert.deepEqual(others, []);
        const expected = ['one.txt', `refused-${run}.txt`];
        assert.deepEqual(
          (await attachmentsOf(alertId)).map((a) => a.name),
          expected,
        );

        const again = await send(message);
        assert.match(again.response, /0 alerts made, 1 recipient had taken it already/);
        assert.deepEqual(await alertsOf(), [alertId]);
        assert.deepEqual(
          (await attachmentsOf(alertId)).map((a) => a.name),
          expected,
        );
        const attachedLines = (await logsOf(alertId)).filter((l) => l.includes('attached from the email'));
        assert.equal(attachedLines.length, 2, attachedLines.join('\n'));
      } finally {
        await db.query('DROP TRIGGER IF EXISTS email_test_refuse_file ON alert_attachments');
        await db.query('DROP FUNCTION IF EXISTS email_test_refuse_file()');
      }
    });
  });
});

describe("the SMTP listener's limits", () => {
  const refuseAll = {
    recipient: async (address: string) => ({ accepted: false as const, reason: `<${address}>: no` }),
    receive: async () => [],
  };

  it('takes any number of connections from one address when the limit is 0 (every sender behind one NAT)', async () => {
    const listener = await startInboundSmtp({
      port: 0,
      host: '127.0.0.1',
      maxBytes: 4096,
      maxConnectionsPerAddress: 0,
      log: createLogger('silent'),
      intake: refuseAll,
    });
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const connection = smtpConnection(listener.port);
        held.push(connection.socket);
        assert.match(await connection.next(), /^220 /, `connection ${i + 1}`);
      }
    } finally {
      for (const socket of held) socket.destroy();
      await listener.close();
    }
  });

  it('takes 10 connections at once from one address, tells the 11th 421, and takes one again once one closes', async () => {
    const listener = await startInboundSmtp({
      port: 0,
      host: '127.0.0.1',
      maxBytes: 4096,
      maxConnectionsPerAddress: 10,
      log: createLogger('silent'),
      intake: refuseAll,
    });
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const connection = smtpConnection(listener.port);
        held.push(connection.socket);
        assert.match(await connection.next(), /^220 /, `connection ${i + 1}`);
      }
      const eleventh = smtpConnection(listener.port);
      held.push(eleventh.socket);
      assert.match(await eleventh.next(), /^421 .*at most 10 connections at once/);
      assert.equal(await eleventh.next(), CLOSED);

      // One goes away: its place is free again (once the listener has seen it close).
      held[0]?.destroy();
      let reply = '';
      for (let attempt = 0; attempt < 200 && !reply.startsWith('220'); attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        const another = smtpConnection(listener.port);
        held.push(another.socket);
        reply = await another.next();
      }
      assert.match(reply, /^220 /);
    } finally {
      for (const socket of held) socket.destroy();
      await listener.close();
    }
  });

  it('closes (421) a connection that lasts past the session limit, however busy it keeps', async () => {
    const listener = await startInboundSmtp({
      port: 0,
      host: '127.0.0.1',
      maxBytes: 4096,
      maxConnectionsPerAddress: 10,
      log: createLogger('silent'),
      intake: refuseAll,
      maxSessionMs: 300,
    });
    const connection = smtpConnection(listener.port);
    try {
      assert.match(await connection.next(), /^220 /);
      const replies: string[] = [];
      // A NOOP every 50 ms keeps any idle timeout away; the session limit still ends it.
      for (let i = 0; i < 400 && replies.at(-1) !== CLOSED; i++) {
        replies.push(await connection.command('NOOP'));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(replies.at(-1), CLOSED, replies.join('\n'));
      const cut = replies.findIndex((r) => !r.startsWith('250'));
      assert.match(replies[cut] ?? '', /^421 .*lasted too long/, replies.join('\n'));
      assert.ok(
        replies.slice(cut + 1).every((r) => r === CLOSED),
        replies.join('\n'),
      );
    } finally {
      connection.socket.destroy();
      await listener.close();
    }
  });
});

describe('the SMTP listener when Vigil fails', () => {
  it('answers 451 (try again later), never loses the message, and goes on', async () => {
    let failing = true;
    const received: string[][] = [];
    const listener = await startInboundSmtp({
      port: 0,
      host: '127.0.0.1',
      maxBytes: 4096,
      maxConnectionsPerAddress: 10,
      log: createLogger('silent'),
      intake: {
        recipient: async (address) => ({ accepted: true, emailUsername: address.split('@')[0] ?? '' }),
        receive: async (email) => {
          if (failing) throw new Error('the database is down');
          received.push([...email.emailUsernames]);
          return [];
        },
      },
    });
    try {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: listener.port,
        ignoreTLS: true,
      });
      const message = { from: 'a@example.org', to: `ops@${DOMAIN}`, subject: 's', text: 't' };
      const error = await transport.sendMail(message).then(
        () => assert.fail('accepted'),
        (e: unknown) => e as SmtpError,
      );
      assert.equal(error.responseCode, 451, error.message);
      failing = false;
      await transport.sendMail(message);
      assert.deepEqual(received, [['ops']]);
      transport.close();
    } finally {
      await listener.close();
    }
  });
});

describe('an internationalized inbound domain', () => {
  it('takes mail to the address Vigil shows (the domain in its ASCII form), as mail servers send it', async () => {
    // bücher.example: set and shown as its ASCII form; smtp-server hands RCPT TO over in Unicode.
    const idn = 'xn--bcher-kva.example';
    const idnServer = await startTestServer({
      env: {
        VIGIL_INBOUND_SMTP_PORT: '0',
        VIGIL_INBOUND_SMTP_HOST: '127.0.0.1',
        VIGIL_INBOUND_EMAIL_DOMAIN: idn,
      },
    });
    try {
      const port = idnServer.app.smtpPort;
      assert.ok(port, 'the SMTP listener runs');
      const team = (await idnServer.callOk('POST', '/v2/teams', { name: `Idn ${run}` })).data.id as string;
      const made = await idnServer.callOk('POST', '/v2/integrations', {
        type: 'Email',
        name: `Email idn ${run}`,
        ownerTeam: { id: team },
        emailUsername: `idn-${run}`,
      });
      const shown = (await idnServer.callOk('GET', `/v2/integrations/${made.data.id as string}`)).data;
      assert.equal(shown.emailAddress, `idn-${run}@${idn}`);
      const replies = await rawSmtp(
        ['EHLO mta.example.org', 'MAIL FROM:<a@example.org>', `RCPT TO:<${shown.emailAddress as string}>`],
        port,
      );
      assert.match(replies[2] ?? '', /^250 /, replies.join(' | '));
    } finally {
      await idnServer.stop();
    }
  });
});
