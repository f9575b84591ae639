import type { Config } from '../../config.js';
import { createEmailChannel } from '../email.js';
import type { DestinationType } from './destination.js';

/** The shape of an email address (the one JSON Schema's "email" format checks, which usernames pass). */
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

export const emailDestination = {
  name: 'email',
  label: 'Email',
  contactMethod: { defaultDelayMinutes: 0 },
  parseAddress(input) {
    const value = input.trim();
    return isEmailAddress(value)
      ? { ok: true, address: value }
      : { ok: false, problem: `"${input}" is not an email address.` };
  },
  channel({ config, log }) {
    if (!config.smtpUrl) {
      return {
        unavailable: 'email is not set up: set VIGIL_SMTP_URL (and VIGIL_EMAIL_FROM) and restart Vigil',
        startupHint:
          'Email is off: set VIGIL_SMTP_URL (such as smtp://user:pass@smtp.example.com:587) and VIGIL_EMAIL_FROM to page people by email.',
      };
    }
    return createEmailChannel({
      smtpUrl: config.smtpUrl,
      from: emailFrom(config),
      log,
    });
  },
} as const satisfies DestinationType<'email'>;

/**
 * The From of every email Vigil sends, pages and account emails alike: VIGIL_EMAIL_FROM, else
 * `Vigil <vigil@HOST>` with the host of VIGIL_PUBLIC_URL (localhost when that is no domain name).
 */
export function emailFrom(config: Pick<Config, 'emailFrom' | 'publicUrl'>): string {
  if (config.emailFrom) return config.emailFrom;
  const host = new URL(config.publicUrl).hostname;
  return `Vigil <vigil@${host.includes('.') && !host.startsWith('[') ? host : 'localhost'}>`;
}
