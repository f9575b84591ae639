import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded.js';
import { waitFor } from '../../src/testing/harness.js';
import {
  alive,
  cleanUp,
  clusterDir,
  embeddedEnv,
  freshDataDir,
  healthy,
  postmaster,
  start,
} from './vigil-command.js';

/**
 * The real `vigil` command and the signals that stop it: a Ctrl-C under `npm start` reaches it twice
 * (from the terminal and forwarded by npm), and a signal may come while it is still starting. Either
 * way the embedded PostgreSQL it started must not outlive it.
 */

after(cleanUp);

const key = '5d0c2b7e-8a41-4f3e-9c6d-1b2a3c4d5e6f';

type Vigil = ReturnType<typeof start>;

/** The first log line of `vigil` that matches `pattern`, as soon as it is written. */
function logLine(vigil: Vigil, pattern: RegExp, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = vigil
        .output()
        .split('\n')
        .find((l) => pattern.test(l));
      if (line === undefined) return false;
      done();
      resolve(line);
      return true;
    };
    const onData = () => void check();
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${vigil.output()}`));
    }, timeoutMs);
    const onExit = () => {
      // Output may still be buffered in the pipes when the process exits.
      setTimeout(() => {
        if (check()) return;
        done();
        reject(new Error(`vigil exited before logging ${pattern}:\n${vigil.output()}`));
      }, 200);
    };
    const done = () => {
      clearTimeout(timer);
      vigil.child.stdout?.off('data', onData);
      vigil.child.stderr?.off('data', onData);
      vigil.child.off('exit', onExit);
    };
    vigil.child.stdout?.on('data', onData);
    vigil.child.stderr?.on('data', onData);
    vigil.child.on('exit', onExit);
    check();
  });
}

/** The pid of the postmaster `vigil` logged it started. */
function startedPostmaster(line: string): number {
  const pid = (JSON.parse(line) as { pid?: unknown }).pid;
  assert.ok(typeof pid === 'number' && pid > 0, line);
  return pid;
}

/** Whether `vigil` ended without leaving the PostgreSQL `pid` (a postmaster it started) running. */
async function assertGone(pid: number, dataDir: string, output: string) {
  // It has exited, having waited for PostgreSQL; the wait only absorbs the reaping of a zombie.
  await waitFor('the embedded PostgreSQL to be gone', async () => !alive(pid), 10_000).catch(() => {
    assert.fail(`the embedded PostgreSQL (pid ${pid}) outlived vigil:\n${output}`);
  });
  assert.equal(await postmaster(await clusterDir(dataDir)), undefined, output);
}

describe('vigil command and signals', () => {
  it(
    'takes two SIGINTs moments apart (a Ctrl-C under npm start) as one request to stop',
    { timeout: 180_000 },
    async () => {
      const dataDir = await freshDataDir();
      const port = await freePort();
      const vigil = start(embeddedEnv(dataDir, key, port));
      const pid = startedPostmaster(await logLine(vigil, /starting the embedded PostgreSQL/));
      await waitFor('vigil to serve', () => healthy(port), 120_000);
      vigil.child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 5));
      vigil.child.kill('SIGINT');
      assert.equal(await vigil.exited, 0, vigil.output());
      assert.match(vigil.output(), /embedded PostgreSQL stopped/);
      await assertGone(pid, dataDir, vigil.output());
    },
  );

  it(
    'stops the embedded PostgreSQL it is starting when SIGTERM comes during start-up',
    { timeout: 180_000 },
    async () => {
      const dataDir = await freshDataDir();
      const vigil = start(embeddedEnv(dataDir, key, await freePort()));
      // Written just after the postmaster is spawned, long before Vigil serves.
      const pid = startedPostmaster(await logLine(vigil, /starting the embedded PostgreSQL/));
      vigil.child.kill('SIGTERM');
      assert.equal(await vigil.exited, 0, vigil.output());
      assert.doesNotMatch(vigil.output(), /Vigil is serving/);
      await assertGone(pid, dataDir, vigil.output());
    },
  );

  it('stops the embedded PostgreSQL when SIGINT comes while migrating', { timeout: 180_000 }, async () => {
    const dataDir = await freshDataDir();
    const vigil = start(embeddedEnv(dataDir, key, await freePort()));
    const pid = startedPostmaster(await logLine(vigil, /starting the embedded PostgreSQL/));
    // Migrations come next; the signal comes while they run, or the start-up after them.
    await logLine(vigil, /embedded PostgreSQL is running/);
    vigil.child.kill('SIGINT');
    assert.equal(await vigil.exited, 0, vigil.output());
    await assertGone(pid, dataDir, vigil.output());
  });

  it(
    'vigil migrate stops the embedded PostgreSQL it started when interrupted',
    { timeout: 180_000 },
    async () => {
      const dataDir = await freshDataDir();
      const vigil = start(embeddedEnv(dataDir, key, await freePort()), ['migrate']);
      const pid = startedPostmaster(await logLine(vigil, /starting the embedded PostgreSQL/));
      vigil.child.kill('SIGTERM');
      assert.equal(await vigil.exited, 1, vigil.output());
      await assertGone(pid, dataDir, vigil.output());
    },
  );
});
