import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../src/testing/harness.js';
import { VIGIL_COMMAND } from '../../src/testing/vigil-cli.js';

/**
 * The real `vigil` command for the end-to-end files that run it: its processes, the data folders of
 * its embedded PostgreSQL, and what a test reads of them. A file that uses it calls `after(cleanUp)`.
 */

export const cli = VIGIL_COMMAND;
const children: ChildProcess[] = [];
const dataDirs: string[] = [];

/** Kills the processes this file started, and ends and removes the PostgreSQL clusters it made. */
export async function cleanUp(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  // A test that failed half-way may leave an embedded PostgreSQL running (it has its own process
  // group, so killing Vigil does not end it): end it, and remove its cluster wherever it lives.
  for (const dataDir of dataDirs) {
    const cluster = await clusterDir(dataDir);
    const server = await postmaster(cluster);
    if (server) {
      // SIGQUIT, not SIGKILL, so the postmaster ends its backends (each in a process group of its own).
      signal(server.pid, 'SIGQUIT');
      await waitFor('the leftover PostgreSQL to stop', async () => !alive(server.pid), 10_000).catch(() =>
        signal(server.pid, 'SIGKILL'),
      );
    }
    await fs.rm(dataDir, { recursive: true, force: true });
    if (path.dirname(cluster) !== dataDir)
      await fs.rm(path.dirname(cluster), { recursive: true, force: true });
  }
}

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

export async function freshDataDir(): Promise<string> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-e2e-'));
  dataDirs.push(dataDir);
  return dataDir;
}

/**
 * The environment of a `vigil` command on `port` with its own PostgreSQL in `dataDir` (DATABASE_URL
 * emptied, so an outer one is not used) and `key` as its bootstrap API key.
 */
export function embeddedEnv(dataDir: string, key: string, port: number): Record<string, string> {
  return { PORT: String(port), VIGIL_DATA_DIR: dataDir, VIGIL_BOOTSTRAP_API_KEY: key, DATABASE_URL: '' };
}

/**
 * Where the cluster of a data folder lives: in it, or, when Vigil runs as root and "nobody" cannot
 * reach the data folder, in the folder that src/db/embedded.ts names in postgres-location.
 */
export async function clusterDir(dataDir: string): Promise<string> {
  const location = await fs.readFile(path.join(dataDir, 'postgres-location'), 'utf8').catch(() => '');
  return path.join(/ lives in (.+?): /.exec(location)?.[1] ?? dataDir, 'postgres');
}

/** The PostgreSQL running on a cluster, from its postmaster.pid (pid on line 1, port on line 4). */
export async function postmaster(cluster: string): Promise<{ pid: number; port: number } | undefined> {
  const lines = (await fs.readFile(path.join(cluster, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  return { pid, port };
}

/** Running: signal 0 also reaches a zombie, which this machine's init may take a while to reap. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state follows the command name, which may itself hold ')'.
  return stat[stat.lastIndexOf(')') + 2] !== 'Z';
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function start(env: Record<string, string>, args: string[] = ['start']) {
  const child = spawn(process.execPath, [...cli, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

export async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

export async function postAlert(port: number, key: string, message: string, alias: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v2/alerts`, {
    method: 'POST',
    headers: { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message, alias }),
  });
  return res.status;
}

export async function alertCount(port: number, key: string, alias: string): Promise<number | undefined> {
  const list = await fetch(`http://127.0.0.1:${port}/v2/alerts?query=alias:${alias}`, {
    headers: { authorization: `GenieKey ${key}` },
  });
  const body = (await list.json()) as { data: { count: number }[] };
  return body.data[0]?.count;
}
