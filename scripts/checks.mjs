#!/usr/bin/env node
/**
 * The checks `npm test` runs before the tests: both type checks, the linter and the format check, two at
 * a time. Each is a single-threaded program that leaves a core idle when they run one after the other;
 * their output is printed whole as each ends, so it never interleaves. Exits non-zero if any failed,
 * after all have run, so that one run shows every problem. Plain JavaScript: it needs nothing compiled.
 */
import { spawn } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

// package.json's typecheck, lint and format:check scripts are the checks: each command of them (its
// parts joined by &&) runs on its own, so the two type checks can run side by side.
const { scripts } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const CHECKS = ['typecheck', 'lint', 'format:check'].flatMap((script) =>
  scripts[script].split('&&').map((part) => {
    const [command, ...args] = part.trim().split(/\s+/);
    return [script, command, args];
  }),
);
const concurrency = Math.min(2, os.availableParallelism());
const root = fileURLToPath(new URL('..', import.meta.url));

function run([name, command, args]) {
  const started = Date.now();
  return new Promise((resolve) => {
    // The project's own binaries, as the npm scripts run them.
    const child = spawn(fileURLToPath(new URL(`../node_modules/.bin/${command}`, import.meta.url)), args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', (error) => output.push(Buffer.from(`${error.message}\n`)));
    child.on('close', (code, signal) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const text = Buffer.concat(output).toString().trimEnd();
      const ok = code === 0;
      process.stdout.write(
        `${ok ? '✔' : '✖'} ${name} (${command} ${args.join(' ')}): ${ok ? 'ok' : `failed (${signal ? `killed by ${signal}` : `exit ${code}`})`} in ${seconds} s\n`,
      );
      if (text) process.stdout.write(`${text}\n`);
      resolve(ok);
    });
  });
}

const queue = [...CHECKS];
const results = [];
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let check = queue.shift(); check; check = queue.shift()) results.push(await run(check));
  }),
);
if (results.some((ok) => !ok)) {
  process.stdout.write(
    'fix what failed above (npm run format rewrites what the format check names), then run npm test again\n',
  );
  // Not process.exit: that could cut off output still being written to a pipe.
  process.exitCode = 1;
}
