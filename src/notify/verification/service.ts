import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../../accounts/service.js';
import type { Db, Tx } from '../../db/database.js';
import type { ContactMethodRow, UserRow } from '../../db/schema.js';
import { invalid, rateLimited, unavailable, upstream } from '../../errors.js';
import type { Clock } from '../../work/clock.js';
import type { Notice, NotificationChannel } from '../channel.js';
import type { Channels } from '../destinations/registry.js';
import { destinationLabel, requiresVerification } from '../destinations/registry.js';
import { peopleRepository } from '../../oncall/people/repository.js';
import { noSuchContact } from '../../oncall/people/service.js';
import { SENDS_WINDOW_MS, verificationsRepository as repo, type VerificationSend } from './repository.js';

/**
 * Proving a contact method reaches its person before it is paged: a six-digit code sent by the contact's
 * own channel (a text, or a call that reads it out), entered in the console or the API. And the test
 * button: a message that says only that it is a test.
 */

export interface ContactVerificationDeps {
  db: Db;
  clock: Clock;
  /** The channels that send codes and tests (made on first use: the API process sends no pages). */
  channels: () => Channels;
  /** Reads a contact method the caller may change (people service). */
  contactToManage(
    p: Principal,
    identifier: string,
    contactId: string,
  ): Promise<{ user: UserRow; contact: ContactMethodRow }>;
}

const CODE_TTL_MS = 10 * 60_000;
/**
 * A code a minute per contact and per address (and a test a minute per address): each costs money and
 * rings someone's phone. By address too, because a contact deleted and added again is a new contact.
 */
const RESEND_AFTER_MS = 60_000;
/**
 * At most this many codes and tests an hour to one person's contacts, whatever their addresses: without
 * it, a person could add a thousand numbers (anyone's) and have Vigil ring each.
 */
const SENDS_PER_HOUR = 10;
const MAX_TRIES = 5;

/** A code proves only the address it was sent to. */
function addressChanged() {
  return invalid(
    "The code was sent to this contact's earlier address, which has changed since: send a new one (send-verification).",
    { code: 'send a new code first' },
  );
}

/**
 * What a test says. The person's name (free text anyone sets for themselves) only goes to an address a
 * code proved is theirs: an email contact needs no proof, so a name there would let anyone have Vigil's
 * trusted sender mail any mailbox a text of their choosing. Whoever gets an unexpected one is told why.
 */
export function testNotice(contact: ContactMethodRow, user: UserRow): Notice {
  const label = destinationLabel(contact.method);
  const proven = requiresVerification(contact.method) && contact.verified_at !== null;
  if (proven) {
    return {
      subject: 'Vigil test message',
      text: `This is a test of ${user.full_name || user.username}'s ${label} contact. Pages for alerts will come like this.`,
    };
  }
  const text = `This is a test of a contact method (${label}) in Vigil. Pages for alerts will come like this.`;
  return {
    subject: 'Vigil test message',
    text:
      contact.method === 'email'
        ? `${text}\n\nVigil is an on-call alerting service. If you did not expect this message, someone may have entered this address by mistake: you need do nothing, and you can ignore it.`
        : text,
  };
}

function noCodeWaiting() {
  return invalid(
    'There is no code waiting for this contact, or it has expired: send a new one (send-verification).',
    { code: 'send a new code first' },
  );
}

/** Whole seconds from `now` until `at`, at least 1 (a Retry-After of 0 would invite a retry at once). */
function secondsUntil(at: number, now: Date): number {
  return Math.max(1, Math.ceil((at - now.getTime()) / 1000));
}

/** A channel that sends notices (codes, tests), not only pages. */
type NoticeChannel = NotificationChannel & Required<Pick<NotificationChannel, 'sendNotice'>>;

function hashOf(code: string): Buffer {
  return createHash('sha256').update(code).digest();
}

export function createContactVerification(deps: ContactVerificationDeps) {
  const { db, clock } = deps;

  /** The channel that sends codes and tests to this contact, or why there is none (before anything is counted). */
  function channelOf(contact: ContactMethodRow): NoticeChannel {
    const channel = deps.channels().get(contact.method);
    if (!channel?.sendNotice) {
      throw unavailable(
        `Vigil can not send to ${destinationLabel(contact.method)} contacts: ${deps.channels().whyUnavailable(contact.method)}.`,
      );
    }
    return channel as NoticeChannel;
  }

  async function send(
    channel: NoticeChannel,
    contact: ContactMethodRow,
    user: UserRow,
    notice: Notice,
  ): Promise<string | undefined> {
    const result = await channel.sendNotice(
      { address: contact.address, name: user.full_name || user.username },
      notice,
    );
    if (result.status !== 'sent') {
      throw upstream(`The ${destinationLabel(contact.method)} could not be sent: ${result.error}`);
    }
    return result.providerId;
  }

  /**
   * Counts a code or test about to be sent, or refuses it: one a minute to an address (of any contact of
   * the organization, deleted or not), and SENDS_PER_HOUR an hour to a person's contacts. Runs under the
   * locks of `lockSends`, so two requests at the same moment can not both pass.
   */
  async function countSend(tx: Tx, send: VerificationSend, now: Date): Promise<string> {
    const last = await repo.lastSendTo(tx, send, new Date(now.getTime() - RESEND_AFTER_MS));
    if (last) {
      const wait = secondsUntil(last.getTime() + RESEND_AFTER_MS, now);
      throw rateLimited(
        send.kind === 'code'
          ? `A code was sent to this address less than a minute ago (perhaps to another contact with it, by text or call, or to one since deleted): wait ${wait} s.`
          : `A test was sent to this contact less than a minute ago: wait ${wait} s.`,
        wait,
      );
    }
    const recent = await repo.sendsToUserSince(
      tx,
      send.userId,
      new Date(now.getTime() - SENDS_WINDOW_MS),
      SENDS_PER_HOUR,
    );
    const oldest = recent[SENDS_PER_HOUR - 1];
    if (oldest) {
      const until = oldest.getTime() + SENDS_WINDOW_MS;
      const wait = secondsUntil(until, now);
      throw rateLimited(
        `${SENDS_PER_HOUR} codes and tests were sent to this person's contacts in the last hour, the most Vigil sends: try again in ${wait < 60 ? `${wait} s` : `${Math.ceil(wait / 60)} min`} (at ${new Date(until).toISOString()}).`,
        wait,
      );
    }
    return repo.recordSend(tx, send, now);
  }

  /**
   * Sends, taking the send back from the counts when the provider did not make it (a refusal, an outage, a
   * wrong auth token): nobody's phone rang, and the person must not wait an hour once it is fixed.
   */
  async function sendCounted(
    counted: string,
    channel: NoticeChannel,
    contact: ContactMethodRow,
    user: UserRow,
    notice: Notice,
    onFailure?: () => Promise<void>,
  ): Promise<string | undefined> {
    try {
      return await send(channel, contact, user, notice);
    } catch (error) {
      await repo.unrecordSend(db, counted);
      await onFailure?.();
      throw error;
    }
  }

  return {
    async sendCode(p: Principal, identifier: string, contactId: string): Promise<{ expiresAt: Date }> {
      const { user, contact } = await deps.contactToManage(p, identifier, contactId);
      // A code proves a number before it is paged; other methods are paged as they are, and a code to an
      // email address nobody proved would only be Vigil mailing whoever was named.
      if (!requiresVerification(contact.method)) {
        throw invalid(
          `${destinationLabel(contact.method)} contacts need no verification: they are paged as they are. Send a test instead (POST …/contacts/{contactId}/test).`,
        );
      }
      const channel = channelOf(contact);
      const now = clock.now();
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      // Spaced digits are read one by one on a call, and are easy to copy from a text.
      const spoken = code.split('').join(' ');
      const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
      const sending: VerificationSend = {
        orgId: user.org_id,
        userId: user.id,
        method: contact.method,
        address: contact.address,
        kind: 'code',
      };
      // Checked and saved under one lock: read first and saved after, two requests at once both passed.
      const counted = await db.transaction().execute(async (tx) => {
        // Read again, held until the code is saved: a contact (or its person) deleted since the read above
        // is a 404, not the code's row refused (a 500) for a contact that is gone.
        if (!(await peopleRepository.findContact(tx, user.id, contact.id, 'key share'))) {
          throw noSuchContact(contactId, user);
        }
        await repo.lockSends(tx, sending);
        const last = await repo.find(tx, contact.id);
        // Per contact, whatever its address: changing the number back and forth must not ring two phones
        // without a pause.
        if (last && now.getTime() - last.sent_at.getTime() < RESEND_AFTER_MS) {
          const wait = secondsUntil(last.sent_at.getTime() + RESEND_AFTER_MS, now);
          throw rateLimited(
            last.address === contact.address
              ? `A code was sent to this contact less than a minute ago: wait ${wait} s, or enter the code it got.`
              : `A code was sent to this contact's earlier address less than a minute ago: wait ${wait} s to send one to its new address.`,
            wait,
          );
        }
        const id = await countSend(tx, sending, now);
        await repo.save(tx, {
          contactMethodId: contact.id,
          address: contact.address,
          codeHash: hashOf(code),
          sentAt: now,
          expiresAt,
        });
        return id;
      });
      // A code never sent is no code to wait for either.
      const forget = () => repo.remove(db, contact.id);
      await sendCounted(
        counted,
        channel,
        contact,
        user,
        {
          subject: 'Your Vigil verification code',
          text:
            contact.method === 'voice'
              ? `Your verification code is ${spoken}. Enter it in Vigil to receive calls for alerts.`
              : `your verification code is ${code}. Enter it in Vigil to be paged on this number. It works for 10 minutes.`,
        },
        forget,
      );
      return { expiresAt };
    },

    async verify(
      p: Principal,
      identifier: string,
      contactId: string,
      code: string,
    ): Promise<ContactMethodRow> {
      const { contact } = await deps.contactToManage(p, identifier, contactId);
      const now = clock.now();
      const pending = await repo.find(db, contact.id);
      if (!pending || pending.expires_at.getTime() < now.getTime()) throw noCodeWaiting();
      if (pending.address !== contact.address) throw addressChanged();
      // Counted before the compare, by the statement that checks the limit: checked on a read and counted
      // after a wrong compare, parallel requests each passed the check, and made as many guesses as
      // requests.
      const attempt = await repo.takeAttempt(db, contact.id, MAX_TRIES);
      if (!attempt) {
        // A right code entered meanwhile took the code away: there are no tries to tell of.
        if (!(await repo.find(db, contact.id))) throw noCodeWaiting();
        throw invalid('Too many wrong codes: send a new one (send-verification).', {
          code: 'send a new code first',
        });
      }
      // The code counted is the one compared: a new one may have been sent (to a new address) since the read.
      if (attempt.address !== contact.address) throw addressChanged();
      const given = hashOf(code.replace(/\s+/g, ''));
      if (!timingSafeEqual(given, attempt.codeHash)) {
        throw invalid(
          `That code is not the one sent (${Math.max(0, MAX_TRIES - attempt.attempts)} tries left).`,
          { code: 'the six digits sent to this contact' },
        );
      }
      // The address the code went to, checked again as the contact is marked: it may change meanwhile.
      const verified = await db.transaction().execute(async (tx) => {
        if (!(await peopleRepository.markContactVerified(tx, contact.id, attempt.address ?? '', now)))
          return false;
        await repo.remove(tx, contact.id);
        return true;
      });
      if (!verified) throw addressChanged();
      return { ...contact, verified_at: now, problem: null, problem_at: null };
    },

    async test(p: Principal, identifier: string, contactId: string): Promise<{ providerId?: string }> {
      const { user, contact } = await deps.contactToManage(p, identifier, contactId);
      if (requiresVerification(contact.method) && !contact.verified_at) {
        throw invalid(
          'Verify this contact before testing it: a test to a mistyped number reaches a stranger.',
        );
      }
      const channel = channelOf(contact);
      const sending: VerificationSend = {
        orgId: user.org_id,
        userId: user.id,
        method: contact.method,
        address: contact.address,
        kind: 'test',
      };
      const now = clock.now();
      const counted = await db.transaction().execute(async (tx) => {
        await repo.lockSends(tx, sending);
        return countSend(tx, sending, now);
      });
      const providerId = await sendCounted(counted, channel, contact, user, testNotice(contact, user));
      return providerId ? { providerId } : {};
    },
  };
}

export type ContactVerification = ReturnType<typeof createContactVerification>;
