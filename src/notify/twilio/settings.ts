import type { Config } from '../../config.js';

/** What Vigil needs to send through Twilio, from VIGIL_TWILIO_*; undefined when not set up. */
export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** An E.164 number (+14155550123) or a Messaging Service (MG…), which picks the number itself. */
  from: string;
  /** https://api.twilio.com, or a local server in tests. */
  apiUrl: string;
  /** Where Twilio calls Vigil back (status callbacks, replies, the call's TwiML). */
  publicUrl: string;
}

export function twilioSettingsOf(config: Config): TwilioSettings | undefined {
  if (!config.twilio) return undefined;
  return { ...config.twilio, publicUrl: config.publicUrl };
}

export const TWILIO_SETUP_HINT =
  'SMS and voice calls are off: set VIGIL_TWILIO_ACCOUNT_SID, VIGIL_TWILIO_AUTH_TOKEN and VIGIL_TWILIO_FROM (a Twilio number in E.164 form, or a Messaging Service SID) to page people by text and phone call.';
