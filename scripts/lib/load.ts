import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Drives a URL with autocannon in a separate process, so the load generator does not share the
 * server's event loop. Returns requests/s and latency percentiles (ms).
 */
export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
  /** Answers by HTTP status, so that a run of errors says which ones. */
  statuses: Record<string, number>;
}

const require = createRequire(import.meta.url);
const autocannonBin = path.join(path.dirname(require.resolve('autocannon/package.json')), 'autocannon.js');

export async function load(
  url: string,
  options: {
    body: string;
    headers: Record<string, string>;
    seconds: number;
    connections: number;
    pipelining?: number;
  },
): Promise<LoadResult> {
  const args = [
    autocannonBin,
    '-j',
    '-c',
    String(options.connections),
    '-d',
    String(options.seconds),
    '-p',
    String(options.pipelining ?? 1),
    '-m',
    'POST',
    '-b',
    options.body,
  ];
  for (const [name, value] of Object.entries(options.headers)) args.push('-H', `${name}=${value}`);
  args.push(url);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  return summarize(JSON.parse(out));
}

function summarize(raw: unknown): LoadResult {
  const result = raw as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    statusCodeStats?: Record<string, { count: number }>;
  };
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([status, stats]) => [status, stats.count]),
    ),
  };
}

/** Like load(), cycling through many bodies (each sent once while there are enough of them). */
export async function loadBodies(
  url: string,
  options: { bodiesFile: string; headers: Record<string, string>; seconds: number; connections: number },
): Promise<LoadResult> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(here, 'cannon.ts'),
      url,
      options.bodiesFile,
      String(options.seconds),
      String(options.connections),
      JSON.stringify(options.headers),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  return summarize(JSON.parse(out));
}

/** "23812 non-2xx answers (503: 23800, 500: 12)", for a run where not every answer was a success. */
export function non2xxNote(result: LoadResult): string {
  const failing = Object.entries(result.statuses)
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  return `${result.non2xx} non-2xx answers${failing ? ` (${failing})` : ''}`;
}
