import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { freePort } from '../../src/db/embedded.js';
import { createTestDatabase, waitFor } from '../../src/testing/harness.js';
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from '../../src/testing/smtp.js';
import { VIGIL_COMMAND } from '../../src/testing/vigil-cli.js';
import { WORK_LISTENER_NAME } from '../../src/work/runner.js';

/**
 * For workers*.test.ts (a file each, so that they run in parallel): `vigil start` processes on one
 * PostgreSQL, as production scales out: one serving the API, the others `--role worker`. Each worker
 * sends through a test SMTP server of its own, so every email received tells which process sent it: the
 * tests see that the work is shared, and whose a duplicate is. The kill test shortens the leases
 * (VIGIL_NOTIFICATION_LEASE_SECONDS, VIGIL_EVENT_LEASE_SECONDS) to wait for them. A file that uses it
 * calls `after(stopFleets)`.
 */

const cli = VIGIL_COMMAND;
const children: ChildProcess[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

/** Kills the processes this file started and closes what it opened. */
export async function stopFleets(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of cleanups) await cleanup().catch(() => {});
}

export interface Vigil {
  name: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

export interface Worker extends Vigil {
  smtp: TestSmtpServer;
}

function start(name: string, env: Record<string, string>, role: 'api' | 'worker'): Vigil {
  const child = spawn(process.execPath, [...cli, 'start', '--role', role], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { name, child, exited, output: () => output };
}

/** Fails at once, with its output, when a process that should be running has exited. */
export function assertRunning(processes: readonly Vigil[]): void {
  for (const p of processes) {
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}):\n${p.output()}`);
  }
}

export async function stopAll(processes: readonly Vigil[]): Promise<void> {
  for (const p of processes) p.child.kill('SIGTERM');
  for (const p of processes) assert.deepEqual(await p.exited, { code: 0, signal: null }, p.output());
}

/** Log lines at error level or above (pino: level 50+), for the report of a failure. */
export function errorLines(p: Vigil): string[] {
  return p
    .output()
    .split('\n')
    .filter((line) => /"level":(50|60)/.test(line));
}

export const PEOPLE = ['dana@example.com', 'eli@example.com'];

/**
 * A database, the API process on it and a team of {@link PEOPLE} (each paged by email at once, as every
 * new user is); workers are started by each test.
 */
export async function startFleet() {
  const databaseUrl = await createTestDatabase();
  const key = randomUUID();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const common = { DATABASE_URL: databaseUrl, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' };
  const api = start('api', { ...common, PORT: String(port), VIGIL_BOOTSTRAP_API_KEY: key }, 'api');
  await waitFor(
    'the API to serve',
    async () => {
      assertRunning([api]);
      return (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200;
    },
    60_000,
  );
  // The API process has migrated the database: the test reads it directly from here on.
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  cleanups.push(() => db.end());

  const headers = { authorization: `GenieKey ${key}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.ok(res.status < 300, `${path}: ${res.status} ${await res.text()}`);
  };
  for (const username of PEOPLE) {
    await post('/v2/users', { username, fullName: username.split('@')[0], role: { name: 'User' } });
  }
  // No routing set: every member of the team is paged at once.
  await post('/v2/teams', {
    name: 'Ops',
    members: PEOPLE.map((username) => ({ user: { username }, role: 'user' })),
  });

  let started = 0;
  return {
    api,
    db,
    /** A worker process with an SMTP server of its own. */
    async worker(env: Record<string, string> = {}): Promise<Worker> {
      const smtp = await startTestSmtpServer();
      cleanups.push(() => smtp.stop());
      const name = `worker ${++started}`;
      const env_ = { ...common, PORT: '0', VIGIL_SMTP_URL: smtp.url, ...env };
      return { ...start(name, env_, 'worker'), smtp };
    },
    /**
     * Waits for these workers to listen for wake-ups, so that each takes part from the first alert on
     * (a worker names its connection for them once it listens on it; the API process runs no queue and
     * does not listen).
     */
    async listening(workers: readonly Worker[]): Promise<void> {
      const count = workers.length;
      let listening: number | undefined;
      await waitFor(
        `${count} worker(s) to listen`,
        async () => {
          assertRunning(workers);
          const result = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1`,
            [WORK_LISTENER_NAME],
          );
          listening = result.rows[0]?.n;
          return listening === count;
        },
        60_000,
      ).catch((error: Error) => {
        // Timed out once in a full run on a busy machine: what each worker said tells why.
        const said = workers.map((w) => `${w.name}:\n${w.output() || '(nothing)'}`).join('\n');
        throw new Error(`${error.message} (${listening ?? 'no'} listening)\n${said}`);
      });
    },
    /** Creates `count` alerts for the team, 20 requests in flight at a time. */
    async alerts(count: number, prefix: string): Promise<void> {
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < count) {
            const i = next++;
            await post('/v2/alerts', {
              message: `${prefix} ${i}`,
              alias: `${prefix}-${i}`,
              responders: [{ type: 'team', name: 'Ops' }],
            });
          }
        }),
      );
    },
  };
}

export interface WorkState {
  alerts: number;
  /** Alert events not yet handed to their consumers. */
  outbox: number;
  /** Alert events handed to a consumer and not yet handled: due, claimed, or waiting for a retry. */
  eventDeliveries: number;
  /** Alert events a consumer gave up on. */
  deadEvents: number;
  sent: number;
  /** Messages pending or being sent. */
  unsent: number;
  /** Messages failed or cancelled. */
  notSent: number;
  /** Escalations with a step still to run. */
  activeEscalations: number;
}

/** The work state once every alert is made and paged: nothing left, nothing dead, every email sent. */
export function allDone(alerts: number, sent: number): WorkState {
  return {
    alerts,
    outbox: 0,
    eventDeliveries: 0,
    deadEvents: 0,
    sent,
    unsent: 0,
    notSent: 0,
    activeEscalations: 0,
  };
}

export async function workState(db: pg.Client): Promise<WorkState> {
  const result = await db.query<WorkState>(`
    SELECT (SELECT count(*) FROM alerts)::int AS alerts,
           (SELECT count(*) FROM outbox_jobs)::int AS outbox,
           (SELECT count(*) FROM event_deliveries WHERE dead_at IS NULL)::int AS "eventDeliveries",
           (SELECT count(*) FROM event_deliveries WHERE dead_at IS NOT NULL)::int AS "deadEvents",
           (SELECT count(*) FROM notifications WHERE state = 'sent')::int AS sent,
           (SELECT count(*) FROM notifications WHERE state IN ('pending', 'sending'))::int AS unsent,
           (SELECT count(*) FROM notifications WHERE state IN ('failed', 'cancelled'))::int AS "notSent",
           (SELECT count(*) FROM alert_escalations WHERE state = 'active')::int AS "activeEscalations"`);
  return result.rows[0] as WorkState;
}

/**
 * Waits until nothing is left to do: every alert made, every event handled (or dead), every message sent
 * (or failed), no escalation step to come. From then on no process has anything to send, so what the
 * SMTP servers have is all they will get: no sleep is needed to see that nothing more arrives.
 */
export async function settled(
  db: pg.Client,
  alerts: number,
  workers: readonly Worker[],
  running: readonly Vigil[],
): Promise<WorkState> {
  let state = await workState(db);
  await waitFor(
    'every alert paged and every queue empty',
    async () => {
      assertRunning(running);
      state = await workState(db);
      return (
        state.alerts === alerts &&
        state.outbox === 0 &&
        state.eventDeliveries === 0 &&
        state.unsent === 0 &&
        state.activeEscalations === 0
      );
    },
    120_000,
  ).catch((error: Error) => {
    const received = workers.map((w) => `${w.name}: ${w.smtp.messages.length}`).join(', ');
    const errors = workers.flatMap(errorLines).slice(0, 5).join('\n');
    throw new Error(`${error.message}: ${JSON.stringify(state)}; emails ${received}\n${errors}`);
  });
  return state;
}

/** Every (alert, recipient) the test expects an email for, as `alertId|address`. */
export async function expectedPairs(db: pg.Client): Promise<string[]> {
  const result = await db.query<{ pair: string }>(
    `SELECT a.id || '|' || u.username AS pair FROM alerts a CROSS JOIN users u WHERE u.username = ANY($1)`,
    [PEOPLE],
  );
  return result.rows.map((r) => r.pair).sort();
}

export interface Received {
  worker: string;
  mail: ReceivedMail;
}

export function received(workers: readonly Worker[]): Received[] {
  return workers.flatMap((w) => w.smtp.messages.map((mail) => ({ worker: w.name, mail })));
}

export const pairOf = (m: ReceivedMail) => `${m.headers['x-vigil-alert-id'] ?? ''}|${m.to.join(',')}`;
export const notificationOf = (m: ReceivedMail) => m.headers['x-vigil-notification-id'] ?? '';

export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
