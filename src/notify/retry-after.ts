/**
 * The Retry-After header of a provider's or receiver's answer (RFC 9110 10.2.3, as RFC 7231 7.1.3):
 * delta-seconds or an HTTP-date, read by every channel that is rate limited (Slack, Web Push, Twilio, the
 * team destinations). Each caller bounds the wait further for what it sends.
 */

/** The longest wait read from a header: a longer one is a receiver's mistake (or a date far off). */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/** IMF-fixdate, the form senders must use: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`, 'i');
/** The obsolete RFC 850 form recipients must still read: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC_850 = new RegExp(
  `^(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`,
  'i',
);
/** The obsolete asctime form: `Sun Nov  6 08:49:37 1994`, in GMT though it does not say so. */
const ASCTIME = new RegExp(`^${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4}$`, 'i');

/** When an HTTP-date says, in milliseconds since the epoch; undefined for anything else. */
function httpDate(text: string): number | undefined {
  let at: number;
  if (IMF_FIXDATE.test(text) || RFC_850.test(text)) at = Date.parse(text);
  // Date.parse would read a date without a zone as local time.
  else if (ASCTIME.test(text)) at = Date.parse(`${text} GMT`);
  else return undefined;
  return Number.isFinite(at) ? at : undefined;
}

/**
 * Retry-After in milliseconds from `now`, at most a day; undefined if absent or unreadable. Only the forms
 * the header has are read: Date.parse alone would take `3600.5` or ` 120` as dates centuries off, and
 * `2030-01-01` as a wait. A date already past is no wait (0). `now` is the system time the answer came at
 * (the sender's HTTP date is on real time, whatever a test's clock says).
 */
export function retryAfterMs(value: string | string[] | undefined, now: Date): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = httpDate(text);
    if (at === undefined) return undefined;
    ms = at - now.getTime();
  }
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}
