import type { Queryable } from '../../db/database.js';
import type { NotificationChannel } from '../channel.js';
import type { ChannelSetup, DestinationType, ThrottleRule } from './destination.js';
import { emailDestination } from './email.js';
import { mobileDestination } from './mobile.js';
import { smsDestination } from './sms.js';
import { voiceDestination } from './voice.js';

/**
 * Every kind of destination Vigil knows. A new channel is a module in this folder and one entry here:
 * the API's list of contact methods, validation, the sender and its throttle all read from this.
 */
const CONTACT_METHODS = [emailDestination, smsDestination, voiceDestination, mobileDestination] as const;
const ALL: readonly DestinationType[] = [...CONTACT_METHODS];

export type ContactMethodType = (typeof CONTACT_METHODS)[number]['name'];

/** The kinds people add to their profile, in the order the API documents them. */
export const CONTACT_METHOD_TYPES: readonly ContactMethodType[] = CONTACT_METHODS.map((d) => d.name);

const BY_NAME = new Map(ALL.map((d) => [d.name, d]));

export function destinationType(name: string): DestinationType | undefined {
  return BY_NAME.get(name);
}

/** Whether contacts of this kind are paged only once verified. */
export function requiresVerification(name: string): boolean {
  return BY_NAME.get(name)?.contactMethod?.requiresVerification ?? false;
}

/** What is wrong with `address` as a contact of this person's own, or undefined when nothing is. */
export async function whyNotTheirs(
  q: Queryable,
  name: string,
  userId: string,
  address: string,
): Promise<string | undefined> {
  return BY_NAME.get(name)?.contactMethod?.whyNotTheirs?.(q, userId, address);
}

export function contactMethodDefaults(name: ContactMethodType): { defaultDelayMinutes: number } {
  return CONTACT_METHODS.find((d) => d.name === name)?.contactMethod ?? { defaultDelayMinutes: 0 };
}

/** How the activity log names a kind of destination ("SMS"); a kind no longer known, by its name. */
export function destinationLabel(name: string): string {
  return BY_NAME.get(name)?.label ?? name;
}

export function throttleOf(name: string): readonly ThrottleRule[] {
  return BY_NAME.get(name)?.throttle ?? [];
}

/** What this process can send through, and why not for the rest. */
export interface Channels {
  get(name: string): NotificationChannel | undefined;
  /** Why a kind without a channel can not be sent (for the alert's log). */
  whyUnavailable(name: string): string;
  close(): Promise<void>;
}

/**
 * The channels of every kind whose settings are present; `overrides` (tests, embedding programs) take
 * the place of a kind's own channel.
 */
export function createChannels(
  setup: ChannelSetup,
  overrides: readonly NotificationChannel[] = [],
  /** Say nothing about kinds that are off (the workers' channels already said it). */
  options: { quiet?: boolean } = {},
): Channels {
  const channels = new Map<string, NotificationChannel>();
  const unavailable = new Map<string, string>();
  const overridden = new Map(overrides.map((c) => [c.type, c]));
  for (const type of ALL) {
    const made = overridden.get(type.name) ?? type.channel(setup);
    if ('send' in made) {
      channels.set(type.name, made);
    } else {
      unavailable.set(type.name, made.unavailable);
      if (made.startupHint && !options.quiet) setup.log.warn(made.startupHint);
    }
  }
  // A channel for a kind the registry does not list (a test's own) is used as given.
  for (const [name, channel] of overridden) if (!channels.has(name)) channels.set(name, channel);
  return {
    get: (name) => channels.get(name),
    whyUnavailable: (name) =>
      unavailable.get(name) ?? `Vigil does not know how to send to "${name}" destinations`,
    async close() {
      await Promise.all([...channels.values()].map((c) => c.close?.()));
    },
  };
}
