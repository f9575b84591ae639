/**
 * Channels: alerts arriving at a steady rate (default 200 a second for 10 s), each told to one shared
 * team's Slack channel, Teams workflow and signed webhook, and some (see --people) paging a person of
 * their own by SMS and by voice call (Twilio); the time from each alert's create request being sent to
 * each provider receiving its request about that alert (Twilio POST Messages.json and Calls.json, Slack
 * chat.postMessage, the Teams workflow's POST, the Standard Webhook), p50 / p99 / max, and how many
 * arrived of how many expected. The baseline, in the same run and under the same load: from sending the
 * create request to the alert being readable (its 202, then GET /v2/alerts/requests/{requestId} naming
 * the alert), for every 10th alert. Not a test: prints numbers.
 *
 *   npm run bench:channels [-- --rate 200 --seconds 10 --people 500 --deadline 45]
 *
 * `--people N` (default 500): about N of the alerts, spread evenly (every rate×seconds/N-th), each page a
 * person of their own by SMS and by a call at once; SMS and voice are measured on those alerts. Every
 * alert goes to the shared team's Slack, Teams and webhook destinations. `--people 2000` (one person per
 * alert at the defaults) works, but people are made through the API at 20-35 a second on 2 shared cores,
 * so its set-up alone takes a minute or two.
 *
 * Three processes, as the pieces would be in production: this one runs the real Vigil (startBenchApp,
 * with its embedded PostgreSQL, as bench-paging does) and makes the set-up through its API; a child runs
 * the local providers of src/testing (fake Twilio, Slack, Teams, a Standard Webhooks receiver); another
 * sends the alerts, over a pool of 64 keep-alive connections (a request due while all are busy waits,
 * and the wait counts). Each provider sits behind a small "tap", a pass-through HTTP proxy that notes
 * when a request reached it (its headers, before the body) and forwards it unchanged, so the fakes check
 * the requests as they do in the tests and their answers are what Vigil sees; a request counts as
 * arrived only when the fake accepted it. Times are wall-clock milliseconds (performance.timeOrigin + now()),
 * the same clock in every process of the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'kysely';
import { waitForIdle } from '../src/testing/harness.js';
import { systemClock } from '../src/work/clock.js';
import { reportBench, type BenchBaseline, type BenchRow } from './lib/report.js';
import { arg, startBenchApp, textArg } from './lib/bench-app.js';

const rate = arg('rate', 200);
const seconds = arg('seconds', 10);
const total = Math.round(rate * seconds);
const peopleWanted = arg('people', 500);
/** Alert n pages a person of its own when n is a multiple of `stride`. */
const stride = Math.max(1, Math.ceil(total / Math.max(1, peopleWanted)));
const people = Math.ceil(total / stride);
const paged = (n: number) => n % stride === 0;
/** Seconds after the last create request was sent that a provider's request may still arrive. */
const deadlineSeconds = arg('deadline', 45);
/** Every BASELINE_EVERY-th alert is read back after its 202, for the baseline. */
const BASELINE_EVERY = 10;
/** The load's connections to Vigil (like autocannon's in the other benches, a bounded pool). */
const LOAD_CONNECTIONS = 64;
/** Before the clock starts: alerts sent to warm Vigil up (its code, connections), some paging a person. */
const WARMUP_ALERTS = 40;
const WARMUP_PEOPLE = 5;
/** Warm-up person i is "alert" WARMUP_BASE + i's (their numbers and team are theirs alone). */
const WARMUP_BASE = 90_000_000;
/** People made this many at a time: more is slower on 2 cores (20/s at 32, about 33/s at 8). */
const SETUP_CONCURRENCY = 8;

const ACCOUNT_SID = `AC${'be'.repeat(16)}`;
const AUTH_TOKEN = 'bench-channels-auth-token-0123456789';
const FROM = '+15005550006';
const SLACK_CHANNEL = 'C0BENCH0001';
const HOOK_PATH = '/bench-hook';
const SHARED_TEAM = 'Channels';

const PROVIDERS = ['sms', 'voice', 'slack', 'teams', 'webhook'] as const;
type Provider = (typeof PROVIDERS)[number];
type PerProvider<T> = Record<Provider, T>;
const perProvider = <T>(make: () => T) =>
  Object.fromEntries(PROVIDERS.map((p) => [p, make()])) as PerProvider<T>;
const LABEL: PerProvider<string> = {
  sms: 'Twilio SMS (POST Messages.json)',
  voice: 'Twilio voice (POST Calls.json)',
  slack: 'Slack chat.postMessage',
  teams: 'Teams Workflows webhook',
  webhook: 'signed Standard Webhook',
};

/** Wall-clock milliseconds with sub-millisecond precision: comparable across this machine's processes. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Alert n's message and alias carry `bench-<n>`.
const marker = (n: number) => `bench-${n}`;
const MARKER = /\bbench-(\d+)\b/g;
const markersIn = (text: string): number[] => [...text.matchAll(MARKER)].map((m) => Number(m[1]));

// ---------------------------------------------------------------------------------------------------
// What the processes tell each other (over Node's IPC channel).

interface ProvidersReady {
  type: 'ready';
  twilioUrl: string;
  slackApiUrl: string;
  slackBotToken: string;
  slackSigningSecret: string;
  teamsUrl: string;
  hookUrl: string;
  hookSecret: string;
}
interface ProvidersCounts {
  type: 'counts';
  /** Per provider, the requests accepted so far (calls not yet mapped to alerts included). */
  counts: PerProvider<number>;
}
interface ProvidersReport {
  type: 'report';
  /** Per provider: [alert number, arrival] of each alert's first request. */
  arrivals: PerProvider<[number, number][]>;
  /** Twilio requests that name notifications rather than alerts (a call's Url), to map here. */
  byNotification: { provider: Provider; ids: string[]; at: number }[];
  repeats: PerProvider<number>;
  refused: PerProvider<number>;
  unmatched: PerProvider<number>;
}
interface LoadProgress {
  type: 'progress';
  sent: number;
  answered: number;
}
interface LoadDone {
  type: 'done';
  sentAt: number[];
  answeredAt: number[];
  /** Request sent → alert readable, for every BASELINE_EVERY-th alert. */
  readable: number[];
  lastSent: number;
  started: number;
  failures: number;
  firstError?: string;
}

/** Sends to the parent; resolves once the message is handed over. */
function send(message: object): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

// ---------------------------------------------------------------------------------------------------
// The providers' process.

interface Tapped {
  at: number;
  path: string;
  contentType: string;
  body: string;
  status: number;
  /** What the fake answered. */
  answer: string;
}

/**
 * A pass-through proxy in front of `target`: notes when each request arrived (its headers read),
 * forwards it as it came, answers with what the target answered, then hands the exchange to `seen`.
 */
async function startTap(target: string, seen: (request: Tapped) => void) {
  const to = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const at = now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = http.request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: to.host },
          agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          const answerChunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => {
            answerChunks.push(c);
            res.write(c);
          });
          answer.on('end', () => {
            res.end();
            seen({
              at,
              path: (req.url ?? '/').split('?')[0] ?? '/',
              contentType: String(req.headers['content-type'] ?? ''),
              body: body.toString('utf8'),
              status: answer.statusCode ?? 0,
              answer: Buffer.concat(answerChunks).toString('utf8'),
            });
          });
        },
      );
      forward.on('error', (error) => res.writeHead(502, { 'content-type': 'text/plain' }).end(String(error)));
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function providersMain(): Promise<void> {
  const { startFakeTwilio } = await import('../src/testing/fake-twilio.js');
  const { startFakeSlack } = await import('../src/testing/fake-slack.js');
  const { startFakeTeams } = await import('../src/testing/fake-teams.js');
  const { startWebhookReceiver } = await import('../src/testing/webhook-receiver.js');

  const arrivals = perProvider(() => new Map<number, number>());
  const repeats = perProvider(() => 0);
  const refused = perProvider(() => 0);
  const unmatched = perProvider(() => 0);
  const byNotification: ProvidersReport['byNotification'] = [];

  const arrived = (provider: Provider, numbers: number[], at: number) => {
    const map = arrivals[provider];
    const known = numbers.filter((n) => n >= 0 && n < total);
    if (known.length === 0) unmatched[provider]++;
    for (const n of known) {
      if (map.has(n)) repeats[provider]++;
      else map.set(n, at);
    }
  };
  const ok = (status: number) => status >= 200 && status < 300;
  const notificationIds = (url: string | null) =>
    url ? (new URL(url, 'http://x').searchParams.get('notifications') ?? '').split(',').filter(Boolean) : [];

  const onTwilio = (request: Tapped) => {
    const provider: Provider | undefined = request.path.endsWith('/Messages.json')
      ? 'sms'
      : request.path.endsWith('/Calls.json')
        ? 'voice'
        : undefined;
    if (!provider) return;
    if (!ok(request.status)) {
      refused[provider]++;
      return;
    }
    const form = new URLSearchParams(request.body);
    const numbers = provider === 'sms' ? markersIn(form.get('Body') ?? '') : [];
    if (numbers.length > 0) arrived(provider, numbers, request.at);
    // A call's request carries only the URL of its script, which names the notifications it reads (and
    // a text that had no room for the message names them in its status callback).
    else
      byNotification.push({
        provider,
        ids: notificationIds(form.get(provider === 'sms' ? 'StatusCallback' : 'Url')),
        at: request.at,
      });
  };
  const onSlack = (request: Tapped) => {
    if (request.path !== '/api/chat.postMessage') return;
    // Slack answers errors with 200 and ok: false.
    if (!ok(request.status) || !request.answer.includes('"ok":true')) {
      refused.slack++;
      return;
    }
    const args = request.contentType.startsWith('application/json')
      ? request.body
      : [...new URLSearchParams(request.body).values()].join('\n');
    arrived('slack', markersIn(args).slice(0, 1), request.at);
  };
  const onJson = (provider: 'teams' | 'webhook') => (request: Tapped) => {
    if (!ok(request.status)) {
      refused[provider]++;
      return;
    }
    if (provider === 'webhook') {
      let body: { type?: string; data?: { alert?: { alias?: string } } };
      try {
        body = JSON.parse(request.body) as typeof body;
      } catch {
        refused[provider]++;
        return;
      }
      // Only the alert's creation: nothing else happens to these alerts (any other type is not counted).
      if (body.type === 'alert.created')
        arrived(provider, markersIn(body.data?.alert?.alias ?? ''), request.at);
    } else {
      // Teams gets created, acknowledged and closed: only created happens here.
      arrived(provider, markersIn(request.body).slice(0, 1), request.at);
    }
  };

  const twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, numbers: [FROM] });
  const slack = await startFakeSlack();
  slack.addChannel(SLACK_CHANNEL);
  const teams = await startFakeTeams();
  const receiver = await startWebhookReceiver();
  const hookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  receiver.endpoint(HOOK_PATH, hookSecret);
  const teamsUrl = new URL(teams.url);
  const taps = [
    await startTap(twilio.url, onTwilio),
    await startTap(new URL(slack.apiUrl).origin, onSlack),
    await startTap(teamsUrl.origin, onJson('teams')),
    await startTap(receiver.url, onJson('webhook')),
  ];
  const [twilioTap, slackTap, teamsTap, hookTap] = taps.map((t) => t.url);

  const counts = () =>
    Object.fromEntries(
      PROVIDERS.map((p) => [p, arrivals[p].size + byNotification.filter((b) => b.provider === p).length]),
    ) as PerProvider<number>;
  const ticker = setInterval(
    () => void send({ type: 'counts', counts: counts() } satisfies ProvidersCounts),
    250,
  );

  process.on('message', (message: { type: string }) => {
    if (message.type === 'reset') {
      // After the warm-up: forget what it sent.
      for (const p of PROVIDERS) {
        arrivals[p].clear();
        repeats[p] = refused[p] = unmatched[p] = 0;
      }
      byNotification.length = 0;
      void send({ type: 'reset-done' });
      return;
    }
    if (message.type !== 'report') return;
    clearInterval(ticker);
    void (async () => {
      await send({
        type: 'report',
        arrivals: Object.fromEntries(
          PROVIDERS.map((p) => [p, [...arrivals[p]]]),
        ) as ProvidersReport['arrivals'],
        byNotification,
        repeats,
        refused,
        unmatched,
      } satisfies ProvidersReport);
      await Promise.all(taps.map((t) => t.close()));
      await Promise.all([twilio.close(), slack.close(), teams.close(), receiver.close()]);
      process.disconnect();
    })();
  });
  await send({
    type: 'ready',
    twilioUrl: twilioTap ?? '',
    slackApiUrl: `${slackTap}/api/`,
    slackBotToken: slack.botToken,
    slackSigningSecret: slack.signingSecret,
    teamsUrl: `${teamsTap}${teamsUrl.pathname}${teamsUrl.search}`,
    hookUrl: `${hookTap}${HOOK_PATH}`,
    hookSecret,
  } satisfies ProvidersReady);
}

// ---------------------------------------------------------------------------------------------------
// The load's process: alert n's create request is sent at start + n / rate, whatever the answers
// before it (an open loop, as independent senders would).

const personTeam = (n: number) => `Bench person ${n}`;

async function loadMain(): Promise<void> {
  const url = textArg('url', '');
  const key = textArg('key', '');
  // Senders keep a pool of connections, as HTTP clients do: a request waits for a free one (and that wait
  // counts, from when it was due). Without a bound, a server that falls behind is sent thousands of new
  // connections, which overflow its accept queue and are reset.
  const agent = new http.Agent({ keepAlive: true, maxSockets: LOAD_CONNECTIONS });
  const base = new URL(url);
  const request = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          agent,
          headers: {
            authorization: `GenieKey ${key}`,
            ...(body
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown = text;
            try {
              json = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const sentAt = new Array<number>(total).fill(NaN);
  const answeredAt = new Array<number>(total).fill(NaN);
  const readable: number[] = [];
  let sent = 0;
  let answered = 0;
  let failures = 0;
  let firstError: string | undefined;

  async function createAlert(n: number): Promise<void> {
    const responders = [
      ...(paged(n) ? [{ type: 'team', name: personTeam(n) }] : []),
      { type: 'team', name: SHARED_TEAM },
    ];
    const body = JSON.stringify({
      message: `${marker(n)} channel latency`,
      alias: marker(n),
      priority: 'P3',
      responders,
    });
    sentAt[n] = now();
    try {
      const response = await request('POST', '/v2/alerts', body);
      const answer = response.json as { requestId?: string };
      if (response.status !== 202) throw new Error(`${response.status} ${JSON.stringify(answer)}`);
      answeredAt[n] = now();
      answered++;
      if (n % BASELINE_EVERY !== 0) return;
      for (let tries = 0; tries < 400; tries++) {
        const status = await request('GET', `/v2/alerts/requests/${answer.requestId}`);
        const json = status.json as { data?: { alertId?: string } };
        if (json.data?.alertId) {
          readable.push(now() - (sentAt[n] ?? NaN));
          return;
        }
        await sleep(5);
      }
    } catch (error) {
      failures++;
      firstError ??= String((error as Error).message).slice(0, 300);
    }
  }

  const inFlight: Promise<void>[] = [];
  const started = now();
  await send({ type: 'started', at: started });
  const progress = setInterval(
    () => void send({ type: 'progress', sent, answered } satisfies LoadProgress),
    250,
  );
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate) + 1);
      while (sent < due) inFlight.push(createAlert(sent++));
      if (sent < total) setTimeout(tick, 2);
      else resolve();
    };
    tick();
  });
  const lastSent = now();
  await Promise.all(inFlight);
  clearInterval(progress);
  await send({ type: 'progress', sent, answered } satisfies LoadProgress);
  await send({
    type: 'done',
    sentAt,
    answeredAt,
    readable,
    lastSent,
    started,
    failures,
    firstError,
  } satisfies LoadDone);
  process.disconnect();
}

// ---------------------------------------------------------------------------------------------------
// This process: Vigil, the set-up, and the figures.

const self = fileURLToPath(import.meta.url);

/** This script again as `role`, with an IPC channel; its output goes to ours. */
function child(role: string, extra: string[] = []): ChildProcess {
  const argv = process.argv.slice(2).filter((a, i, all) => a !== '--child' && all[i - 1] !== '--child');
  return spawn(process.execPath, ['--import', 'tsx', self, ...argv, '--child', role, ...extra], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage<T extends { type: string }>(from: ChildProcess, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      from.off('message', onMessage);
      from.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`the ${type} never came: the child exited ${code}`));
    from.on('message', onMessage);
    from.on('exit', onExit);
  });
}

/** Nearest-rank percentile over `count` expected values, the missing ones counted as never arriving. */
function percentileOf(values: number[], count: number, p: number): number {
  if (count === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(count - 1, Math.floor((p / 100) * count));
  return rank < sorted.length ? (sorted[rank] ?? NaN) : Infinity;
}
const ms = (v: number) =>
  Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')} ms` : v === Infinity ? 'not arrived' : 'n/a';
const ordinal = (k: number) => (k === 2 ? 'second' : k === 3 ? 'third' : `${k}th`);

async function main(): Promise<void> {
  if (!(rate > 0 && seconds > 0 && deadlineSeconds > 0 && peopleWanted > 0))
    throw new Error('--rate, --seconds, --people and --deadline must be positive');
  const expected: PerProvider<number> = {
    sms: people,
    voice: people,
    slack: total,
    teams: total,
    webhook: total,
  };

  const providers = child('providers');
  const ready = await nextMessage<ProvidersReady>(providers, 'ready');
  let counts = perProvider(() => 0);
  providers.on('message', (m: ProvidersCounts) => {
    if (m.type === 'counts') counts = m.counts;
  });

  const { app, key, work } = await startBenchApp('bench-channels', {
    env: {
      VIGIL_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      VIGIL_TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      VIGIL_TWILIO_FROM: FROM,
      VIGIL_TWILIO_API_URL: ready.twilioUrl,
      VIGIL_SLACK_BOT_TOKEN: ready.slackBotToken,
      VIGIL_SLACK_SIGNING_SECRET: ready.slackSigningSecret,
      VIGIL_SLACK_API_URL: ready.slackApiUrl,
      VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
    },
  });
  const db = app.context.db;

  async function call(method: string, route: string, body?: object): Promise<unknown> {
    const response = await fetch(`${app.url}${route}`, {
      method,
      headers: {
        authorization: `GenieKey ${key}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json: unknown = await response.json().catch(() => undefined);
    if (response.status >= 300)
      throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  // Numbers of their own, so that Twilio's one text and one call a minute per number holds none back
  // and no text or call bundles two alerts. +44 20… and +44 30… are none of Twilio's magic test numbers.
  const smsNumber = (n: number) => `+4420${String(n).padStart(8, '0')}`;
  const voiceNumber = (n: number) => `+4430${String(n).padStart(8, '0')}`;

  /** Alert n's person, alone in their team, paged at once by SMS and by a call. */
  async function person(n: number): Promise<void> {
    const user = `bench-person-${n}@example.com`;
    const u = encodeURIComponent(user);
    await call('POST', '/v2/users', {
      username: user,
      fullName: `Bench person ${n}`,
      role: { name: 'User' },
    });
    await Promise.all([
      call('POST', `/v2/users/${u}/contacts`, { method: 'sms', to: smsNumber(n) }),
      call('POST', `/v2/users/${u}/contacts`, { method: 'voice', to: voiceNumber(n) }),
    ]);
    const rules = (await call('GET', `/v2/users/${u}/notification-rules`)) as { data: { id: string }[] };
    const rule = rules.data[0];
    if (!rule) throw new Error(`${user} has no notification rule`);
    // In place of the default "email at once": a text and a call, both at once.
    await call('PATCH', `/v2/users/${u}/notification-rules/${rule.id}`, {
      steps: [
        { contact: { method: 'sms', to: smsNumber(n) }, sendAfter: { timeAmount: 0 } },
        { contact: { method: 'voice', to: voiceNumber(n) }, sendAfter: { timeAmount: 0 } },
      ],
    });
    await call('POST', '/v2/teams', {
      name: personTeam(n),
      members: [{ user: { username: user }, role: 'user' }],
    });
  }

  let load: ChildProcess | undefined;
  let report: ProvidersReport | undefined;
  let done: LoadDone | undefined;
  let drained: boolean;
  let busy: number;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  try {
    const setupStarted = now();
    console.log(
      `set-up: ${people} people (each alone in a team, paged at once by SMS and a call), team "${SHARED_TEAM}" with a webhook, a slack and a teams destination`,
    );
    await call('POST', '/v2/teams', { name: SHARED_TEAM });
    const destination = (name: string, type: string, config: object) =>
      call('POST', '/v2/destinations', { name, type, team: { name: SHARED_TEAM }, config });
    await Promise.all([
      destination('Bench webhook', 'webhook', { url: ready.hookUrl, secret: ready.hookSecret }),
      destination('Bench Slack', 'slack', { channel: SLACK_CHANNEL }),
      destination('Bench Teams', 'teams', { url: ready.teamsUrl }),
    ]);
    let next = 0;
    let made = 0;
    const counter = setInterval(() => process.stdout.write(`\r  people ${made}/${people}`), 1000);
    await Promise.all(
      Array.from({ length: Math.min(SETUP_CONCURRENCY, people) }, async () => {
        while (next < people) {
          await person(stride * next++);
          made++;
        }
      }),
    );
    for (let i = 0; i < WARMUP_PEOPLE; i++) await person(WARMUP_BASE + i);
    clearInterval(counter);
    const peopleSeconds = (now() - setupStarted) / 1000;
    process.stdout.write(
      `\r  people ${people}/${people} in ${peopleSeconds.toFixed(1)} s (${(people / peopleSeconds).toFixed(0)}/s)\n`,
    );
    // Verified in the database: the verification flow texts or calls a code to each number and needs it
    // typed back, a round trip per contact that measures nothing here (twilio.test.ts does the same).
    const verified = await sql`
      UPDATE contact_methods SET verified_at = now() WHERE method IN ('sms', 'voice') AND verified_at IS NULL`.execute(
      db,
    );
    console.log(`  ${verified.numAffectedRows ?? 0} SMS and voice contacts marked verified in the database`);

    // Warm-up, not measured: the first requests of a process are slow (code compiled, connections made).
    const warmupStarted = now();
    await Promise.all(
      Array.from({ length: WARMUP_ALERTS }, async (_, i) => {
        await sleep(i * 25);
        await call('POST', '/v2/alerts', {
          message: `warm-up ${i}`,
          alias: `warmup-${i}`,
          responders: [
            ...(i < WARMUP_PEOPLE ? [{ type: 'team', name: personTeam(WARMUP_BASE + i) }] : []),
            { type: 'team', name: SHARED_TEAM },
          ],
        });
      }),
    );
    await waitForIdle(db, systemClock, 60_000);
    providers.send({ type: 'reset' });
    await nextMessage(providers, 'reset-done');
    console.log(
      `  warm-up: ${WARMUP_ALERTS} alerts (${WARMUP_PEOPLE} paging a person) sent and delivered in ${((now() - warmupStarted) / 1000).toFixed(1)} s`,
    );

    console.log(
      `load: ${total} alerts at ${rate}/s for ${seconds} s, each to team "${SHARED_TEAM}"` +
        (stride > 1
          ? `; every ${ordinal(stride)} (${people}) also to a person of its own: SMS and voice are measured on those ${people} only`
          : ' and to a person of its own') +
        `; then at most ${deadlineSeconds} s more for the providers' requests`,
    );
    load = child('load', ['--url', app.url ?? '', '--key', key]);
    const finished = nextMessage<LoadDone>(load, 'done');
    finished.catch(() => {}); // awaited below; this only keeps an early exit from being unhandled here
    const loadStarted = (await nextMessage<{ type: 'started'; at: number }>(load, 'started')).at;
    let sent = 0;
    let answered = 0;
    load.on('message', (m: LoadProgress) => {
      if (m.type === 'progress') ({ sent, answered } = m);
    });
    let elu = performance.eventLoopUtilization();
    const eluStart = elu;
    loopDelay.enable();
    const line = () => {
      const nextElu = performance.eventLoopUtilization();
      const busyNow = performance.eventLoopUtilization(nextElu, elu).utilization;
      elu = nextElu;
      const arrivedText = PROVIDERS.map((p) => `${p} ${counts[p]}/${expected[p]}`).join(', ');
      return `  ${((now() - loadStarted) / 1000).toFixed(0).padStart(3)} s: sent ${sent}/${total}, answered ${answered}; arrived: ${arrivedText}; Vigil's event loop ${Math.round(busyNow * 100)}% busy`;
    };
    const progress = setInterval(() => console.log(line()), 1000);
    const complete = () => PROVIDERS.every((p) => counts[p] >= expected[p]);
    try {
      done = await finished;
      const deadline = done.lastSent + deadlineSeconds * 1000;
      while (!complete() && now() < deadline) await sleep(50);
      // Counts come every 250 ms: one more, so that the report holds what the last count said.
      await sleep(300);
      drained = complete();
    } finally {
      clearInterval(progress);
      loopDelay.disable();
      busy = performance.eventLoopUtilization(performance.eventLoopUtilization(), eluStart).utilization;
      console.log(line());
    }
    providers.send({ type: 'report' });
    report = await nextMessage<ProvidersReport>(providers, 'report');

    // Calls (and texts without a marker) name notifications: map them to their alerts.
    const rows = await sql<{ id: string; alias: string }>`
      SELECT n.id, a.alias FROM notifications n JOIN alerts a ON a.id = n.alert_id
      WHERE a.alias LIKE 'bench-%'`.execute(db);
    const aliasOf = new Map(rows.rows.map((r) => [r.id, r.alias]));
    for (const { provider, ids, at } of report.byNotification) {
      const numbers = [...new Set(ids.flatMap((id) => markersIn(aliasOf.get(id) ?? '')))];
      if (numbers.length === 0) report.unmatched[provider]++;
      const seen = new Map(report.arrivals[provider]);
      for (const n of numbers) {
        if (seen.has(n)) report.repeats[provider]++;
        else report.arrivals[provider].push([n, at]);
        seen.set(n, at);
      }
    }
  } finally {
    if (load && load.exitCode === null && !load.killed) load.kill();
    await app.stop();
    if (providers.exitCode === null && !providers.killed) providers.kill();
    await fs.rm(work, { recursive: true, force: true });
  }

  // ---- The figures.
  const { sentAt, answeredAt, readable } = done;
  console.log(`\ncreate request sent → provider's request received:`);
  interface Figures {
    provider: Provider;
    arrived: number;
    expected: number;
    p50: number;
    p99: number;
    max: number;
  }
  const figures: Figures[] = [];
  for (const provider of PROVIDERS) {
    const delays = report.arrivals[provider].map(([n, at]) => at - (sentAt[n] ?? NaN));
    const f: Figures = {
      provider,
      arrived: delays.length,
      expected: expected[provider],
      p50: percentileOf(delays, expected[provider], 50),
      p99: percentileOf(delays, expected[provider], 99),
      max: delays.length >= expected[provider] ? Math.max(...delays) : Infinity,
    };
    figures.push(f);
    const odd = [
      report.repeats[provider] ? `${report.repeats[provider]} repeated` : '',
      report.refused[provider] ? `${report.refused[provider]} refused by the fake` : '',
      report.unmatched[provider] ? `${report.unmatched[provider]} naming no alert of the run` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const missing = f.expected - f.arrived;
    console.log(
      `  ${LABEL[provider].padEnd(32)} p50 ${ms(f.p50).padStart(9)}, p99 ${ms(f.p99).padStart(9)}, max ${ms(f.max).padStart(11)}; arrived ${f.arrived} of ${f.expected}` +
        (missing > 0 ? ` — ${missing} DID NOT ARRIVE within ${deadlineSeconds} s of the last create` : '') +
        (odd ? ` (${odd})` : ''),
    );
  }
  const answerDelays = answeredAt.map((a, n) => a - (sentAt[n] ?? NaN)).filter(Number.isFinite);
  const answeredP50 = percentileOf(answerDelays, answerDelays.length, 50);
  const answeredP99 = percentileOf(answerDelays, answerDelays.length, 99);
  const baselineP50 = percentileOf(readable, readable.length, 50);
  const baselineP99 = percentileOf(readable, readable.length, 99);
  const sendRate = (total - 1) / ((done.lastSent - done.started) / 1000);
  console.log(
    `  baseline: request sent → alert readable via GET (every ${ordinal(BASELINE_EVERY)} alert, n=${readable.length}): p50 ${ms(baselineP50)}, p99 ${ms(baselineP99)}, max ${ms(Math.max(...readable))}`,
  );
  console.log(
    `  create requests: sent at ${sendRate.toFixed(0)}/s; answered (202) p50 ${ms(answeredP50)}, p99 ${ms(answeredP99)}` +
      (done.failures ? `; ${done.failures} FAILED (first: ${done.firstError})` : ''),
  );
  console.log(
    `  Vigil's process (API, workers): event loop ${Math.round(busy * 100)}% busy from the first create to the end, delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms`,
  );
  if (!drained)
    console.log(
      `  NOT every provider request arrived within ${deadlineSeconds} s of the last create (see above)`,
    );

  const baseline: BenchBaseline = {
    label: `create request → alert readable via GET, p99 (every ${ordinal(BASELINE_EVERY)} alert)`,
    value: Math.round(baselineP99),
    unit: 'ms',
  };
  const at = `${rate}/s for ${seconds} s`;
  const rows: BenchRow[] = figures.map((f) => {
    const missing = f.expected - f.arrived;
    return {
      measure: `alert creation → ${LABEL[f.provider]}, p99 (${at}${f.expected < total ? `; n=${f.expected}, every ${ordinal(stride)} alert` : ''})`,
      value: Number.isFinite(f.p99) ? Math.round(f.p99) : NaN,
      unit: 'ms',
      baseline,
      note:
        `p50 ${ms(f.p50)}, max ${ms(f.max)}; ${f.arrived} of ${f.expected} arrived` +
        (missing > 0 ? `: ${missing} did not arrive within ${deadlineSeconds} s of the last create` : ''),
    };
  });
  rows.push({
    measure: `alert create requests answered (202), p99 (${at})`,
    value: Math.round(answeredP99),
    unit: 'ms',
    note:
      `informational; sent at ${sendRate.toFixed(0)}/s${done.failures ? `, ${done.failures} failed` : ''}; p50 ${ms(answeredP50)}; ` +
      `the baseline above, p50: ${ms(baselineP50)}; Vigil's event loop ${Math.round(busy * 100)}% busy`,
  });
  reportBench('channels', rows);
}

const role = textArg('child', '');
if (role === 'providers') await providersMain();
else if (role === 'load') await loadMain();
else await main();
