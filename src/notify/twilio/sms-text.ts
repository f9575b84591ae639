import type { OutgoingNotification } from '../channel.js';
import { KIND_PREFIX, oneLine, truncate } from '../html.js';

/**
 * What an SMS says. Short, because a text over 160 characters costs two and phones show the start: the
 * priority, what burns, the alert's number, and how to answer. Replies are a code and a letter ("1a"),
 * the code unique among the recipient's open alerts (reply-codes.ts), as GoAlert does.
 */

const MESSAGE_CHARS = 90;
const BUNDLE_MESSAGE_CHARS = 40;
/** Twilio takes 1,600 characters; stay well under so a storm's bundle stays a few segments. */
const MAX_CHARS = 600;

/**
 * Punctuation editors and chat tools put in titles that GSM-7, the SMS alphabet, lacks, with its nearest
 * GSM-7 form: one such character turns a whole text into UCS-2, 70 characters a segment instead of 160.
 * Real non-Latin text is left alone: it needs UCS-2.
 */
const GSM_LOOKALIKES: readonly (readonly [RegExp, string])[] = [
  [/[\u2018\u2019\u201a\u201b\u2032]/g, "'"],
  [/[\u201c\u201d\u201e\u201f\u2033]/g, '"'],
  [/[\u2010-\u2015\u2212]/g, '-'],
  [/\u2026/g, '...'],
  // Invisible, and UCS-2 all the same.
  [/[\u00ad\u200b\ufeff]/g, ''],
];

/** Alert text for an SMS: one line, GSM-7 where it can be, cut with "..." (the "…" is not GSM-7). */
function smsPart(value: string, chars: number): string {
  let text = value;
  for (const [pattern, gsm] of GSM_LOOKALIKES) text = text.replace(pattern, gsm);
  // After the mapping, so what a removed character leaves is folded too; no-break and other odd spaces
  // become plain ones here.
  return truncate(oneLine(text), chars, '...');
}

function headline(message: OutgoingNotification, chars: number): string {
  const { alert } = message;
  const by = message.actor && message.kind !== 'create-alert' ? ` by ${smsPart(message.actor, 30)}` : '';
  const prefix = KIND_PREFIX[message.kind].replace(/: $/, '');
  const what = smsPart(alert.message, chars);
  const note = message.kind === 'add-note' && message.note ? `: ${smsPart(message.note, 60)}` : '';
  return prefix
    ? `[${alert.priority}] ${prefix}${by}${message.kind === 'add-note' ? '' : ':'} ${what} (#${alert.tinyId})${note}`
    : `[${alert.priority}] ${what} (#${alert.tinyId})`;
}

/** The answers a code takes, in the words the issue promised people: "Reply 1a to acknowledge, 1c to close". */
function answers(code: number, many: boolean): string {
  return many
    ? `Reply ${code}aa to acknowledge all, ${code}cc to close all`
    : `Reply ${code}a to acknowledge, ${code}c to close`;
}

/**
 * One text for one or more messages to one phone. `code` is the reply code of the alerts that can still
 * be answered (pages of open, unacknowledged alerts); without one the text only informs.
 */
export function smsText(messages: readonly OutgoingNotification[], code: number | undefined): string {
  // Two pages of one alert due together (repeats a provider outage held back) say the same line: once.
  const lines = [...new Set(messages.map((m) => headline(m, BUNDLE_MESSAGE_CHARS)))];
  const [first] = messages;
  if (!first) return '';
  if (lines.length === 1) {
    const text = `Vigil ${headline(first, MESSAGE_CHARS)}`;
    return code === undefined ? text : `${text}. ${answers(code, false)}`;
  }
  const suffix = code === undefined ? '' : `. ${answers(code, true)}`;
  const room = MAX_CHARS - suffix.length;
  let body = `Vigil, ${lines.length} alerts:`;
  let listed = 0;
  for (const said of lines) {
    const line = ` ${said};`;
    if (body.length + line.length > room - 12) break;
    body += line;
    listed++;
  }
  if (listed < lines.length) body += ` and ${lines.length - listed} more;`;
  return body.replace(/;$/, '') + suffix;
}

export type SmsReply =
  | { kind: 'answer'; code: number; action: 'acknowledge' | 'close' }
  | { kind: 'stop' }
  | { kind: 'start' }
  | { kind: 'help' }
  | { kind: 'unknown' };

// Twilio's own opt-out and opt-in keywords (PROVIDER-FACTS 1.3, error 21610). REVOKE and OPTOUT are
// among Twilio's defaults too: Twilio blocks the number on them, so Vigil must stop paging it as well.
const STOP = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit', 'revoke', 'optout']);
const START = new Set(['start', 'yes', 'unstop']);

/** Reads a reply: "1a", "1 A", "12aa", "3c", "3cc", or a keyword. */
export function parseSmsReply(body: string): SmsReply {
  const text = body.trim().toLowerCase();
  if (STOP.has(text)) return { kind: 'stop' };
  if (START.has(text)) return { kind: 'start' };
  if (text === 'help' || text === 'info' || text === '?') return { kind: 'help' };
  const answer = /^(\d{1,6})\s*(a|aa|ack|c|cc|close)$/.exec(text);
  if (!answer) return { kind: 'unknown' };
  const code = Number(answer[1]);
  if (code < 1) return { kind: 'unknown' };
  return { kind: 'answer', code, action: answer[2]?.startsWith('a') ? 'acknowledge' : 'close' };
}

export const SMS_HELP =
  'Vigil: reply with the code of an alert and a letter: 1a acknowledges alert 1, 1c closes it (1aa / 1cc for all alerts of a bundle). Reply STOP to stop texts.';
