import { DateTime } from 'luxon';
import type { OutgoingNotification } from './channel.js';
import { escapeHtml, FONT, isWebUrl, oneLine, PRIORITY_COLORS, truncate } from './html.js';

/**
 * The notification email: subject, a plain-text part and an HTML part, from an OutgoingNotification
 * alone (pure, so it is tested without SMTP). The HTML is one narrow column with inline styles only,
 * because mail clients drop <style> blocks and phones show 320-400px; everything that came from an alert
 * is escaped and capped, since alerts arrive from outside and can be large.
 */

/**
 * The thread the email belongs to: the alert's message as the first email about the alert had it. The
 * subject repeats it for the alert's whole life, even once the message is edited (email.ts finds it).
 */
export interface EmailThread {
  message: string;
}

export interface RenderedEmail {
  subject: string;
  /** The subject without "Re: ", the same for every email about the alert (Outlook's Thread-Topic). */
  threadTopic: string;
  text: string;
  html: string;
}

/** Caps: an alert's details can hold kilobytes of JSON; the email is for deciding what to do. */
export const LIMITS = {
  subjectMessage: 150,
  message: 300,
  description: 4000,
  note: 4000,
  field: 300,
  details: 25,
  detailKey: 100,
  detailValue: 500,
} as const;

function statusOf(alert: OutgoingNotification['alert']): string {
  if (alert.status === 'closed') return 'Closed';
  return alert.acknowledged ? 'Acknowledged' : 'Open';
}

function headlineOf(message: OutgoingNotification): string {
  const by = message.actor ? ` by ${oneLine(message.actor)}` : '';
  switch (message.kind) {
    case 'create-alert':
      return 'New alert';
    case 'acknowledged-alert':
      return `Acknowledged${by}`;
    case 'closed-alert':
      return `Closed${by}`;
    case 'add-note':
      return `Note added${by}`;
    case 'assigned-alert':
      return `Assigned to you${by}`;
  }
}

function formatTime(at: Date, timeZone: string): string {
  let time = DateTime.fromJSDate(at, { zone: timeZone });
  if (!time.isValid) time = DateTime.fromJSDate(at, { zone: 'utc' });
  const clock = time.toFormat('yyyy-MM-dd HH:mm');
  // Abbreviations like "CET" depend on the locale's data (en-US says "GMT+1"): the offset and zone are plain.
  return time.offset === 0 && /^(utc|etc\/utc|gmt|etc\/gmt)$/i.test(time.zoneName ?? '')
    ? `${clock} UTC`
    : `${clock} (UTC${time.toFormat('ZZ')}, ${time.zoneName ?? ''})`;
}

/** The actions this email offers: only the ones that still make sense for the alert as it is now. */
function actionsOf(message: OutgoingNotification): { label: string; url: string; color: string }[] {
  const { alert, links } = message;
  const actions: { label: string; url: string; color: string }[] = [];
  if (alert.status === 'open' && !alert.acknowledged && links.acknowledge && isWebUrl(links.acknowledge))
    actions.push({ label: 'Acknowledge', url: links.acknowledge, color: '#15803d' });
  if (alert.status === 'open' && links.close && isWebUrl(links.close))
    actions.push({ label: 'Close', url: links.close, color: '#374151' });
  return actions;
}

function fieldsOf(message: OutgoingNotification): [string, string][] {
  const { alert } = message;
  const fields: [string, string][] = [
    ['Priority', alert.priority],
    ['Status', statusOf(alert)],
  ];
  if (alert.source) fields.push(['Source', alert.source]);
  if (alert.entity) fields.push(['Entity', alert.entity]);
  if (alert.integrationName) fields.push(['Integration', alert.integrationName]);
  if (alert.tags.length > 0) fields.push(['Tags', alert.tags.join(', ')]);
  if (alert.count > 1) fields.push(['Count', String(alert.count)]);
  fields.push(['Created', formatTime(alert.createdAt, message.to.timeZone)]);
  return fields.map(([k, v]) => [k, truncate(oneLine(v), LIMITS.field)]);
}

function detailsOf(alert: OutgoingNotification['alert']): { rows: [string, string][]; more: number } {
  const entries = Object.entries(alert.details);
  const rows = entries
    .slice(0, LIMITS.details)
    .map(([k, v]): [string, string] => [
      truncate(oneLine(k), LIMITS.detailKey),
      truncate(String(v), LIMITS.detailValue),
    ]);
  return { rows, more: Math.max(0, entries.length - LIMITS.details) };
}

/**
 * The subject every email about one alert shares: "[Vigil] #12: Disk full on db-1". Gmail threads only
 * messages whose subjects match once "Re:" is stripped, and Outlook groups by that normalized subject, so
 * nothing in it may change over the alert's life: what happened and the current priority are in the
 * body's first line instead. The message in it is the thread's, as the first email had it: an edited
 * message (PUT /v2/alerts/{id}/message) would otherwise start a new conversation in the middle of an
 * incident, and the person on call would find the acknowledgement apart from the page it answers. The
 * body shows the message as it is now.
 */
export function renderThreadSubject(message: OutgoingNotification, thread?: EmailThread): string {
  const { alert } = message;
  const text = truncate(oneLine(thread?.message ?? alert.message), LIMITS.subjectMessage);
  return `[Vigil] #${oneLine(alert.tinyId)}: ${text}`;
}

/** The page has the thread's subject; every follow-up (acknowledged, closed, a note) is a reply to it. */
export function renderSubject(message: OutgoingNotification, thread?: EmailThread): string {
  const subject = renderThreadSubject(message, thread);
  return message.kind === 'create-alert' ? subject : `Re: ${subject}`;
}

/** Why the subject no longer matches the message in the body, when it does not. */
function editedLine(message: OutgoingNotification, thread: EmailThread | undefined): string | undefined {
  if (!thread || oneLine(thread.message) === oneLine(message.alert.message)) return undefined;
  return 'The message was changed since the first email; the subject keeps the first one, so this thread stays together.';
}

export function renderText(message: OutgoingNotification, thread?: EmailThread): string {
  const { alert } = message;
  const lines: string[] = [];
  lines.push(`${headlineOf(message)}: ${alert.priority} #${oneLine(alert.tinyId)}`);
  lines.push('');
  lines.push(truncate(oneLine(alert.message), LIMITS.message));
  const edited = editedLine(message, thread);
  if (edited) lines.push(edited);
  lines.push('');
  if (message.note?.trim()) {
    lines.push(`Note${message.actor ? ` from ${oneLine(message.actor)}` : ''}:`);
    lines.push(truncate(message.note.trim(), LIMITS.note));
    lines.push('');
  }
  const actions = actionsOf(message);
  for (const action of actions) lines.push(`${action.label}: ${action.url}`);
  lines.push(`View in Vigil: ${message.links.view}`);
  lines.push('');
  for (const [k, v] of fieldsOf(message)) lines.push(`${k}: ${v}`);
  if (alert.description.trim()) {
    lines.push('', 'Description:', truncate(alert.description.trim(), LIMITS.description));
  }
  const details = detailsOf(alert);
  if (details.rows.length > 0) {
    lines.push('', 'Details:');
    for (const [k, v] of details.rows) lines.push(`  ${k}: ${v.replace(/\r?\n/g, '\n    ')}`);
    if (details.more > 0) lines.push(`  (${details.more} more in Vigil)`);
  }
  lines.push('', '-- ', `You get this because: ${oneLine(message.reason)}.`);
  if (actions.length > 0) lines.push('The links act as you on this alert only, and expire.');
  return `${lines.join('\n')}\n`;
}

export function renderHtml(message: OutgoingNotification, thread?: EmailThread): string {
  const { alert } = message;
  const e = escapeHtml;
  const color = PRIORITY_COLORS[alert.priority] ?? '#4b5563';
  const cell = 'padding:4px 8px 4px 0;vertical-align:top;';
  const keyCell = `${cell}color:#6b7280;white-space:nowrap;`;
  const valueCell = `${cell}word-break:break-word;`;
  const parts: string[] = [];

  parts.push(
    `<div style="font-size:13px;color:${color};font-weight:600;text-transform:uppercase;letter-spacing:.03em;">` +
      `${e(alert.priority)} · ${e(headlineOf(message))} · #${e(alert.tinyId)}</div>`,
  );
  parts.push(
    `<h1 style="font-size:20px;line-height:1.3;margin:6px 0 12px;color:#111827;word-break:break-word;">` +
      `${e(truncate(oneLine(alert.message), LIMITS.message))}</h1>`,
  );
  const edited = editedLine(message, thread);
  if (edited) parts.push(`<div style="font-size:13px;color:#6b7280;margin:-6px 0 12px;">${e(edited)}</div>`);

  if (message.note?.trim()) {
    parts.push(
      `<div style="border-left:3px solid #d1d5db;padding:6px 10px;margin:0 0 14px;color:#374151;white-space:pre-wrap;word-break:break-word;">` +
        (message.actor
          ? `<div style="color:#6b7280;font-size:13px;">${e(oneLine(message.actor))} wrote:</div>`
          : '') +
        `${e(truncate(message.note.trim(), LIMITS.note))}</div>`,
    );
  }

  const actions = actionsOf(message);
  const buttons = [
    ...actions.map(
      (a) =>
        `<a href="${e(a.url)}" style="display:inline-block;background:${a.color};color:#ffffff;text-decoration:none;` +
        `font-weight:600;padding:10px 18px;border-radius:6px;margin:0 8px 8px 0;">${e(a.label)}</a>`,
    ),
    isWebUrl(message.links.view)
      ? `<a href="${e(message.links.view)}" style="display:inline-block;color:#1d4ed8;padding:10px 4px;margin:0 0 8px;">View in Vigil</a>`
      : '',
  ].join('');
  parts.push(`<div style="margin:0 0 14px;">${buttons}</div>`);

  const rows = fieldsOf(message)
    .map(([k, v]) => `<tr><td style="${keyCell}">${e(k)}</td><td style="${valueCell}">${e(v)}</td></tr>`)
    .join('');
  parts.push(
    `<table role="presentation" style="border-collapse:collapse;font-size:14px;margin:0 0 14px;">${rows}</table>`,
  );

  if (alert.description.trim()) {
    parts.push(
      `<div style="font-size:14px;color:#374151;white-space:pre-wrap;word-break:break-word;margin:0 0 14px;">` +
        `${e(truncate(alert.description.trim(), LIMITS.description))}</div>`,
    );
  }

  const details = detailsOf(alert);
  if (details.rows.length > 0) {
    const detailRows = details.rows
      .map(
        ([k, v]) =>
          `<tr><td style="${keyCell}font-family:monospace;">${e(k)}</td>` +
          `<td style="${valueCell}font-family:monospace;white-space:pre-wrap;">${e(v)}</td></tr>`,
      )
      .join('');
    const more =
      details.more > 0
        ? `<div style="font-size:13px;color:#6b7280;">${details.more} more in Vigil</div>`
        : '';
    parts.push(
      `<div style="font-size:13px;color:#6b7280;margin:0 0 4px;">Details</div>` +
        `<table role="presentation" style="border-collapse:collapse;font-size:13px;margin:0 0 4px;">${detailRows}</table>${more}`,
    );
  }

  // The bare URLs, for clients that strip buttons or where copying is easier than tapping.
  const plainLinks = [...actions.map((a) => [a.label, a.url]), ['View', message.links.view]]
    .map(([label, url]) => `${e(label ?? '')}: <span style="word-break:break-all;">${e(url ?? '')}</span>`)
    .join('<br>');
  parts.push(
    `<div style="border-top:1px solid #e5e7eb;margin-top:16px;padding-top:10px;font-size:12px;color:#6b7280;">` +
      `You get this because: ${e(oneLine(message.reason))}.<br>` +
      (actions.length > 0 ? 'The links act as you on this alert only, and expire.<br>' : '') +
      `${plainLinks}</div>`,
  );

  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><title>${e(renderSubject(message, thread))}</title></head>` +
    `<body style="margin:0;padding:0;background:#f3f4f6;">` +
    `<div style="max-width:600px;margin:0 auto;padding:16px;background:#ffffff;font-family:${FONT};color:#111827;line-height:1.45;">` +
    `${parts.join('')}</div></body></html>`
  );
}

export function renderNotificationEmail(message: OutgoingNotification, thread?: EmailThread): RenderedEmail {
  return {
    subject: renderSubject(message, thread),
    threadTopic: renderThreadSubject(message, thread),
    text: renderText(message, thread),
    html: renderHtml(message, thread),
  };
}
