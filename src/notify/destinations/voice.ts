import { twilioChannels } from '../twilio/channels.js';
import type { DestinationType } from './destination.js';
import { parsePhoneNumber } from './phone-number.js';

export const voiceDestination = {
  name: 'voice',
  label: 'Voice call',
  // Last of the defaults: a call is the loudest way to reach someone.
  contactMethod: { defaultDelayMinutes: 2, requiresVerification: true },
  parseAddress: parsePhoneNumber,
  // A second call while the first still rings reaches a busy line: one a minute (alerts due meanwhile
  // are read in the next call together), three in 15 minutes.
  throttle: [
    { limit: 1, windowMs: 60_000 },
    { limit: 3, windowMs: 15 * 60_000 },
  ],
  channel: (setup) => twilioChannels(setup).voice,
} as const satisfies DestinationType<'voice'>;
