#!/usr/bin/env node
/**
 * `npm start` runs this first: it compiles src/ into dist/ only when something the build reads changed
 * since the last build (a file added, removed or modified under src/, a tsconfig, package-lock.json),
 * so that an unchanged checkout starts at once instead of waiting for TypeScript. Plain JavaScript, so
 * that it needs nothing compiled to run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const stampFile = path.join(root, 'dist', '.build-stamp');

/** Every input of the build, with its size and modification time, in a stable order. */
function inputs() {
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  walk(path.join(root, 'src'));
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) {
    const full = path.join(root, file);
    if (fs.existsSync(full)) out.push(full);
  }
  return out.sort().map((file) => {
    const stat = fs.statSync(file);
    return `${path.relative(root, file)}\t${stat.size}\t${stat.mtimeMs}`;
  });
}

const stamp = createHash('sha256').update(inputs().join('\n')).digest('hex');
const built = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8').trim() : '';
if (built === stamp && fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) process.exit(0);

process.stderr.write('compiling Vigil (src/ changed since the last build) ...\n');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (result.status !== 0) {
  process.stderr.write('the build failed: see the errors above, fix them, and run npm start again.\n');
  process.exit(result.status ?? 1);
}
fs.writeFileSync(stampFile, `${stamp}\n`);
