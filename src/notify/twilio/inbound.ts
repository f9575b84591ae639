import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { alertActionRight, type UserRight } from '../../accounts/custom-roles/rights.js';
import { principalOfUser } from '../../accounts/user-principal.js';
import { isDomainError } from '../../errors.js';
import { alertsRepository } from '../../alerts/repository.js';
import { peopleRepository as people } from '../../oncall/people/repository.js';
import { ALERT_MISSING, type AlertAction, type AlertsService, type Outcome } from '../../alerts/service.js';
import type { Db } from '../../db/database.js';
import type { AlertRow, UserRow } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import { describeResults, fitText, type ActResult } from './answer-text.js';
import { NUMBER_PROBLEMS, OPTED_OUT_CODE } from './client.js';
import { phoneContactOf } from './phone-contact.js';
import { replyCodesRepository } from './reply-codes.js';
import { parseSmsReply, SMS_HELP } from './sms-text.js';
import { describeAlerts, menu } from './voice-script.js';

/**
 * What Twilio tells Vigil: replies to texts, keys pressed on calls, and what became of each message or
 * call. Each acts as the person the text or call was for, through the alerts service, so the activity
 * log names them and says the answer came by SMS or by phone.
 */

export interface TwilioInboundDeps {
  db: Db;
  alerts: AlertsService;
  clock: Clock;
  log: Logger;
}

const OPTED_OUT = NUMBER_PROBLEMS[OPTED_OUT_CODE] ?? 'the number opted out of texts';

type Verb = 'acknowledge' | 'close' | 'escalate';
const DONE: Record<Verb, string> = { acknowledge: 'acknowledged', close: 'closed', escalate: 'escalated' };
/** The status of a close on an alert closed before (the alerts service's words). */
const ALREADY_CLOSED = 'Alert was already closed';

function actionOf(verb: Verb): AlertAction {
  return verb === 'acknowledge'
    ? { kind: 'acknowledge' }
    : verb === 'close'
      ? { kind: 'close' }
      : { kind: 'escalate' };
}

export function createTwilioInbound(deps: TwilioInboundDeps) {
  const { db, alerts, log } = deps;

  async function activeUser(userId: string): Promise<UserRow | undefined> {
    const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
    return user && !user.blocked ? user : undefined;
  }

  /** What an action did to an alert, for the answer's words. */
  function resultOf(outcome: Outcome): ActResult {
    const tiny = outcome.alert?.tiny_id;
    // Closed before the answer: refused (acknowledge, escalate), or nothing more to do (close).
    if (outcome.alert?.status === 'closed' && (!outcome.success || outcome.status === ALREADY_CLOSED))
      return { kind: 'closed', tiny };
    return outcome.success ? { kind: 'done', tiny } : { kind: 'not', tiny, why: outcome.status };
  }

  /**
   * Acts on each alert as the user: what happened, said once for alerts that went the same way (the
   * answer to a storm's bundle must stay one text), or a refusal. An answer that
   * acts on several open alerts at once is a bulk action, and needs the right the bulk API needs
   * (alert-close-all, alert-acknowledge-all): a role without it must not get round it by SMS or phone.
   */
  async function act(
    user: UserRow,
    alertIds: readonly string[],
    verb: Verb,
    via: string,
    several: boolean,
  ): Promise<
    { kind: 'said'; said: string[] } | { kind: 'refused'; bulkRight: UserRight | undefined; why: string }
  > {
    const principal = principalOfUser(user);
    const action = actionOf(verb);
    if (several) {
      let outcomes: Map<string, Outcome>;
      try {
        outcomes = await alerts.actOnMany(principal, alertIds, action, { source: via });
      } catch (error) {
        if (isDomainError(error, 'forbidden')) {
          const bulk = alertActionRight(action, principal, true).right;
          // An action with no right of its own for many alerts (escalate) is refused for each alert too.
          const own = bulk !== alertActionRight(action, principal).right;
          return { kind: 'refused', bulkRight: own ? bulk : undefined, why: error.message };
        }
        log.error({ err: error, alertIds }, `an answer by ${via} could not be applied`);
        return { kind: 'said', said: [`Alerts could not be ${DONE[verb]}: try again or use the console.`] };
      }
      return {
        kind: 'said',
        said: describeResults(
          alertIds.map((id) => resultOf(outcomes.get(id) ?? { success: false, status: ALERT_MISSING })),
          DONE[verb],
        ),
      };
    }
    const results: ActResult[] = [];
    for (const alertId of alertIds) {
      let outcome: Outcome;
      try {
        outcome = await alerts.act(principal, randomUUID(), alertId, 'id', action, { source: via });
      } catch (error) {
        // A refusal (the person's role may not do this) is said to them; anything else is a failure.
        if (isDomainError(error, 'forbidden')) results.push({ kind: 'not', why: error.message });
        else {
          log.error({ err: error, alertId }, `an answer by ${via} could not be applied`);
          results.push({ kind: 'failed' });
        }
        continue;
      }
      results.push(resultOf(outcome));
    }
    return { kind: 'said', said: describeResults(results, DONE[verb]) };
  }

  return {
    /** The answer to a text from `from` (undefined: none; Twilio itself answers STOP). */
    async smsReply(from: string, body: string): Promise<string | undefined> {
      const reply = parseSmsReply(body);
      const now = deps.clock.now();
      switch (reply.kind) {
        case 'stop': {
          const ids = await people.contactIdsAt(db, 'sms', from);
          // Still verified: the number is theirs, it only asked for no texts.
          await people.markContactProblem(db, ids, OPTED_OUT, now, { unverify: false });
          log.info({ contacts: ids.length }, 'an SMS contact opted out (STOP)');
          return undefined;
        }
        case 'start': {
          const ids = await people.contactIdsAt(db, 'sms', from);
          if (ids.length === 0) return undefined;
          // Only the opt-out is lifted: a number Twilio refused for another reason stays marked.
          await people.clearContactProblem(db, ids, OPTED_OUT);
          return 'Vigil: texts to this number are back on.';
        }
        case 'help':
        case 'unknown':
          return SMS_HELP;
        case 'answer': {
          const found = await replyCodesRepository.find(db, from, reply.code);
          if (!found) {
            return `Vigil: no open alert has the code ${reply.code} on this phone. ${SMS_HELP}`;
          }
          // The code of a person deleted since stays taken (it is still their text's) but acts as nobody,
          // and says nothing about its alerts to whoever has the phone.
          if (found.userId === null) {
            log.info(
              { code: reply.code },
              'an SMS reply with the code of a person deleted since: nothing done',
            );
            return `Vigil: nothing done: the person code ${reply.code} was sent to can no longer act on alerts.`;
          }
          // The contact is the credential, as for paging: a number the person no longer has (or has not
          // proven again, or turned off) does not act as them, and is told nothing about their alerts. An
          // opted-out number stays verified: it is still theirs.
          if (found.contact !== 'verified') {
            log.info(
              { userId: found.userId, contact: found.contact },
              'an SMS reply from a number that is not a verified contact of its person: nothing done',
            );
            return found.contact === 'gone'
              ? `Vigil: nothing done: this number is no longer an SMS contact of the person code ${reply.code} was sent to.`
              : found.contact === 'disabled'
                ? `Vigil: nothing done: this number's SMS contact is disabled for the person code ${reply.code} was sent to. Enable it again in Vigil to answer by SMS.`
                : `Vigil: nothing done: this number is not verified for the person code ${reply.code} was sent to. Verify it again in Vigil to answer by SMS.`;
          }
          // The code of alerts closed since: said so, and nothing done (it stands for no other alert).
          const alertsOfCode = await alertsRepository.byIds(db, found.alertIds);
          if (found.spent || !alertsOfCode.some((a) => a.status === 'open')) {
            const named = alertsOfCode.map((a) => a.tiny_id).join(', ');
            const several = found.alertIds.length > 1;
            return `Vigil: code ${reply.code} was for ${several ? 'alerts' : 'alert'}${named ? ` ${named}` : ''}, already closed${alertsOfCode.length < found.alertIds.length ? ' or deleted' : ''}: nothing done.`;
          }
          const user = await activeUser(found.userId);
          if (!user) return 'Vigil: the person this phone pages for can no longer act on alerts.';
          const open = alertsOfCode.filter((a) => a.status === 'open').length;
          const answer = await act(user, found.alertIds, reply.action, 'SMS', open > 1);
          // Said once per outcome, and cut to whole sentences: Twilio sends no text over 1,600 characters.
          if (answer.kind === 'said') return fitText(`Vigil: ${answer.said.join(' ')}`);
          // A bundle's text has one code for all its alerts: one of them alone is answered with the code
          // of a text about it alone, or in the console.
          return answer.bulkRight
            ? `Vigil: nothing done: your role does not allow you to ${reply.action} several alerts at once (it lacks the ${answer.bulkRight} right). Reply to the text of a single alert with its own code instead, or ${reply.action} them one at a time in the Vigil console.`
            : `Vigil: nothing done: ${answer.why}`;
        }
      }
    },

    /**
     * The TwiML text of a paging call, or of its answer when `digits` is given: the alerts as they are
     * now, and what pressing a key did. Undefined when the call is not Vigil's (unknown notifications).
     */
    async voice(
      notificationIds: readonly string[],
      digits: string | undefined,
    ): Promise<{ kind: 'menu'; text: string; count: number } | { kind: 'done'; text: string } | undefined> {
      const rows =
        notificationIds.length === 0
          ? []
          : await db
              .selectFrom('notifications')
              .select(['alert_id', 'user_id', 'address'])
              .where('id', 'in', notificationIds)
              .where('method', '=', 'voice')
              .execute();
      // One person and number: a call is a bundle of the messages due together to one phone.
      const paged = rows.find((r) => r.user_id);
      const userId = paged?.user_id;
      if (!paged || !userId) return undefined;
      // The number called is the credential, as for an SMS reply: once it is no longer the person's
      // verified, enabled voice contact (deleted, disabled or changed while the call rang, or a callback
      // replayed later), nothing is read to whoever answers and no key acts as them.
      const contact = await phoneContactOf(db, userId, 'voice', paged.address);
      if (contact !== 'verified') {
        log.info(
          { userId, contact, keyPressed: digits !== undefined },
          'a call to a number that is not a verified voice contact of its person: nothing done',
        );
        const why =
          contact === 'gone'
            ? 'this number is no longer a voice contact of the person this call was for'
            : contact === 'disabled'
              ? "this number's voice contact is disabled for the person this call was for. Enable it again in Vigil to answer calls"
              : 'this number is not verified for the person this call was for. Verify it again in Vigil to answer calls';
        return { kind: 'done', text: `This is Vigil. Nothing was done: ${why}. Goodbye.` };
      }
      const alertIds = [...new Set(rows.map((r) => r.alert_id))];
      const list: AlertRow[] = await alertsRepository.byIds(db, alertIds);
      if (list.length === 0)
        return { kind: 'done', text: 'This is Vigil. The alert of this call was deleted. Goodbye.' };
      const verb: Verb | undefined =
        digits === '1' ? 'acknowledge' : digits === '2' ? 'close' : digits === '3' ? 'escalate' : undefined;
      if (!verb) {
        const open = list.filter((a) => a.status === 'open');
        if (open.length === 0) {
          return {
            kind: 'done',
            text: `This is Vigil. ${list.length > 1 ? 'These alerts are' : 'The alert is'} already closed. Goodbye.`,
          };
        }
        return { kind: 'menu', text: describeAlerts(open), count: open.length };
      }
      const user = await activeUser(userId);
      if (!user)
        return { kind: 'done', text: 'The person this call was for can no longer act on alerts. Goodbye.' };
      const open = list.filter((a) => a.status === 'open').length;
      const answer = await act(
        user,
        list.map((a) => a.id),
        verb,
        'phone call',
        open > 1,
      );
      if (answer.kind === 'said') return { kind: 'done', text: `${answer.said.join(' ')} Goodbye.` };
      // Read out, so without the right's name and the API's advice the written refusal gives.
      return {
        kind: 'done',
        text: answer.bulkRight
          ? `Nothing was done: your role does not allow you to ${verb} several alerts at once. Reply to the text of a single alert with its own code instead, or ${verb} them one at a time in the Vigil console. Goodbye.`
          : `Nothing was done: ${answer.why} Goodbye.`,
      };
    },

    /** Writes what became of a text or call on the activity log of its alerts. */
    async status(input: {
      notificationIds: readonly string[];
      status: string;
      errorCode?: string;
      duration?: string;
      isCall: boolean;
    }): Promise<void> {
      const line = statusLine(input);
      if (!line) return;
      const rows = await sql<{
        alert_id: string;
        contact_method_id: string | null;
        name: string | null;
        method: string;
      }>`
        SELECT n.alert_id, n.contact_method_id, n.method, coalesce(nullif(u.full_name, ''), u.username, n.destination_name) AS name
        FROM notifications n LEFT JOIN users u ON u.id = n.user_id
        WHERE n.id = ANY(${input.notificationIds}::uuid[]) AND n.method = ${input.isCall ? 'voice' : 'sms'}`.execute(
        db,
      );
      if (rows.rows.length === 0) return;
      const label = input.isCall ? 'Voice call' : 'SMS';
      const problem = !input.isCall && input.errorCode ? CARRIER_PROBLEMS[input.errorCode] : undefined;
      await db.transaction().execute(async (tx) => {
        // The carrier's word is on the number the text went to: a contact given another number since (and
        // perhaps verified on it) is not what failed. Locked, so the address can not change before it is
        // marked.
        const marked = problem
          ? new Set(
              (
                await sql<{ id: string }>`
                  SELECT cm.id FROM contact_methods cm JOIN notifications n ON n.contact_method_id = cm.id
                  WHERE n.id = ANY(${input.notificationIds}::uuid[]) AND n.method = 'sms' AND cm.address = n.address
                  FOR UPDATE OF cm`.execute(tx)
              ).rows.map((r) => r.id),
            )
          : new Set<string>();
        await alertsRepository.addLogs(
          tx,
          rows.rows.map((r) => ({
            alertId: r.alert_id,
            type: 'notification',
            log: `${label} to ${r.name ?? 'someone'} ${line}${r.contact_method_id && marked.has(r.contact_method_id) ? `. This SMS contact is not paged again until it is verified again` : ''}`,
            owner: 'Vigil',
          })),
        );
        if (problem) {
          await people.markContactProblem(tx, [...marked], problem, deps.clock.now(), { unverify: true });
        }
      });
    },

    menu,
  };
}

export type TwilioInbound = ReturnType<typeof createTwilioInbound>;

/** Carrier errors that say the number can not take texts at all (30005 unknown, 30006 landline). */
const CARRIER_PROBLEMS: Record<string, string> = {
  '30005': 'the carrier says the number does not exist',
  '30006': 'the carrier says the number is a landline or can not take texts: use a voice contact for it',
};

const CARRIER_ERRORS: Record<string, string> = {
  '30003': 'the phone is unreachable (off or out of coverage)',
  '30004': 'the message was blocked',
  '30005': 'unknown number',
  '30006': 'a landline or a carrier that can not take texts',
  '30007': 'filtered by the carrier as spam',
  '30008': 'unknown error at the carrier',
};

/** The words for a final status, or undefined for a step on the way (queued, sending, ringing…). */
export function statusLine(input: {
  status: string;
  errorCode?: string;
  duration?: string;
  isCall: boolean;
}): string | undefined {
  const error = input.errorCode
    ? ` (error ${input.errorCode}${CARRIER_ERRORS[input.errorCode] ? `: ${CARRIER_ERRORS[input.errorCode]}` : ''})`
    : '';
  if (input.isCall) {
    switch (input.status) {
      case 'completed':
        return `answered${input.duration ? ` (${input.duration} s)` : ''}`;
      case 'busy':
        return 'not answered: the line was busy';
      case 'no-answer':
        return 'not answered: nobody picked up';
      case 'failed':
        return `failed${error}`;
      case 'canceled':
        return 'cancelled before it was answered';
      default:
        return undefined;
    }
  }
  switch (input.status) {
    case 'delivered':
      return 'delivered';
    case 'undelivered':
      return `not delivered${error}`;
    case 'failed':
      return `failed${error}`;
    default:
      return undefined;
  }
}
