import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createLogger } from '../logger.js';
import { createTestDatabase, startTestServer, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from './clock.js';
import {
  HELD_RECHECK_MS,
  NOTIFY_EVERY_MS,
  WORK_CHANNEL,
  WORK_LISTENER_NAME,
  createWorkRunner,
  type WorkRunner,
} from './runner.js';

/**
 * The work runner's wakes, with queues whose rounds take items from an array: how many rounds a wake
 * costs, whether a backlog gets every loop, and whether wakes reach another process (a second runner
 * on the same database) but do not come back to the one that sent them.
 */

let server: TestServer;
before(async () => {
  server = await startTestServer({ role: 'api' });
});
after(async () => {
  await server.stop();
});

const IDLE_MS = 60_000;

interface ArrayQueue {
  items: number[];
  rounds: number;
  emptyRounds: number;
  /** The most rounds that ran at the same time. */
  mostAtOnce: number;
  handled: number[];
}

function arrayQueue(runner: WorkRunner, name: string, batch: number, concurrency: number): ArrayQueue {
  const queue: ArrayQueue = { items: [], rounds: 0, emptyRounds: 0, mostAtOnce: 0, handled: [] };
  let running = 0;
  runner.register({
    name,
    concurrency,
    idleMs: IDLE_MS,
    async round() {
      queue.rounds++;
      running++;
      queue.mostAtOnce = Math.max(queue.mostAtOnce, running);
      try {
        const taken = queue.items.splice(0, batch);
        if (taken.length === 0) queue.emptyRounds++;
        // A round waits on the database most of its time.
        await sleep(taken.length > 0 ? 20 : 1);
        queue.handled.push(...taken);
        return { more: taken.length >= batch };
      } finally {
        running--;
      }
    },
  });
  return queue;
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function newRunner(pool: pg.Pool = server.app.context.pool, presenceCheckMs?: number): WorkRunner {
  return createWorkRunner({
    pool,
    clock: new ShiftedClock(),
    log: createLogger('silent'),
    ...(presenceCheckMs ? { presenceCheckMs } : {}),
  });
}

/** A database no Vigil process uses, a pool on it, and every payload NOTIFYed on the work channel there. */
async function quietDatabase(): Promise<{
  url: string;
  pool: pg.Pool;
  heard: string[];
  close(): Promise<void>;
}> {
  const url = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  const overhearer = new pg.Client({ connectionString: url });
  await overhearer.connect();
  const heard: string[] = [];
  overhearer.on('notification', (message) => heard.push(message.payload ?? ''));
  await overhearer.query(`LISTEN ${WORK_CHANNEL}`);
  return {
    url,
    pool,
    heard,
    async close() {
      await overhearer.end();
      await pool.end();
    },
  };
}

describe('the work runner', () => {
  it('answers a wake with one round of one loop, not a round of each loop', async () => {
    const runner = newRunner();
    const queue = arrayQueue(runner, 'test-one-wake', 10, 4);
    await runner.start();
    try {
      // Starting wakes each queue once (for what was announced while nobody listened).
      await until(() => queue.rounds >= 1, 'the first round');
      await sleep(100);
      const before = queue.rounds;
      for (let i = 0; i < 5; i++) {
        queue.items.push(i);
        runner.wake('test-one-wake');
        await until(() => queue.handled.includes(i), `item ${i}`);
        // Its own NOTIFY comes back to this process: give it the time to (not) cause a round.
        await sleep(100);
      }
      assert.equal(queue.rounds - before, 5, 'one round per wake');
      assert.deepEqual(queue.handled, [0, 1, 2, 3, 4]);
    } finally {
      await runner.stop();
    }
  });

  it('puts every loop on a backlog, and handles each item once', async () => {
    const runner = newRunner();
    const queue = arrayQueue(runner, 'test-backlog', 10, 4);
    await runner.start();
    try {
      await until(() => queue.rounds >= 1, 'the first round');
      for (let i = 0; i < 400; i++) queue.items.push(i);
      runner.wake('test-backlog');
      await until(() => queue.handled.length === 400, 'the backlog');
      assert.equal(queue.mostAtOnce, 4, 'all four loops worked on it at once');
      assert.deepEqual(
        [...queue.handled].sort((a, b) => a - b),
        Array.from({ length: 400 }, (_, i) => i),
      );
    } finally {
      await runner.stop();
    }
  });

  it('wakes the same queue in another process through NOTIFY, and not its own again', async () => {
    const sender = newRunner();
    const receiver = newRunner();
    const sent = arrayQueue(sender, 'test-across', 10, 2);
    const received = arrayQueue(receiver, 'test-across', 10, 2);
    await sender.start();
    await receiver.start();
    try {
      await until(() => sent.rounds >= 1 && received.rounds >= 1, 'the first rounds');
      await sleep(100);
      const [sentBefore, receivedBefore] = [sent.rounds, received.rounds];
      // The receiver's own list: it only learns of it through the sender's NOTIFY.
      received.items.push(1);
      sender.wake('test-across');
      await until(() => received.handled.includes(1), 'the other process');
      await sleep(200);
      assert.equal(received.rounds - receivedBefore, 1, 'the other process ran one round');
      assert.equal(sent.rounds - sentBefore, 1, 'the sender ran one round, not a second for its own NOTIFY');
    } finally {
      await sender.stop();
      await receiver.stop();
    }
  });

  it('sends no wakes to other processes while none listens, and does from when one starts', async () => {
    // The test server's own process listens on its database: these runners get one to themselves.
    const quiet = await quietDatabase();
    const alone = newRunner(quiet.pool);
    const joining = newRunner(quiet.pool);
    const own = arrayQueue(alone, 'test-alone', 10, 1);
    const theirs = arrayQueue(joining, 'test-alone', 10, 1);
    try {
      await alone.start();
      await until(() => quiet.heard.length === 1, "the first process's greeting");
      assert.equal(alone.othersListening(), false);
      for (let i = 0; i < 3; i++) {
        own.items.push(i);
        alone.wake('test-alone');
        await until(() => own.handled.includes(i), `item ${i}`);
      }
      // A round takes longer (20 ms) than a wake's NOTIFY waits to be sent: one sent for these wakes
      // would be out, and heard, before the second process's greeting.
      assert.ok(NOTIFY_EVERY_MS < 20);

      await joining.start();
      await until(() => alone.othersListening(), 'the first process to hear of the second');
      assert.equal(joining.othersListening(), true, 'the second saw the first at its start');
      theirs.items.push(100);
      alone.wake('test-alone');
      await until(() => theirs.handled.includes(100), "the second process's round, woken by the first");
      const [first, second, ...wakes] = quiet.heard;
      assert.ok(first?.startsWith('@') && second?.startsWith('@'), `two greetings first: ${quiet.heard}`);
      assert.ok(
        wakes.length >= 1 && wakes.every((payload) => payload.startsWith('test-alone@')),
        `then only the wake sent once the second listened: ${quiet.heard}`,
      );
    } finally {
      await alone.stop();
      await joining.stop();
      await quiet.close();
    }
  });

  it('sees a process that connects as another database role, and sees it go', async () => {
    // pg_stat_activity shows every session's database and application_name to any role (only its query
    // and state are kept from roles that are not its own), so processes need not share a role.
    const quiet = await quietDatabase();
    const admin = new pg.Client({ connectionString: quiet.url });
    await admin.connect();
    const roles = [0, 1].map(() => `vigil_test_role_${randomBytes(4).toString('hex')}`);
    const pools: pg.Pool[] = [];
    for (const role of roles) {
      await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER PASSWORD 'a test password'`);
      const url = new URL(quiet.url);
      url.username = role;
      url.password = 'a test password';
      pools.push(new pg.Pool({ connectionString: url.toString(), max: 4 }));
    }
    const first = newRunner(pools[0], 50);
    const second = newRunner(pools[1], 50);
    arrayQueue(first, 'test-roles', 10, 1);
    arrayQueue(second, 'test-roles', 10, 1);
    try {
      await first.start();
      assert.equal(first.othersListening(), false);
      await second.start();
      // The first greeted before the second listened: the second knows of it only by looking.
      assert.equal(second.othersListening(), true, 'the second saw the first, of another role, at its start');
      await first.stop();
      await until(() => !second.othersListening(), 'the second to see the first gone');
    } finally {
      await first.stop();
      await second.stop();
      for (const pool of pools) await pool.end();
      for (const role of roles) await admin.query(`DROP ROLE ${role}`);
      await admin.end();
      await quiet.close();
    }
  });

  it('stops sending wakes once the other process has gone', async () => {
    const quiet = await quietDatabase();
    const staying = newRunner(quiet.pool, 50);
    const leaving = newRunner(quiet.pool, 50);
    arrayQueue(staying, 'test-leave', 10, 1);
    arrayQueue(leaving, 'test-leave', 10, 1);
    try {
      await staying.start();
      await leaving.start();
      await until(() => staying.othersListening(), 'the first process to hear of the second');
      await leaving.stop();
      await until(() => !staying.othersListening(), 'the first process to see the second gone');
    } finally {
      await staying.stop();
      await leaving.stop();
      await quiet.close();
    }
  });

  it('looks again shortly, without spinning, at work due that another transaction holds', async () => {
    const runner = newRunner();
    let rounds = 0;
    let held = true;
    runner.register({
      name: 'test-held',
      idleMs: IDLE_MS,
      // As a claim that skips locked rows: nothing taken while the due row is held, its due time past.
      async round(now) {
        rounds++;
        return held ? { more: false, nextDueAt: new Date(now.getTime() - 1000) } : { more: false };
      },
    });
    await runner.start();
    try {
      await sleep(500);
      // A round every HELD_RECHECK_MS at most, not one per round trip (thousands in half a second).
      assert.ok(rounds <= 500 / HELD_RECHECK_MS + 2, `${rounds} rounds in 500 ms`);
      assert.ok(rounds >= 2, `${rounds} rounds: it looked again`);
      held = false;
      const after = rounds;
      await sleep(2 * HELD_RECHECK_MS + 100);
      assert.ok(rounds - after <= 1, 'once the row is free and done, the queue sleeps');
    } finally {
      await runner.stop();
    }
  });

  it("tells its observer of each round's end, failed or not, and reads the queues' backlogs", async () => {
    const ended: { queue: string; failed: boolean }[] = [];
    const runner = createWorkRunner({
      pool: server.app.context.pool,
      clock: new ShiftedClock(),
      log: createLogger('silent'),
      observer: {
        roundEnded: (queue, seconds, failed) =>
          ended.push({ queue, failed, ...(seconds < 0 ? { seconds } : {}) }),
      },
    });
    let rounds = 0;
    runner.register({
      name: 'test-observed',
      idleMs: IDLE_MS,
      async round() {
        rounds++;
        if (rounds === 2) throw new Error('a failing round');
        return { more: rounds < 3 };
      },
      backlog: async (now) => ({ due: 7, oldestDueAt: new Date(now.getTime() - 1000) }),
    });
    runner.register({
      name: 'test-unreadable',
      idleMs: IDLE_MS,
      round: async () => ({ more: false }),
      backlog: async () => {
        throw new Error('the backlog read failed');
      },
    });
    runner.register({ name: 'test-untold', idleMs: IDLE_MS, round: async () => ({ more: false }) });
    await runner.start();
    try {
      // The failed round is followed by another after its pause.
      await until(() => ended.filter((e) => e.queue === 'test-observed').length >= 3, 'three rounds');
      assert.deepEqual(ended.filter((e) => e.queue === 'test-observed').slice(0, 3), [
        { queue: 'test-observed', failed: false },
        { queue: 'test-observed', failed: true },
        { queue: 'test-observed', failed: false },
      ]);
      const now = new Date();
      const backlogs = await runner.backlogs(now);
      // The queue whose read failed is named, the others read all the same; one that tells none is not there.
      assert.deepEqual([...backlogs.read.keys()], ['test-observed']);
      assert.deepEqual(backlogs.read.get('test-observed'), {
        due: 7,
        oldestDueAt: new Date(now.getTime() - 1000),
      });
      assert.deepEqual(backlogs.unreadable, ['test-unreadable']);
    } finally {
      await runner.stop();
    }
  });

  it('warns of a round that takes too long while it runs and when it ends, and of no other', async () => {
    const lines: string[] = [];
    const runner = createWorkRunner({
      pool: server.app.context.pool,
      clock: new ShiftedClock(),
      log: createLogger(
        'warn',
        new Writable({ write: (chunk: Buffer, _enc, done) => done(void lines.push(chunk.toString())) }),
      ),
      slowRoundMs: 1500,
    });
    // Far apart, so that a busy machine stalling a 1 ms round cannot make it look slow too.
    const roundMs = [1, 2000, 1];
    let rounds = 0;
    runner.register({
      name: 'test-slow',
      idleMs: IDLE_MS,
      async round() {
        await sleep(roundMs[rounds++] ?? 1);
        return { more: rounds < roundMs.length };
      },
    });
    await runner.start();
    try {
      await until(() => rounds >= roundMs.length, 'three rounds');
      await runner.stop();
      const warnings = lines.map(
        (l) => JSON.parse(l) as { queue?: string; runningMs?: number; tookMs?: number; msg: string },
      );
      assert.equal(warnings.length, 2, JSON.stringify(warnings));
      const [running, took] = warnings;
      assert.equal(running?.queue, 'test-slow');
      assert.ok((running?.runningMs ?? 0) >= 1490, `runningMs ${running?.runningMs}`);
      assert.match(
        running?.msg ?? '',
        /^test-slow: a round has been running for \d+\.\d s and has not ended; /,
      );
      assert.equal(took?.queue, 'test-slow');
      // About the 2,000 ms the round slept: a timer and Date.now round differently, so it may read 1,999.
      assert.ok((took?.tookMs ?? 0) >= 1990, `tookMs ${took?.tookMs}`);
      assert.match(took?.msg ?? '', /^test-slow: a round took \d+\.\d s, /);
    } finally {
      await runner.stop();
    }
  });

  it('stops, and gives its connection back, when the stop lands while it listens again', async () => {
    // A database restart drops the listening connection and the runner connects again a second later;
    // a stop meanwhile once left that connection checked out, and closing the pool waited on it for ever.
    const quiet = await quietDatabase();
    const admin = new pg.Client({ connectionString: quiet.url });
    await admin.connect();
    const { pool } = quiet;
    const connect = pool.connect.bind(pool);
    let hold: Promise<void> | undefined;
    let openHold = (): void => {};
    let held = false;
    Object.assign(pool, {
      // The connection is made, and handed over only once the test lets it (after the stop).
      connect(callback?: Parameters<pg.Pool['connect']>[0]) {
        if (callback) return connect(callback);
        return connect().then(async (client) => {
          if (hold) {
            held = true;
            await hold;
          }
          return client;
        });
      },
    });
    const runner = newRunner(pool);
    arrayQueue(runner, 'test-relisten-stop', 10, 1);
    let lost = false;
    runner.listenTo('test_relisten_stop', () => {}, { lost: () => (lost = true) });
    try {
      await runner.start();
      hold = new Promise<void>((resolve) => (openHold = resolve));
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1`,
        [WORK_LISTENER_NAME],
      );
      await until(() => lost, 'the listening connection to be lost');
      await until(() => held, 'the runner to connect again');
      const stopping = runner.stop();
      openHold();
      const stoppedInTime = await Promise.race([stopping.then(() => true), sleep(5000).then(() => false)]);
      assert.ok(stoppedInTime, 'the stop returned');
      assert.equal(
        pool.totalCount,
        0,
        'no connection is left checked out (closing the pool would wait on it)',
      );
    } finally {
      openHold();
      // Should the stop have missed the connection, the listen holding it has ended by now, and a second
      // stop releases it: the test fails rather than hangs in closing the pool.
      await until(() => pool.totalCount === 0, 'the connection to be given back', 1000).catch(() => {});
      await runner.stop();
      await admin.end();
      await quiet.close();
    }
  });
});
