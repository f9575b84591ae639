import { isUuid } from '../../db/database.js';
import { createPushChannel } from '../push/channel.js';
import { pushRepository } from '../push/repository.js';
import type { DestinationType } from './destination.js';

/**
 * A device that gets Web Push: its address is the id of its push subscription (notify/push), made when the
 * device subscribes in the console. A contact made or changed through the API must name a subscription of
 * its own person. Other addresses are still read (contacts made before push existed, or by hand); a push
 * to one fails, saying there is no subscription of that person.
 */
export const mobileDestination = {
  name: 'mobile',
  label: 'Mobile push',
  contactMethod: {
    defaultDelayMinutes: 0,
    async whyNotTheirs(q, userId, address) {
      const subscription = isUuid(address) ? await pushRepository.find(q, address) : undefined;
      if (subscription?.user_id === userId) return undefined;
      return "must be the id of one of this user's push subscriptions: subscribe the device from the console (Profile, Mobile push), which adds its contact method.";
    },
  },
  parseAddress(input) {
    const value = input.trim();
    if (isUuid(value)) return { ok: true, address: value.toLowerCase() };
    return /^[\x21-\x7e]{1,512}$/.test(value)
      ? { ok: true, address: value }
      : {
          ok: false,
          problem:
            'must be the id of a push subscription (or a device id): 1 to 512 printable characters, no spaces.',
        };
  },
  channel: (setup) => createPushChannel(setup),
} as const satisfies DestinationType<'mobile'>;
