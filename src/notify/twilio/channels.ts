import type { Db } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import type { NotificationChannel, OutgoingNotification } from '../channel.js';
import type { ChannelSetup, Unavailable } from '../destinations/destination.js';
import { createTwilioClient, type TwilioClient } from './client.js';
import { replyCodesRepository } from './reply-codes.js';
import { deliveryResultOf } from './result.js';
import { twilioSettingsOf, TWILIO_SETUP_HINT, type TwilioSettings } from './settings.js';
import { smsText } from './sms-text.js';
import { say, twimlResponse, pause } from './twiml.js';

/**
 * The `sms` and `voice` channels through Twilio. A text carries a reply code for the alerts it pages
 * about; a call fetches its script from Vigil (routes.ts), which reads the alerts as they are when the
 * phone is answered. Several messages due together to one phone become one text or one call.
 */

export const STATUS_PATH = '/v1/twilio/status';
export const VOICE_PATH = '/v1/twilio/voice';
export const SMS_PATH = '/v1/twilio/sms';

/** The messages a reply can still act on: pages of open alerts nobody has acknowledged, to a person. */
function answerable(messages: readonly OutgoingNotification[]): OutgoingNotification[] {
  return messages.filter(
    (m) =>
      m.kind === 'create-alert' &&
      m.alert.status === 'open' &&
      !m.alert.acknowledged &&
      m.to.userId !== undefined &&
      m.links.acknowledge !== undefined,
  );
}

/**
 * Where Twilio reports what became of a text or call: the messages it carries are in the URL (which
 * Twilio signs), so a report that comes before Vigil has recorded the send is not lost.
 */
function statusCallbackOf(settings: TwilioSettings, messages: readonly OutgoingNotification[]): string {
  return `${settings.publicUrl}${STATUS_PATH}?notifications=${messages.map((m) => m.notificationId).join(',')}`;
}

function smsChannel(
  settings: TwilioSettings,
  client: TwilioClient,
  db: Db,
  clock: Clock,
  log: Logger,
): NotificationChannel {
  async function sendBundle(messages: OutgoingNotification[]) {
    const [first] = messages;
    if (!first) return { status: 'failed' as const, error: 'nothing to send' };
    const open = answerable(messages);
    const code =
      open.length > 0 && first.to.userId
        ? await replyCodesRepository.assign(
            db,
            {
              orgId: first.alert.orgId,
              phone: first.to.address,
              userId: first.to.userId,
              alertIds: open.map((m) => m.alert.id),
            },
            // The retention round marks and frees codes on this clock too: on the system clock, a code
            // would be freed early, and a late reply would act on the alert that got it next.
            clock.now(),
          )
        : undefined;
    const answer = await client.sendSms(
      first.to.address,
      smsText(messages, code),
      statusCallbackOf(settings, messages),
    );
    return deliveryResultOf(
      answer,
      messages.length > 1 ? `one text for ${messages.length} alerts` : undefined,
      log,
    );
  }
  return {
    type: 'sms',
    send: (message) => sendBundle([message]),
    sendBundle,
    async sendNotice(to, notice) {
      return deliveryResultOf(await client.sendSms(to.address, `Vigil: ${notice.text}`), undefined, log);
    },
  };
}

function voiceChannel(
  settings: TwilioSettings,
  client: TwilioClient,
  log: Logger,
): NotificationChannel | Unavailable {
  if (settings.from.startsWith('MG')) {
    return {
      unavailable:
        'Vigil cannot make voice calls: VIGIL_TWILIO_FROM is a Messaging Service, and calls need a number',
      startupHint:
        'Voice calls are off: VIGIL_TWILIO_FROM is a Messaging Service SID; set it to a Twilio phone number (E.164) that can make calls.',
    };
  }
  async function sendBundle(messages: OutgoingNotification[]) {
    const [first] = messages;
    if (!first) return { status: 'failed' as const, error: 'nothing to send' };
    // The call's script is read when it is answered, so it tells the alerts' state then, not now.
    const ids = messages.map((m) => m.notificationId).join(',');
    const answer = await client.call(
      first.to.address,
      { url: `${settings.publicUrl}${VOICE_PATH}?notifications=${ids}` },
      statusCallbackOf(settings, messages),
    );
    return deliveryResultOf(
      answer,
      messages.length > 1 ? `one call for ${messages.length} alerts` : undefined,
      log,
    );
  }
  return {
    type: 'voice',
    send: (message) => sendBundle([message]),
    sendBundle,
    async sendNotice(to, notice) {
      const text = `This is Vigil. ${notice.text}`;
      const twiml = twimlResponse(pause(1), say(text), pause(1), say(`Again: ${notice.text}`));
      return deliveryResultOf(await client.call(to.address, { twiml }), undefined, log);
    },
  };
}

export function twilioChannels(setup: ChannelSetup): {
  sms: NotificationChannel | Unavailable;
  voice: NotificationChannel | Unavailable;
} {
  const settings = twilioSettingsOf(setup.config);
  if (!settings) {
    return {
      sms: { unavailable: 'Vigil cannot send SMS: Twilio is not set up', startupHint: TWILIO_SETUP_HINT },
      // Said once at startup: the SMS entry says it.
      voice: { unavailable: 'Vigil cannot make voice calls: Twilio is not set up' },
    };
  }
  const client = createTwilioClient(settings, setup.fetch, setup.clock);
  return {
    sms: smsChannel(settings, client, setup.db, setup.clock, setup.log),
    voice: voiceChannel(settings, client, setup.log),
  };
}
