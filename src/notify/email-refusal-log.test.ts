import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { alertLogs, createAlert, startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';

/**
 * An alert's log is readable with an integration's key, so it names people, not their addresses (see
 * docs/oncall.md), even when the relay's refusal, which the log line quotes, echoes the address.
 */

let smtp: TestSmtpServer;
let server: TestServer;
const run = randomUUID().slice(0, 8);

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
  });
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

describe('an email the relay refuses, on the alert log', () => {
  it("quotes the relay's answer without the address it echoes", async () => {
    const username = `bob.${run}@example.com`;
    await server.callOk('POST', '/v2/users', { username, fullName: 'Bob', role: { name: 'User' } });
    smtp.rejectRecipient(
      username,
      550,
      `5.1.1 <${username}>: Recipient address rejected: User unknown in local recipient table`,
    );
    const alertId = await createAlert(server, {
      message: `Disk full ${run}`,
      responders: [{ type: 'user', username }],
    });
    const failed = await waitFor('the refusal on the log', async () =>
      (await alertLogs(server, alertId)).find((l) => l.startsWith('Email to Bob failed (not retried)')),
    );
    assert.match(failed, /550 5\.1\.1 <recipient>: Recipient address rejected: User unknown/);
    const lines = await alertLogs(server, alertId);
    assert.ok(!lines.some((l) => l.toLowerCase().includes(username)), lines.join('\n'));
  });
});
