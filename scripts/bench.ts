/**
 * Runs every benchmark, one after another, each in its own process, and prints one markdown table of
 * their results: each figure with the baseline measured in the same run (the machine is shared and
 * noisy; the ratio is what compares across runs), the issue's target and whether it was met, under the
 * machine's facts. Also measures the second `npm start` to serving itself. Not a test: prints numbers.
 *
 *   npm run bench                 full sizes (about 10-15 minutes on 2 cores)
 *   npm run bench -- --quick      small sizes, a smoke run of a few minutes
 *   npm run bench -- --only intake,paging,channels
 *
 * Each bench's output is shown indented as it runs and kept, with the table, in a log file in the
 * temporary folder (its path is printed at the start and the end). Exits non-zero if any bench failed.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchLine, significant, withRatio, type BenchReport, type BenchRow } from './lib/report.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyIndex = argv.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? '').split(',').filter(Boolean)) : undefined;

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logFile = path.join(os.tmpdir(), `vigil-bench-${stamp}.log`);
const tableFile = path.join(os.tmpdir(), `vigil-bench-${stamp}.md`);
const log = fs.createWriteStream(logFile);
const runStarted = Date.now();

/** Writes to the console and the log file. */
function say(text: string): void {
  process.stdout.write(text);
  log.write(text);
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
const elapsed = () => duration(Date.now() - runStarted);

// ---------------------------------------------------------------------------------------------------
// The benches and their sizes.

const hasLatenessBench = fs.existsSync(path.join(root, 'scripts', 'bench-lateness.ts'));
const openAlerts = quick ? 1_000 : 100_000;

interface Step {
  /** The name --only takes. */
  name: string;
  /** The bench names whose BENCH lines this step prints (a failed step fails each of them). */
  reports: string[];
  /** The script under scripts/ and its arguments, or run() for a measurement made here. */
  script?: string;
  args?: string[];
  run?: () => Promise<BenchReport>;
  timeoutMinutes: number;
}

const steps: Step[] = [
  { name: 'startup', reports: ['startup'], run: measureStartup, timeoutMinutes: 5 },
  {
    name: 'db-transport',
    reports: ['db-transport'],
    script: 'bench-db-transport.ts',
    args: quick ? ['--rounds', '3', '--transactions', '5000'] : ['--rounds', '5', '--transactions', '20000'],
    timeoutMinutes: 3,
  },
  {
    name: 'alerts',
    reports: ['alerts'],
    script: 'bench-alerts.ts',
    args: quick ? ['--seconds', '3', '--connections', '20'] : ['--seconds', '10', '--connections', '20'],
    timeoutMinutes: quick ? 3 : 5,
  },
  {
    name: 'intake',
    reports: ['intake'],
    script: 'bench-intake.ts',
    args: quick
      ? ['--seconds', '3', '--connections', '20', '--messages', '3000']
      : ['--seconds', '10', '--connections', '20', '--messages', '12000'],
    timeoutMinutes: quick ? 5 : 15,
  },
  {
    name: 'write-back',
    reports: ['write-back'],
    script: 'bench-writeback.ts',
    args: quick
      ? ['--findings', '200', '--acks', '40', '--rate', '20', '--isolated', '3']
      : ['--findings', '1000', '--acks', '200', '--rate', '20', '--isolated', '10'],
    timeoutMinutes: quick ? 5 : 10,
  },
  {
    name: 'paging',
    // Without scripts/bench-lateness.ts, bench-paging's own lateness part measures lateness.
    reports: hasLatenessBench ? ['paging'] : ['paging', 'lateness'],
    script: 'bench-paging.ts',
    args: ['--alerts', quick ? '100' : '1000', '--open', hasLatenessBench ? '0' : String(openAlerts)],
    timeoutMinutes: quick ? 6 : hasLatenessBench ? 10 : 25,
  },
  {
    name: 'events',
    reports: ['events'],
    script: 'bench-events.ts',
    args: ['--alerts', quick ? '300' : '2000'],
    timeoutMinutes: quick ? 3 : 10,
  },
  {
    name: 'fairness',
    reports: ['fairness'],
    script: 'bench-fairness.ts',
    args: quick
      ? ['--rounds', '1', '--deliveries', '4', '--findings', '250']
      : ['--rounds', '3', '--deliveries', '20', '--findings', '500'],
    timeoutMinutes: quick ? 5 : 15,
  },
  {
    name: 'channels',
    reports: ['channels'],
    script: 'bench-channels.ts',
    args: quick
      ? ['--rate', '200', '--seconds', '3', '--people', '150']
      : ['--rate', '200', '--seconds', '10', '--people', '500'],
    timeoutMinutes: quick ? 4 : 6,
  },
  {
    name: 'console',
    reports: ['console'],
    script: 'bench-console.ts',
    args: quick ? ['--alerts', '2000', '--runs', '2'] : ['--alerts', '10000', '--runs', '5'],
    timeoutMinutes: quick ? 5 : 15,
  },
  {
    name: 'scopes',
    reports: ['scopes'],
    script: 'bench-scopes.ts',
    args: quick ? ['--alerts', '20000', '--runs', '3'] : ['--alerts', '100000', '--runs', '7'],
    timeoutMinutes: quick ? 3 : 6,
  },
];
if (hasLatenessBench) {
  steps.push({
    name: 'lateness',
    reports: ['lateness'],
    script: 'bench-lateness.ts',
    // Through the alert service in the process, not HTTP: the engine's lateness is the point, and
    // 100,000 creates through the API alone would take most of the time budget on 2 cores.
    args: ['--open', String(openAlerts), '--via', 'service'],
    timeoutMinutes: quick ? 6 : 25,
  });
}
const chosen = steps.filter((s) => !only || only.has(s.name));

// ---------------------------------------------------------------------------------------------------
// Running a child with its output indented on the console and kept in the log.

/** Copies a child's output indented; a \r (a progress counter) stays a \r, and is indented too. */
function indenter(prefix: string): (chunk: string) => void {
  let atLineStart = true;
  return (chunk) => {
    let out = '';
    for (const ch of chunk) {
      if (atLineStart && ch !== '\n' && ch !== '\r') out += prefix;
      out += ch;
      atLineStart = ch === '\n' || ch === '\r';
    }
    say(out);
  };
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  reports: BenchReport[];
  /** The last line of its output that looks like an error or a signal, to say why it failed. */
  why?: string;
}

let current: { pid: number } | undefined;

async function runChild(step: Step): Promise<ChildResult> {
  const args = ['tsx', path.join('scripts', step.script ?? ''), ...(step.args ?? [])];
  say(`  $ npx ${args.join(' ')}\n`);
  // Its own process group, so that a timeout or Ctrl-C here stops it and whatever it started.
  const child = spawn('npx', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  current = child.pid === undefined ? undefined : { pid: child.pid };
  const show = indenter('  │ ');
  let pending = '';
  const reports: BenchReport[] = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    show(chunk);
    pending += chunk;
    const lines = pending.split(/\r?\n|\r/);
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const report = parseBenchLine(line);
      if (report) reports.push(report);
    }
  });
  let why: string | undefined;
  let tail = '';
  const watch = (chunk: string) => {
    const lines = (tail + chunk).split(/\r?\n|\r/);
    tail = lines.pop() ?? '';
    for (const line of lines)
      if (/^\s*(\w*Error\b|SIG[A-Z]+: )|timed out|did not/.test(line)) why = line.trim().slice(0, 160);
  };
  child.stderr.on('data', (chunk: string) => {
    show(chunk);
    watch(chunk);
  });
  child.stdout.on('data', watch);
  const started = Date.now();
  const heartbeat = setInterval(
    () => say(`\n  … ${step.name} still running (${duration(Date.now() - started)}; ${elapsed()} in all)\n`),
    60_000,
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    say(`\n  ${step.name} took longer than ${step.timeoutMinutes} min: stopping it\n`);
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 10_000).unref();
  }, step.timeoutMinutes * 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearInterval(heartbeat);
  clearTimeout(timer);
  current = undefined;
  const last = parseBenchLine(pending);
  if (last) reports.push(last);
  return { code, signal, timedOut, reports, why };
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

process.on('SIGINT', () => {
  say('\ninterrupted: stopping the running bench\n');
  signalGroup(current?.pid, 'SIGTERM');
  process.exit(130);
});

// ---------------------------------------------------------------------------------------------------
// The second `npm start` to serving, measured here.

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function groupAlive(pid: number): Promise<boolean> {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Spawns `command` (in its own process group) and measures from the spawn to GET /healthz answering
 * 200 on `port`; then sends SIGTERM to the group and waits until every process in it has exited.
 */
async function timeToServe(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<{ ms: number; output: string }> {
  const show = indenter('  │ ');
  let output = '';
  const started = performance.now();
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${command}`);
  current = { pid };
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    show(chunk.toString());
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  let ms = NaN;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && exited === undefined) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) {
        ms = performance.now() - started;
        break;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  // npm does not pass SIGTERM on to the script it runs: signal the whole group (npm and Vigil) once.
  // Vigil stops its embedded PostgreSQL (a process group of its own) before it exits.
  signalGroup(pid, 'SIGTERM');
  const stopDeadline = Date.now() + 60_000;
  while ((await groupAlive(pid)) && Date.now() < stopDeadline) await new Promise((r) => setTimeout(r, 50));
  if (await groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  current = undefined;
  if (!Number.isFinite(ms))
    throw new Error(`${command} ${args.join(' ')} did not serve /healthz (exit ${String(exited)})`);
  return { ms, output };
}

/** Compiles src/ into dist/ if it changed since the last build (what npm start's prestart does). */
function buildIfNeeded(): void {
  say('  $ node scripts/build-if-needed.mjs\n');
  const build = spawnSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: root, encoding: 'utf8' });
  indenter('  │ ')(`${build.stdout}${build.stderr}`);
  if (build.status !== 0) throw new Error(`the build failed (exit ${build.status})`);
}

async function measureStartup(): Promise<BenchReport> {
  buildIfNeeded();

  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'vigil-bench-start-'));
  const rounds = quick ? 1 : 3;
  try {
    const port = await freePort();
    const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', VIGIL_DATA_DIR: dataDir };
    say(`  first npm start on a fresh data folder (${dataDir}), port ${port} ...\n`);
    const first = await timeToServe('npm', ['start'], env, port);
    say(`\n  first start served after ${Math.round(first.ms)} ms\n`);

    const starts: number[] = [];
    const ownStarts: number[] = [];
    let rebuilt = 0;
    while (starts.length < rounds && rebuilt < 6) {
      // Untimed, so that the timed start finds dist/ current even when src/ is being edited meanwhile.
      buildIfNeeded();
      say(`  npm start again (${starts.length + 1}/${rounds}) ...\n`);
      const again = await timeToServe('npm', ['start'], env, port);
      // A change under src/ since the build above makes npm start compile first: not a second start.
      if (again.output.includes('compiling Vigil')) {
        rebuilt++;
        say(`\n  that start compiled src/ first (changed meanwhile): not counted\n`);
        continue;
      }
      starts.push(again.ms);
      const own = /"ms":(\d+)[^\n]*"msg":"started"/.exec(again.output);
      if (own) ownStarts.push(Number(own[1]));
      say(`\n  served after ${Math.round(again.ms)} ms\n`);
    }

    if (starts.length === 0) throw new Error(`every start compiled src/ first (src/ kept changing)`);

    // The baseline: the cheapest process that serves the same thing, started the same way by Node.
    const bare = `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'application/json'); s.end('{"status":"ok"}'); }).listen(${port}, '127.0.0.1')`;
    const bareStarts: number[] = [];
    for (let i = 0; i < rounds; i++) bareStarts.push((await timeToServe('node', ['-e', bare], env, port)).ms);

    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
    const second = Math.round(median(starts));
    return {
      bench: 'startup',
      rows: [
        {
          measure: `second npm start to GET /healthz 200, median of ${starts.length}`,
          value: second,
          unit: 'ms',
          baseline: {
            label: `bare node -e http server to 200, median of ${rounds}`,
            value: Math.round(median(bareStarts)),
            unit: 'ms',
          },
          target: '< 3 s',
          met: second < 3000,
          note: `includes npm and the prestart build check${rebuilt > 0 ? `; ${rebuilt} start(s) that compiled src/ first were not counted` : ''}`,
        },
        {
          measure: `of which Vigil's own start-up (its "started" log line: config to listening), median of ${ownStarts.length}`,
          value: Math.round(median(ownStarts)),
          unit: 'ms',
          note: 'informational; the rest is npm, the prestart build check and loading Node modules',
        },
        {
          measure: 'first npm start on a fresh data folder (initdb, migrations) to GET /healthz 200',
          value: Math.round(first.ms),
          unit: 'ms',
          note: `informational, one sample${first.output.includes('compiling Vigil') ? '; it compiled src/ first (changed meanwhile)' : ''}`,
        },
      ],
    };
  } finally {
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// The table.

const number = (value: number | null | undefined): string => {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const shown = abs >= 100 ? Math.round(value) : significant(value, 3);
  return shown.toLocaleString('en-US', { maximumFractionDigits: 3 });
};
const withUnit = (value: number | null | undefined, unit: string) =>
  value === null || value === undefined || !Number.isFinite(value)
    ? 'n/a'
    : `${number(value)} ${unit}`.trim();
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

interface TableRow {
  bench: string;
  row?: BenchRow;
  failed?: string;
  why?: string;
}

function machineFacts(loadStart: number[], loadEnd: number[]): string[] {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((c) => c.model.trim()))].join(', ');
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  return [
    `Machine: ${cpus.length} CPUs (${models}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB memory, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`,
    `Load average (1 / 5 / 15 min): ${load(loadStart)} at the start, ${load(loadEnd)} at the end`,
    `Command: npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''} (${quick ? 'quick, small sizes' : 'full sizes'}), ${elapsed()}, started ${new Date(runStarted).toISOString()}`,
  ];
}

function table(rows: TableRow[]): string {
  const notes: string[] = [];
  const lines = [
    '| measure | result | baseline (same run) | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const { bench, row, failed, why } of rows) {
    if (failed !== undefined || !row) {
      let measure = bench;
      if (why) {
        notes.push(why);
        measure += ` [${notes.length}]`;
      }
      lines.push(`| ${cell(measure)} | ${cell(failed ?? 'failed')} | | | | |`);
      continue;
    }
    let measure = `${bench}: ${row.measure}`;
    if (row.note) {
      notes.push(row.note);
      measure += ` [${notes.length}]`;
    }
    const baseline = row.baseline
      ? `${withUnit(row.baseline.value, row.baseline.unit)} (${row.baseline.label})`
      : '';
    const ratio = row.ratio === undefined || row.ratio === null ? '' : number(row.ratio);
    const met = row.target === undefined ? '' : row.met === true ? 'yes' : row.met === false ? 'no' : 'n/a';
    lines.push(
      `| ${cell(measure)} | ${cell(withUnit(row.value, row.unit))} | ${cell(baseline)} | ${ratio} | ${cell(row.target ?? '')} | ${met} |`,
    );
  }
  if (notes.length > 0) {
    lines.push('');
    notes.forEach((note, i) => lines.push(`[${i + 1}] ${note}`));
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------

const loadStart = os.loadavg();
say(
  `Vigil benchmarks (${quick ? 'quick, small sizes' : 'full sizes'}): ${chosen.map((s) => s.name).join(', ')}\n` +
    `output of each bench below, indented, and kept in ${logFile}\n` +
    (hasLatenessBench ? '' : 'no scripts/bench-lateness.ts: bench-paging measures lateness\n'),
);

const results: TableRow[] = [];
let failures = 0;
for (const [i, step] of chosen.entries()) {
  const stepStarted = Date.now();
  say(`\n▶ [${i + 1}/${chosen.length}] ${step.name} (${elapsed()} so far)\n`);
  let reports: BenchReport[] = [];
  let failure: string | undefined;
  let why: string | undefined;
  try {
    if (step.run) {
      reports = [await step.run()];
    } else {
      const result = await runChild(step);
      reports = result.reports;
      why = result.why;
      if (result.timedOut) failure = `failed (timed out after ${step.timeoutMinutes} min)`;
      else if (result.code !== 0) failure = `failed (exit ${result.code ?? result.signal})`;
    }
  } catch (error) {
    say(`\n  ${String((error as Error).stack ?? error)}\n`);
    failure = 'failed (see note)';
    why = (error as Error).message;
  }
  for (const name of step.reports) {
    const report = reports.find((r) => r.bench === name);
    if (failure !== undefined || !report) {
      results.push({ bench: name, failed: failure ?? 'failed (printed no BENCH line)', why });
      failures++;
    } else {
      results.push(...report.rows.map((row) => ({ bench: name, row: withRatio(row) })));
    }
  }
  // A bench may report more than its step names (bench-lateness, say): keep those too.
  for (const report of reports.filter((r) => !step.reports.includes(r.bench)))
    results.push(...report.rows.map((row) => ({ bench: report.bench, row: withRatio(row) })));
  say(
    `\n${failure ? '✘' : '✔'} ${step.name} ${failure ?? 'done'} in ${duration(Date.now() - stepStarted)} (${elapsed()} in all)\n`,
  );
}

const output = [
  ...machineFacts(loadStart, os.loadavg()).map((line) => `${line}  `),
  '',
  table(results),
  '',
].join('\n');
say(`\n\n${output}\n`);
await fsp.writeFile(tableFile, output);
say(`log: ${logFile}\ntable: ${tableFile}\n`);
if (failures > 0) say(`${failures} bench(es) failed\n`);
await new Promise<void>((resolve) => log.end(resolve));
process.exit(failures > 0 ? 1 : 0);
