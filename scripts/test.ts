/**
 * Runs the test suite: builds the web console when web/ changed (the browser tests load it from the
 * real server), starts the embedded PostgreSQL (unless DATABASE_URL names one), runs every *.test.ts
 * under src/ and test/ with Node's test runner, longest first, then stops PostgreSQL. `npm test` runs
 * it from .test-build/ (scripts/test.mjs); `npx tsx scripts/test.ts` runs it from the sources.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { createLogger } from '../src/logger.js';
import {
  createTemplateDatabase,
  dropTemplateDatabase,
  TEMPLATE_DATABASE_VARIABLE,
} from '../src/testing/template-database.js';

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

const usage = `usage: npm run test:only -- [part…] [--exclude part]… [--times] [--record-times]
  part            run the test files whose path holds it
  --exclude part  leave out the test files whose path holds it
  --times         print each file's wall time as it ends, and the slowest 15 at the end
  --record-times  --times, and write the times into ${path.join('scripts', 'test-times.json')}`;

// Arguments pick test files by a part of their path; `--exclude <part>` (repeatable) leaves files out.
const filters: string[] = [];
const excluded: string[] = [];
let printTimes = false;
let recordTimes = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--exclude') {
    const part = args[++i];
    if (!part) {
      console.error('--exclude needs a part of a test file path, e.g. --exclude test/e2e/console');
      process.exit(2);
    }
    excluded.push(part);
  } else if (arg === '--times') printTimes = true;
  else if (arg === '--record-times') printTimes = recordTimes = true;
  else if (arg.startsWith('--')) {
    console.error(usage);
    process.exit(2);
  } else filters.push(arg);
}
let files = [...(await findTests('test')), ...(await findTests('src'))];
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
files = files.filter((f) => !excluded.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test file matches');
  process.exit(2);
}

// Longest first: a few files run at a time, and the run lasts until its last file ends, so a long file
// started late keeps the run going with the other slots idle (the e2e files take up to minutes, most
// others seconds). test-times.json holds each file's wall time in seconds from a full run on a 2-core
// machine (`--record-times` rewrites it); a file it does not know yet goes first, where a short one
// costs nothing and a long one cannot hold up the end. Node's `--test` sorts the files by name, which
// is why the files go to run() rather than to the command line.
type SecondsByFile = Record<string, number>;
const timesFile = path.join('scripts', 'test-times.json');
const knownTimes = JSON.parse(await fs.readFile(timesFile, 'utf8').catch(() => '{}')) as SecondsByFile;
// The file's keys are the same on every system.
const slashed = (file: string) => file.split(path.sep).join('/');
const expected = (file: string) => knownTimes[slashed(file)] ?? Infinity;
files.sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));

// Started through scripts/test.mjs, this file runs as JavaScript from .test-build/ (scripts/test-build.mjs)
// and so does each test file, in a process of its own with no loader; through tsx, the sources run.
const fromBuild = import.meta.url.endsWith('.js');
const runPath = (file: string) => (fromBuild ? path.join('.test-build', file.replace(/\.ts$/, '.js')) : file);
const sourceOf = new Map(files.map((file) => [runPath(file), file]));

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
// The test servers start on copies of one database migrated here (src/testing/template-database.ts).
const template = await createTemplateDatabase(databaseUrl, log);
// Each test file runs in a process of its own, which inherits this environment and this process's
// execArgv (tsx's `--import` when the sources run, none from .test-build/).
process.env.VIGIL_TEST_DATABASE_URL = databaseUrl;
process.env[TEMPLATE_DATABASE_VARIABLE] = template;
// Some 320 processes (a file each, and the servers some start) load the same modules: V8's compiled code
// kept on disk (Node.js 22.1 on; 20 ignores it) takes some 0.16 s of CPU off each load of the app (0.81
// against 0.97 s, six loads each way, same sitting), about a minute of a full run's CPU. Node.js checks
// each entry against its source, so a stale one is recompiled, not used.
process.env.NODE_COMPILE_CACHE ??= path.resolve('.test-build', '.compile-cache');

// One file more than there are cores: the tests spend much of their time waiting on servers, PostgreSQL
// and the browser, so a third file on 2 cores took 0.72 of the time of two (median of two runs each of
// src/alerts, src/notify and src/engine, same sitting). VIGIL_TEST_CONCURRENCY sets it.
const concurrency = Number(process.env.VIGIL_TEST_CONCURRENCY) || os.availableParallelism() + 1;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const tookMs = new Map<string, number>();
let failed = false;
const events = run({ files: [...sourceOf.keys()], concurrency });
// A file's own events carry its path as the name (its tests carry theirs); todo tests may fail.
events.on('test:complete', (test) => {
  const file = test.nesting === 0 ? sourceOf.get(test.name) : undefined;
  if (!file) return;
  tookMs.set(file, test.details.duration_ms);
  if (printTimes) console.log(`ℹ ${seconds(test.details.duration_ms)} ${file}`);
});
events.on('test:fail', (test) => {
  if (!test.todo) failed = true;
});
const report = events.pipe(new spec());
report.pipe(process.stdout);
await finished(report);
await dropTemplateDatabase(databaseUrl, template);
await stop?.();

if (printTimes) {
  const slowest = [...tookMs].sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log('ℹ the slowest files:');
  for (const [file, ms] of slowest) console.log(`ℹ   ${seconds(ms).padStart(8)}  ${file}`);
}
if (recordTimes) {
  // Files that ran now get their new time; files that did not keep theirs; deleted files leave.
  const present = new Set([...(await findTests('test')), ...(await findTests('src'))].map(slashed));
  const times: SecondsByFile = {};
  for (const [file, took] of Object.entries(knownTimes)) if (present.has(file)) times[file] = took;
  for (const [file, ms] of tookMs) times[slashed(file)] = Math.round(ms / 100) / 10;
  const sorted = Object.fromEntries(Object.entries(times).sort(([a], [b]) => a.localeCompare(b)));
  await fs.writeFile(timesFile, `${JSON.stringify(sorted, null, 2)}\n`);
  console.log(`ℹ wrote the times of ${tookMs.size} files into ${timesFile}`);
}
process.exit(failed ? 1 : 0);
