import type { DestinationType } from './destination.js';

export const mobileDestination = {
  name: 'mobile',
  label: 'Mobile push',
  contactMethod: { defaultDelayMinutes: 0 },
  // The device's id: opaque until push is built.
  parseAddress(input) {
    const value = input.trim();
    return /^[\x21-\x7e]{1,512}$/.test(value)
      ? { ok: true, address: value }
      : { ok: false, problem: 'must be the device id: 1 to 512 printable characters, no spaces.' };
  },
  channel: () => ({ unavailable: 'Vigil cannot send mobile push notifications yet' }),
} as const satisfies DestinationType<'mobile'>;
