import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { NotificationChannel } from '../notify/channel.js';
import { startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { createMetricsRegistry } from './registry.js';
import { Gauge } from 'prom-client';
import { queueBacklogMetrics } from './work.js';
import { startMetricsListener } from './listener.js';
import { createLogger } from '../logger.js';
import type { Clock } from '../work/clock.js';

/**
 * The Prometheus metrics, scraped from the real server's own listener: HTTP requests by route pattern,
 * the queues' rounds, their backlogs read from the database, and the notifications' outcomes.
 */

async function scrape(
  port: number,
  path = '/metrics',
): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

/** The value of one series, by its exact name and labels as Prometheus writes them. */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the metrics listener of a process that serves the API and runs the workers', () => {
  let server: TestServer;
  const sent: string[] = [];
  const email: NotificationChannel = {
    type: 'email',
    async send(message) {
      sent.push(message.to.address);
      return { status: 'sent' };
    },
  };

  before(async () => {
    server = await startTestServer({ env: { VIGIL_METRICS_PORT: '0' }, channels: [email] });
  });
  after(async () => {
    await server?.stop();
  });

  it('serves Node and Vigil metrics in the text format, on its own port', async () => {
    const port = server.app.metricsPort ?? 0;
    assert.notEqual(port, 0);
    const { status, type, text } = await scrape(port);
    assert.equal(status, 200);
    assert.match(type, /^text\/plain; version=0\.0\.4/);
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds \d/m);
    // Every queue that tells its backlog is there, at 0 while nothing waits.
    assert.equal(valueOf(text, 'vigil_queue_due_items{queue="notifications"}'), 0);
    assert.equal(valueOf(text, 'vigil_queue_lag_seconds{queue="notifications"}'), 0);
    // Not on the API's port (where /metrics is a page of the console, as any unknown path is).
    assert.doesNotMatch(
      JSON.stringify((await server.call('GET', '/metrics')).body),
      /vigil_queue_lag_seconds/,
    );
    assert.equal((await scrape(port, '/')).status, 404);
  });

  it('counts requests by route pattern, not by URL', async () => {
    const id = randomUUID();
    await server.callOk('GET', '/v2/alerts');
    assert.equal((await server.call('GET', `/v2/alerts/${id}`)).status, 404);
    assert.equal((await server.call('GET', `/v2/no/such/${id}`)).status, 404);
    const { text } = await scrape(server.app.metricsPort ?? 0);
    assert.ok(
      (valueOf(text, 'vigil_http_requests_total{method="GET",route="/v2/alerts",status="200"}') ?? 0) >= 1,
    );
    assert.equal(
      valueOf(text, 'vigil_http_requests_total{method="GET",route="/v2/alerts/:identifier",status="404"}'),
      1,
    );
    assert.doesNotMatch(text, new RegExp(id), 'an id from a URL became a label');
    assert.match(text, /^vigil_http_request_duration_seconds_count\{method="GET",route="\/v2\/alerts"\} \d/m);
  });

  it('counts the rounds and the notifications sent', async () => {
    const db = server.app.context.db;
    const org = await sql<{ id: string }>`SELECT id FROM organizations LIMIT 1`.execute(db);
    const alert = await sql<{ id: string }>`
      INSERT INTO alerts (org_id, alias, message) VALUES (${org.rows[0]?.id}, ${randomUUID()}, 'Disk full')
      RETURNING id`.execute(db);
    await sql`
      INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, destination_name,
        contact_method_id, method, address, kind, escalation_run_id, stop_on, due_at)
      VALUES (${randomUUID()}, ${org.rows[0]?.id}, ${alert.rows[0]?.id}, NULL, 'The list', NULL, 'email',
        'list@example.com', 'create-alert', NULL, 'acknowledged', now() - interval '1 second')`.execute(db);
    await waitFor('the email to be sent', async () => sent.includes('list@example.com'), 20_000);
    const series = 'vigil_notifications_total{method="email",outcome="sent"}';
    await waitFor(
      'the sent email to be counted',
      async () => valueOf((await scrape(server.app.metricsPort ?? 0)).text, series) === 1,
    );
    const { text } = await scrape(server.app.metricsPort ?? 0);
    assert.ok((valueOf(text, 'vigil_work_rounds_total{queue="notifications",outcome="ok"}') ?? 0) >= 1);
    assert.match(text, /^vigil_work_round_duration_seconds_count\{queue="notifications"\} \d/m);
  });
});

describe('the metrics listener of a worker', () => {
  it('serves the metrics though the process serves no API', async () => {
    const server = await startTestServer({ role: 'worker', env: { VIGIL_METRICS_PORT: '0' } });
    try {
      assert.equal(server.app.url, undefined);
      const { status, text } = await scrape(server.app.metricsPort ?? 0);
      assert.equal(status, 200);
      assert.equal(valueOf(text, 'vigil_queue_due_items{queue="notifications"}'), 0);
      assert.doesNotMatch(text, /^vigil_http_requests_total\{/m);
    } finally {
      await server.stop();
    }
  });
});

describe('the backlog gauges', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  const clock = {
    now: () => now,
    fromSystemTime: (t: Date) => t,
    toSystemTime: (t: Date) => t,
  } satisfies Clock;

  it('say how much is due, how long the oldest has waited, and which queue could not be read', async () => {
    const registry = createMetricsRegistry();
    queueBacklogMetrics(
      registry,
      {
        backlogs: async () => ({
          read: new Map([
            ['notifications', { due: 42, oldestDueAt: new Date(now.getTime() - 90_000) }],
            ['writeback', { due: 0, oldestDueAt: null }],
          ]),
          unreadable: ['escalations'],
        }),
        queues: () => ['notifications', 'writeback', 'escalations'],
      },
      clock,
    );
    const text = await registry.metrics();
    assert.equal(valueOf(text, 'vigil_queue_due_items{queue="notifications"}'), 42);
    assert.equal(valueOf(text, 'vigil_queue_lag_seconds{queue="notifications"}'), 90);
    assert.equal(valueOf(text, 'vigil_queue_lag_seconds{queue="writeback"}'), 0);
    assert.equal(valueOf(text, 'vigil_queue_backlog_up{queue="notifications"}'), 1);
    assert.equal(valueOf(text, 'vigil_queue_backlog_up{queue="escalations"}'), 0);
    assert.equal(valueOf(text, 'vigil_queue_lag_seconds{queue="escalations"}'), undefined);
  });

  it('share one read between the scrapes that come while it runs and shortly after', async () => {
    const registry = createMetricsRegistry();
    let reads = 0;
    let answer: (() => void) | undefined;
    queueBacklogMetrics(
      registry,
      {
        backlogs: async () => {
          reads++;
          await new Promise<void>((resolve) => (answer = resolve));
          return { read: new Map([['notifications', { due: 1, oldestDueAt: null }]]), unreadable: [] };
        },
        queues: () => ['notifications'],
      },
      clock,
    );
    // Three scrapes while the database has not answered: one read, not one per gauge or per scrape.
    const scrapes = [registry.metrics(), registry.metrics(), registry.metrics()];
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads, 1);
    answer?.();
    for (const text of await Promise.all(scrapes)) {
      assert.equal(valueOf(text, 'vigil_queue_due_items{queue="notifications"}'), 1);
    }
    // Just after it ended, its answer still serves.
    await registry.metrics();
    assert.equal(reads, 1);
  });
});

describe('a scrape while the database does not answer', () => {
  const clock: Clock = { now: () => new Date(), fromSystemTime: (t) => t, toSystemTime: (t) => t };

  it("shows the rest, with the queues' backlogs as unread, at the backlog's deadline", async () => {
    const registry = createMetricsRegistry();
    let answer: (() => void) | undefined;
    queueBacklogMetrics(
      registry,
      {
        backlogs: async () => {
          await new Promise<void>((resolve) => (answer = resolve));
          return { read: new Map([['notifications', { due: 3, oldestDueAt: null }]]), unreadable: [] };
        },
        queues: () => ['notifications', 'writeback'],
      },
      clock,
      100,
    );
    const text = await registry.metrics();
    assert.equal(valueOf(text, 'vigil_queue_backlog_up{queue="notifications"}'), 0);
    assert.equal(valueOf(text, 'vigil_queue_backlog_up{queue="writeback"}'), 0);
    assert.equal(valueOf(text, 'vigil_queue_due_items{queue="notifications"}'), undefined);
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    // Once the database answers, the next scrape has the read's answer, not a read of its own.
    answer?.();
    await new Promise((resolve) => setImmediate(resolve));
    const later = await registry.metrics();
    assert.equal(valueOf(later, 'vigil_queue_backlog_up{queue="notifications"}'), 1);
    assert.equal(valueOf(later, 'vigil_queue_due_items{queue="notifications"}'), 3);
  });

  it("is answered 503 with why when collecting outlasts the listener's deadline", async () => {
    const registry = createMetricsRegistry();
    new Gauge({
      name: 'test_hanging',
      help: 'A gauge whose collection never ends.',
      registers: [registry],
      collect: () => new Promise<void>(() => {}),
    });
    const listener = await startMetricsListener({
      registry,
      port: 0,
      host: '127.0.0.1',
      log: createLogger('silent'),
      collectTimeoutMs: 200,
    });
    try {
      const { status, text } = await scrape(listener.port);
      assert.equal(status, 503);
      assert.match(text, /not collected within 0\.2 s/);
    } finally {
      await listener.close();
    }
  });
});
