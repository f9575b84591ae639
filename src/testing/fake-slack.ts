import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackSignature } from '../notify/slack/signature.js';

/**
 * A local Slack: the Web API methods Vigil calls, an incoming webhook, and the user who clicks.
 *
 * Web API (`POST /api/<method>`, what `@slack/web-api` sends: a form body with JSON-encoded objects, or
 * JSON): `Authorization: Bearer <token>` must be the fake's bot token (else 200 `{ok:false,
 * error:'invalid_auth'}`, `not_authed` without one), as Slack answers. Methods:
 * - `chat.postMessage`: channel must be known (`channel_not_found`), text or blocks (`no_text`); answers
 *   `{ok, channel, ts, message}`;
 * - `chat.update`: the message must exist (`message_not_found`);
 * - `auth.test`: the bot's workspace (`team_id`), and its Enterprise Grid organization (`enterprise_id`)
 *   when the fake is started with one;
 * - `users.info`: a known user with `profile.email`, their workspace (`team_id`) and, in an Enterprise Grid
 *   organization, `enterprise_user` (`user_not_found`);
 * - `views.open`: a trigger id the fake gave out in a click (`invalid_trigger_id`), a modal view.
 * `failNext(method, status | error)` makes the next call of a method answer an HTTP status (429 with
 * Retry-After: 1) or an `ok:false` error code.
 *
 * Incoming webhooks: `POST /services/T…/B…/…` with JSON holding `text` answers 200 `ok`; unknown paths 404
 * `no_service`; `failNextWebhook(status, body)`.
 *
 * The user: `click` and `submitNote` POST a signed interaction (form field `payload`) to Vigil's
 * `/v1/slack/interactions`, as Slack does, with a `response_url` on this fake that records what Vigil
 * answers there. As in a Slack Connect channel, `team.id` is the app's workspace (the fake's) and
 * `user.team_id` the presser's own: a user added with another `teamId` is someone of another workspace.
 */

export interface SlackMessageRecord {
  channel: string;
  ts: string;
  text: string;
  blocks: SlackBlockRecord[];
}

export interface SlackBlockRecord {
  type: string;
  block_id?: string;
  elements?: { type: string; action_id?: string; text?: { text: string }; style?: string }[];
  text?: { text: string };
  fields?: { text: string }[];
  [key: string]: unknown;
}

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** What the fake answered: an HTTP status, and the body's ok / error. */
  status: number;
  ok: boolean;
  error?: string;
}

export interface SlackUser {
  id: string;
  email?: string;
  name?: string;
  /** Their workspace; the fake's by default. */
  teamId?: string;
  /** Their Enterprise Grid organization: Slack then names it, not the workspace, in `user.team_id`. */
  enterpriseId?: string;
  isBot?: boolean;
  isRestricted?: boolean;
}

export interface ClickOptions {
  actionId: string;
  channel: string;
  ts: string;
  userId: string;
  /** The presser's workspace as `user.team_id` says; by default the user's own (see SlackUser). */
  teamId?: string;
  /** 'wrong': signed with another secret; a number: the timestamp is this many seconds in the past. */
  sign?: 'wrong' | { ageSeconds: number };
}

export interface InteractionAnswer {
  status: number;
  text: string;
  json: unknown;
}

export interface FakeSlack {
  /** The Web API's base URL (VIGIL_SLACK_API_URL). */
  apiUrl: string;
  /** An incoming webhook URL on the fake. */
  webhookUrl: string;
  botToken: string;
  signingSecret: string;
  /** The variables that point a Vigil at this fake (VIGIL_SLACK_BOT_TOKEN, _SIGNING_SECRET, _API_URL). */
  vigilEnv: Record<string, string>;
  /** The workspace the app is installed in, as auth.test answers. */
  teamId: string;
  /** Where clicks are POSTed: Vigil's base URL. */
  setVigilUrl(url: string): void;
  addChannel(id: string): void;
  addUser(user: SlackUser): void;
  /** Every Web API call, in order (the token is not kept). */
  calls: SlackCall[];
  /** The messages in their current state. */
  message(channel: string, ts: string): SlackMessageRecord | undefined;
  messages(channel?: string): SlackMessageRecord[];
  /** What was POSTed to incoming webhooks, in order. */
  webhookPosts: { path: string; body: Record<string, unknown> }[];
  /** What Vigil POSTed to the response_url of interactions, in order. */
  responses: Record<string, unknown>[];
  /** Views opened by views.open, in order. */
  views: { triggerId: string; view: Record<string, unknown> }[];
  failNext(method: string, failure: number | string): void;
  failNextWebhook(status: number, body: string): void;
  click(options: ClickOptions): Promise<InteractionAnswer>;
  /** Submits the last note form opened, as `userId`, with `text`. */
  submitNote(options: { userId: string; text: string; teamId?: string }): Promise<InteractionAnswer>;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The form fields Slack reads as JSON (any other field is text, even one that starts with "["). */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'view']);

/** The arguments as @slack/web-api sends them: a form whose object values are JSON, or a JSON body. */
function parseArgs(contentType: string, body: string): Record<string, unknown> | undefined {
  if (contentType.startsWith('application/json')) {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  }
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const args: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(body)) {
      args[key] = JSON_FIELDS.has(key) ? (JSON.parse(value) as unknown) : value;
    }
    return args;
  }
  return undefined;
}

export async function startFakeSlack(
  options: { botToken?: string; signingSecret?: string; teamId?: string; enterpriseId?: string } = {},
): Promise<FakeSlack> {
  const botToken = options.botToken ?? `xoxb-${randomBytes(6).toString('hex')}-fake`;
  const signingSecret = options.signingSecret ?? randomBytes(16).toString('hex');
  const teamId = options.teamId ?? 'T0FAKE0001';
  const channels = new Set<string>();
  const users = new Map<string, SlackUser>();
  const messages = new Map<string, SlackMessageRecord>();
  const calls: SlackCall[] = [];
  const webhookPosts: FakeSlack['webhookPosts'] = [];
  const responses: Record<string, unknown>[] = [];
  const views: FakeSlack['views'] = [];
  const triggers = new Set<string>();
  const failures = new Map<string, (number | string)[]>();
  const webhookFailures: { status: number; body: string }[] = [];
  let vigilUrl = '';
  let tsCounter = 0;
  const webhookPath = '/services/T0FAKE0001/B0FAKE0001/abcdefghijklmnopqrstuvwx';

  const key = (channel: string, ts: string) => `${channel}/${ts}`;

  function api(
    method: string,
    args: Record<string, unknown>,
  ): { status?: number; body: Record<string, unknown> } {
    const str = (name: string) => (typeof args[name] === 'string' ? (args[name] as string) : undefined);
    switch (method) {
      case 'chat.postMessage': {
        const channel = str('channel');
        if (!channel || !channels.has(channel)) return { body: { ok: false, error: 'channel_not_found' } };
        if (!str('text') && !Array.isArray(args.blocks)) return { body: { ok: false, error: 'no_text' } };
        tsCounter += 1;
        const ts = `${Math.floor(Date.now() / 1000)}.${String(tsCounter).padStart(6, '0')}`;
        const message: SlackMessageRecord = {
          channel,
          ts,
          text: str('text') ?? '',
          blocks: Array.isArray(args.blocks) ? (args.blocks as SlackBlockRecord[]) : [],
        };
        messages.set(key(channel, ts), message);
        return { body: { ok: true, channel, ts, message: { type: 'message', ...message } } };
      }
      case 'chat.update': {
        const channel = str('channel') ?? '';
        const ts = str('ts') ?? '';
        const message = messages.get(key(channel, ts));
        if (!channels.has(channel)) return { body: { ok: false, error: 'channel_not_found' } };
        if (!message) return { body: { ok: false, error: 'message_not_found' } };
        message.text = str('text') ?? message.text;
        if (Array.isArray(args.blocks)) message.blocks = args.blocks as SlackBlockRecord[];
        return {
          body: { ok: true, channel, ts, text: message.text, message: { type: 'message', ...message } },
        };
      }
      case 'auth.test':
        return {
          body: {
            ok: true,
            url: 'https://fake.slack.com/',
            team: 'Fake',
            user: 'vigil',
            team_id: teamId,
            user_id: 'U0BOT00001',
            bot_id: 'B0BOT00001',
            is_enterprise_install: false,
            ...(options.enterpriseId ? { enterprise_id: options.enterpriseId } : {}),
          },
        };
      case 'users.info': {
        const user = users.get(str('user') ?? '');
        if (!user) return { body: { ok: false, error: 'user_not_found' } };
        const userTeam = user.teamId ?? teamId;
        return {
          body: {
            ok: true,
            user: {
              id: user.id,
              team_id: userTeam,
              ...(user.enterpriseId
                ? { enterprise_user: { id: user.id, enterprise_id: user.enterpriseId, teams: [userTeam] } }
                : {}),
              name: user.name ?? user.id.toLowerCase(),
              deleted: false,
              is_bot: user.isBot ?? false,
              is_restricted: user.isRestricted ?? false,
              is_ultra_restricted: false,
              profile: { real_name: user.name ?? '', ...(user.email ? { email: user.email } : {}) },
            },
          },
        };
      }
      case 'views.open': {
        const trigger = str('trigger_id') ?? '';
        if (!triggers.delete(trigger)) return { body: { ok: false, error: 'invalid_trigger_id' } };
        const view = args.view;
        if (typeof view !== 'object' || view === null || (view as { type?: unknown }).type !== 'modal') {
          return { body: { ok: false, error: 'invalid_arguments' } };
        }
        const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
        views.push({ triggerId: trigger, view: { ...(view as Record<string, unknown>), id } });
        return { body: { ok: true, view: { id, ...(view as Record<string, unknown>) } } };
      }
      default:
        return { body: { ok: false, error: 'unknown_method' } };
    }
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://fake');
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        res.writeHead(status, {
          'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json; charset=utf-8',
          ...headers,
        });
        res.end(text);
      };
      if (req.method !== 'POST') return send(405, 'method_not_allowed');

      if (url.pathname.startsWith('/api/')) {
        const method = url.pathname.slice('/api/'.length);
        let args: Record<string, unknown> | undefined;
        try {
          args = parseArgs(req.headers['content-type'] ?? '', body);
        } catch {
          args = undefined;
        }
        const record = (status: number, answer: Record<string, unknown>) => {
          const { token: _token, ...kept } = args ?? {};
          calls.push({
            method,
            args: kept,
            status,
            ok: answer.ok === true,
            ...(typeof answer.error === 'string' ? { error: answer.error } : {}),
          });
        };
        if (!args) {
          const answer = { ok: false, error: 'invalid_form_data' };
          record(200, answer);
          return send(200, answer);
        }
        const auth = req.headers.authorization;
        if (!auth) {
          const answer = { ok: false, error: 'not_authed' };
          record(200, answer);
          return send(200, answer);
        }
        if (auth !== `Bearer ${botToken}`) {
          const answer = { ok: false, error: 'invalid_auth' };
          record(200, answer);
          return send(200, answer);
        }
        const failure = failures.get(method)?.shift();
        if (typeof failure === 'number') {
          const answer = { ok: false, error: failure === 429 ? 'ratelimited' : 'fatal_error' };
          record(failure, answer);
          return send(failure, answer, failure === 429 ? { 'retry-after': '1' } : {});
        }
        if (typeof failure === 'string') {
          const answer = { ok: false, error: failure };
          record(200, answer);
          return send(200, answer);
        }
        const answer = api(method, args);
        record(answer.status ?? 200, answer.body);
        return send(answer.status ?? 200, answer.body);
      }

      if (url.pathname.startsWith('/services/')) {
        const failure = webhookFailures.shift();
        if (failure) return send(failure.status, failure.body);
        if (url.pathname !== webhookPath) return send(404, 'no_service');
        if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
          return send(400, 'invalid_payload');
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return send(400, 'invalid_payload');
        }
        if (typeof parsed !== 'object' || parsed === null) return send(400, 'invalid_payload');
        const post = parsed as Record<string, unknown>;
        if (typeof post.text !== 'string' && !Array.isArray(post.blocks)) return send(400, 'no_text');
        webhookPosts.push({ path: url.pathname, body: post });
        return send(200, 'ok');
      }

      if (url.pathname.startsWith('/response/')) {
        try {
          responses.push(JSON.parse(body) as Record<string, unknown>);
        } catch {
          return send(400, 'invalid_payload');
        }
        return send(200, 'ok');
      }
      return send(404, 'not_found');
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function interact(
    payload: Record<string, unknown>,
    sign: ClickOptions['sign'],
  ): Promise<InteractionAnswer> {
    if (!vigilUrl) throw new Error('call setVigilUrl first');
    const rawBody = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const age = typeof sign === 'object' ? sign.ageSeconds : 0;
    const timestamp = String(Math.floor(Date.now() / 1000) - age);
    const secret = sign === 'wrong' ? `${signingSecret}-not` : signingSecret;
    const response = await fetch(`${vigilUrl}/v1/slack/interactions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(secret, timestamp, rawBody),
      },
      body: rawBody,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  }

  const userOf = (userId: string, presserTeam: string | undefined) => {
    const user = users.get(userId);
    return {
      id: userId,
      username: user?.name ?? userId.toLowerCase(),
      team_id: presserTeam ?? user?.enterpriseId ?? user?.teamId ?? teamId,
    };
  };
  const appTeam = {
    id: teamId,
    domain: 'fake',
    ...(options.enterpriseId ? { enterprise_id: options.enterpriseId } : {}),
  };

  return {
    apiUrl: `${base}/api/`,
    webhookUrl: `${base}${webhookPath}`,
    botToken,
    signingSecret,
    vigilEnv: {
      VIGIL_SLACK_BOT_TOKEN: botToken,
      VIGIL_SLACK_SIGNING_SECRET: signingSecret,
      VIGIL_SLACK_API_URL: `${base}/api/`,
    },
    teamId,
    setVigilUrl(url) {
      vigilUrl = url.replace(/\/+$/, '');
    },
    addChannel: (id) => void channels.add(id),
    addUser: (user) => void users.set(user.id, user),
    calls,
    message: (channel, ts) => messages.get(key(channel, ts)),
    messages: (channel) =>
      [...messages.values()].filter((m) => channel === undefined || m.channel === channel),
    webhookPosts,
    responses,
    views,
    failNext(method, failure) {
      const list = failures.get(method) ?? [];
      list.push(failure);
      failures.set(method, list);
    },
    failNextWebhook: (status, body) => void webhookFailures.push({ status, body }),
    async click(o) {
      const trigger = `${Date.now()}.${randomBytes(4).toString('hex')}`;
      triggers.add(trigger);
      const message = messages.get(key(o.channel, o.ts));
      const button = message?.blocks
        .flatMap((b) => b.elements ?? [])
        .find((e) => e.type === 'button' && e.action_id === o.actionId);
      const payload = {
        type: 'block_actions',
        user: userOf(o.userId, o.teamId),
        api_app_id: 'A0FAKE0001',
        token: 'deprecated-verification-token',
        container: { type: 'message', message_ts: o.ts, channel_id: o.channel, is_ephemeral: false },
        trigger_id: trigger,
        team: appTeam,
        enterprise: options.enterpriseId ? { id: options.enterpriseId, name: 'Fake Grid' } : null,
        is_enterprise_install: false,
        channel: { id: o.channel, name: 'alerts' },
        message: { type: 'message', ts: o.ts, text: message?.text ?? '', blocks: message?.blocks ?? [] },
        state: { values: {} },
        response_url: `${base}/response/${randomBytes(6).toString('hex')}`,
        actions: [
          {
            type: 'button',
            action_id: o.actionId,
            block_id: 'vigil_actions',
            text: { type: 'plain_text', text: button?.text?.text ?? o.actionId },
            value: 'x',
            action_ts: `${Date.now() / 1000}`,
          },
        ],
      };
      return interact(payload, o.sign);
    },
    async submitNote(o) {
      const opened = views.at(-1);
      if (!opened) throw new Error('no note form was opened');
      const view = opened.view as { blocks?: { block_id?: string; element?: { action_id?: string } }[] };
      const input = view.blocks?.find((b) => b.element?.action_id);
      const values =
        input?.block_id && input.element?.action_id
          ? { [input.block_id]: { [input.element.action_id]: { type: 'plain_text_input', value: o.text } } }
          : {};
      return interact(
        {
          type: 'view_submission',
          team: appTeam,
          user: userOf(o.userId, o.teamId),
          api_app_id: 'A0FAKE0001',
          trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
          view: { ...opened.view, state: { values } },
        },
        undefined,
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
