import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded.js';
import { createTestDatabase, waitFor } from '../../src/testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../src/testing/smtp.js';

/**
 * Several `vigil start` processes on one PostgreSQL, as production scales out: one serving the API and
 * two running the workers. Every page must reach the SMTP server exactly once.
 */

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const children: ChildProcess[] = [];
let smtp: TestSmtpServer | undefined;
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await smtp?.stop();
});

function start(env: Record<string, string>, role: 'api' | 'worker') {
  const child = spawn(process.execPath, [...cli, 'start', '--role', role], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('two worker processes', () => {
  it('send each email exactly once', { timeout: 120_000 }, async () => {
    smtp = await startTestSmtpServer();
    const databaseUrl = await createTestDatabase();
    const key = '5b1e6f0e-3a43-4b8f-9d8c-2a6a0c1e9f11';
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = {
      DATABASE_URL: databaseUrl,
      VIGIL_SMTP_URL: smtp.url,
      VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>',
    };
    const api = start({ ...env, PORT: String(port), VIGIL_BOOTSTRAP_API_KEY: key }, 'api');
    await waitFor(
      'the API to serve',
      async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200,
      60_000,
    );
    const workers = [start({ ...env, PORT: '0' }, 'worker'), start({ ...env, PORT: '0' }, 'worker')];
    const headers = { authorization: `GenieKey ${key}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
      assert.ok(res.status < 300, `${path}: ${res.status} ${await res.text()}`);
    };
    const people = ['dana@example.com', 'eli@example.com'];
    for (const username of people) {
      await post('/v2/users', { username, fullName: username.split('@')[0], role: { name: 'User' } });
    }
    // No routing set: every member of the team is paged at once.
    await post('/v2/teams', {
      name: 'Ops',
      members: people.map((username) => ({ user: { username }, role: 'user' })),
    });
    const alerts = 40;
    await Promise.all(
      Array.from({ length: alerts }, (_, i) =>
        post('/v2/alerts', { message: `burst ${i}`, responders: [{ type: 'team', name: 'Ops' }] }),
      ),
    );
    const expected = alerts * people.length;
    await smtp.waitForMessages(expected, 60_000);
    // Time for a duplicate to show up, if either process were to send one.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(smtp.messages.length, expected, 'no message was sent twice');
    const pairs = new Set(smtp.messages.map((m) => `${m.subject}|${m.to.join(',')}`));
    assert.equal(pairs.size, expected, 'every alert reached every member once');
    const ids = new Set(smtp.messages.map((m) => m.messageId));
    assert.equal(ids.size, expected);

    for (const p of [api, ...workers]) p.child.kill('SIGTERM');
    for (const p of [api, ...workers]) assert.equal(await p.exited, 0, p.output());
  });
});
