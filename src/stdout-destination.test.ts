import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { StdoutDestination } from './stdout-destination.js';

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

describe('logging to a standard output whose reader stalls', () => {
  it('holds up the log, not the event loop', async () => {
    // Nobody reads the child's standard output: once the pipe is full, every write waits.
    const child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        '--input-type=module',
        '-e',
        `const { createLogger } = await import(${JSON.stringify(loggerUrl)});
        const log = createLogger('info');
        let worst = 0;
        let last = Date.now();
        const tick = setInterval(() => {
          const now = Date.now();
          worst = Math.max(worst, now - last - 10);
          last = now;
          log.info({ pad: 'x'.repeat(1024) }, 'a line nobody reads');
        }, 10);
        setTimeout(() => {
          clearInterval(tick);
          process.stderr.write('worst lag ' + worst + '\\n', () => process.exit(0));
        }, 1500);`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.pause();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Read again once it has measured, so that its exit can write what it still holds.
      if (stderr.includes('worst lag')) child.stdout.resume();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    const worst = Number(/worst lag (\d+)/.exec(stderr)?.[1]);
    // A synchronous write would stop the loop for as long as the reader stalls: the whole run.
    assert.ok(worst < 700, `the event loop stalled ${worst} ms: ${stderr}`);
  });
});

interface Fifo {
  writer: number;
  errorFd: number;
  /** What the destination told standard error (the error file). */
  errorText(): string;
  closeReader(): void;
  reopenReader(): void;
  /** Reads the FIFO until what was read includes `text`, within `ms`. */
  readUntil(text: string, ms?: number): Promise<string>;
}

/** A named pipe for a StdoutDestination to write to, its reader (non-blocking) and an error file. */
async function withFifo(run: (fifo: Fifo) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logger-'));
  const file = path.join(dir, 'out');
  assert.equal(spawnSync('mkfifo', [file]).status, 0);
  const openReader = () => fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  let reader: number | undefined = openReader();
  const writer = fs.openSync(file, 'w');
  const errorFile = path.join(dir, 'err');
  const errorFd = fs.openSync(errorFile, 'w');
  const buffer = Buffer.alloc(1 << 20);
  try {
    await run({
      writer,
      errorFd,
      errorText: () => fs.readFileSync(errorFile, 'utf8'),
      closeReader() {
        if (reader !== undefined) fs.closeSync(reader);
        reader = undefined;
      },
      reopenReader() {
        reader = openReader();
      },
      async readUntil(text, ms = 5_000) {
        const deadline = Date.now() + ms;
        let read = '';
        while (!read.includes(text)) {
          if (Date.now() > deadline) assert.fail(`${text} never came: ${read.slice(-200)}`);
          try {
            read += buffer.subarray(0, fs.readSync(reader ?? -1, buffer)).toString();
          } catch {
            await sleep(20);
          }
        }
        return read;
      },
    });
  } finally {
    if (reader !== undefined) fs.closeSync(reader);
    fs.closeSync(writer);
    fs.closeSync(errorFd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until `check` holds, within 5 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('StdoutDestination', () => {
  it('drops lines while its output fails and resumes with the next line once it works again', async () => {
    await withFifo(async (fifo) => {
      const destination = new StdoutDestination({
        fd: fifo.writer,
        errorFd: fifo.errorFd,
        retryAfterMs: 300,
      });
      destination.write('{"msg":"first"}\n');
      await fifo.readUntil('first');

      // Without a reader, a pipe fails every write (EPIPE), as a full disk does (ENOSPC).
      fifo.closeReader();
      destination.write('{"msg":"lost 1"}\n');
      await until('the failure to be told', () => fifo.errorText().length > 0);
      destination.write('{"msg":"lost 2"}\n');
      fifo.reopenReader();
      await sleep(400);
      destination.write('{"msg":"back"}\n');
      const read = await fifo.readUntil('back');

      const lines = read.trim().split('\n');
      assert.equal(lines.length, 2, read);
      const notice = JSON.parse(lines[0] ?? '') as { level: number; msg: string };
      assert.equal(notice.level, 40);
      assert.match(notice.msg, /^2 log lines were dropped: standard output could not be written \(EPIPE\)/);
      assert.equal(lines[1], '{"msg":"back"}');
      const told = fifo.errorText().trim().split('\n');
      assert.equal(told.length, 1, 'the failure is told once');
      assert.match(told[0] ?? '', /EPIPE/);
    });
  });
});

describe('StdoutDestination, a line cut off by a failure', () => {
  it('starts a new line before the log resumes, so every later line is whole', async () => {
    await withFifo(async (fifo) => {
      const destination = new StdoutDestination({
        fd: fifo.writer,
        errorFd: fifo.errorFd,
        retryAfterMs: 200,
      });
      // Longer than the pipe holds: its start is written, and the write waits for a reader to make room.
      destination.write(`{"msg":"${'x'.repeat(256 * 1024)}"}\n`);
      await sleep(200);
      // The reader goes without reading: the rest of the line fails (EPIPE), its start stays in the pipe.
      fifo.closeReader();
      await until('the failure to be told', () => fifo.errorText().length > 0);
      fifo.reopenReader();
      await sleep(300);
      destination.write('{"msg":"back"}\n');
      const read = await fifo.readUntil('back');
      const lines = read.trimEnd().split('\n');
      // The cut-off start, then whole lines again.
      assert.equal(lines.length, 3, `${lines.length} lines`);
      assert.match((JSON.parse(lines[1] ?? '') as { msg: string }).msg, /log lines were dropped/);
      assert.equal(lines[2], '{"msg":"back"}');
      assert.match(fifo.errorText(), /EPIPE/);
    });
  });
});

describe('StdoutDestination, a reader that falls behind', () => {
  it('keeps up to 16 MiB waiting, then drops lines and says how many once it catches up', async () => {
    await withFifo(async (fifo) => {
      const destination = new StdoutDestination({ fd: fifo.writer, errorFd: fifo.errorFd });
      const line = (n: number) => `{"n":${n},"pad":"${'x'.repeat(64 * 1024)}"}\n`;
      // Nobody reads meanwhile: the pipe fills, the rest waits, and past 16 MiB lines are dropped.
      const written = 320;
      for (let n = 0; n < written; n++) destination.write(line(n));
      destination.write('{"msg":"last"}\n');
      const read = await fifo.readUntil('"last"', 10_000);
      const lines = read
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { n?: number; msg?: string });
      const kept = lines.filter((l) => l.n !== undefined).length;
      const notice = lines.find((l) => l.msg?.includes('dropped'));
      assert.ok(kept < written, 'nothing was dropped');
      assert.match(notice?.msg ?? '', /^(\d+) log lines were dropped: standard output did not keep up/);
      assert.equal(Number(/^(\d+)/.exec(notice?.msg ?? '')?.[1]), written - kept);
    });
  });
});
