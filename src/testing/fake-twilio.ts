import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formParams, twilioSignature, type TwilioParams } from '../notify/twilio/signature.js';

/**
 * A local Twilio: the REST API 2010-04-01 for sending SMS and placing calls, checked as Twilio checks
 * them, and Twilio's side of the webhooks (status callbacks, an incoming SMS, a person answering a call and
 * pressing keys), each signed with X-Twilio-Signature as Twilio signs them.
 *
 * The API answers what Twilio answers:
 * - an unknown route or another account's SID in the path (404, 20404), a method other than POST (405,
 *   20004), no or wrong HTTP Basic `AccountSid:AuthToken` (401, 20003);
 * - a missing or invalid field, with Twilio's JSON error body `{code, message, more_info, status}` (400):
 *   see `check` below. A body that is not application/x-www-form-urlencoded is read as no fields at all;
 * - the magic `To` numbers of Twilio's test credentials (+15005550001…9), for calls as well as messages
 *   (for calls a convention of this fake: Twilio does not document them), and the magic `From` numbers;
 * - 201 with the message or call resource as Twilio returns it.
 * `failNext` makes the next requests fail (429 / 20429, 5xx) before anything is checked, as Twilio's
 * concurrency limit does.
 */

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
  /**
   * Phone numbers the account owns. When given, a `From` that is not one of them is refused (21606), and
   * the first is the number an incoming SMS goes to when nothing was sent yet. Otherwise any E.164 number
   * (or alphanumeric sender ID) is taken.
   */
  numbers?: string[];
}

/** One request to the REST API, whatever was answered. */
export interface ApiRequest {
  method: string;
  path: string;
  form: TwilioParams;
  status: number;
  /** Twilio's error code, when refused. */
  code?: number;
  /** Why, in words (for a test's failure message). */
  reason?: string;
  at: Date;
}

export interface FakeMessage {
  sid: string;
  /** Every form field as sent; a repeated one as an array. */
  form: TwilioParams;
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string;
  statusCallback: string | undefined;
  /** The latest status: 'queued' (or 'accepted' through a Messaging Service), then what sendStatus sent. */
  status: string;
  /** The JSON the API answered. */
  resource: Record<string, unknown>;
  at: Date;
}

export interface FakeCall {
  sid: string;
  form: TwilioParams;
  to: string;
  from: string;
  url: string | undefined;
  method: HttpMethod;
  twiml: string | undefined;
  statusCallback: string | undefined;
  statusCallbackMethod: HttpMethod;
  statusCallbackEvents: string[];
  status: string;
  resource: Record<string, unknown>;
  at: Date;
}

export type HttpMethod = 'GET' | 'POST';

export interface SignOptions {
  /** Sign with this token instead of the account's, to check that the app refuses the request. */
  signWith?: string;
}

export interface SmsReply {
  /** The app's HTTP status. */
  status: number;
  /** What Twilio would text back: each <Message> of the TwiML, or a text/plain body. */
  messages: string[];
}

export interface CallTranscript {
  /** Every <Say>, in the order the caller heard them. */
  said: string[];
  /** How many webhook requests were made. */
  requests: number;
  /** The app's HTTP status for each of them. */
  statuses: number[];
  /** The call ended on <Hangup/> or <Reject/> (rather than at the end of a document or on an error). */
  hungUp: boolean;
}

export interface FakeTwilio {
  /** http://127.0.0.1:<port>, to use in place of https://api.twilio.com */
  url: string;
  accountSid: string;
  /** Messages and calls accepted, in order. */
  messages: FakeMessage[];
  calls: FakeCall[];
  /** Every API request, accepted or refused. */
  requests: ApiRequest[];
  /** The next `count` API requests answer `status` with `code` (default 20429 for 429, 20500 otherwise). */
  failNext(count: number, status: number, code?: number): void;
  /** Resolves with the messages once at least `count` were accepted; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<FakeMessage[]>;
  waitForCalls(count: number, timeoutMs?: number): Promise<FakeCall[]>;
  /** Where incoming SMS go: the number's "A message comes in" webhook. */
  setWebhooks(hooks: { smsUrl?: string; smsMethod?: HttpMethod }): void;
  /**
   * Twilio reporting a status change: calls the StatusCallback given when the message or call was
   * created. `duration` (seconds, default 0) is sent as CallDuration when a call is completed. Resolves
   * with the app's HTTP status.
   */
  sendStatus(
    sid: string,
    status: string,
    options?: SignOptions & { errorCode?: number | string; duration?: number },
  ): Promise<number>;
  /** An SMS from `from` to `to` (default: the number the app last sent from). */
  reply(sms: SignOptions & { from: string; to?: string; body: string }): Promise<SmsReply>;
  /**
   * Answers the call and plays it through: fetches its Url, collects <Say>s, answers each <Gather> with
   * the next entry of `digits` (none left: the Gather times out), follows <Redirect>s, until <Hangup/>,
   * the end of a document or an error status.
   */
  answerCall(sid: string, digits: string[], options?: SignOptions): Promise<CallTranscript>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Errors as Twilio words them

interface TwilioError {
  status: number;
  code: number;
  message: string;
}

class Refusal extends Error {
  constructor(readonly error: TwilioError) {
    super(error.message);
  }
}

function refuse(status: number, code: number, message: string): never {
  throw new Refusal({ status, code, message });
}

function errorBody(error: TwilioError): string {
  return JSON.stringify({
    code: error.code,
    message: error.message,
    more_info: `https://www.twilio.com/docs/errors/${error.code}`,
    status: error.status,
  });
}

const API_VERSION = '2010-04-01';
const MAX_BODY = 64 * 1024;
const MAX_MESSAGE_BODY = 1600;
const MAX_TWIML = 4000;
const E164 = /^\+[1-9]\d{1,14}$/;
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
const MESSAGE_STATUSES = new Set([
  'queued',
  'sending',
  'sent',
  'failed',
  'delivered',
  'undelivered',
  'receiving',
  'received',
  'accepted',
  'scheduled',
  'read',
  'partially_delivered',
  'canceled',
]);
const CALL_STATUSES = new Set([
  'queued',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
]);

/** Test credentials' magic `To` numbers (https://www.twilio.com/docs/iam/test-credentials). */
function magicTo(to: string, from: string): TwilioError | undefined {
  const table: Record<string, [number, string]> = {
    '+15005550001': [21211, `The 'To' number ${to} is not a valid phone number.`],
    '+15005550002': [
      21612,
      `The 'To' phone number: ${to}, is not currently reachable using the 'From' phone number: ${from} via SMS.`,
    ],
    '+15005550003': [
      21408,
      `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${to}.`,
    ],
    '+15005550004': [21610, 'Attempt to send to unsubscribed recipient'],
    '+15005550009': [21614, `'To' number ${to} is not a valid mobile number`],
  };
  const hit = table[to];
  return hit && { status: 400, code: hit[0], message: hit[1] };
}

/** Test credentials' magic `From` numbers. */
function magicFrom(from: string): TwilioError | undefined {
  const table: Record<string, [number, string]> = {
    '+15005550001': [
      21212,
      `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
    ],
    '+15005550007': [
      21606,
      `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination/account`,
    ],
    '+15005550008': [
      21611,
      `This 'From' number (${from}) has exceeded the maximum number of queued messages`,
    ],
  };
  const hit = table[from];
  return hit && { status: 400, code: hit[0], message: hit[1] };
}

// ---------------------------------------------------------------------------------------------------
// Reading requests

function first(form: TwilioParams, key: string): string | undefined {
  const value = form[key];
  return typeof value === 'string' ? value : value?.[0];
}

function all(form: TwilioParams, key: string): string[] {
  const value = form[key];
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAX_BODY) refuse(413, 20001, 'Request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isForm(req: http.IncomingMessage): boolean {
  const type = req.headers['content-type'] ?? '';
  return type.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function isWebhookUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  // Twilio refuses underscores in a callback's host name.
  return (url.protocol === 'https:' || url.protocol === 'http:') && !url.hostname.includes('_');
}

function isHttpMethod(method: string): method is HttpMethod {
  return method === 'GET' || method === 'POST';
}

/** A Method field of the API. [U] the code: Twilio's for a bad Method was not found. */
function apiMethod(value: string | undefined, field: string): HttpMethod {
  const method = (value || 'POST').toUpperCase();
  if (!isHttpMethod(method)) refuse(400, 20001, `${field} must be GET or POST`);
  return method;
}

/** A method attribute of TwiML: a wrong one is the app's bug, so the test fails on it. */
function twimlMethod(value: string | undefined, verb: string): HttpMethod {
  const method = (value || 'POST').toUpperCase();
  if (!isHttpMethod(method)) throw new Error(`TwiML: <${verb} method="${value}"> is not GET or POST`);
  return method;
}

// ---------------------------------------------------------------------------------------------------
// Resources

function newSid(prefix: 'SM' | 'CA'): string {
  return prefix + randomBytes(16).toString('hex');
}

/** RFC 2822, as Twilio writes dates: "Thu, 24 Aug 2023 05:01:45 +0000". */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

const GSM7 =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';

/** Segments as carriers count them: 160 GSM-7 septets or 70 UCS-2 units, 153 / 67 once split. */
function segments(body: string): number {
  const gsm = [...body].every((c) => GSM7.includes(c) || GSM7_EXTENDED.includes(c));
  const units = gsm ? [...body].reduce((n, c) => n + (GSM7_EXTENDED.includes(c) ? 2 : 1), 0) : body.length;
  const [single, part] = gsm ? [160, 153] : [70, 67];
  return units <= single ? 1 : Math.ceil(units / part);
}

function messageResource(accountSid: string, m: Omit<FakeMessage, 'resource'>): Record<string, unknown> {
  const uri = `/${API_VERSION}/Accounts/${accountSid}/Messages/${m.sid}`;
  return {
    account_sid: accountSid,
    api_version: API_VERSION,
    body: m.body,
    date_created: rfc2822(m.at),
    date_sent: null,
    date_updated: rfc2822(m.at),
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: m.from ?? null,
    messaging_service_sid: m.messagingServiceSid ?? null,
    // A Messaging Service picks the sender later; until then Twilio answers "0".
    num_media: String(all(m.form, 'MediaUrl').length),
    num_segments: m.from === undefined ? '0' : String(segments(m.body)),
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    to: m.to,
    uri: `${uri}.json`,
  };
}

function callResource(accountSid: string, c: Omit<FakeCall, 'resource'>): Record<string, unknown> {
  const uri = `/${API_VERSION}/Accounts/${accountSid}/Calls/${c.sid}`;
  return {
    account_sid: accountSid,
    annotation: null,
    answered_by: null,
    api_version: API_VERSION,
    caller_name: null,
    date_created: rfc2822(c.at),
    date_updated: rfc2822(c.at),
    direction: 'outbound-api',
    duration: null,
    end_time: null,
    forwarded_from: null,
    from: c.from,
    from_formatted: c.from,
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: null,
    price: null,
    price_unit: 'USD',
    queue_time: '0',
    sid: c.sid,
    start_time: null,
    status: c.status,
    subresource_uris: {
      notifications: `${uri}/Notifications.json`,
      recordings: `${uri}/Recordings.json`,
      payments: `${uri}/Payments.json`,
      events: `${uri}/Events.json`,
    },
    to: c.to,
    to_formatted: c.to,
    trunk_sid: null,
    uri: `${uri}.json`,
  };
}

// ---------------------------------------------------------------------------------------------------
// TwiML: a small XML reader for the documents the app answers with. No DTD, so no entity expansion.

export interface TwimlElement {
  name: string;
  attributes: Record<string, string>;
  children: TwimlNode[];
}
export type TwimlNode = TwimlElement | string;

const XML_NAME = '[A-Za-z_][\\w.:-]*';
const XML_TAG = new RegExp(
  `<(/?)(${XML_NAME})((?:\\s+${XML_NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`,
  'y',
);
const XML_ATTRIBUTE = new RegExp(`(${XML_NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, 'g');
const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&([^;&\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw new Error(`TwiML: a bare & in ${JSON.stringify(text)}`);
    const named = XML_ENTITIES[name];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9a-fA-F]+)|(\d+))$/.exec(name);
    if (!numeric) throw new Error(`TwiML: unknown entity &${name};`);
    const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2]);
    if (code > 0x10ffff) throw new Error(`TwiML: &${name}; is not a character`);
    return String.fromCodePoint(code);
  });
}

function attributesOf(source: string): Record<string, string> {
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const match of source.matchAll(XML_ATTRIBUTE)) {
    attributes[match[1] ?? ''] = decodeEntities(match[2] ?? match[3] ?? '');
  }
  return attributes;
}

/** Skips `<?…?>`, `<!--…-->`; returns CDATA text; refuses a DOCTYPE. Undefined when at a tag. */
function markup(xml: string, at: number): { end: number; text?: string } | undefined {
  const skip = (open: string, close: string) => {
    const end = xml.indexOf(close, at + open.length);
    if (end < 0) throw new Error(`TwiML: unclosed ${open}`);
    return end + close.length;
  };
  if (xml.startsWith('<?', at)) return { end: skip('<?', '?>') };
  if (xml.startsWith('<!--', at)) return { end: skip('<!--', '-->') };
  if (xml.startsWith('<![CDATA[', at)) {
    const end = skip('<![CDATA[', ']]>');
    return { end, text: xml.slice(at + 9, end - 3) };
  }
  if (xml.startsWith('<!', at)) throw new Error('TwiML: a DOCTYPE or other declaration is not allowed');
  return undefined;
}

export function parseTwiml(xml: string): TwimlElement {
  const stack: TwimlElement[] = [];
  let root: TwimlElement | undefined;
  const addText = (text: string) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(text);
    else if (text.trim() !== '') throw new Error('TwiML: text outside the root element');
  };
  let at = 0;
  while (at < xml.length) {
    if (xml[at] !== '<') {
      const next = xml.indexOf('<', at);
      const end = next < 0 ? xml.length : next;
      addText(decodeEntities(xml.slice(at, end)));
      at = end;
      continue;
    }
    const other = markup(xml, at);
    if (other) {
      if (other.text !== undefined) addText(other.text);
      at = other.end;
      continue;
    }
    XML_TAG.lastIndex = at;
    const tag = XML_TAG.exec(xml);
    if (!tag) throw new Error(`TwiML: malformed tag at ${at}: ${xml.slice(at, at + 40)}`);
    at = XML_TAG.lastIndex;
    const [, closing, name = '', attributes = '', selfClosing] = tag;
    if (closing) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`TwiML: </${name}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const element: TwimlElement = { name, attributes: attributesOf(attributes), children: [] };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else if (root) throw new Error('TwiML: more than one root element');
    else root = element;
    if (!selfClosing) stack.push(element);
  }
  if (stack.length > 0) throw new Error(`TwiML: <${stack[stack.length - 1]?.name}> is not closed`);
  if (!root) throw new Error('TwiML: no root element');
  return root;
}

/** The text of an element and its descendants (SSML inside <Say>), whitespace collapsed. */
function textOf(element: TwimlElement): string {
  const parts = element.children.map((c) => (typeof c === 'string' ? c : textOf(c)));
  return parts.join('').replace(/\s+/g, ' ').trim();
}

function elementsOf(element: TwimlElement): TwimlElement[] {
  return element.children.filter((c): c is TwimlElement => typeof c !== 'string');
}

function responseOf(xml: string): TwimlElement {
  const root = parseTwiml(xml);
  if (root.name !== 'Response') throw new Error(`TwiML: the root is <${root.name}>, not <Response>`);
  return root;
}

// ---------------------------------------------------------------------------------------------------
// Twilio calling the app

interface AppAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * One signed webhook request. For GET the params go in the query string and the signature covers the
 * whole URL with no params; for POST it covers the URL and the form params.
 */
async function callApp(
  url: string,
  method: HttpMethod,
  params: TwilioParams,
  token: string,
): Promise<AppAnswer> {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of typeof value === 'string' ? [value] : value) form.append(key, v);
  }
  const target = method === 'GET' ? `${url}${url.includes('?') ? '&' : '?'}${form.toString()}` : url;
  const signature =
    method === 'GET' ? twilioSignature(token, target, {}) : twilioSignature(token, url, params);
  const headers: Record<string, string> = {
    'x-twilio-signature': signature,
    'i-twilio-idempotency-token': randomUUID(),
    'user-agent': 'TwilioProxy/1.1',
    accept: '*/*',
  };
  if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
  const response = await fetch(target, {
    method,
    headers,
    body: method === 'POST' ? form.toString() : undefined,
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  return {
    status: response.status,
    contentType: (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '',
    body: await response.text(),
  };
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

const XML_TYPES = new Set(['text/xml', 'application/xml', 'text/html']);

/** What Twilio texts back for an incoming SMS's answer (https://www.twilio.com/docs/messaging/twiml). */
function smsReplies(answer: AppAnswer): string[] {
  if (!isOk(answer.status) || answer.body.trim() === '') return [];
  if (answer.contentType === 'text/plain') return [answer.body];
  if (!XML_TYPES.has(answer.contentType))
    throw new Error(`Twilio refuses an SMS answer of Content-Type ${answer.contentType} (error 12300)`);
  return elementsOf(responseOf(answer.body))
    .filter((e) => e.name === 'Message')
    .map((e) => {
      const body = elementsOf(e).find((c) => c.name === 'Body');
      return textOf(body ?? e);
    });
}

interface NextRequest {
  url: string;
  method: HttpMethod;
  extra: TwilioParams;
}

interface Document {
  url: string | undefined;
  twiml: TwimlElement;
}

const IGNORED_VERBS = new Set(['Play', 'Pause', 'Dial', 'Record', 'Enqueue', 'Leave', 'Sms', 'Message']);
/** A loop guard: a real call would go on, a test would hang. */
const MAX_WEBHOOKS = 50;

function resolveUrl(target: string, base: string | undefined): string {
  if (/^https?:\/\//i.test(target)) return target;
  if (base === undefined) throw new Error(`TwiML: relative URL ${target} in inline Twiml`);
  return new URL(target, base).toString();
}

/** A <Gather>: its prompts are heard, then it takes the next entry of `digits` or times out. */
function gather(
  verb: TwimlElement,
  doc: Document,
  digits: string[],
  said: string[],
): NextRequest | undefined {
  for (const child of elementsOf(verb)) if (child.name === 'Say') said.push(textOf(child));
  const finishOnKey = verb.attributes.finishOnKey ?? '#';
  const pressed = digits.shift();
  if (pressed === undefined && verb.attributes.actionOnEmptyResult !== 'true') return undefined;
  const request: NextRequest = {
    url: resolveUrl(verb.attributes.action ?? doc.url ?? '', doc.url),
    method: twimlMethod(verb.attributes.method, 'Gather'),
    extra: {},
  };
  if (pressed !== undefined) {
    const finished = finishOnKey !== '' && pressed.endsWith(finishOnKey);
    const keys = finished ? pressed.slice(0, -finishOnKey.length) : pressed;
    // Twilio stops listening after numDigits keys.
    const numDigits = Number(verb.attributes.numDigits);
    const heard = Number.isInteger(numDigits) && numDigits > 0 ? keys.slice(0, numDigits) : keys;
    request.extra = { Digits: heard, FinishedOnKey: finished ? finishOnKey : '' };
  }
  return request;
}

/** Plays a document's verbs; returns the request it leads to, or undefined when the call ends. */
function play(doc: Document, digits: string[], transcript: CallTranscript): NextRequest | undefined {
  for (const verb of elementsOf(doc.twiml)) {
    if (verb.name === 'Say') transcript.said.push(textOf(verb));
    else if (verb.name === 'Gather') {
      const next = gather(verb, doc, digits, transcript.said);
      if (next) return next;
    } else if (verb.name === 'Redirect') {
      const method = twimlMethod(verb.attributes.method, 'Redirect');
      return { url: resolveUrl(textOf(verb), doc.url), method, extra: {} };
    } else if (verb.name === 'Hangup' || verb.name === 'Reject') {
      transcript.hungUp = true;
      return undefined;
    } else if (!IGNORED_VERBS.has(verb.name)) throw new Error(`TwiML: <${verb.name}> is not a voice verb`);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// The server

interface Failures {
  count: number;
  status: number;
  code: number;
}

function defaultFailureCode(status: number): number {
  if (status === 429) return 20429;
  if (status === 503) return 20503;
  return 20500;
}

const FAILURE_MESSAGES: Record<number, string> = {
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export async function startFakeTwilio(options: FakeTwilioOptions): Promise<FakeTwilio> {
  const { accountSid, authToken } = options;
  const owned = options.numbers ? new Set(options.numbers) : undefined;
  const messages: FakeMessage[] = [];
  const calls: FakeCall[] = [];
  const requests: ApiRequest[] = [];
  const failures: Failures = { count: 0, status: 500, code: 20500 };
  const waiters = new Set<() => void>();
  const sequence = new Map<string, number>();
  let webhooks: { smsUrl?: string; smsMethod?: HttpMethod } = {};

  function checkFrom(from: string) {
    const magic = magicFrom(from);
    if (magic) throw new Refusal(magic);
    if (!E164.test(from) && !ALPHANUMERIC_SENDER.test(from))
      refuse(
        400,
        21212,
        `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
      );
    if (owned && !owned.has(from))
      refuse(
        400,
        21606,
        `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination/account`,
      );
  }

  function checkTo(to: string, from: string) {
    if (!E164.test(to)) refuse(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const magic = magicTo(to, from);
    if (magic) throw new Refusal(magic);
    // [U] the code: Twilio's dictionary has 21266 for To equal to From.
    if (to === from) refuse(400, 21266, "'To' and 'From' number cannot be the same");
  }

  function checkCallback(form: TwilioParams, field: string) {
    const value = first(form, field);
    if (value !== undefined && !isWebhookUrl(value))
      refuse(400, 21609, `The ${field} URL ${value} is not a valid URL.`);
  }

  function createMessage(form: TwilioParams): FakeMessage {
    const to = first(form, 'To');
    const from = first(form, 'From') || undefined;
    const service = first(form, 'MessagingServiceSid') || undefined;
    const body = first(form, 'Body') ?? '';
    if (!to) refuse(400, 21604, "A 'To' phone number is required.");
    if (!from && !service) refuse(400, 21603, "A 'From' phone number is required.");
    if (!body && !first(form, 'MediaUrl') && !first(form, 'ContentSid'))
      refuse(400, 21602, 'Message body is required.');
    checkTo(to, from ?? '');
    if (from) checkFrom(from);
    if (service && !/^MG[0-9a-fA-F]{32}$/.test(service))
      refuse(400, 21701, `The Messaging Service Sid ${service} is invalid.`);
    if ([...body].length > MAX_MESSAGE_BODY)
      refuse(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    checkCallback(form, 'StatusCallback');
    const message: Omit<FakeMessage, 'resource'> = {
      sid: newSid('SM'),
      form,
      to,
      from,
      messagingServiceSid: service,
      body,
      statusCallback: first(form, 'StatusCallback'),
      status: service ? 'accepted' : 'queued',
      at: new Date(),
    };
    return { ...message, resource: messageResource(accountSid, message) };
  }

  function createCall(form: TwilioParams): FakeCall {
    const to = first(form, 'To');
    const from = first(form, 'From');
    const url = first(form, 'Url') || undefined;
    // Twilio ignores Twiml when Url is given.
    const twiml = url ? undefined : first(form, 'Twiml') || undefined;
    // [U] 21201 / 21213 are the call API's codes for a missing To / From in Twilio's error dictionary.
    if (!to) refuse(400, 21201, "No 'To' number is specified");
    if (!from) refuse(400, 21213, "No 'From' number is specified");
    if (!url && !twiml && !first(form, 'ApplicationSid'))
      refuse(400, 21205, 'Url parameter is required. Please provide a Url, Twiml or ApplicationSid.');
    checkTo(to, from);
    checkFrom(from);
    if (url && !isWebhookUrl(url)) refuse(400, 21205, `Url is not a valid URL: ${url}`);
    if (twiml && twiml.length > MAX_TWIML) refuse(400, 21220, 'Twiml exceeds the 4000 character limit');
    checkCallback(form, 'StatusCallback');
    const call: Omit<FakeCall, 'resource'> = {
      sid: newSid('CA'),
      form,
      to,
      from,
      url,
      method: apiMethod(first(form, 'Method'), 'Method'),
      twiml,
      statusCallback: first(form, 'StatusCallback'),
      statusCallbackMethod: apiMethod(first(form, 'StatusCallbackMethod'), 'StatusCallbackMethod'),
      statusCallbackEvents: all(form, 'StatusCallbackEvent'),
      status: 'queued',
      at: new Date(),
    };
    return { ...call, resource: callResource(accountSid, call) };
  }

  const ROUTE = new RegExp(`^/${API_VERSION}/Accounts/([^/]+)/(Messages|Calls)\\.json$`);

  /** Everything up to the fields: route, scripted failure, credentials, account, method. */
  function admit(req: http.IncomingMessage, path: string): 'Messages' | 'Calls' {
    const route = ROUTE.exec(path);
    if (!route) refuse(404, 20404, `The requested resource ${path} was not found`);
    if (failures.count > 0) {
      failures.count--;
      refuse(failures.status, failures.code, FAILURE_MESSAGES[failures.status] ?? 'Scripted failure');
    }
    const credentials = basicCredentials(req.headers.authorization);
    if (credentials?.user !== accountSid || credentials.password !== authToken)
      refuse(401, 20003, 'Authentication Error');
    if (route[1] !== accountSid) refuse(404, 20404, `The requested resource ${path} was not found`);
    if (req.method !== 'POST') refuse(405, 20004, 'Method not allowed');
    return route[2] === 'Calls' ? 'Calls' : 'Messages';
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, record: ApiRequest) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    record.path = path;
    const body = await readBody(req);
    // Twilio reads only form bodies: anything else arrives as no fields at all.
    record.form = isForm(req) ? formParams(body) : {};
    if (!isForm(req)) record.reason = 'the body is not application/x-www-form-urlencoded';
    const kind = admit(req, path);
    let resource: Record<string, unknown>;
    if (kind === 'Messages') {
      const message = createMessage(record.form);
      messages.push(message);
      resource = message.resource;
    } else {
      const call = createCall(record.form);
      calls.push(call);
      resource = call.resource;
    }
    for (const wake of waiters) wake();
    record.status = 201;
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(resource));
  }

  const server = http.createServer((req, res) => {
    const record: ApiRequest = { method: req.method ?? '', path: '', form: {}, status: 0, at: new Date() };
    requests.push(record);
    handle(req, res, record).catch((error: unknown) => {
      const refusal =
        error instanceof Refusal
          ? error.error
          : { status: 500, code: 20500, message: error instanceof Error ? error.message : String(error) };
      record.status = refusal.status;
      record.code = refusal.code;
      record.reason = record.reason ? `${record.reason}: ${refusal.message}` : refusal.message;
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      res.writeHead(refusal.status, headers);
      res.end(errorBody(refusal));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function waitFor<T>(list: T[], count: number, timeoutMs: number, what: string): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (list.length < count) return;
        cleanup();
        resolve(list.slice());
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${list.length} ${what} after ${timeoutMs} ms, not ${count}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  function messageParams(message: FakeMessage, status: string): TwilioParams {
    const params: TwilioParams = {
      AccountSid: accountSid,
      ApiVersion: API_VERSION,
      MessageSid: message.sid,
      SmsSid: message.sid,
      // A Messaging Service has picked a sender by the time the message moves on.
      From: message.from ?? options.numbers?.[0] ?? '+15005550006',
      To: message.to,
      MessageStatus: status,
      SmsStatus: status,
    };
    if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
    return params;
  }

  function callParams(call: FakeCall, status: string): TwilioParams {
    return {
      AccountSid: accountSid,
      ApiVersion: API_VERSION,
      CallSid: call.sid,
      CallStatus: status,
      Direction: 'outbound-api',
      From: call.from,
      Caller: call.from,
      To: call.to,
      Called: call.to,
    };
  }

  type StatusExtra = { errorCode?: number | string; duration?: number };
  type Webhook = { url: string; method: HttpMethod; params: TwilioParams };

  function statusRequest(sid: string, status: string, extra: StatusExtra): Webhook {
    const message = messages.find((m) => m.sid === sid);
    const call = calls.find((c) => c.sid === sid);
    const request = message
      ? statusWebhook(message, status, MESSAGE_STATUSES, () => messageParams(message, status))
      : call
        ? statusWebhook(call, status, CALL_STATUSES, () => callStatusParams(call, status, extra))
        : undefined;
    if (!request) throw new Error(`no message or call ${sid}`);
    if (extra.errorCode !== undefined) request.params.ErrorCode = String(extra.errorCode);
    // Messages have no StatusCallbackMethod: Twilio always POSTs theirs.
    request.method = call?.statusCallbackMethod ?? 'POST';
    return request;
  }

  function statusWebhook(
    target: FakeMessage | FakeCall,
    status: string,
    valid: Set<string>,
    params: () => TwilioParams,
  ): Webhook {
    if (!target.statusCallback) throw new Error(`${target.sid} was created without a StatusCallback`);
    if (!valid.has(status)) throw new Error(`${status} is not a Twilio status for ${target.sid}`);
    target.status = status;
    target.resource.status = status;
    return { url: target.statusCallback, method: 'POST', params: params() };
  }

  function callStatusParams(call: FakeCall, status: string, extra: { duration?: number }): TwilioParams {
    const seq = sequence.get(call.sid) ?? 0;
    sequence.set(call.sid, seq + 1);
    const params: TwilioParams = {
      ...callParams(call, status),
      // [U] seen in public handlers; Twilio's own table was not retrieved.
      CallbackSource: 'call-progress-events',
      Timestamp: rfc2822(new Date()),
      SequenceNumber: String(seq),
    };
    if (status === 'completed') params.CallDuration = String(extra.duration ?? 0);
    return params;
  }

  async function answerCall(sid: string, digits: string[], signOptions: SignOptions = {}) {
    const call = calls.find((c) => c.sid === sid);
    if (!call) throw new Error(`no call ${sid}`);
    const token = signOptions.signWith ?? authToken;
    const queue = [...digits];
    const transcript: CallTranscript = { said: [], requests: 0, statuses: [], hungUp: false };
    let next: NextRequest | undefined = call.url
      ? { url: call.url, method: call.method, extra: {} }
      : undefined;
    let doc: Document | undefined = call.twiml
      ? { url: undefined, twiml: responseOf(call.twiml) }
      : undefined;
    call.status = 'in-progress';
    call.resource.status = 'in-progress';
    while (transcript.requests < MAX_WEBHOOKS) {
      if (next) {
        const params = { ...callParams(call, 'in-progress'), ...next.extra };
        const answer = await callApp(next.url, next.method, params, token);
        transcript.requests++;
        transcript.statuses.push(answer.status);
        if (!isOk(answer.status)) break;
        if (!XML_TYPES.has(answer.contentType))
          throw new Error(
            `Twilio refuses a voice answer of Content-Type ${answer.contentType} (error 12300)`,
          );
        doc = { url: next.url, twiml: responseOf(answer.body) };
      }
      if (!doc) break;
      next = play(doc, queue, transcript);
      if (!next) break;
    }
    return transcript;
  }

  async function reply(sms: SignOptions & { from: string; to?: string; body: string }): Promise<SmsReply> {
    if (!webhooks.smsUrl) throw new Error('no smsUrl: call setWebhooks first');
    const to = sms.to ?? messages.findLast((m) => m.from)?.from ?? options.numbers?.[0];
    if (!to) throw new Error('reply needs `to`: nothing was sent yet and no numbers were given');
    const sid = newSid('SM');
    const params: TwilioParams = {
      AccountSid: accountSid,
      ApiVersion: API_VERSION,
      MessageSid: sid,
      SmsMessageSid: sid,
      SmsSid: sid,
      SmsStatus: 'received',
      From: sms.from,
      To: to,
      Body: sms.body,
      NumMedia: '0',
      NumSegments: String(segments(sms.body)),
    };
    const answer = await callApp(
      webhooks.smsUrl,
      webhooks.smsMethod ?? 'POST',
      params,
      sms.signWith ?? authToken,
    );
    return { status: answer.status, messages: smsReplies(answer) };
  }

  return {
    url,
    accountSid,
    messages,
    calls,
    requests,
    failNext(count, status, code) {
      failures.count = count;
      failures.status = status;
      failures.code = code ?? defaultFailureCode(status);
    },
    waitForMessages: (count, timeoutMs = 5000) => waitFor(messages, count, timeoutMs, 'messages'),
    waitForCalls: (count, timeoutMs = 5000) => waitFor(calls, count, timeoutMs, 'calls'),
    setWebhooks(hooks) {
      webhooks = { ...webhooks, ...hooks };
    },
    async sendStatus(sid, status, statusOptions = {}) {
      const request = statusRequest(sid, status, statusOptions);
      const token = statusOptions.signWith ?? authToken;
      return (await callApp(request.url, request.method, request.params, token)).status;
    },
    reply,
    answerCall,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
