import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../logger.js';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from './clock.js';
import { createWorkRunner, type WorkRunner } from './runner.js';

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

function newRunner(): WorkRunner {
  return createWorkRunner({
    pool: server.app.context.pool,
    clock: new ShiftedClock(),
    log: createLogger('silent'),
  });
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
});
