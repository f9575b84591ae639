import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, ConfigError } from '../../config.js';
import type { OutgoingNotification } from '../channel.js';
import { parseSmsReply, smsText } from './sms-text.js';

function page(
  tinyId: string,
  message: string,
  kind: OutgoingNotification['kind'] = 'create-alert',
): OutgoingNotification {
  return {
    idempotencyKey: `k${tinyId}`,
    notificationId: `n${tinyId}`,
    kind,
    to: { address: '+14155550123', name: 'Pat', userId: 'u1', timeZone: 'UTC' },
    alert: {
      id: `a${tinyId}`,
      orgId: 'o1',
      tinyId,
      message,
      description: '',
      priority: 'P1',
      status: 'open',
      acknowledged: false,
      source: 'Security Hub',
      entity: '',
      tags: [],
      details: {},
      count: 1,
      createdAt: new Date(0),
      integrationName: null,
    },
    reason: '',
    ...(kind !== 'create-alert' ? { actor: 'Alice' } : {}),
    links: { view: 'https://vigil.example.com/alerts/a1' },
  };
}

describe('the text of an SMS', () => {
  it('names the alert and its answers in one short text', () => {
    const text = smsText([page('12', 'Disk full on db-1')], 3);
    assert.equal(text, 'Vigil [P1] Disk full on db-1 (#12). Reply 3a to acknowledge, 3c to close');
    assert.ok(text.length <= 160);
  });

  it('keeps a long message short and on one line', () => {
    const text = smsText([page('12', `${'x'.repeat(300)}\nsecond line`)], 1);
    assert.ok(text.length < 160, `${text.length}`);
    assert.doesNotMatch(text, /\n/);
    assert.match(text, /Reply 1a to acknowledge, 1c to close$/);
  });

  it('bundles alerts due together, with one code for all', () => {
    const text = smsText([page('1', 'CPU high'), page('2', 'Disk full'), page('3', 'Root login')], 4);
    assert.equal(
      text,
      'Vigil, 3 alerts: [P1] CPU high (#1); [P1] Disk full (#2); [P1] Root login (#3). Reply 4aa to acknowledge all, 4cc to close all',
    );
  });

  it('lists as many of a storm as fit, and counts the rest', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      page(String(i + 1), `alert number ${i + 1} ${'y'.repeat(30)}`),
    );
    const text = smsText(many, 9);
    assert.ok(text.length <= 600, `${text.length}`);
    assert.match(text, /^Vigil, 40 alerts:/);
    assert.match(text, /and \d+ more\. Reply 9aa to acknowledge all, 9cc to close all$/);
  });

  it('tells who acted, without answers, when nothing can be answered', () => {
    assert.equal(
      smsText([page('7', 'Disk full', 'acknowledged-alert')], undefined),
      'Vigil [P1] Acknowledged by Alice: Disk full (#7)',
    );
  });
});

describe('a reply', () => {
  it('reads codes and letters as people type them', () => {
    assert.deepEqual(parseSmsReply('1a'), { kind: 'answer', code: 1, action: 'acknowledge' });
    assert.deepEqual(parseSmsReply(' 12 AA '), { kind: 'answer', code: 12, action: 'acknowledge' });
    assert.deepEqual(parseSmsReply('3c'), { kind: 'answer', code: 3, action: 'close' });
    assert.deepEqual(parseSmsReply('3cc'), { kind: 'answer', code: 3, action: 'close' });
    assert.deepEqual(parseSmsReply('4 ack'), { kind: 'answer', code: 4, action: 'acknowledge' });
    assert.deepEqual(parseSmsReply('STOP'), { kind: 'stop' });
    assert.deepEqual(parseSmsReply('unsubscribe'), { kind: 'stop' });
    assert.deepEqual(parseSmsReply('Start'), { kind: 'start' });
    assert.deepEqual(parseSmsReply('help'), { kind: 'help' });
    for (const other of ['0a', 'a1', '1x', '', 'ok thanks', '1234567a']) {
      assert.deepEqual(parseSmsReply(other), { kind: 'unknown' }, other);
    }
  });
});

describe('Twilio settings', () => {
  const sid = `AC${'0'.repeat(32)}`;
  it('are all three or none', () => {
    assert.equal(loadConfig({}).twilio, undefined);
    assert.throws(() => loadConfig({ VIGIL_TWILIO_ACCOUNT_SID: sid }), ConfigError);
    const config = loadConfig({
      VIGIL_TWILIO_ACCOUNT_SID: sid,
      VIGIL_TWILIO_AUTH_TOKEN: 'token',
      VIGIL_TWILIO_FROM: '+14155550100',
    });
    assert.deepEqual(config.twilio, {
      accountSid: sid,
      authToken: 'token',
      from: '+14155550100',
      apiUrl: 'https://api.twilio.com',
    });
  });

  it('refuse what is not a SID, a number or a Messaging Service, with what to give', () => {
    const base = {
      VIGIL_TWILIO_ACCOUNT_SID: sid,
      VIGIL_TWILIO_AUTH_TOKEN: 't',
      VIGIL_TWILIO_FROM: '+14155550100',
    };
    assert.throws(() => loadConfig({ ...base, VIGIL_TWILIO_ACCOUNT_SID: 'SK123' }), /Account SID/);
    assert.throws(() => loadConfig({ ...base, VIGIL_TWILIO_FROM: '4155550100' }), /E\.164/);
    assert.doesNotThrow(() => loadConfig({ ...base, VIGIL_TWILIO_FROM: `MG${'a'.repeat(32)}` }));
    assert.throws(() => loadConfig({ ...base, VIGIL_TWILIO_API_URL: 'ftp://x' }), /VIGIL_TWILIO_API_URL/);
  });
});

/** Pages of one alert due together (repeats a provider outage held back) name that alert once. */
describe('an SMS bundle with two pages of one alert', () => {
  it('is the text of that one alert', () => {
    assert.equal(
      smsText([page('42', 'X'), page('42', 'X')], 3),
      'Vigil [P1] X (#42). Reply 3a to acknowledge, 3c to close',
    );
  });

  it('lists the alert once among others, and counts alerts, not pages', () => {
    assert.equal(
      smsText([page('42', 'X'), page('7', 'Y'), page('42', 'X')], 3),
      'Vigil, 2 alerts: [P1] X (#42); [P1] Y (#7). Reply 3aa to acknowledge all, 3cc to close all',
    );
  });
});

/** GSM 03.38: the alphabet an SMS is sent in when every character is in it; the extension set costs two. */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';

/** The septets a text takes in GSM-7, or undefined when it must go as UCS-2. */
function gsmSeptets(text: string): number | undefined {
  let septets = 0;
  for (const char of text) {
    if (GSM_BASIC.includes(char)) septets += 1;
    else if (GSM_EXTENSION.includes(char)) septets += 2;
    else return undefined;
  }
  return septets;
}

/** Segments of a GSM-7 text: 160 septets alone, 153 each once split (the rest carries the join header). */
const gsmSegments = (septets: number) => (septets <= 160 ? 1 : Math.ceil(septets / 153));

describe('an SMS cut short', () => {
  const guardDuty =
    'GuardDuty: UnauthorizedAccess:EC2/SSHBruteForce on i-0abc123def4567890 in eu-west-1 (prod-web-3)';

  it('stays GSM-7 and one segment, cut with three dots', () => {
    for (const [message, code] of [
      [guardDuty, 3],
      ['x'.repeat(300), 999999],
    ] as const) {
      const text = smsText([page('1234', message)], code);
      const septets = gsmSeptets(text);
      assert.ok(septets !== undefined, `not GSM-7: ${text}`);
      assert.ok(septets <= 160, `${septets} septets: ${text}`);
      assert.match(text, /\.\.\. \(#1234\)\. Reply \d+a to acknowledge, \d+c to close$/);
    }
  });

  it('keeps a storm bundle GSM-7, in as few segments as its septets need', () => {
    const many = Array.from({ length: 12 }, (_, i) =>
      page(String(100 + i), `GuardDuty finding: Recon:EC2/PortProbeUnprotectedPort on host ${i}`),
    );
    const text = smsText(many, 2);
    const septets = gsmSeptets(text);
    assert.ok(septets !== undefined, `not GSM-7: ${text}`);
    assert.ok(gsmSegments(septets) <= 4, `${septets} septets`);
    assert.match(text, /Reply 2aa to acknowledge all, 2cc to close all$/);
  });

  it('writes curly quotes, dashes and ellipses the way GSM-7 can', () => {
    const text = smsText(
      [page('5', '‘nightly’ backup\u00a0of “db-1” failed — retried\u2026 twice – 2\u2212 3\u200b')],
      1,
    );
    assert.equal(
      text,
      `Vigil [P1] 'nightly' backup of "db-1" failed - retried... twice - 2- 3 (#5). Reply 1a to acknowledge, 1c to close`,
    );
    assert.ok(gsmSeptets(text) !== undefined);
  });

  it('leaves a title in another script as it is', () => {
    const text = smsText([page('6', 'ディスクが一杯です')], 1);
    assert.equal(text, 'Vigil [P1] ディスクが一杯です (#6). Reply 1a to acknowledge, 1c to close');
  });

  it('cannot reverse the answers with bidirectional overrides in the title', () => {
    const text = smsText([page('8', 'Disk full\u202e\u2066')], 3);
    assert.equal(text, 'Vigil [P1] Disk full (#8). Reply 3a to acknowledge, 3c to close');
  });

  it('keeps a flag whole where it cuts', () => {
    const text = smsText([page('9', `${'x'.repeat(85)}🇩🇪🇫🇷🇮🇹`)], undefined);
    assert.equal(text, `Vigil [P1] ${'x'.repeat(85)}🇩🇪... (#9)`);
  });
});
