import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { startApp, type RunningApp } from '../app.js';
import { hashApiKey } from '../accounts/apikeys.js';
import { accountsRepository } from '../accounts/repository.js';
import { loadConfig } from '../config.js';
import type { AlertEventConsumer } from '../engine/consumers.js';
import type { AlertEvent } from '../alerts/events.js';
import { createLogger } from '../logger.js';
import type { OutboundOptions } from '../http/outbound.js';
import type { WritebackOptions } from '../integrations/securityhub/writeback/writeback.js';
import type { AwsAccessOptions } from '../integrations/securityhub/writeback/aws.js';
import { systemClock, type Clock } from '../work/clock.js';
import { policyMaintainedAt } from '../maintenance/repository.js';
import type { NotificationChannel } from '../notify/channel.js';
import { TEMPLATE_DATABASE_VARIABLE } from './template-database.js';

/**
 * Test support: a fresh database per test file on the PostgreSQL that scripts/test.ts started
 * (the embedded one) or that DATABASE_URL names, and the real server on a free port.
 */

export function serverUrl(): string {
  const url = process.env.VIGIL_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url)
    throw new Error('Run the tests with "npm test": it starts PostgreSQL and sets VIGIL_TEST_DATABASE_URL.');
  return url;
}

/**
 * A fresh database: empty, or with `migrated`, a copy of the template that scripts/test.ts migrated
 * (empty when there is none, for the server to migrate).
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  const template = options.migrated ? process.env[TEMPLATE_DATABASE_VARIABLE] : undefined;
  try {
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestServer {
  app: RunningApp;
  url: string;
  key: string;
  databaseUrl: string;
  /** Calls the API with the bootstrap key (or `key`), returning status and parsed JSON. */
  call(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: Json }>;
  /** As `call`, for set-up that must succeed: the body of a 2xx, or an error naming the call and its answer. */
  callOk(method: string, path: string, body?: unknown, key?: string): Promise<Json>;
  /**
   * Waits until the workers have done everything due on the server's clock: for asserting that nothing
   * more happens, without sleeping for a guess of how long "nothing" takes.
   */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

// Responses are whatever the server sent; tests read them loosely and assert on the values.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export async function startTestServer(
  options: {
    databaseUrl?: string;
    role?: 'all' | 'api' | 'worker';
    consumers?: AlertEventConsumer[];
    env?: Record<string, string>;
    outbound?: OutboundOptions;
    writeback?: WritebackOptions;
    aws?: AwsAccessOptions;
    /** The key to bootstrap with (or, on a database already set up, to call with). */
    apiKey?: string;
    clock?: Clock;
    channels?: NotificationChannel[];
    engineIntervalMs?: number;
    /** Receives the server's log lines (JSON, one per line), at `logLevel` (default info). */
    logTo?: NodeJS.WritableStream;
    logLevel?: string;
  } = {},
): Promise<TestServer> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase({ migrated: true }));
  const key = options.apiKey ?? randomUUID();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    VIGIL_BOOTSTRAP_API_KEY: key,
    ...options.env,
  });
  const log = options.logTo
    ? createLogger(options.logLevel ?? 'info', options.logTo)
    : createLogger(process.env.VIGIL_TEST_LOG_LEVEL ?? 'silent');
  const app = await startApp(config, {
    role: options.role ?? 'all',
    log,
    consumers: options.consumers,
    outbound: options.outbound,
    writeback: options.writeback,
    aws: options.aws,
    clock: options.clock,
    channels: options.channels,
    engineIntervalMs: options.engineIntervalMs,
  });
  const url = app.url ?? '';
  const call: TestServer['call'] = async (method, path, body, useKey = key) => {
    const headers: Record<string, string> = { authorization: `GenieKey ${useKey}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Json = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed };
  };
  return {
    app,
    url,
    key,
    databaseUrl,
    call,
    async callOk(method, path, body, useKey = key) {
      const answer = await call(method, path, body, useKey);
      if (answer.status >= 300)
        throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer.body;
    },
    idle: (timeoutMs) => waitForIdle(app.context.db, options.clock ?? systemClock, timeoutMs),
    stop: () => app.stop(),
  };
}

/** Background work that is due at `now` or being done: what a worker would still do. */
async function workDue(db: Db, now: Date): Promise<Record<string, number>> {
  const { rows } = await sql<Record<string, number>>`
    SELECT
      (SELECT count(*) FROM outbox_jobs)::int AS "alert events to fan out",
      (SELECT count(*) FROM event_deliveries
        WHERE dead_at IS NULL AND (due_at <= ${now} OR lease_until > ${now}))::int AS "alert events to handle",
      (SELECT count(*) FROM integration_payloads WHERE verdict = 'queued')::int AS "deliveries",
      (SELECT count(*) FROM alert_escalations WHERE state = 'active' AND next_at <= ${now})::int AS "escalation steps",
      (SELECT count(*) FROM alert_auto_closes WHERE close_at <= ${now})::int AS "auto-closes",
      (SELECT count(*) FROM alert_auto_restarts WHERE restart_at <= ${now})::int AS "auto-restarts",
      (SELECT count(*) FROM notification_repeats WHERE next_at <= ${now})::int AS "notification repeats",
      ((SELECT count(*) FROM alert_notification_holds h WHERE ${policyMaintainedAt(sql.ref('h.policy_id'), now)})
        + (SELECT count(*) FROM alert_auto_restarts r WHERE ${policyMaintainedAt(sql.ref('r.policy_id'), now)})
      )::int AS "holds and auto-restarts a maintenance ends",
      (SELECT count(*) FROM notifications
        WHERE state = 'sending' OR (state = 'pending' AND due_at <= ${now}))::int AS "messages",
      (SELECT count(*) FROM securityhub_writebacks
        WHERE status = 'sending' OR (status = 'pending' AND not_before <= ${now}))::int AS "write-backs",
      (SELECT count(*) FROM team_destination_deliveries c
        WHERE c.state = 'sending' OR (c.state = 'pending' AND c.due_at <= ${now} AND NOT EXISTS (
          SELECT 1 FROM team_destination_deliveries e
          WHERE e.destination_id = c.destination_id AND e.alert_id = c.alert_id
            AND e.state IN ('pending', 'sending') AND e.seq < c.seq)))::int AS "team destination deliveries",
      (SELECT count(*) FROM password_reset_requests)::int AS "password resets"`.execute(db);
  return rows[0] ?? {};
}

export async function waitForIdle(db: Db, clock: Clock, timeoutMs = 60_000): Promise<void> {
  let due: Record<string, number> = {};
  await waitFor(
    'the workers to be idle',
    async () => {
      due = await workDue(db, clock.now());
      return Object.values(due).every((n) => n === 0);
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; still due: ${JSON.stringify(due)}`);
  });
}

/**
 * Polls `probe` until it gives a value. The timeout only bounds a failure (a passing test returns as
 * soon as the value is there), so it is generous: an overloaded machine may take long to do the work.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates an alert through the API (with `server`'s key) and waits until it is made; its id. */
export async function createAlert(server: TestServer, body: Json): Promise<string> {
  const created = await server.callOk('POST', '/v2/alerts', body);
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  return request.alertId as string;
}

/** Creates an alert for `team` and waits until it is made; its id. */
export async function createTeamAlert(server: TestServer, message: string, team: string): Promise<string> {
  return createAlert(server, { message, responders: [{ type: 'team', name: team }] });
}

/**
 * Posts an event to a Security Hub integration's intake (`path`, with its key) and waits until it is
 * processed; the id of the alert it names.
 */
export async function deliverToIntake(
  server: TestServer,
  integration: { id: string; path: string },
  event: unknown,
): Promise<string> {
  const response = await fetch(server.url + integration.path, {
    method: 'POST',
    body: JSON.stringify(event),
  });
  const body = (await response.json()) as Json;
  if (response.status !== 200)
    throw new Error(`the intake answered ${response.status}: ${JSON.stringify(body)}`);
  const settled = await waitFor('the finding to be processed', async () => {
    const payload = await server.call('GET', `/v2/integrations/${integration.id}/payloads/${body.payloadId}`);
    return payload.body.data.verdict !== 'queued' ? payload.body.data : undefined;
  });
  return settled.alertIds[0];
}

/** A consumer that records the acknowledgements, as consumers get them (their source says from where). */
export function acknowledgementRecorder(): { consumer: AlertEventConsumer; acknowledged: AlertEvent[] } {
  const acknowledged: AlertEvent[] = [];
  return {
    acknowledged,
    consumer: {
      name: 'test-ack-recorder',
      label: 'The harness consumer',
      types: ['acknowledged'],
      handles: (event) => event.type === 'acknowledged',
      async handle(event) {
        acknowledged.push(event);
      },
    },
  };
}

/** An alert's activity log, oldest first. */
export async function alertLogs(server: TestServer, alertId: string): Promise<string[]> {
  const res = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.data as { log: string }[]).map((l) => l.log);
}

/**
 * Another organization on the test server's database, with an owner and an API key of its own (Vigil has no
 * API to create a second organization: each installation starts with one, but a database may hold several).
 */
export async function addOrganization(
  server: TestServer,
  name: string,
): Promise<{ orgId: string; key: string; call: TestServer['call'] }> {
  const key = randomUUID();
  const orgId = await server.app.context.db.transaction().execute(async (tx) => {
    const org = await accountsRepository.insertOrganization(tx, name);
    const user = await accountsRepository.insertUser(tx, {
      org_id: org.id,
      username: `owner@${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example`,
      full_name: `${name} Owner`,
      role: 'owner',
    });
    const { lookup, hash } = hashApiKey(key);
    await accountsRepository.insertKey(tx, {
      org_id: org.id,
      user_id: user.id,
      name: 'test',
      lookup,
      key_hash: hash,
    });
    return org.id;
  });
  return {
    orgId,
    key,
    call: (method, path, body, useKey = key) => server.call(method, path, body, useKey),
  };
}

/** A user with the "User" role and an API key of their own, which acts as them. */
export interface TestUser {
  id: string;
  username: string;
  key: string;
}

/** Makes a user `<local>-<run>@example.com` (role User) and an API key of theirs, through the API. */
export async function addUserWithKey(server: TestServer, local: string, run: string): Promise<TestUser> {
  const username = `${local}-${run}@example.com`;
  const made = await server.callOk('POST', '/v2/users', {
    username,
    fullName: local,
    role: { name: 'User' },
  });
  const key = await server.callOk('POST', '/v2/api-keys', { name: `${local} key`, user: { username } });
  return { id: made.data.id, username, key: key.data.key };
}
