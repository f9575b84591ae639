import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Clock } from './clock.js';
import { cancelStatement, DatabaseNotAnsweringError, dropConnection } from '../db/database.js';
import type { Logger } from '../logger.js';
import { retryDelayMs } from './backoff.js';

/**
 * The one way Vigil runs background work. Each concern is a queue: a module that owns its table and
 * claims a batch of it per round (with SKIP LOCKED, holding the rows by a lease or by the transaction it
 * works in), and says whether more is waiting and when its next item falls due. The runner runs each
 * queue's rounds in a few loops per process and sleeps between them until one of:
 *
 * - a wake: `wake(queue)` in this process (a writer that just committed work for it), or a NOTIFY on the
 *   `vigil_work` channel from another process (every wake is also sent there while another Vigil process
 *   listens, at most once per {@link NOTIFY_EVERY_MS} per queue, after the writer's commit, so NOTIFY's
 *   commit-time lock never slows the writers);
 * - the time the queue said its next item is due (read from the Clock, so tests move time instead of
 *   waiting; a test clock that jumps wakes every queue);
 * - {@link WorkQueueSpec.idleMs}, a safety net.
 *
 * A round that fails is logged and tried again after a growing pause. Nothing that matters lives only in
 * memory: a queue's state is its table, so a process killed mid-round loses nothing (its transaction
 * rolls back, or its lease runs out and another process takes the items over).
 */

export const WORK_CHANNEL = 'vigil_work';

/** Between a wake's queue name and the process that sent it, in the NOTIFY payload. */
const SENDER_MARK = '@';

/** A wake sent to other processes, at most this often per queue. */
export const NOTIFY_EVERY_MS = 10;

/**
 * The application_name of the connection a process listens for wakes on: how a process sees, in
 * pg_stat_activity, whether any other listens on its database.
 */
export const WORK_LISTENER_NAME = 'vigil-work-listener';

/** How often a process looks again whether other processes listen (it hears of a new one at once). */
export const PRESENCE_CHECK_MS = 5000;

/**
 * How long a presence check may go unanswered before the wake-up connection is taken for lost and closed.
 * A database gone silent without closing its connections (a failover behind a pooler or NAT) leaves the
 * listener deaf with no error, and each later check would queue behind the unanswered one.
 */
export const LISTENER_ANSWER_MS = 10_000;

/**
 * A round that takes this long is logged as a warning, once while it still runs and again when it ends:
 * everything behind it in its queue waits as long, and a lease the round holds may run out meanwhile. A
 * stall of that kind once logged nothing at all, and a round that never ends (its database connection
 * gone silent) would never have been logged at its end.
 */
export const SLOW_ROUND_MS = 30_000;

/**
 * How long stop() waits for the rounds under way to end before it ends them. A round blocked on a lock,
 * a purge deleting batch after batch, a send to a slow relay could otherwise hold the shutdown for
 * minutes (until the pool's query timeout), and the supervisor kills the process uncleanly meanwhile
 * (Docker after 10 s, Kubernetes 30 s, systemd 90 s), its embedded PostgreSQL with it. Under Docker's
 * 10 s, with room left for ending the rounds and stopping PostgreSQL. Not a setting: nothing is lost by
 * ending a round (its transaction rolls back, its lease runs out and another process takes its items).
 */
export const STOP_DEADLINE_MS = 7_000;

/**
 * How long stop() waits, once it has ended the rounds' connections, for their rounds to see it: a round
 * waiting on something else than the database (an HTTP send) is left behind after this.
 */
export const STOP_GRACE_MS = 1_000;

/** Whether `work` ends (either way) within `ms`; the timer holds no process open. */
export async function endsWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms).unref();
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a statement of a round ended by stop() fails with. */
export class StoppedRoundError extends Error {
  constructor() {
    super('the process is stopping: the round was ended and its connection closed');
    this.name = 'StoppedRoundError';
  }
}

/** How soon a queue looks again at work that is due but held by another transaction. */
export const HELD_RECHECK_MS = 50;

export interface WorkRound {
  /** More is waiting now: run another round at once. */
  more: boolean;
  /** When the queue's next item falls due, if it knows (timed work). */
  nextDueAt?: Date | null;
}

export interface WorkQueueSpec {
  name: string;
  /** Rounds that may run side by side in this process (each waits on PostgreSQL most of the time). */
  concurrency?: number;
  /** The longest an idle loop sleeps when nothing wakes it. */
  idleMs?: number;
  /**
   * `stop` is aborted when the process stops: a round that works through many batches ends at the next
   * (what is left waits for the next round). One still running {@link STOP_DEADLINE_MS} later is ended.
   */
  round(now: Date, stop?: AbortSignal): Promise<WorkRound>;
  /**
   * What is due and not yet taken, for the metrics (any process reads it: a queue's state is its
   * table). Queues of rare timed work leave it out.
   */
  backlog?(now: Date): Promise<QueueBacklog>;
}

/** A queue's work that is due and waits for a round. */
export interface QueueBacklog {
  /** How many items (counted up to {@link BACKLOG_COUNT_LIMIT}: a count of a million rows is no cheap scrape). */
  due: number;
  /** When the longest-waiting of them fell due: the queue's lag behind its work. */
  oldestDueAt: Date | null;
}

/**
 * Where a backlog count stops: enough to tell a backlog from a flood (the lag says how bad either is),
 * and a scrape in an incident, when the database has least to spare, reads no more than this a queue.
 */
export const BACKLOG_COUNT_LIMIT = 10_000;

export interface Backlogs {
  read: Map<string, QueueBacklog>;
  unreadable: string[];
}

/** Told of every round's end (the metrics). */
export interface WorkObserver {
  roundEnded(queue: string, seconds: number, failed: boolean): void;
}

/** What writers need: to say that a queue has new work. */
export interface WorkSignal {
  wake(queue: string): void;
}

/** When announcements on a channel start and stop reaching the process. */
export interface ListeningEvents {
  /**
   * The process listens on the channel: at first, and again after its connection was lost
   * (`resumed`: whatever was announced in between did not reach it).
   */
  listening?(resumed: boolean): void;
  /** The listening connection was lost: nothing announced reaches the process until it listens again. */
  lost?(): void;
}

export interface WorkRunner extends WorkSignal {
  register(queue: WorkQueueSpec): void;
  /** Starts listening for other processes' wakes and running the registered queues. */
  start(): Promise<void>;
  /** Wakes every queue in this process (a test that moved its clock). */
  wakeAll(): void;
  /**
   * Hands `onMessage` the payload of every NOTIFY on `channel` (a constant identifier), over the same
   * connection the wakes arrive on, so a process holds one listening connection however many announce.
   */
  listenTo(channel: string, onMessage: (payload: string) => void, events?: ListeningEvents): void;
  /** Whether wakes go to other processes too: while another Vigil process listens on this database. */
  othersListening(): boolean;
  /**
   * The backlogs of the registered queues that tell theirs, read one after another (a metrics read holds
   * one of the workers' connections, never several); a queue whose read fails is named in `unreadable`
   * (and logged), and the others are read all the same.
   */
  backlogs(now: Date): Promise<Backlogs>;
  /** The registered queues that tell their backlog. */
  backlogQueues(): string[];
  /**
   * Stops the loops: sleeping ones at once, running rounds when they end, or after
   * {@link STOP_DEADLINE_MS} by closing the connections checked out of the pool (their statements
   * cancelled: their transactions roll back). Returns by then and {@link STOP_GRACE_MS}, whatever a round does.
   */
  stop(): Promise<void>;
}

interface Loop {
  queue: WorkQueueSpec;
  woken: boolean;
  /** In a round now. */
  busy?: boolean;
  resume?: () => void;
  done?: Promise<void>;
}

export function createWorkRunner(deps: {
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  /** {@link PRESENCE_CHECK_MS} unless a test says otherwise. */
  presenceCheckMs?: number;
  /** {@link SLOW_ROUND_MS} unless a test says otherwise. */
  slowRoundMs?: number;
  /** {@link LISTENER_ANSWER_MS} unless a test says otherwise. */
  listenerAnswerMs?: number;
  /** {@link STOP_DEADLINE_MS} unless a test says otherwise. */
  stopDeadlineMs?: number;
  observer?: WorkObserver;
}): WorkRunner {
  const {
    pool,
    clock,
    log,
    presenceCheckMs = PRESENCE_CHECK_MS,
    slowRoundMs = SLOW_ROUND_MS,
    listenerAnswerMs = LISTENER_ANSWER_MS,
    stopDeadlineMs = STOP_DEADLINE_MS,
    observer,
  } = deps;
  /** Aborted by stop(): what rounds see (WorkQueueSpec.round). */
  const stopping = new AbortController();
  /** The pool's connections checked out now: those stop() closes under rounds that outlast its deadline. */
  const checkedOut = new Set<pg.PoolClient>();
  const onAcquire = (client: pg.PoolClient) => checkedOut.add(client);
  const onRelease = (_error: Error | undefined, client: pg.PoolClient) => checkedOut.delete(client);
  pool.on('acquire', onAcquire);
  pool.on('release', onRelease);
  const queues = new Map<string, WorkQueueSpec>();
  const loops: Loop[] = [];
  let stopped = false;
  let started = false;
  let listener: { client: pg.PoolClient; release: (error?: Error) => void } | undefined;
  let relisten: NodeJS.Timeout | undefined;
  /**
   * The listen() under way, if any: stop() waits for it, or a stop landing while it connects would
   * leave its connection checked out, and closing the pool (which waits for every checked-out
   * connection) would hang the shutdown.
   */
  let listening: Promise<void> | undefined;
  const announcements = new Map<string, (payload: string) => void>();
  const listeningEvents: ListeningEvents[] = [];
  /** Whether this process has listened before: listening again means announcements were missed. */
  let listened = false;
  const lastNotified = new Map<string, number>();
  const notifyScheduled = new Set<string>();
  const instance = randomUUID();
  /**
   * Whether another process listens for wakes. A lone process's NOTIFYs reach nobody, yet each is a
   * transaction of its own that takes NOTIFY's lock and waits for its commit's flush: sending them
   * anyway cost a lone process about 8% of its alert creates. True until a look says otherwise, and
   * always in a process that does not listen itself (it cannot look).
   */
  let othersListening = true;
  /** Counts what was heard from other processes, so that a look begun before one spoke cannot hide it. */
  let heardFromOthers = 0;
  let presenceTimer: NodeJS.Timeout | undefined;
  /** The connection a presence check is waiting on, if one is. */
  let looking: pg.PoolClient | undefined;

  /**
   * Wakes one of the queue's loops, a sleeping one if there is one (a loop in the middle of a round is
   * told to run another). Waking them all made every wake cost each loop an empty claim and a due-time
   * query; a backlog still gets every loop, as a loop whose round left more waiting wakes the next.
   */
  function wakeLocal(name: string): void {
    let busy: Loop | undefined;
    for (const loop of loops) {
      if (loop.queue.name !== name) continue;
      if (loop.resume) {
        loop.woken = true;
        loop.resume();
        return;
      }
      busy ??= loop;
    }
    if (busy) busy.woken = true;
  }

  function notifyOthers(name: string): void {
    if (!othersListening || notifyScheduled.has(name)) return;
    const wait = Math.max(0, (lastNotified.get(name) ?? 0) + NOTIFY_EVERY_MS - Date.now());
    notifyScheduled.add(name);
    // After the writer's commit (it calls wake once it has committed, or the NOTIFY waits for nothing).
    setTimeout(() => {
      notifyScheduled.delete(name);
      lastNotified.set(name, Date.now());
      if (stopped) return;
      pool
        .query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, `${name}${SENDER_MARK}${instance}`])
        .catch((error: unknown) => {
          log.debug({ err: error, queue: name }, 'a work wake-up could not be sent to the other processes');
        });
    }, wait);
  }

  function listen(): Promise<void> {
    const current = listenOnce().finally(() => {
      if (listening === current) listening = undefined;
    });
    listening = current;
    return current;
  }

  async function listenOnce(): Promise<void> {
    if (stopped) return;
    let abandon: ((error: Error) => void) | undefined;
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
      let released = false;
      const release = (error?: Error) => {
        if (released) return;
        released = true;
        client.removeAllListeners('notification');
        // Closed rather than pooled: with its application_name, others would count it as a listener.
        client.release(error ?? true);
      };
      client.on('notification', (message) => {
        if (message.channel === WORK_CHANNEL && message.payload) {
          // This process's own wakes come back too; it has woken its loops already.
          const [name = '', sender] = message.payload.split(SENDER_MARK);
          if (sender !== instance) {
            heardFromOthers++;
            othersListening = true;
            // A greeting names no queue.
            if (name) wakeLocal(name);
          }
        } else announcements.get(message.channel)?.(message.payload ?? '');
      });
      client.on('error', (error) => {
        if (listener?.client !== client) return;
        listener = undefined;
        othersListening = true;
        release(error);
        for (const events of listeningEvents) events.lost?.();
        if (stopped) return;
        log.warn({ err: error }, 'the work wake-up connection was lost; listening again shortly');
        scheduleRelisten();
      });
      abandon = release;
      if (stopped) {
        release();
        return;
      }
      await client.query(`LISTEN ${WORK_CHANNEL}`);
      for (const channel of announcements.keys()) await client.query(`LISTEN ${channel}`);
      // Named once it listens: a connection under this name always hears the wakes sent to it.
      await client.query(`SET application_name = '${WORK_LISTENER_NAME}'`);
      if (stopped) {
        release();
        return;
      }
      listener = { client, release };
    } catch (error) {
      // Not left checked out under the listener's name, where other processes would count it.
      abandon?.(error instanceof Error ? error : new Error(String(error)));
      log.warn({ err: error }, 'could not listen for work wake-ups; trying again shortly');
      scheduleRelisten();
      return;
    }
    for (const events of listeningEvents) events.listening?.(listened);
    listened = true;
    // Those already listening learn of this process from its greeting; it learns of them by looking.
    await client
      .query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, `${SENDER_MARK}${instance}`])
      .catch((error: unknown) => {
        log.debug(
          { err: error },
          'could not greet the other processes; they hear of this one at their next look',
        );
      });
    if (stopped) return;
    await lookForOthers();
    // stop() has cleared the timer already: one set now would look for ever.
    if (stopped) return;
    presenceTimer ??= setInterval(() => void lookForOthers(), presenceCheckMs).unref();
    // Whatever was announced while this process was not listening: look now.
    for (const name of queues.keys()) wakeLocal(name);
  }

  /** Whether another process's wake connection is open on this database, asked on this process's own. */
  async function lookForOthers(): Promise<void> {
    const client = listener?.client;
    if (!client) {
      othersListening = true;
      return;
    }
    // One at a time: pg queues a connection's statements, so checks would pile up behind one unanswered.
    if (looking === client) return;
    looking = client;
    // Closing the connection fails the check and calls the listener's 'error' handler: lost, listen again.
    const deaf = setTimeout(() => {
      if (listener?.client === client)
        dropConnection(client, new DatabaseNotAnsweringError(listenerAnswerMs));
    }, listenerAnswerMs).unref();
    const heardBefore = heardFromOthers;
    try {
      const { rows } = await client.query<{ others: boolean }>(
        `SELECT EXISTS (
           SELECT 1 FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()
         ) AS others`,
        [WORK_LISTENER_NAME],
      );
      // Any role sees every session's database and application_name (only the query and state of other
      // roles' sessions are hidden). A greeting can arrive before the answer to a look that began before
      // its sender connected.
      othersListening = rows[0]?.others === true || heardFromOthers !== heardBefore;
    } catch (error) {
      othersListening = true;
      log.debug({ err: error }, 'could not look for other processes; sending them every wake meanwhile');
    } finally {
      clearTimeout(deaf);
      if (looking === client) looking = undefined;
    }
  }

  function scheduleRelisten(): void {
    if (stopped || relisten) return;
    relisten = setTimeout(() => {
      relisten = undefined;
      void listen();
    }, 1000);
  }

  function warnIfSlow(name: string, tookMs: number): void {
    if (tookMs < slowRoundMs) return;
    const seconds = (tookMs / 1000).toFixed(1);
    log.warn(
      { queue: name, tookMs: Math.round(tookMs) },
      `${name}: a round took ${seconds} s, and the queue's other work waited behind it; a slow statement shows in pg_stat_activity (docs/operations.md, "Slow rounds")`,
    );
  }

  /** Warns, once, of the round that started at `startedAt` if it is still running at the threshold. */
  function watchForStall(name: string, startedAt: number): NodeJS.Timeout {
    // Unref'd: a stopping process does not stay up to warn.
    return setTimeout(() => {
      const runningMs = performance.now() - startedAt;
      log.warn(
        { queue: name, runningMs: Math.round(runningMs) },
        `${name}: a round has been running for ${(runningMs / 1000).toFixed(1)} s and has not ended; the queue's other work waits behind it. Check that the database is reachable and what the round's statement waits for in pg_stat_activity, such as a lock (docs/operations.md, "Slow rounds")`,
      );
    }, slowRoundMs).unref();
  }

  function roundEnded(name: string, tookMs: number, failed: boolean): void {
    warnIfSlow(name, tookMs);
    observer?.roundEnded(name, tookMs / 1000, failed);
  }

  async function run(loop: Loop): Promise<void> {
    const { queue } = loop;
    const idleMs = queue.idleMs ?? 5000;
    let failures = 0;
    while (!stopped) {
      loop.woken = false;
      let round: WorkRound;
      // Real time, not the Clock's: how long the work took, which a test's clock does not make shorter.
      const startedAt = performance.now();
      const roundAt = clock.now();
      const stall = watchForStall(queue.name, startedAt);
      loop.busy = true;
      try {
        round = await queue.round(roundAt, stopping.signal);
        clearTimeout(stall);
        failures = 0;
        roundEnded(queue.name, performance.now() - startedAt, false);
      } catch (error) {
        clearTimeout(stall);
        roundEnded(queue.name, performance.now() - startedAt, true);
        failures++;
        log.error({ err: error, queue: queue.name }, `${queue.name}: a round failed; it runs again shortly`);
        const pause = retryDelayMs(failures, { baseMs: 200, maxMs: 30_000 });
        round = { more: false, nextDueAt: new Date(clock.now().getTime() + pause) };
        loop.woken = false;
      } finally {
        loop.busy = false;
      }
      if (stopped) break;
      if (round.more) {
        wakeLocal(queue.name);
        continue;
      }
      if (loop.woken) continue;
      const untilDue = round.nextDueAt ? round.nextDueAt.getTime() - clock.now().getTime() : idleMs;
      if (untilDue <= 0 && round.nextDueAt && round.nextDueAt > roundAt) continue; // fell due meanwhile
      // Work due before this round began that it did not take is held by another transaction (claims skip
      // locked rows), which will wake the queue when it commits: look again shortly rather than spin on it.
      const sleepMs = untilDue <= 0 ? HELD_RECHECK_MS : Math.min(idleMs, untilDue);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs);
        loop.resume = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      loop.resume = undefined;
    }
  }

  return {
    register(queue) {
      if (started) throw new Error(`queue ${queue.name} registered after the runner started`);
      if (queues.has(queue.name)) throw new Error(`queue ${queue.name} is registered twice`);
      queues.set(queue.name, queue);
    },

    wake(name) {
      wakeLocal(name);
      notifyOthers(name);
    },

    wakeAll() {
      for (const name of queues.keys()) wakeLocal(name);
    },

    othersListening: () => othersListening,

    backlogQueues: () => [...queues.values()].filter((queue) => queue.backlog).map((queue) => queue.name),

    async backlogs(now) {
      const found: Backlogs = { read: new Map(), unreadable: [] };
      for (const queue of queues.values()) {
        if (!queue.backlog) continue;
        try {
          found.read.set(queue.name, await queue.backlog(now));
        } catch (error) {
          found.unreadable.push(queue.name);
          log.warn({ err: error, queue: queue.name }, `${queue.name}: its backlog could not be read`);
        }
      }
      return found;
    },

    listenTo(channel, onMessage, events) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`${channel} is not a channel name`);
      announcements.set(channel, onMessage);
      if (events) listeningEvents.push(events);
      const current = listener;
      current?.client
        .query(`LISTEN ${channel}`)
        .then(() => {
          if (listener === current) events?.listening?.(false);
        })
        .catch((error: unknown) => {
          log.warn({ err: error, channel }, 'could not listen for announcements');
        });
    },

    async start() {
      started = true;
      clock.onAdvance?.(() => {
        for (const name of queues.keys()) wakeLocal(name);
      });
      if (queues.size === 0 && announcements.size === 0) return;
      await listen();
      for (const queue of queues.values()) {
        for (let i = 0; i < (queue.concurrency ?? 1); i++) {
          const loop: Loop = { queue, woken: false };
          loops.push(loop);
          loop.done = run(loop);
        }
      }
    },

    async stop() {
      stopped = true;
      stopping.abort();
      if (relisten) clearTimeout(relisten);
      if (presenceTimer) clearInterval(presenceTimer);
      for (const loop of loops) loop.resume?.();
      const rounds = Promise.all(loops.map((l) => l.done));
      if (!(await endsWithin(rounds, stopDeadlineMs))) {
        const running = [...new Set(loops.filter((l) => l.busy).map((l) => l.queue.name))];
        const ending = [...checkedOut].filter((client) => client !== listener?.client);
        log.warn(
          { queues: running, connections: ending.length, deadlineMs: stopDeadlineMs },
          `stopping: rounds of ${running.join(', ')} still run after ${stopDeadlineMs / 1000} s; they are ended (their transactions roll back, their items are taken up again after the restart)`,
        );
        for (const client of ending) {
          cancelStatement(client);
          dropConnection(client, new StoppedRoundError());
        }
        if (!(await endsWithin(rounds, STOP_GRACE_MS)))
          log.warn({ queues: running }, 'stopping: rounds that did not end are left behind');
      }
      pool.off('acquire', onAcquire);
      pool.off('release', onRelease);
      // It sees `stopped` and closes its connection, or has made it the listener by now.
      await listening?.catch(() => {});
      if (listener) {
        // Closed, not pooled, so its LISTENs go with it: an UNLISTEN first would wait as long as the
        // database takes to answer, for good if it has gone silent.
        const { release } = listener;
        listener = undefined;
        release();
      }
    },
  };
}
