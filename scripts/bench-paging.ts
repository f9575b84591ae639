/**
 * Paging timing: the real server (API, workers, embedded PostgreSQL) and a real SMTP server (the
 * smtp-server package, in a process of its own, as a relay is: scripts/lib/smtp-process.ts). An email
 * counts as handed to SMTP when the server has the whole message (the end of its DATA). Not a test:
 * prints numbers.
 *
 * 0. A lone alert (through the API) and a lone Security Hub finding (through the intake, an EventBridge
 *    event with the key in a header), 20 of each one after the other, each paging one person: from the
 *    request to the SMTP server having the whole message. The first alert after the start, which also pays
 *    for the SMTP connection and the route's first request, is reported on its own, as is nodemailer's
 *    first email in the baseline.
 * 1. First email: `--alerts` alerts (default 1,000) created at once through the API, each paging the one
 *    member of its team; for each, the time from the alert's creation (its created_at in PostgreSQL) to
 *    the moment the SMTP server has the whole message. Then as many findings at once through the intake
 *    (one per delivery, 32 deliveries at a time): from each finding's request to its email.
 * 2. Lateness: `--open` open alerts (default 10,000) on a policy whose second rule is due one minute after
 *    each alert was created; how late each of those steps ran (the activity log's time minus the due
 *    time). The rule's person has no contact method, so this measures the engine, not SMTP.
 *
 *   npm run bench:paging [-- --alerts 1000 --open 10000]
 */
import fs from 'node:fs/promises';
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import { percentile as pctOf, reportBench, type BenchBaseline, type BenchRow } from './lib/report.js';
import { setUpQuietPolicy } from './lib/quiet-policy.js';
import { arg, startBenchApp } from './lib/bench-app.js';
import { importedFindingsEvent } from './lib/findings-event.js';
import { sendAll } from './lib/send-all.js';
import { startSmtpProcess } from './lib/smtp-process.js';

const alertCount = arg('alerts', 1000);
const openCount = arg('open', 10000);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${(sorted[sorted.length - 1] ?? NaN).toFixed(0)} ms (n=${sorted.length})`;
};

const smtp = await startSmtpProcess();
const { app, key, work } = await startBenchApp('bench-paging', {
  env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
});
const db = app.context.db;
const rssAtStart = process.memoryUsage().rss;

async function call(
  method: string,
  route: string,
  body?: object,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${app.url}${route}`, {
    method,
    headers: { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json: unknown = await response.json().catch(() => undefined);
  if (response.status >= 300)
    throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return { status: response.status, json };
}

/** Sends `count` creates, `concurrency` at a time, from a process of its own (scripts/lib/send-all.ts). */
async function createAlerts(count: number, team: string, prefix: string, concurrency = 32): Promise<void> {
  process.stdout.write(`  sending ${count} creates ...`);
  const requests = Array.from({ length: count }, (_, i) => ({
    key: String(i),
    body: { message: `${prefix} ${i}`, alias: `${prefix}-${i}`, responders: [{ type: 'team', name: team }] },
  }));
  const { seconds } = await sendAll(
    `${app.url}/v2/alerts`,
    { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
    requests,
    { concurrency, expectStatus: 202 },
  );
  process.stdout.write(
    `\r  created ${count} alerts in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)}/s)\n`,
  );
}

/**
 * The baseline for the paging figures, measured in this run: emails sent straight to the same SMTP
 * server with nodemailer (pooled like Vigil's email channel, 8 connections), `count` at once or one at a
 * time; from the send to the SMTP server having the message. What SMTP alone costs here.
 */
async function directSends(count: number, oneAtATime: boolean): Promise<number[]> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    pool: true,
    maxConnections: 8,
    maxMessages: 100,
  });
  const send = (i: number) =>
    transport.sendMail({
      from: 'Vigil <vigil@example.com>',
      to: 'pager@example.com',
      subject: `[Vigil] bench baseline ${i}`,
      text: `bench baseline message ${i}\n${'x'.repeat(600)}`,
      html: `<p>bench baseline message ${i}</p><p>${'x'.repeat(600)}</p>`,
      headers: { 'X-Bench-Id': String(i) },
    });
  await smtp.clear();
  const out: number[] = [];
  try {
    if (oneAtATime) {
      // One more than asked: the first, which opens the connection, comes first in the answer.
      for (let i = 0; i <= count; i++) {
        const started = Date.now();
        await send(i);
        await smtp.waitForMessages(i + 1, 30_000);
        out.push(Date.now() - started);
      }
    } else {
      const started = Date.now();
      await Promise.all(Array.from({ length: count }, (_, i) => send(i)));
      await smtp.waitForMessages(count, 300_000);
      out.push(...smtp.messages.map((m) => m.receivedAt.getTime() - started));
    }
  } finally {
    transport.close();
    await smtp.clear();
  }
  return out;
}

const figures: {
  firstDirect?: number;
  loneDirect: number[];
  firstAlert?: number;
  burstDirect: number[];
  loneAlert: number[];
  loneFinding: number[];
  burstAlert: number[];
  burstFinding: number[];
  lateness?: { late: number[]; rss: number; heapUsed: number };
} = { loneDirect: [], burstDirect: [], loneAlert: [], loneFinding: [], burstAlert: [], burstFinding: [] };

try {
  console.log(`baseline: emails sent straight to the SMTP server with nodemailer`);
  [figures.firstDirect, ...figures.loneDirect] = await directSends(20, true);
  console.log(`  one at a time: ${summary(figures.loneDirect)}`);
  if (alertCount > 0) {
    figures.burstDirect = await directSends(alertCount, false);
    console.log(`  ${alertCount} at once: ${summary(figures.burstDirect)}`);
  }
  // 1. Creation to first email.
  await call('POST', '/v2/users', {
    username: 'pager@example.com',
    fullName: 'Pager',
    role: { name: 'User' },
  });
  await call('POST', '/v2/teams', { name: 'Paged', members: [{ user: { username: 'pager@example.com' } }] });
  console.log('0. one alert at a time (20 of them), each paging one person by email');
  const lone: number[] = [];
  for (let i = 0; i <= 20; i++) {
    const before = smtp.messages.length;
    const started = Date.now();
    await call('POST', '/v2/alerts', {
      message: `lone ${i}`,
      alias: `lone-${i}`,
      responders: [{ type: 'team', name: 'Paged' }],
    });
    await smtp.waitForMessages(before + 1, 30_000);
    lone.push(Date.now() - started);
  }
  [figures.firstAlert, ...figures.loneAlert] = lone;
  console.log(
    `  the first after the start: ${figures.firstAlert} ms (nodemailer's first: ${figures.firstDirect} ms)`,
  );
  console.log(`  request → email at the SMTP server: ${summary(figures.loneAlert)}`);
  const hub = (
    (await call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Bench hub',
      ownerTeam: { name: 'Paged' },
      verifySignatures: false,
    })) as { json: { data: { apiKey: string } } }
  ).json.data.apiKey;
  const findingEvent = (id: string) =>
    importedFindingsEvent([
      {
        Id: id,
        ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
        Title: `finding ${id}`,
        Severity: { Label: 'HIGH' },
      },
    ]);
  const intakeUrl = `${app.url}/v1/json/integrations/webhooks/amazonsecurityhub`;
  const intakeHeaders = { 'content-type': 'application/json', 'x-api-key': hub };
  const deliver = async (id: string) => {
    const response = await fetch(intakeUrl, {
      method: 'POST',
      headers: intakeHeaders,
      body: JSON.stringify(findingEvent(id)),
    });
    if (response.status !== 200) throw new Error(`the intake answered ${response.status}`);
  };
  const loneFindings: number[] = [];
  for (let i = 0; i < 20; i++) {
    const before = smtp.messages.length;
    const started = Date.now();
    await deliver(`lone-finding-${i}`);
    await smtp.waitForMessages(before + 1, 30_000);
    loneFindings.push(Date.now() - started);
  }
  console.log(`  a lone finding: intake request → email at the SMTP server: ${summary(loneFindings)}`);
  figures.loneFinding = loneFindings;
  await smtp.clear();
  console.log(`1. ${alertCount} alerts created at once, each paging one person by email`);
  await createAlerts(alertCount, 'Paged', 'first-email');
  await smtp.waitForMessages(alertCount, 300_000);
  const created = await db
    .selectFrom('alerts')
    .select(['id', 'created_at'])
    .where('alias', 'like', 'first-email-%')
    .execute();
  const createdAt = new Map(created.map((a) => [a.id, a.created_at.getTime()]));
  const delays = smtp.messages
    .map((m) => m.receivedAt.getTime() - (createdAt.get(m.headers['x-vigil-alert-id'] ?? '') ?? NaN))
    .filter((d) => Number.isFinite(d));
  console.log(`  creation → email at the SMTP server: ${summary(delays)}`);
  figures.burstAlert = delays;
  const stages = await sql<{ planned_ms: number; sent_ms: number }>`
    SELECT extract(epoch FROM (n.created_at - a.created_at)) * 1000 AS planned_ms,
           extract(epoch FROM (n.sent_at - n.created_at)) * 1000 AS sent_ms
    FROM notifications n JOIN alerts a ON a.id = n.alert_id WHERE a.alias LIKE 'first-email-%'`.execute(db);
  console.log(
    `  of which creation → message planned: ${summary(stages.rows.map((r) => Number(r.planned_ms)))}`,
  );
  console.log(`           planned → sent: ${summary(stages.rows.map((r) => Number(r.sent_ms)))}`);

  await smtp.clear();
  console.log(`   ${alertCount} findings at once through the intake (one per delivery, 32 at a time)`);
  const ids = Array.from({ length: alertCount }, (_, i) => `burst-finding-${i}`);
  const burst = await sendAll(
    intakeUrl,
    intakeHeaders,
    ids.map((id) => ({ key: id, body: findingEvent(id) })),
    { concurrency: 32, expectStatus: 200 },
  );
  const requested = burst.sentAt;
  console.log(`  delivered ${alertCount} findings in ${burst.seconds.toFixed(1)} s`);
  await smtp.waitForMessages(alertCount, 300_000);
  const findingOf = new Map(
    (
      await sql<{ id: string; finding: string }>`
        SELECT id, details->>'FindingId' AS finding FROM alerts WHERE details->>'FindingId' LIKE 'burst-finding-%'`.execute(
        db,
      )
    ).rows.map((r) => [r.id, r.finding]),
  );
  const fromRequest = smtp.messages
    .map(
      (m) =>
        m.receivedAt.getTime() -
        (requested.get(findingOf.get(m.headers['x-vigil-alert-id'] ?? '') ?? '') ?? NaN),
    )
    .filter((d) => Number.isFinite(d));
  console.log(`  finding's request → email at the SMTP server: ${summary(fromRequest)}`);
  figures.burstFinding = fromRequest;

  // 2. Lateness of steps with many open alerts escalating.
  if (openCount > 0) figures.lateness = await lateness();
} finally {
  await app.stop();
  await smtp.stop();
  await fs.rm(work, { recursive: true, force: true });
}

const p99 = (values: number[]) => Math.round(pctOf(values, 99));
const full = alertCount >= 1000;
const loneBaseline: BenchBaseline = {
  label: 'nodemailer straight to the same SMTP server, one at a time, p99',
  value: p99(figures.loneDirect),
  unit: 'ms',
};
const burstBaseline: BenchBaseline = {
  label: `nodemailer straight to the same SMTP server, ${alertCount} at once, p99`,
  value: p99(figures.burstDirect),
  unit: 'ms',
};
const smaller = full ? {} : { note: `${alertCount} at once, smaller than the target's 1,000` };
const pagingRows: BenchRow[] = [
  {
    measure: 'a lone finding: intake request → email handed to SMTP, p99 (n=20)',
    value: p99(figures.loneFinding),
    unit: 'ms',
    baseline: loneBaseline,
    target: 'p99 < 250 ms',
    met: p99(figures.loneFinding) < 250,
  },
  {
    measure: 'a lone alert: API request → email handed to SMTP, p99 (n=20)',
    value: p99(figures.loneAlert),
    unit: 'ms',
    baseline: loneBaseline,
  },
  {
    measure:
      "the first alert after the start: API request → email handed to SMTP (with the SMTP connection's set-up)",
    value: figures.firstAlert ?? NaN,
    unit: 'ms',
    baseline: {
      label: "nodemailer's first email to the same SMTP server (with its connection's set-up)",
      value: figures.firstDirect ?? NaN,
      unit: 'ms',
    },
    note: 'one sample',
  },
];
if (alertCount > 0) {
  pagingRows.push(
    {
      measure: `${alertCount} findings at once: request → email handed to SMTP, p99`,
      value: p99(figures.burstFinding),
      unit: 'ms',
      baseline: burstBaseline,
      target: 'p99 ≤ 2 s at 1,000',
      met: full ? p99(figures.burstFinding) <= 2000 : undefined,
      ...smaller,
    },
    {
      measure: `${alertCount} alerts at once through the API: creation → email handed to SMTP, p99`,
      value: p99(figures.burstAlert),
      unit: 'ms',
      baseline: burstBaseline,
      ...smaller,
    },
  );
}
reportBench('paging', pagingRows);
if (figures.lateness) {
  const { late, rss, heapUsed } = figures.lateness;
  const mb = (bytes: number) => Math.round(bytes / 1048576);
  reportBench('lateness', [
    {
      measure: `escalation step lateness p99, ${openCount.toLocaleString('en-US')} open alerts (bench-paging)`,
      value: p99(late),
      unit: 'ms',
      target: 'p99 < 1 s at 100,000 open',
      met: openCount >= 100_000 ? p99(late) < 1000 : undefined,
      note:
        'no baseline (nothing comparable to measure)' +
        (openCount < 100_000
          ? `; ${openCount.toLocaleString('en-US')} open, fewer than the target's 100,000`
          : ''),
    },
    {
      measure: `Vigil process memory (RSS) with ${openCount.toLocaleString('en-US')} open alerts escalating`,
      value: mb(rss),
      unit: 'MB',
      baseline: { label: 'the same process just after it started', value: mb(rssAtStart), unit: 'MB' },
      note: `JS heap used ${mb(heapUsed)} MB; the embedded PostgreSQL is another process, not counted`,
    },
  ]);
}

async function lateness(): Promise<{ late: number[]; rss: number; heapUsed: number }> {
  await setUpQuietPolicy(async (method, route, body) => (await call(method, route, body)).json);
  console.log(`2. ${openCount} open alerts escalating; their second rule is due 1 minute after creation`);
  await createAlerts(openCount, 'Escalating', 'open');
  const ids = await db.selectFrom('alerts').select('id').where('alias', 'like', 'open-%').execute();
  let fired = 0;
  const waitStarted = Date.now();
  while (fired < ids.length && Date.now() - waitStarted < 600_000) {
    await new Promise((r) => setTimeout(r, 2000));
    const row = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM alert_logs l JOIN alerts a ON a.id = l.alert_id
      WHERE a.alias LIKE 'open-%' AND l.log LIKE 'Bench policy rule 2 %'`.execute(db);
    fired = row.rows[0]?.n ?? 0;
    process.stdout.write(`\r  second rule ran for ${fired}/${ids.length}`);
  }
  process.stdout.write('\n');
  const lateness = await sql<{ late_ms: number }>`
    SELECT extract(epoch FROM (l.created_at - (e.base_at + interval '1 minute'))) * 1000 AS late_ms
    FROM alert_logs l
    JOIN alerts a ON a.id = l.alert_id
    JOIN alert_escalations e ON e.alert_id = a.id
    WHERE a.alias LIKE 'open-%' AND l.log LIKE 'Bench policy rule 2 %'`.execute(db);
  console.log(`  how late rule 2 ran: ${summary(lateness.rows.map((r) => Number(r.late_ms)))}`);
  const open = await db
    .selectFrom('alert_escalations')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('state', '=', 'active')
    .executeTakeFirst();
  console.log(`  escalations still active (waiting for their 30-minute rule): ${open?.n}`);
  const memory = process.memoryUsage();
  return { late: lateness.rows.map((r) => Number(r.late_ms)), rss: memory.rss, heapUsed: memory.heapUsed };
}
