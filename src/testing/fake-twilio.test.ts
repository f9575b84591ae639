import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import querystring from 'node:querystring';
import { after, before, describe, it } from 'node:test';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { parseTwiml, startFakeTwilio, type FakeTwilio } from './fake-twilio.js';

/**
 * The fake Twilio refuses what Twilio refuses with Twilio's codes, serves the official twilio client, and
 * signs its webhooks so that the official twilio.validateRequest accepts them.
 */

const ACCOUNT = `AC${'a1'.repeat(16)}`;
const TOKEN = 'fake-auth-token-0123456789abcdef';
const FROM = '+15005550006';
const TO = '+14155550100';

let fake: FakeTwilio;

before(async () => {
  fake = await startFakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN, numbers: [FROM] });
});

after(async () => {
  await fake?.close();
});

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function post(
  resource: 'Messages' | 'Calls',
  fields: Record<string, string | string[]>,
  options: { auth?: string; account?: string; contentType?: string; body?: string } = {},
) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields))
    for (const one of typeof v === 'string' ? [v] : v) form.append(k, one);
  const response = await fetch(
    `${fake.url}/2010-04-01/Accounts/${options.account ?? ACCOUNT}/${resource}.json`,
    {
      method: 'POST',
      headers: {
        authorization: options.auth ?? basic(ACCOUNT, TOKEN),
        'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      },
      body: options.body ?? form.toString(),
    },
  );
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function assertError(
  answer: { status: number; json: Record<string, unknown> },
  status: number,
  code: number,
) {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.equal(answer.json.code, code, JSON.stringify(answer.json));
  assert.equal(answer.json.status, status);
  assert.equal(answer.json.more_info, `https://www.twilio.com/docs/errors/${code}`);
  assert.equal(typeof answer.json.message, 'string');
}

describe('the fake Twilio REST API', () => {
  it('creates a message: 201 with the resource as Twilio returns it, recorded with every field', async () => {
    const answer = await post('Messages', {
      To: TO,
      From: FROM,
      Body: 'P1 disk full',
      StatusCallback: 'https://vigil.example.com/v1/twilio/status',
    });
    assert.equal(answer.status, 201);
    assert.match(String(answer.json.sid), /^SM[0-9a-f]{32}$/);
    assert.equal(answer.json.status, 'queued');
    assert.equal(answer.json.account_sid, ACCOUNT);
    assert.equal(answer.json.api_version, '2010-04-01');
    assert.equal(answer.json.num_segments, '1');
    assert.equal(answer.json.error_code, null);
    assert.match(
      String(answer.json.date_created),
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
    );
    assert.equal(answer.json.uri, `/2010-04-01/Accounts/${ACCOUNT}/Messages/${String(answer.json.sid)}.json`);
    const recorded = fake.messages.find((m) => m.sid === answer.json.sid);
    assert.equal(recorded?.body, 'P1 disk full');
    assert.equal(recorded?.form.StatusCallback, 'https://vigil.example.com/v1/twilio/status');
  });

  it('creates a call with repeated StatusCallbackEvent fields', async () => {
    const answer = await post('Calls', {
      To: TO,
      From: FROM,
      Url: 'https://vigil.example.com/v1/twilio/voice',
      StatusCallbackEvent: ['initiated', 'answered', 'completed'],
    });
    assert.equal(answer.status, 201);
    assert.match(String(answer.json.sid), /^CA[0-9a-f]{32}$/);
    assert.equal(answer.json.status, 'queued');
    const call = fake.calls.find((c) => c.sid === answer.json.sid);
    assert.deepEqual(call?.statusCallbackEvents, ['initiated', 'answered', 'completed']);
    assert.equal(call?.method, 'POST');
  });

  it('refuses bad credentials (401, 20003) and another account (404, 20404)', async () => {
    const fields = { To: TO, From: FROM, Body: 'x' };
    assertError(await post('Messages', fields, { auth: basic(ACCOUNT, 'wrong') }), 401, 20003);
    assertError(await post('Messages', fields, { auth: 'Bearer x' }), 401, 20003);
    const other = `AC${'b2'.repeat(16)}`;
    assertError(await post('Messages', fields, { auth: basic(other, TOKEN) }), 401, 20003);
    assertError(await post('Messages', fields, { account: other }), 404, 20404);
  });

  it('refuses missing or invalid fields with Twilio codes', async () => {
    assertError(await post('Messages', { From: FROM, Body: 'x' }), 400, 21604);
    assertError(await post('Messages', { To: TO, Body: 'x' }), 400, 21603);
    assertError(await post('Messages', { To: TO, From: FROM }), 400, 21602);
    assertError(await post('Messages', { To: TO, From: FROM, Body: 'x'.repeat(1601) }), 400, 21617);
    assertError(await post('Messages', { To: '4155550100', From: FROM, Body: 'x' }), 400, 21211);
    assertError(await post('Messages', { To: TO, From: '+14155559999', Body: 'x' }), 400, 21606);
    assertError(
      await post('Messages', { To: TO, From: FROM, Body: 'x', StatusCallback: 'https://my_host/x' }),
      400,
      21609,
    );
    assertError(await post('Calls', { To: TO, From: FROM }), 400, 21205);
    assertError(await post('Calls', { From: FROM, Url: 'https://vigil.example.com/v' }), 400, 21201);
    assertError(await post('Calls', { To: TO, Url: 'https://vigil.example.com/v' }), 400, 21213);
    assert.equal((await post('Messages', { To: TO, From: FROM, Body: 'x'.repeat(1600) })).status, 201);
  });

  it('reads a body that is not a form as no fields', async () => {
    const answer = await post(
      'Messages',
      {},
      { contentType: 'application/json', body: JSON.stringify({ To: TO, From: FROM, Body: 'x' }) },
    );
    assertError(answer, 400, 21604);
    assert.match(fake.requests.at(-1)?.reason ?? '', /not application\/x-www-form-urlencoded/);
  });

  it('answers the magic To numbers, for messages and calls', async () => {
    const magic: [string, number][] = [
      ['+15005550001', 21211],
      ['+15005550002', 21612],
      ['+15005550003', 21408],
      ['+15005550004', 21610],
      ['+15005550009', 21614],
    ];
    for (const [to, code] of magic) {
      assertError(await post('Messages', { To: to, From: FROM, Body: 'x' }), 400, code);
      assertError(await post('Calls', { To: to, From: FROM, Url: 'https://vigil.example.com/v' }), 400, code);
    }
  });

  it('fails the next requests as scripted, then accepts again', async () => {
    fake.failNext(2, 429);
    const fields = { To: TO, From: FROM, Body: 'retry me' };
    assertError(await post('Messages', fields), 429, 20429);
    assertError(await post('Messages', fields), 429, 20429);
    assert.equal((await post('Messages', fields)).status, 201);
    fake.failNext(1, 500);
    assertError(await post('Calls', { To: TO, From: FROM, Url: 'https://v.example.com/' }), 500, 20500);
  });

  it('waits for messages', async () => {
    const before = fake.messages.length;
    const waiting = fake.waitForMessages(before + 1, 2000);
    await post('Messages', { To: TO, From: FROM, Body: 'awaited' });
    assert.equal((await waiting).at(-1)?.body, 'awaited');
    await assert.rejects(fake.waitForCalls(fake.calls.length + 1, 50), /after 50 ms/);
  });
});

// ------------------------------------------------------------------------------------------------
// The official client

/** twilio-node's own HTTP client, with api.twilio.com swapped for the fake. */
class ToFake extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super({ keepAlive: false });
  }

  override request<T>(opts: RequestClient.RequestOptions<T>) {
    return super.request({ ...opts, uri: opts.uri.replace('https://api.twilio.com', this.base) });
  }
}

describe('the official twilio client against the fake', () => {
  it('sends a message and places a call', async () => {
    const client = twilio(ACCOUNT, TOKEN, { httpClient: new ToFake(fake.url) });
    const message = await client.messages.create({
      to: TO,
      from: FROM,
      body: 'P1 checkout down ✓',
      statusCallback: 'https://vigil.example.com/v1/twilio/status',
    });
    assert.match(message.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(message.status, 'queued');
    assert.equal(message.body, 'P1 checkout down ✓');
    assert.ok(message.dateCreated instanceof Date && !Number.isNaN(message.dateCreated.getTime()));
    const call = await client.calls.create({
      to: TO,
      from: FROM,
      url: 'https://vigil.example.com/v1/twilio/voice',
      statusCallback: 'https://vigil.example.com/v1/twilio/status',
      statusCallbackEvent: ['initiated', 'completed'],
    });
    assert.match(call.sid, /^CA[0-9a-f]{32}$/);
    assert.deepEqual(fake.calls.find((c) => c.sid === call.sid)?.statusCallbackEvents, [
      'initiated',
      'completed',
    ]);
  });

  it("surfaces the fake's errors as RestException with Twilio's code", async () => {
    const client = twilio(ACCOUNT, TOKEN, { httpClient: new ToFake(fake.url) });
    await assert.rejects(
      client.messages.create({ to: '+15005550004', from: FROM, body: 'x' }),
      (error: unknown) => {
        assert.ok(error instanceof twilio.RestException);
        assert.equal(error.status, 400);
        assert.equal(error.code, 21610);
        return true;
      },
    );
    const wrong = twilio(ACCOUNT, 'not-the-token', { httpClient: new ToFake(fake.url) });
    await assert.rejects(wrong.messages.create({ to: TO, from: FROM, body: 'x' }), {
      status: 401,
      code: 20003,
    });
  });
});

// ------------------------------------------------------------------------------------------------
// Webhooks: a tiny app that checks each request with twilio.validateRequest

interface Hit {
  method: string;
  url: string;
  params: Record<string, string | string[]>;
  valid: boolean;
  contentType: string | undefined;
}

interface App {
  url: string;
  hits: Hit[];
  close(): Promise<void>;
}

type Route = (hit: Hit) => { status?: number; type?: string; body: string };

async function startApp(route: Route): Promise<App> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = `${app.url}${req.url ?? '/'}`;
      const params = req.method === 'POST' ? { ...querystring.parse(Buffer.concat(chunks).toString()) } : {};
      const header = String(req.headers['x-twilio-signature'] ?? '');
      const hit: Hit = {
        method: req.method ?? '',
        url,
        params: params as Record<string, string | string[]>,
        valid: twilio.validateRequest(TOKEN, header, url, params),
        contentType: req.headers['content-type'],
      };
      hits.push(hit);
      const answer = route(hit);
      res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'text/xml' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const app: App = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return app;
}

describe('the fake Twilio calling the app', () => {
  let app: App;
  let answer: Route = () => ({ body: '<Response/>' });

  before(async () => {
    app = await startApp((hit) => answer(hit));
  });

  after(async () => {
    await app?.close();
  });

  it('sends a message status callback, signed so that validateRequest accepts it', async () => {
    const created = await post('Messages', {
      To: TO,
      From: FROM,
      Body: 'x',
      StatusCallback: `${app.url}/status?org=7`,
    });
    const sid = String(created.json.sid);
    assert.equal(await fake.sendStatus(sid, 'undelivered', { errorCode: 30003 }), 200);
    const hit = app.hits.at(-1);
    assert.ok(hit?.valid, 'the signature validates');
    assert.equal(hit.url, `${app.url}/status?org=7`);
    assert.equal(hit.contentType, 'application/x-www-form-urlencoded');
    assert.deepEqual(
      { ...hit.params, ApiVersion: undefined },
      {
        AccountSid: ACCOUNT,
        ApiVersion: undefined,
        MessageSid: sid,
        SmsSid: sid,
        From: FROM,
        To: TO,
        MessageStatus: 'undelivered',
        SmsStatus: 'undelivered',
        ErrorCode: '30003',
      },
    );
    assert.equal(fake.messages.find((m) => m.sid === sid)?.status, 'undelivered');
    await fake.sendStatus(sid, 'delivered', { signWith: 'another-token' });
    assert.equal(app.hits.at(-1)?.valid, false);
  });

  it('sends a call status callback, by GET when asked, with CallDuration on completed', async () => {
    const created = await post('Calls', {
      To: TO,
      From: FROM,
      Url: `${app.url}/voice`,
      StatusCallback: `${app.url}/call-status`,
      StatusCallbackMethod: 'GET',
    });
    const sid = String(created.json.sid);
    await fake.sendStatus(sid, 'completed', { duration: 42 });
    const hit = app.hits.at(-1);
    assert.equal(hit?.method, 'GET');
    assert.ok(hit?.valid, 'the signature over the URL with its query validates');
    const query = new URL(hit.url).searchParams;
    assert.equal(query.get('CallSid'), sid);
    assert.equal(query.get('CallStatus'), 'completed');
    assert.equal(query.get('CallDuration'), '42');
    assert.equal(query.get('Direction'), 'outbound-api');
  });

  it('delivers an incoming SMS and reads the TwiML answer', async () => {
    fake.setWebhooks({ smsUrl: `${app.url}/sms` });
    answer = (hit) => {
      const twiml = new twilio.twiml.MessagingResponse();
      twiml.message(`Acknowledged <${String(hit.params.Body)}> & done`);
      return { body: twiml.toString() };
    };
    const replied = await fake.reply({ from: TO, body: 'ACK 42' });
    assert.equal(replied.status, 200);
    assert.deepEqual(replied.messages, ['Acknowledged <ACK 42> & done']);
    const hit = app.hits.at(-1);
    assert.ok(hit?.valid);
    assert.equal(hit.params.To, FROM, 'to the number the app sends from');
    assert.match(String(hit.params.MessageSid), /^SM[0-9a-f]{32}$/);
    assert.equal(hit.params.NumMedia, '0');

    answer = () => ({ body: '<?xml version="1.0" encoding="UTF-8"?><Response/>' });
    assert.deepEqual((await fake.reply({ from: TO, body: 'hi' })).messages, []);
    answer = () => ({ type: 'text/plain', body: 'plain text reply' });
    assert.deepEqual((await fake.reply({ from: TO, body: 'hi' })).messages, ['plain text reply']);
    answer = () => ({ status: 403, type: 'text/plain', body: 'bad signature' });
    assert.deepEqual(await fake.reply({ from: TO, body: 'hi', signWith: 'wrong' }), {
      status: 403,
      messages: [],
    });
    assert.equal(app.hits.at(-1)?.valid, false);
  });

  it('answers a call and follows a Gather, a wrong key, a Redirect and a timeout', async () => {
    answer = (hit) => {
      const twiml = new twilio.twiml.VoiceResponse();
      const path = new URL(hit.url).pathname;
      if (path === '/voice') {
        const gather = twiml.gather({
          input: ['dtmf'],
          numDigits: 1,
          action: 'voice/gather?incident=42',
          method: 'POST',
        });
        gather.say('Press 1 to acknowledge.');
        twiml.say('No input received. Goodbye.');
        twiml.hangup();
      } else if (hit.params.Digits === '1') {
        twiml.say('Acknowledged.');
        twiml.hangup();
      } else {
        twiml.say('Sorry.');
        twiml.redirect({ method: 'POST' }, '/voice');
      }
      return { body: twiml.toString() };
    };
    const created = await post('Calls', { To: TO, From: FROM, Url: `${app.url}/voice` });
    const sid = String(created.json.sid);
    const start = app.hits.length;

    const acked = await fake.answerCall(sid, ['1']);
    assert.deepEqual(acked, {
      said: ['Press 1 to acknowledge.', 'Acknowledged.'],
      requests: 2,
      statuses: [200, 200],
      hungUp: true,
    });
    const [first, second] = app.hits.slice(start);
    assert.ok(first?.valid && second?.valid);
    assert.equal(second?.url, `${app.url}/voice/gather?incident=42`);
    assert.equal(second?.params.Digits, '1');
    assert.equal(second?.params.CallSid, sid);
    assert.equal(second?.params.CallStatus, 'in-progress');

    const retried = await fake.answerCall(sid, ['9', '1']);
    assert.deepEqual(retried.said, [
      'Press 1 to acknowledge.',
      'Sorry.',
      'Press 1 to acknowledge.',
      'Acknowledged.',
    ]);
    assert.equal(retried.requests, 4);

    const silent = await fake.answerCall(sid, []);
    assert.deepEqual(silent, {
      said: ['Press 1 to acknowledge.', 'No input received. Goodbye.'],
      requests: 1,
      statuses: [200],
      hungUp: true,
    });

    answer = () => ({ status: 403, type: 'text/plain', body: 'bad signature' });
    const refused = await fake.answerCall(sid, ['1'], { signWith: 'wrong' });
    assert.deepEqual(refused, { said: [], requests: 1, statuses: [403], hungUp: false });
    assert.equal(app.hits.at(-1)?.valid, false);
  });
});

describe('parseTwiml', () => {
  it('reads entities, CDATA, comments and attributes', () => {
    const root = parseTwiml(
      `<?xml version="1.0"?><!-- hi --><Response><Say voice='alice'>A &amp; B &lt;&#x2713;&#10003;&gt;</Say><Message><![CDATA[<raw>]]></Message><Hangup/></Response>`,
    );
    assert.equal(root.name, 'Response');
    // Attributes come without a prototype; spread them to compare.
    const plain = root.children.map((c) =>
      typeof c === 'string' ? c : { ...c, attributes: { ...c.attributes } },
    );
    assert.deepEqual(plain, [
      { name: 'Say', attributes: { voice: 'alice' }, children: ['A & B <✓✓>'] },
      { name: 'Message', attributes: {}, children: ['<raw>'] },
      { name: 'Hangup', attributes: {}, children: [] },
    ]);
  });

  it('refuses a DOCTYPE, unknown entities, mismatched tags and stray text', () => {
    assert.throws(() => parseTwiml('<!DOCTYPE r [<!ENTITY x "y">]><Response>&x;</Response>'), /DOCTYPE/);
    assert.throws(() => parseTwiml('<Response>&nbsp;</Response>'), /unknown entity/);
    assert.throws(() => parseTwiml('<Response>a & b</Response>'), /bare &/);
    assert.throws(() => parseTwiml('<Response><Say></Response></Say>'), /closes/);
    assert.throws(() => parseTwiml('<Response><Say>'), /not closed/);
    assert.throws(() => parseTwiml('hello'), /outside the root/);
    assert.throws(() => parseTwiml('<Response/><Response/>'), /more than one root/);
  });
});
