import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.js';

/**
 * What a Vigil killed at the wrong moment leaves in its data folder, and the next start gets past: a
 * postmaster.pid naming a pid some other process has since, a cluster whose initdb was killed half-way.
 */

const settings = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
const unmanaged = { endedWithProcess: false } as const;
let logged = '';
const output = new PassThrough();
output.on('data', (chunk: Buffer) => (logged += chunk.toString()));
const log = createLogger('info', output);
const folders: string[] = [];
const handles: EmbeddedPostgresHandle[] = [];
const children: ChildProcess[] = [];

after(async () => {
  for (const handle of handles) await handle.stop().catch(() => {});
  for (const child of children) child.kill('SIGKILL');
  for (const folder of folders) await fs.rm(folder, { recursive: true, force: true });
});

async function dataFolder(): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-embedded-recovery-'));
  folders.push(folder);
  return folder;
}

async function start(dataDir: string): Promise<EmbeddedPostgresHandle> {
  const handle = await startEmbeddedPostgres({ dataDir, log, settings, ...unmanaged });
  handles.push(handle);
  return handle;
}

/** As root, the cluster may live outside the data folder, which then names where. */
async function clusterOf(dataDir: string): Promise<string> {
  const location = await fs.readFile(path.join(dataDir, 'postgres-location'), 'utf8').catch(() => '');
  return path.join(/ lives in (.+?): /.exec(location)?.[1] ?? dataDir, 'postgres');
}

async function query(connectionString: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The uid PostgreSQL runs as: its own process's, unless root, then nobody's (see embedded.ts). */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await fs.readFile('/etc/passwd', 'utf8');
  const [, , uid, gid] = passwd
    .split('\n')
    .find((line) => line.startsWith('nobody:'))!
    .split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

describe('the embedded PostgreSQL after a crash', { timeout: 120_000 }, () => {
  it('starts when the stale postmaster.pid names a live process that is not its postmaster, and keeps its data', async () => {
    const dataDir = await dataFolder();
    const first = await start(dataDir);
    await query(first.connectionString, 'CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)');
    const cluster = await clusterOf(dataDir);
    const pidFile = await fs.readFile(path.join(cluster, 'postmaster.pid'), 'utf8');
    await first.stop();

    // What SIGKILL leaves, with the postmaster's pid now taken by a process of PostgreSQL's own user.
    const user = await postgresUser();
    const other = spawn('sleep', ['60'], { stdio: 'ignore', ...(user ?? {}) });
    children.push(other);
    assert.ok(other.pid);
    const lines = pidFile.split('\n');
    lines[0] = String(other.pid);
    await fs.writeFile(path.join(cluster, 'postmaster.pid'), lines.join('\n'), { mode: 0o600 });
    if (user) await fs.chown(path.join(cluster, 'postmaster.pid'), user.uid, user.gid);

    logged = '';
    const second = await start(dataDir);
    const { rows } = await query(second.connectionString, 'SELECT id FROM kept');
    assert.deepEqual(rows, [{ id: 7 }]);
    assert.match(logged, new RegExp(`stale postmaster.pid: it names process ${other.pid}`));
    assert.equal(other.exitCode, null, 'the process that reused the pid is left alone');
    await second.stop();
  });

  it('creates the cluster again when its first initdb was killed half-way', async () => {
    const dataDir = await dataFolder();
    const cluster = path.join(dataDir, 'postgres');
    // What initdb leaves before its bootstrap writes global/pg_control.
    await fs.mkdir(path.join(cluster, 'global'), { recursive: true, mode: 0o700 });
    await fs.mkdir(path.join(cluster, 'base'), { mode: 0o700 });
    await fs.writeFile(path.join(cluster, 'PG_VERSION'), '18\n');
    const user = await postgresUser();
    if (user) {
      for (const file of ['', 'global', 'base', 'PG_VERSION']) {
        await fs.chown(path.join(cluster, file), user.uid, user.gid);
      }
    }

    logged = '';
    const handle = await start(dataDir);
    const { rows } = await query(handle.connectionString, 'SELECT 1 AS one');
    assert.deepEqual(rows, [{ one: 1 }]);
    assert.match(logged, /never completed/);
    assert.equal(await clusterOf(dataDir), cluster);
    await handle.stop();
  });

  it('clears what an initdb killed beside the cluster folder left, and creates the cluster', async () => {
    const dataDir = await dataFolder();
    // An initdb killed while it runs in the folder beside the cluster's leaves that folder only.
    const leftover = path.join(await clusterOf(dataDir), '..', 'postgres.initdb');
    await fs.mkdir(path.join(leftover, 'global'), { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(leftover, 'PG_VERSION'), '18\n');

    const handle = await start(dataDir);
    assert.deepEqual((await query(handle.connectionString, 'SELECT 1 AS one')).rows, [{ one: 1 }]);
    await handle.stop();
    await assert.rejects(fs.access(leftover), 'the half-made cluster is gone');
  });
});
