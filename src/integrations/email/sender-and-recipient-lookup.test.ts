import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Two things of the Email intake, on the real server and its real SMTP listener:
 * - a From header that names no address (`From: Nagios`, `"Nagios Monitor"`, `Nagios <>`) makes the
 *   envelope sender (MAIL FROM) the alert's source, so that `{{source}}` aliases still pair a PROBLEM mail
 *   with its RECOVERY;
 * - an address another process cached as unknown or disabled (its lookups are cached for a few seconds)
 *   is taken once the integration is made or turned on, rather than refused for good with a 550 that makes
 *   the sending server bounce the first alert mails.
 */

const DOMAIN = 'inbound.vigil.test';
const run = randomUUID().slice(0, 8);
const SMTP_ENV = {
  VIGIL_INBOUND_SMTP_PORT: '0',
  VIGIL_INBOUND_SMTP_HOST: '127.0.0.1',
  VIGIL_INBOUND_EMAIL_DOMAIN: DOMAIN,
};
let server: TestServer;
/** A second API process on the same database, with its own SMTP listener and its own lookup cache. */
let other: TestServer;
let team: string;

const call = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

interface SmtpError extends Error {
  responseCode?: number;
}

async function send(port: number, message: SendMailOptions) {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    return await transport.sendMail({ from: 'monitor@example.org', ...message });
  } finally {
    transport.close();
  }
}

async function sendRefused(port: number, message: SendMailOptions): Promise<SmtpError> {
  try {
    await send(port, message);
  } catch (error) {
    return error as SmtpError;
  }
  assert.fail('the message was accepted');
}

/** A message sent as written (its From header as it is), from the envelope sender `mailFrom`. */
function sendRaw(port: number, opts: { mailFrom: string; from: string; to: string; subject: string }) {
  return send(port, {
    envelope: { from: opts.mailFrom, to: [opts.to] },
    raw: [`From: ${opts.from}`, `To: ${opts.to}`, `Subject: ${opts.subject}`, '', 'body', ''].join('\r\n'),
  });
}

async function payloads(integrationId: string): Promise<Json[]> {
  return (await call('GET', `/v2/integrations/${integrationId}/payloads?limit=100&includeBody=true`)).data;
}

async function emailIntegration(username: string) {
  const made = await call('POST', '/v2/integrations', {
    type: 'Email',
    name: `Email ${username}`,
    ownerTeam: { id: team },
    emailUsername: username,
  });
  return { id: made.data.id as string, username };
}

describe('the Email intake', () => {
  before(async () => {
    server = await startTestServer({ env: SMTP_ENV });
    other = await startTestServer({
      databaseUrl: server.databaseUrl,
      role: 'api',
      apiKey: server.key,
      env: SMTP_ENV,
    });
    assert.ok(server.app.smtpPort && other.app.smtpPort, 'both SMTP listeners run');
    team = (await call('POST', '/v2/teams', { name: `Ops ${run}` })).data.id;
  });

  after(async () => {
    await other?.stop();
    await server?.stop();
  });

  describe('a From header with no address', () => {
    let monitor: { id: string; username: string };

    before(async () => {
      monitor = await emailIntegration(`nagios-${run}`);
      const contains = (value: string) => ({
        conditionMatchType: 'match-all-conditions',
        conditions: [{ field: 'message', operation: 'contains', expectedValue: value }],
      });
      await call('PUT', `/v2/integrations/${monitor.id}/actions`, {
        create: [{ name: 'Problem', filter: contains('PROBLEM'), alias: '{{source}}' }],
        close: [{ name: 'Recovery', filter: contains('RECOVERY'), alias: '{{source}}' }],
      });
    });

    for (const from of ['Nagios', '"Nagios Monitor"', 'Nagios <>']) {
      it(`makes the envelope sender the source (From: ${from}), so a RECOVERY closes its PROBLEM's alert`, async () => {
        const mailFrom = `nagios-${randomUUID().slice(0, 8)}@monitoring.example.org`;
        const to = `${monitor.username}@${DOMAIN}`;
        await sendRaw(server.app.smtpPort!, { mailFrom, from, to, subject: `PROBLEM: db-1 down ${run}` });
        const [made] = await payloads(monitor.id);
        assert.equal(made.verdict, 'created', JSON.stringify(made));
        const alert = (await call('GET', `/v2/alerts/${made.alertIds[0]}`)).data;
        assert.equal(alert.source, mailFrom);
        assert.equal(alert.alias, mailFrom);
        assert.equal(alert.status, 'open');

        const info = await sendRaw(server.app.smtpPort!, {
          mailFrom,
          from,
          to,
          subject: `RECOVERY: db-1 up ${run}`,
        });
        assert.match(info.response, /0 alerts made, 1 alert closed/);
        const [closed] = await payloads(monitor.id);
        assert.equal(closed.verdict, 'closed', JSON.stringify(closed));
        assert.deepEqual(closed.alertIds, [alert.id]);
        assert.equal((await call('GET', `/v2/alerts/${alert.id}`)).data.status, 'closed');
      });
    }

    it("still takes the From header's address over the envelope sender", async () => {
      await sendRaw(server.app.smtpPort!, {
        mailFrom: 'bounces@relay.example.org',
        from: 'Nagios <nagios@monitoring.example.org>',
        to: `${monitor.username}@${DOMAIN}`,
        subject: `PROBLEM: db-2 down ${run}`,
      });
      const [made] = await payloads(monitor.id);
      assert.equal(made.verdict, 'created', JSON.stringify(made));
      assert.equal(
        (await call('GET', `/v2/alerts/${made.alertIds[0]}`)).data.source,
        'nagios@monitoring.example.org',
      );
    });
  });

  describe("another process's cached lookup", () => {
    it('takes mail for an integration made through another process right after it is made', async () => {
      const username = `fresh-${run}`;
      const to = `${username}@${DOMAIN}`;
      // The other process looks the address up, finds nothing, and caches that.
      const unknown = await sendRefused(other.app.smtpPort!, { to, subject: 'too early', text: 'x' });
      assert.equal(unknown.responseCode, 550, unknown.message);

      const made = await emailIntegration(username);
      const info = await send(other.app.smtpPort!, { to, subject: `first ${run}`, text: 'x' });
      assert.deepEqual(info.accepted, [to]);
      assert.match(info.response, /1 alert made/);
      const [logged] = await payloads(made.id);
      assert.equal(logged.verdict, 'created', JSON.stringify(logged));
    });

    it('takes mail for an integration turned on through another process right after it is turned on', async () => {
      const made = await emailIntegration(`toggled-${run}`);
      const to = `${made.username}@${DOMAIN}`;
      await call('POST', `/v2/integrations/${made.id}/disable`);
      // The other process caches the disabled integration.
      const off = await sendRefused(other.app.smtpPort!, { to, subject: 'off', text: 'x' });
      assert.equal(off.responseCode, 550, off.message);

      await call('POST', `/v2/integrations/${made.id}/enable`);
      const info = await send(other.app.smtpPort!, { to, subject: `back on ${run}`, text: 'x' });
      assert.deepEqual(info.accepted, [to]);
      assert.match(info.response, /1 alert made/);
      const [logged] = await payloads(made.id);
      assert.equal(logged.verdict, 'created', JSON.stringify(logged));
    });

    it('still refuses an unknown address for good', async () => {
      const to = `nobody-${run}@${DOMAIN}`;
      for (let i = 0; i < 2; i++) {
        const error = await sendRefused(other.app.smtpPort!, { to, subject: 'nobody', text: 'x' });
        assert.equal(error.responseCode, 550, error.message);
      }
    });
  });
});
