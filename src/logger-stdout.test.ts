import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { StdoutDestination } from './logger.js';

/**
 * A standard output that cannot be written (the full disk of `>> vigil.log` or systemd's
 * StandardOutput=append:) costs the log, never the process: it neither dies nor hangs, and the log comes
 * back once writing works again.
 */

// The child imports the logger as this suite runs: built JavaScript, or TypeScript through tsx.
const fromBuild = import.meta.url.endsWith('.js');
const loggerUrl = new URL(fromBuild ? './logger.js' : './logger.ts', import.meta.url).href;
const nodeArgs = fromBuild ? [] : ['--import', 'tsx'];
const noDevFull = !fs.existsSync('/dev/full');

/** Runs `script` (with createLogger in scope) with its standard output on /dev/full, which fails every write with ENOSPC. */
async function onFullDisk(script: string): Promise<{ code: number | null; stderr: string }> {
  const full = fs.openSync('/dev/full', 'w');
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--input-type=module',
      '-e',
      `const { createLogger } = await import(${JSON.stringify(loggerUrl)});\n${script}`,
    ],
    { stdio: ['ignore', full, 'pipe'] },
  );
  fs.closeSync(full);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Bounded: without a way out of the failing writes the child never exits, and the test must fail, not hang.
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 15_000)));
  const code = await Promise.race([exited, hung]);
  clearTimeout(timer);
  if (code === 'hung') {
    child.kill('SIGKILL');
    await exited;
    assert.fail(
      `the process did not exit within 15 s (it retries its failing write for ever). stderr: ${stderr}`,
    );
  }
  return { code, stderr };
}

describe('logging to a standard output on a full disk', { skip: noDevFull && 'no /dev/full' }, () => {
  it('keeps the process running, says so once on standard error, and lets it exit', async () => {
    const { code, stderr } = await onFullDisk(`
      const log = createLogger('info');
      let n = 0;
      const timer = setInterval(() => log.info({ n: ++n }, 'a line the disk has no room for'), 5);
      setTimeout(() => clearInterval(timer), 500);
    `);
    assert.equal(code, 0, stderr);
    const notices = stderr.split('\n').filter((line) => line.includes('cannot be written'));
    assert.equal(notices.length, 1, stderr);
    assert.match(notices[0] ?? '', /ENOSPC/);
    assert.doesNotMatch(stderr, /Error:|Unhandled/, stderr);
  });

  it('exits at once after logging, though the last line cannot be written', async () => {
    // pino's own exit flush retried the failed write for ever here.
    const { code, stderr } = await onFullDisk(`
      const log = createLogger('info');
      log.info('stopping');
      log.info('stopped');
      process.exit(0);
    `);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /ENOSPC/);
  });
});

describe('StdoutDestination', () => {
  it('drops lines while its output fails and resumes with the next line once it works again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logger-'));
    const fifo = path.join(dir, 'out');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const openReader = () => fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    let reader = openReader();
    const writer = fs.openSync(fifo, 'w');
    const errorFile = path.join(dir, 'err');
    const errorFd = fs.openSync(errorFile, 'w');
    const readable = () => {
      const buffer = Buffer.alloc(65536);
      try {
        return buffer.subarray(0, fs.readSync(reader, buffer)).toString();
      } catch {
        return '';
      }
    };
    const until = async (what: string, check: () => boolean) => {
      const deadline = Date.now() + 5_000;
      while (!check()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await sleep(20);
      }
    };
    try {
      const destination = new StdoutDestination({ fd: writer, errorFd, retryAfterMs: 300 });
      destination.write('{"msg":"first"}\n');
      let read = '';
      await until('the first line', () => (read += readable()).includes('first'));

      // Without a reader, a pipe fails every write (EPIPE), as a full disk does (ENOSPC).
      fs.closeSync(reader);
      destination.write('{"msg":"lost 1"}\n');
      await until('the failure to be told', () => fs.readFileSync(errorFile, 'utf8').length > 0);
      destination.write('{"msg":"lost 2"}\n');
      reader = openReader();
      await sleep(400);
      destination.write('{"msg":"back"}\n');
      read = '';
      await until('the line after the failure', () => (read += readable()).includes('back'));

      const lines = read.trim().split('\n');
      assert.equal(lines.length, 2, read);
      const notice = JSON.parse(lines[0] ?? '') as { level: number; msg: string };
      assert.equal(notice.level, 40);
      assert.match(notice.msg, /^2 log lines were dropped: standard output could not be written \(EPIPE\)/);
      assert.equal(lines[1], '{"msg":"back"}');
      const told = fs.readFileSync(errorFile, 'utf8').trim().split('\n');
      assert.equal(told.length, 1, 'the failure is told once');
      assert.match(told[0] ?? '', /EPIPE/);
    } finally {
      fs.closeSync(reader);
      fs.closeSync(writer);
      fs.closeSync(errorFd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
