import { twilioChannels } from '../twilio/channels.js';
import type { DestinationType } from './destination.js';
import { parsePhoneNumber } from './phone-number.js';

export const smsDestination = {
  name: 'sms',
  label: 'SMS',
  // After email and push: a text costs money and wakes people.
  contactMethod: { defaultDelayMinutes: 1, requiresVerification: true },
  parseAddress: parsePhoneNumber,
  // One text a minute to a phone, as GoAlert does: alerts that fall due meanwhile wait, and go together
  // as one text ("3 alerts: …"), so a storm is a text a minute, not a text an alert.
  throttle: [{ limit: 1, windowMs: 60_000 }],
  channel: (setup) => twilioChannels(setup).sms,
} as const satisfies DestinationType<'sms'>;
