/**
 * A schedule's on-call shifts as an iCalendar feed (RFC 5545), for calendars that subscribe to
 * Opsgenie's `/v2/schedules/{id}.ics`. Times are UTC, so no VTIMEZONE is needed.
 */

export interface IcsShift {
  start: Date;
  end: Date;
  username: string;
  fullName?: string;
  override: boolean;
  /** On call since before `start`: the export stopped looking back there (see shiftsFrom). */
  clipped?: boolean;
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * TEXT values escape backslash, semicolon, comma and line breaks (RFC 5545 §3.3.11): CRLF, a bare CR and a
 * bare LF each become `\n`. Other control characters but HTAB (C0 and DEL) are dropped, as TEXT may not
 * hold them: a bare CR in a schedule's name would otherwise end the line and start a property of its own.
 */
function text(value: string): string {
  return (
    value
      .replace(/\\/g, '\\\\')
      .replace(/;/g, '\\;')
      .replace(/,/g, '\\,')
      .replace(/\r\n|\r|\n/g, '\\n')
      // eslint-disable-next-line no-control-regex -- control characters are what it removes
      .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '')
  );
}

/** Lines longer than 75 octets are folded with CRLF and a space, never inside a UTF-8 character. */
function fold(line: string): string {
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let current = '';
  let size = 0;
  for (const char of line) {
    const width = Buffer.byteLength(char, 'utf8');
    const limit = parts.length === 0 ? 75 : 74;
    if (size + width > limit) {
      parts.push(current);
      current = '';
      size = 0;
    }
    current += char;
    size += width;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

export function scheduleCalendar(
  schedule: { id: string; name: string },
  shifts: IcsShift[],
  now: Date,
): string {
  return onCallCalendar(`${schedule.name} on call`, [{ schedule, shifts }], now);
}

/**
 * Several schedules' shifts as one feed (a person's own shifts everywhere): an event's UID holds its
 * schedule's id, so shifts of two schedules that start together stay two events. `notes` (what the feed
 * leaves out, and why) go in the calendar's description, which calendar apps show with its name: a
 * calendar has no other place for words that are not an event.
 */
export function onCallCalendar(
  name: string,
  schedules: { schedule: { id: string; name: string }; shifts: IcsShift[] }[],
  now: Date,
  notes: readonly string[] = [],
): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Vigil//On-call schedule//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${text(name)}`,
    ...(notes.length > 0 ? [`X-WR-CALDESC:${text(notes.join('\n'))}`] : []),
  ];
  for (const { schedule, shifts } of schedules) {
    for (const shift of shifts) {
      const who = shift.fullName ? `${shift.fullName} (${shift.username})` : shift.username;
      lines.push(
        'BEGIN:VEVENT',
        // Stable per shift, so a calendar updates a shift rather than adding it again. A clipped shift's
        // start may move from one fetch to the next (where the look back stopped): it is named without it,
        // as a person has at most one shift under way when the feed's window begins.
        `UID:${schedule.id}-${shift.clipped ? 'before' : stamp(shift.start)}-${text(shift.username)}@vigil`,
        `DTSTAMP:${stamp(now)}`,
        `DTSTART:${stamp(shift.start)}`,
        `DTEND:${stamp(shift.end)}`,
        `SUMMARY:${text(`${who} on call${shift.override ? ' (override)' : ''}`)}`,
        `DESCRIPTION:${text(`${schedule.name}: ${who} is on call${shift.clipped ? ' (since before this start)' : ''}.`)}`,
        'TRANSP:TRANSPARENT',
        'END:VEVENT',
      );
    }
  }
  lines.push('END:VCALENDAR');
  return lines.map(fold).join('\r\n') + '\r\n';
}
