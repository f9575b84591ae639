/**
 * Runs the test suite: builds the web console when web/ changed (the browser tests load it from the
 * real server), starts the embedded PostgreSQL (unless DATABASE_URL names one), runs every *.test.ts
 * under src/ and test/ with Node's test runner, then stops PostgreSQL.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { createLogger } from '../src/logger.js';

async function findTests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'fixtures')
      out.push(...(await findTests(full)));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

// Arguments pick test files by a part of their path; `--exclude <part>` (repeatable) leaves files out.
const filters: string[] = [];
const excluded: string[] = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--exclude') {
    const part = args[++i];
    if (!part) {
      console.error('--exclude needs a part of a test file path, e.g. --exclude test/e2e/console');
      process.exit(2);
    }
    excluded.push(part);
  } else filters.push(args[i]!);
}
// The end-to-end files first: each takes tens of seconds (a browser, processes, a fresh PostgreSQL), and
// started last they left the run waiting on one of them with the other slots idle.
let files = [...(await findTests('test')).sort(), ...(await findTests('src')).sort()];
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
files = files.filter((f) => !excluded.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test file matches');
  process.exit(2);
}

if (files.some((f) => f.includes(`e2e${path.sep}console`))) {
  const built = spawnSync(process.execPath, ['scripts/build-if-needed.mjs', '--web'], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const log = createLogger('warn');
let stop: (() => Promise<void>) | undefined;
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-test-pg-'));
  console.log(`starting the embedded PostgreSQL for the tests in ${dataDir}`);
  // Tests trade durability for speed; the product keeps PostgreSQL's defaults.
  const pg = await startEmbeddedPostgres({
    dataDir,
    log,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  databaseUrl = pg.connectionString;
  stop = async () => {
    await pg.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
}

// One file more than there are cores: the tests spend much of their time waiting on servers, PostgreSQL
// and the browser, so a third file on 2 cores took 0.72 of the time of two (median of two runs each of
// src/alerts, src/notify and src/engine, same sitting). VIGIL_TEST_CONCURRENCY sets it.
const concurrency = Number(process.env.VIGIL_TEST_CONCURRENCY) || os.availableParallelism() + 1;
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, VIGIL_TEST_DATABASE_URL: databaseUrl } },
);
const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
await stop?.();
process.exit(code);
