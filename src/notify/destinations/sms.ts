import type { DestinationType } from './destination.js';
import { parsePhoneNumber } from './phone-number.js';

export const smsDestination = {
  name: 'sms',
  label: 'SMS',
  // After email and push: a text costs money and wakes people.
  contactMethod: { defaultDelayMinutes: 1 },
  parseAddress: parsePhoneNumber,
  // A storm of alerts must not become a storm of texts to one phone: one every 10 s, six in 5 minutes.
  throttle: [
    { limit: 1, windowMs: 10_000 },
    { limit: 6, windowMs: 5 * 60_000 },
  ],
  channel: () => ({ unavailable: 'Vigil cannot send SMS yet' }),
} as const satisfies DestinationType<'sms'>;
