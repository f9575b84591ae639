import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../logger.js';
import {
  OWNERSHIP_LOCK_KEY,
  startEmbeddedPostgres,
  underServiceManager,
  type EmbeddedPostgresHandle,
} from './embedded.js';
import { waitFor } from '../testing/harness.js';

/**
 * Who stops an embedded PostgreSQL that several processes use. In one process, so the attachers'
 * order can be forced; the command-level cases (a Vigil killed, two Vigils on one data folder) are
 * in test/e2e/cli.test.ts.
 */

const settings = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
/** Not under systemd, whatever runs these tests: an owner may leave its server to those attached. */
const unmanaged = { endedWithProcess: false } as const;
let dataDir: string;
let starter: EmbeddedPostgresHandle;
let logged = '';
const output = new PassThrough();
output.on('data', (chunk: Buffer) => (logged += chunk.toString()));
const log = createLogger('info', output);

async function answers(connectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function postmasterPid(folder = dataDir): Promise<number | undefined> {
  // As root, the cluster may live outside the data folder, which then names where.
  const location = await fs.readFile(path.join(folder, 'postgres-location'), 'utf8').catch(() => '');
  const cluster = path.join(/ lives in (.+?): /.exec(location)?.[1] ?? folder, 'postgres');
  const text = await fs.readFile(path.join(cluster, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Runs `test` on a data folder of its own, and ends whatever server it leaves running there. */
async function onOwnDataFolder(test: (folder: string) => Promise<void>): Promise<void> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-embedded-together-'));
  try {
    await test(folder);
  } finally {
    const pid = await postmasterPid(folder);
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // Already gone.
      }
    }
    await fs.rm(folder, { recursive: true, force: true });
  }
}

before(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-embedded-'));
  starter = await startEmbeddedPostgres({ dataDir, log, settings });
});

after(async () => {
  await starter.stop();
  // Should a test fail with the server adopted but not stopped, end it rather than leave it running.
  const pid = await postmasterPid();
  if (pid) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // Already gone.
    }
  }
  await fs.rm(dataDir, { recursive: true, force: true });
});

/** Where the server sees the connection from: null over a unix socket. */
async function clientAddress(connectionString: string): Promise<string | null> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{ address: string | null }>(
      'SELECT host(inet_client_addr()) AS address',
    );
    return rows[0]?.address ?? null;
  } finally {
    await client.end();
  }
}

describe('how the embedded PostgreSQL is reached', () => {
  it('over the unix socket in its cluster folder, by its owner and by a process that attaches', async () => {
    assert.match(starter.connectionString, /\?host=%2F/);
    assert.equal(await clientAddress(starter.connectionString), null);
    const attached = await startEmbeddedPostgres({ dataDir, log, settings });
    try {
      assert.equal(attached.connectionString, starter.connectionString);
      assert.equal(await clientAddress(attached.connectionString), null);
    } finally {
      await attached.stop();
    }
    // The URL's own address still answers, for tools that ignore its host parameter.
    const overTcp = new URL(starter.connectionString);
    overTcp.search = '';
    assert.equal(await clientAddress(overTcp.toString()), '127.0.0.1');
  });

  it('over TCP alone when the cluster folder is too deep for a socket address', async () => {
    const deep = path.join(dataDir, 'd'.repeat(100));
    const server = await startEmbeddedPostgres({ dataDir: deep, log, settings });
    try {
      assert.doesNotMatch(server.connectionString, /host=/);
      assert.equal(await clientAddress(server.connectionString), '127.0.0.1');
    } finally {
      await server.stop();
    }
  });
});

describe('the embedded PostgreSQL shared by several processes', () => {
  it('is left running by a process that attached while its owner lives', async () => {
    assert.equal(starter.owned, true);
    const attached = await startEmbeddedPostgres({ dataDir, log, settings });
    assert.equal(attached.owned, false);
    await attached.stop();
    assert.ok(await answers(starter.connectionString));
    assert.match(logged, /leaving the embedded PostgreSQL running/);
  });

  it('is adopted by exactly one of the processes that attach after its owner died, which stops it', async () => {
    // A pid that no process has any more stands for a Vigil killed with SIGKILL.
    const dead = spawnSync('true').pid;
    assert.ok(dead);
    await fs.writeFile(path.join(dataDir, 'postgres-owner'), JSON.stringify({ pid: dead }) + '\n');

    // Holding the ownership lock makes both attachers wait for it, so they decide back to back.
    const holder = new pg.Client({ connectionString: starter.connectionString });
    holder.on('error', () => {});
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [OWNERSHIP_LOCK_KEY.toString()]);
    const attaching = [1, 2].map(() => startEmbeddedPostgres({ dataDir, log, settings }));
    await waitFor(
      'both attachers to wait for the ownership lock',
      async () => {
        const { rows } = await holder.query<{ waiting: number }>(
          "SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        );
        return rows[0]?.waiting === 2;
      },
      20_000,
    );
    await holder.end();
    const handles = await Promise.all(attaching);
    const owners = handles.filter((h) => h.owned);
    const others = handles.filter((h) => !h.owned);
    assert.equal(owners.length, 1);
    assert.equal(others.length, 1);
    const owner = JSON.parse(await fs.readFile(path.join(dataDir, 'postgres-owner'), 'utf8')) as {
      pid: number;
    };
    assert.equal(owner.pid, process.pid);

    await others[0]?.stop();
    assert.ok(await answers(starter.connectionString), 'the one that did not adopt it leaves it running');

    const pid = await postmasterPid();
    assert.ok(pid);
    logged = '';
    await owners[0]?.stop();
    assert.match(logged, /embedded PostgreSQL stopped/);
    assert.equal(await answers(starter.connectionString), false);
    assert.equal(await postmasterPid(), undefined, 'postmaster.pid is gone');
  });
});

describe('the embedded PostgreSQL started by several processes at once', () => {
  /** `api` and `worker` started together: one starts the server, the other attaches to it. */
  async function startTogether(folder: string): Promise<void> {
    const handles = await Promise.all(
      [1, 2].map(() => startEmbeddedPostgres({ dataDir: folder, log, settings })),
    );
    const owners = handles.filter((h) => h.owned);
    assert.equal(owners.length, 1, 'exactly one of them owns the server');
    for (const handle of handles) assert.ok(await answers(handle.connectionString));

    // A later start connects with the password kept in the data folder: the one the cluster has.
    const later = await startEmbeddedPostgres({ dataDir: folder, log, settings });
    assert.equal(later.owned, false);
    assert.ok(await answers(later.connectionString));
    await later.stop();
    await Promise.all(handles.filter((h) => !h.owned).map((h) => h.stop()));
    assert.ok(await answers(owners[0]?.connectionString ?? ''), 'the one that attached leaves it running');

    await owners[0]?.stop();
    assert.equal(await postmasterPid(folder), undefined, 'its owner stopped it');
    await assert.rejects(fs.access(path.join(folder, 'postgres-start.lock')), 'no start lock is left');
  }

  it('on a new data folder, creates one cluster and starts one server', async () => {
    await onOwnDataFolder(startTogether);
  });

  it('on a data folder whose server was stopped, starts one server', async () => {
    await onOwnDataFolder(async (folder) => {
      const first = await startEmbeddedPostgres({ dataDir: folder, log, settings });
      await first.stop();
      await startTogether(folder);
    });
  });

  it('is not held up by the start lock of a Vigil that died while starting', async () => {
    await onOwnDataFolder(async (folder) => {
      const dead = spawnSync('true').pid;
      assert.ok(dead);
      await fs.writeFile(
        path.join(folder, 'postgres-start.lock'),
        JSON.stringify({ pid: dead, token: 'of-the-dead' }) + '\n',
      );
      logged = '';
      const server = await startEmbeddedPostgres({ dataDir: folder, log, settings });
      try {
        assert.match(logged, /took over the lock/);
        assert.equal(server.owned, true);
        assert.ok(await answers(server.connectionString));
      } finally {
        await server.stop();
      }
      const left = (await fs.readdir(folder)).filter((name) => name.startsWith('postgres-start.lock'));
      assert.deepEqual(left, [], 'neither the lock nor the takeover marker is left');
    });
  });
});

describe('the embedded PostgreSQL when its owner stops while another process uses it', () => {
  /** A pool as the attached process's app has one: it answers a query, with whatever connection it gets. */
  async function poolAnswers(pool: pg.Pool): Promise<boolean> {
    return pool.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  function poolOf(connectionString: string): pg.Pool {
    const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: 5_000 });
    pool.on('error', () => {});
    return pool;
  }

  it('keeps serving the attached process, also after its owner starts again; the last one out stops it', async () => {
    await onOwnDataFolder(async (folder) => {
      const first = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...unmanaged });
      const attached = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...unmanaged });
      assert.equal(attached.owned, false);
      const pool = poolOf(attached.connectionString);
      try {
        assert.ok(await poolAnswers(pool));
        const server = await postmasterPid(folder);

        logged = '';
        await first.stop();
        assert.ok(await poolAnswers(pool), 'the attached process is still served');
        assert.equal(await postmasterPid(folder), server, 'the server still runs');
        assert.match(logged, /leaving it running for them/);

        // Its owner started again (a restart of the api): the attached pool keeps answering.
        const again = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...unmanaged });
        assert.equal(again.connectionString, attached.connectionString);
        await waitFor('the attached pool to answer', () => poolAnswers(pool), 10_000);
        await again.stop();
        assert.ok(await poolAnswers(pool), 'still served once the restarted owner stops');

        await pool.end();
        logged = '';
        await attached.stop();
        assert.match(logged, /embedded PostgreSQL stopped/);
        assert.equal(await postmasterPid(folder), undefined, 'the last process out stopped it');
      } finally {
        await pool.end().catch(() => {});
      }
    });
  });

  it('is reached again by the attached process when stopped under it and started again', async () => {
    await onOwnDataFolder(async (folder) => {
      const first = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...unmanaged });
      const attached = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...unmanaged });
      const pool = poolOf(attached.connectionString);
      try {
        assert.ok(await poolAnswers(pool));
        // As an owner's forced exit does (a second signal): a fast shutdown, whoever is attached.
        const server = await postmasterPid(folder);
        assert.ok(server);
        process.kill(server, 'SIGINT');
        await waitFor('the server to stop', async () => (await postmasterPid(folder)) === undefined, 20_000);
        await first.stop();
        assert.equal(await poolAnswers(pool), false);

        const again = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...unmanaged });
        assert.equal(again.owned, true);
        assert.equal(again.connectionString, attached.connectionString, 'on the port it had');
        await waitFor('the attached pool to answer', () => poolAnswers(pool), 10_000);

        // The attached process made itself known to the new server too, which its owner then leaves running.
        await waitFor(
          'the attached process to take its presence lock again',
          async () => {
            const { rows } = await pool.query<{ held: number }>(
              "SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted",
            );
            return rows[0]?.held === 1;
          },
          10_000,
        );
        await again.stop();
        assert.ok(await poolAnswers(pool));
        await pool.end();
        await attached.stop();
        assert.equal(await postmasterPid(folder), undefined);
      } finally {
        await pool.end().catch(() => {});
      }
    });
  });

  it('is stopped cleanly by its owner under systemd all the same, and reached again by the attached process once it starts again', async () => {
    await onOwnDataFolder(async (folder) => {
      // systemd would SIGKILL a server left running once the owner's unit stops (or smart-shut it down,
      // which waits for the attached process's sessions): the owner runs the fast shutdown itself.
      const managed = { endedWithProcess: true } as const;
      const first = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...managed });
      const attached = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...managed });
      assert.equal(attached.owned, false);
      const pool = poolOf(attached.connectionString);
      try {
        assert.ok(await poolAnswers(pool));
        logged = '';
        await first.stop();
        assert.equal(await postmasterPid(folder), undefined, 'stopped, not left for systemd to kill');
        assert.match(logged, /the service manager ends it with this process/);
        assert.match(logged, /embedded PostgreSQL stopped/);
        assert.equal(await poolAnswers(pool), false);

        const again = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...managed });
        assert.equal(again.owned, true);
        assert.equal(again.connectionString, attached.connectionString, 'on the port it had');
        await waitFor('the attached pool to answer', () => poolAnswers(pool), 10_000);
        await pool.end();
        await again.stop();
        assert.equal(await postmasterPid(folder), undefined);
      } finally {
        await pool.end().catch(() => {});
        // Its presence lock would otherwise be retaken for ever, and keep the tests from ending.
        await attached.stop();
      }
    });
  });

  it('tells a systemd service by the INVOCATION_ID systemd gives its processes', () => {
    assert.equal(underServiceManager({ INVOCATION_ID: '0123456789abcdef0123456789abcdef' }), true);
    assert.equal(underServiceManager({}), false);
    assert.equal(underServiceManager({ INVOCATION_ID: '' }), false);
  });

  it('is stopped by the last one out while that one is taking its presence lock again', async () => {
    await onOwnDataFolder(async (folder) => {
      let reached = () => {};
      const retaken = new Promise<void>((resolve) => (reached = resolve));
      let open = () => {};
      const gate = new Promise<void>((resolve) => (open = resolve));
      const first = await startEmbeddedPostgres({ dataDir: folder, log, settings, ...unmanaged });
      const attached = await startEmbeddedPostgres({
        dataDir: folder,
        log,
        settings,
        ...unmanaged,
        presenceRetaken: () => {
          reached();
          return gate;
        },
      });
      await first.stop();
      assert.ok(await postmasterPid(folder), 'left running for the attached process');

      // Its presence session ends (as when the server is stopped under it): it takes the lock again.
      const admin = new pg.Client({ connectionString: attached.connectionString });
      await admin.connect();
      try {
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted",
        );
      } finally {
        await admin.end();
      }
      // The retake holds the lock again, and has not yet seen the stop that now comes.
      await retaken;
      logged = '';
      const stopping = attached.stop();
      try {
        // A stop that did not wait for the retake would be over by now, the server left running for its lock.
        await Promise.race([stopping, sleep(2_000)]);
      } finally {
        open();
      }
      await stopping;
      assert.equal(await postmasterPid(folder), undefined, 'the last one out stopped it');
      assert.match(logged, /embedded PostgreSQL stopped/);
    });
  });

  it('is stopped by a process that uses it alone, and started again on the same port', async () => {
    await onOwnDataFolder(async (folder) => {
      const alone = await startEmbeddedPostgres({ dataDir: folder, log, settings });
      logged = '';
      await alone.stop();
      assert.match(logged, /embedded PostgreSQL stopped/);
      assert.equal(await postmasterPid(folder), undefined);
      assert.equal(await answers(alone.connectionString), false);
      const again = await startEmbeddedPostgres({ dataDir: folder, log, settings });
      try {
        assert.equal(again.connectionString, alone.connectionString);
      } finally {
        await again.stop();
      }
    });
  });
});
