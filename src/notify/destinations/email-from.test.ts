import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../testing/smtp.js';
import { emailFrom } from './email.js';

const PASSWORD = 'a long enough password';

describe('the From of the emails Vigil sends', () => {
  it('is VIGIL_EMAIL_FROM, else Vigil <vigil@HOST> with the host of VIGIL_PUBLIC_URL', () => {
    assert.equal(
      emailFrom({ emailFrom: undefined, publicUrl: 'https://vigil.example.com' }),
      'Vigil <vigil@vigil.example.com>',
    );
    assert.equal(
      emailFrom({ emailFrom: 'Alerts <alerts@example.org>', publicUrl: 'https://vigil.example.com' }),
      'Alerts <alerts@example.org>',
    );
    assert.equal(
      emailFrom({ emailFrom: undefined, publicUrl: 'http://localhost:8080' }),
      'Vigil <vigil@localhost>',
    );
    assert.equal(
      emailFrom({ emailFrom: undefined, publicUrl: 'http://[::1]:8080' }),
      'Vigil <vigil@localhost>',
    );
  });

  describe('of account emails, without VIGIL_EMAIL_FROM', () => {
    let smtp: TestSmtpServer;
    let server: TestServer;
    before(async () => {
      smtp = await startTestSmtpServer();
      server = await startTestServer({
        env: {
          VIGIL_PUBLIC_URL: 'https://vigil.example.com',
          VIGIL_SMTP_URL: smtp.url,
          VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'owner@example.com',
          VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
        },
      });
    });
    after(async () => {
      await server?.stop();
      await smtp?.stop();
    });

    it('is the one pages have', async () => {
      const asked = await fetch(`${server.url}/api/console/password-reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'owner@example.com' }),
      });
      assert.equal(asked.status, 202, await asked.text());
      const [mail] = await smtp.waitForMessages(1);
      assert.match(mail?.headers.from ?? '', /<vigil@vigil\.example\.com>/);
      assert.equal(mail?.from, 'vigil@vigil.example.com');
    });
  });
});

describe('bootstrap variables on a database that already has an organization', () => {
  it('are ignored, with a warning that says so', async () => {
    const first = await startTestServer();
    const { databaseUrl } = first;
    await first.stop();
    const lines: string[] = [];
    const logTo = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const second = await startTestServer({
      databaseUrl,
      logTo,
      logLevel: 'warn',
      env: { VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'late@example.com', VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD },
    });
    await second.stop();
    const warning = lines.find((line) => line.includes('already has an organization'));
    assert.ok(warning, lines.join('\n'));
    assert.match(
      warning,
      /VIGIL_BOOTSTRAP_ADMIN_EMAIL and VIGIL_BOOTSTRAP_ADMIN_PASSWORD are set but ignored/,
    );
    assert.equal((JSON.parse(warning) as { level: number }).level, 40);
  });
});
