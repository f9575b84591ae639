#!/usr/bin/env node
/**
 * `npm start` runs this first: it compiles src/ into dist/ only when something the build reads changed
 * since the last build (a file added, removed or modified under src/, a tsconfig, package-lock.json),
 * so that an unchanged checkout starts at once instead of waiting for TypeScript. The web console is
 * built the same way: web/ into web/dist/ when a file under web/ (but web/dist/) or package-lock.json
 * changed since its last build. Plain JavaScript, so that it needs nothing compiled to run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressWeb } from './compress-web.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
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

/** The web console's inputs: every file under web/ except its output, and package-lock.json. */
function webInputs() {
  const web = path.join(root, 'web');
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (full !== path.join(web, 'dist') && entry.name !== 'node_modules') walk(full);
      } else if (entry.isFile()) out.push(full);
    }
  };
  walk(web);
  out.push(path.join(root, 'package-lock.json'));
  return out.sort().map((file) => {
    const stat = fs.statSync(file);
    return `${path.relative(root, file)}\t${stat.size}\t${stat.mtimeMs}`;
  });
}

const hash = (lines) => createHash('sha256').update(lines.join('\n')).digest('hex');
const builtStamp = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '');

function buildServer() {
  const stamp = hash(inputs());
  if (builtStamp(stampFile) === stamp && fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) return;

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
}

function buildWeb() {
  const web = path.join(root, 'web');
  if (!fs.existsSync(path.join(web, 'index.html'))) return;
  const webStampFile = path.join(web, 'dist', '.build-stamp');
  const stamp = hash(webInputs());
  if (builtStamp(webStampFile) === stamp && fs.existsSync(path.join(web, 'dist', 'index.html'))) return;

  process.stderr.write('building the web console (web/ changed since the last build) ...\n');
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', web, '--logLevel', 'warn'], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stderr.write('the web build failed: see the errors above, fix them, and run npm start again.\n');
    process.exit(result.status ?? 1);
  }
  compressWeb(path.join(web, 'dist'));
  fs.writeFileSync(webStampFile, `${stamp}\n`);
}

// `--web`: the console only (the tests run the server from src/ and need only web/dist).
if (!process.argv.includes('--web')) buildServer();
buildWeb();
