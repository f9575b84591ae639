import type { OutboundFetch } from '../../http/outbound-fetch.js';
import type { Clock } from '../../work/clock.js';
import { oneLine, truncate } from '../html.js';
import { retryAfterMs } from '../retry-after.js';
import type { TwilioSettings } from './settings.js';

/**
 * Twilio's REST API (2010-04-01) with fetch: a form-encoded POST with Basic auth is all Vigil needs, and
 * a client this small takes any base URL (VIGIL_TWILIO_API_URL) and never retries behind the sender's
 * back. The official `twilio` package would bring an HTTP stack of its own for two calls; the tests use
 * it as the reference for signatures instead.
 */

export type TwilioAnswer =
  | { ok: true; sid: string; status: string }
  | {
      ok: false;
      /**
       * `retry`: 429, 5xx, 401/403/404 (Vigil's Twilio settings), no answer. `permanent`: the request itself
       * is refused (the number, mostly).
       */
      kind: 'retry' | 'permanent';
      httpStatus?: number;
      code?: number;
      error: string;
      /** The answer's Retry-After, in milliseconds from when it came (optional on a 429: PROVIDER-FACTS 1.3). */
      retryAfterMs?: number;
    };

/**
 * Codes of a 400 that say the number can not be reached this way (PROVIDER-FACTS 1.3): trying again does
 * not help, and the contact method is marked so that it is not paged until fixed.
 */
export const NUMBER_PROBLEMS: Record<number, string> = {
  21211: 'Twilio says the number is not valid',
  21214: 'Twilio says the number can not be called',
  21217: 'Twilio says the number is not valid',
  21610:
    'the number replied STOP and has opted out of texts (text START to Vigil\u2019s number to opt back in)',
  21614: 'the number can not receive SMS (a landline?): use a voice contact for it',
};

/**
 * Codes of a 400 that blame how Vigil's Twilio account is set up, not the person's number: the send
 * fails, but the contact is left as it is, so that the operator's fix is all it takes to page it again
 * (marking it would also have the person verify a number that was never wrong). Each says what to fix.
 */
export const ACCOUNT_PROBLEMS: Record<number, string> = {
  21408:
    "Vigil's Twilio account may not send to this number's country: an operator must turn the country on in the Twilio console (Messaging > Settings > Geo permissions, or Voice > Settings > Geo permissions for calls); the number itself was not refused",
  21612:
    "Twilio can not route texts from Vigil's sender (VIGIL_TWILIO_FROM) to this number: an operator must send from a number or Messaging Service that reaches it; the number itself was not refused",
  21212: "Twilio says Vigil's sender is not a valid number: an operator must check VIGIL_TWILIO_FROM",
  21606:
    "Twilio says Vigil's sender is not a number of its account that can send this: an operator must check VIGIL_TWILIO_FROM",
};

/** "Attempt to send to unsubscribed recipient": the number texted STOP (PROVIDER-FACTS 1.3). */
export const OPTED_OUT_CODE = 21610;

/** Answers that say Vigil's Twilio settings are wrong, and the settings to check for each. */
const SETTINGS_TO_CHECK: Record<number, string> = {
  401: 'VIGIL_TWILIO_ACCOUNT_SID and VIGIL_TWILIO_AUTH_TOKEN',
  403: 'VIGIL_TWILIO_ACCOUNT_SID and VIGIL_TWILIO_AUTH_TOKEN',
  404: 'VIGIL_TWILIO_ACCOUNT_SID (and VIGIL_TWILIO_API_URL, when set)',
};

const TIMEOUT_MS = 15_000;

/**
 * Twilio's words with the phone numbers in them masked: its refusals name the number (21211 "The 'To'
 * number +1415… is not a valid phone number", 21408, 21612, 21614), and the error goes on the alert's log
 * and the message's row, where numbers never appear. A run of 7 digits or more (with the separators a
 * number is written with) is a number; Twilio's error codes have 5.
 */
export function withoutNumbers(text: string): string {
  return text.replace(/\+?\(?\d[\d\s().-]*\d/g, (run) =>
    (run.match(/\d/g)?.length ?? 0) >= 7 ? '[number]' : run,
  );
}

export interface TwilioClient {
  sendSms(to: string, body: string, statusCallback?: string): Promise<TwilioAnswer>;
  /** A call whose TwiML Twilio fetches from `call.url`, or plays from `call.twiml` (at most 4,000 characters). */
  call(to: string, call: { url: string } | { twiml: string }, statusCallback?: string): Promise<TwilioAnswer>;
}

export function createTwilioClient(
  settings: TwilioSettings,
  fetch: OutboundFetch,
  clock: Clock,
): TwilioClient {
  const base = `${settings.apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}`;
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;
  const sender: [string, string] = settings.from.startsWith('MG')
    ? ['MessagingServiceSid', settings.from]
    : ['From', settings.from];

  async function post(resource: 'Messages' | 'Calls', form: URLSearchParams): Promise<TwilioAnswer> {
    let response: Response;
    try {
      response = await fetch(`${base}/${resource}.json`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'user-agent': 'Vigil',
        },
        body: form.toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      return {
        ok: false,
        kind: 'retry',
        error: `could not reach Twilio: ${cause instanceof Error ? cause.message : String(cause)}`,
      };
    }
    const text = await response.text().catch(() => '');
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
    } catch {
      // Not JSON (a proxy's error page): the status says enough.
    }
    if (response.status === 201 || response.status === 200) {
      const sid = typeof body.sid === 'string' ? body.sid : '';
      const status = typeof body.status === 'string' ? body.status : 'queued';
      if (sid) return { ok: true, sid, status };
      return {
        ok: false,
        kind: 'retry',
        httpStatus: response.status,
        error: 'Twilio answered without a sid',
      };
    }
    const code = typeof body.code === 'number' ? body.code : undefined;
    const message = withoutNumbers(
      typeof body.message === 'string'
        ? oneLine(body.message)
        : truncate(oneLine(text), 200) || 'no reason given',
    );
    const error = `Twilio answered ${response.status}${code ? ` (error ${code})` : ''}: ${truncate(message, 300)}`;
    // 429 (20429) is never processed and safe to repeat; 5xx is Twilio's trouble, not the request's.
    // 401 and 403 (a wrong or rotated auth token, a suspended account) and 404 (another account's SID:
    // the Messages or Calls resource of an account that is not this one's) are Vigil's settings, not
    // the page's: once an operator fixes them, the page must still go, so they are retried too (with
    // the same bounded backoff) rather than failing every page for good meanwhile.
    const setting = SETTINGS_TO_CHECK[response.status];
    const retry = response.status === 429 || response.status >= 500 || setting !== undefined;
    // Twilio does not promise a Retry-After (PROVIDER-FACTS 1.3), but one given is waited for. An HTTP
    // date is Twilio's real time, hence the system time of the clock's now.
    const after = retry
      ? retryAfterMs(response.headers.get('retry-after') ?? undefined, clock.toSystemTime(clock.now()))
      : undefined;
    return {
      ok: false,
      kind: retry ? 'retry' : 'permanent',
      httpStatus: response.status,
      ...(code !== undefined ? { code } : {}),
      error: setting ? `${error}. Check ${setting}.` : error,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
    };
  }

  return {
    sendSms(to, body, statusCallback) {
      const form = new URLSearchParams([['To', to], sender, ['Body', body]]);
      if (statusCallback) form.set('StatusCallback', statusCallback);
      return post('Messages', form);
    },
    call(to, call, statusCallback) {
      // A call needs a number to come from; a Messaging Service has none.
      const form = new URLSearchParams([
        ['To', to],
        ['From', settings.from],
      ]);
      if ('url' in call) {
        form.set('Url', call.url);
        form.set('Method', 'POST');
      } else {
        form.set('Twiml', call.twiml);
      }
      // Long enough to wake someone; Twilio's default of 60 s goes to voicemail on most phones first.
      form.set('Timeout', '45');
      if (statusCallback) {
        form.set('StatusCallback', statusCallback);
        form.set('StatusCallbackMethod', 'POST');
        form.append('StatusCallbackEvent', 'completed');
      }
      return post('Calls', form);
    },
  };
}
