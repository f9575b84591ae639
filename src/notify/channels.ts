import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ContactMethodType } from '../oncall/model.js';
import type { NotificationChannel } from './channel.js';
import { createEmailChannel } from './email.js';

/**
 * The channels this process can deliver through, by contact method. A channel is registered when its
 * settings are present (email: VIGIL_SMTP_URL); a message for a method without a channel fails with a
 * log line on the alert that says which setting is missing.
 */
export function createChannels(
  config: Config,
  log: Logger,
  overrides: readonly NotificationChannel[] = [],
): Map<ContactMethodType, NotificationChannel> {
  const channels = new Map<ContactMethodType, NotificationChannel>();
  if (config.smtpUrl) {
    channels.set(
      'email',
      createEmailChannel({ smtpUrl: config.smtpUrl, from: config.emailFrom ?? defaultFrom(config), log }),
    );
  } else {
    log.warn(
      'Email is off: set VIGIL_SMTP_URL (such as smtp://user:pass@smtp.example.com:587) and VIGIL_EMAIL_FROM to page people by email.',
    );
  }
  for (const channel of overrides) channels.set(channel.method, channel);
  return channels;
}

function defaultFrom(config: Config): string {
  const host = new URL(config.publicUrl).hostname;
  return `Vigil <vigil@${host.includes('.') ? host : 'localhost'}>`;
}
