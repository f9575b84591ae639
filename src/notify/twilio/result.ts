import type { DeliveryResult } from '../channel.js';
import type { Logger } from '../../logger.js';
import { ACCOUNT_PROBLEMS, NUMBER_PROBLEMS, OPTED_OUT_CODE, type TwilioAnswer } from './client.js';

/**
 * A Twilio answer as the sender's outcome: a refused number also marks its contact method. The HTTP
 * status decides first (client.ts: retry or not); the code only refines a 400, because Twilio renumbers
 * and splits its codes (PROVIDER-FACTS 1.3). An answer that blames Vigil's Twilio account fails the send
 * and is said to the operator (`log`), who is the one who can fix it.
 */
export function deliveryResultOf(answer: TwilioAnswer, detail?: string, log?: Logger): DeliveryResult {
  if (answer.ok) return { status: 'sent', providerId: answer.sid, ...(detail ? { detail } : {}) };
  if (answer.kind === 'retry') {
    return {
      status: 'retry',
      error: answer.error,
      ...(answer.retryAfterMs !== undefined ? { retryAfterMs: answer.retryAfterMs } : {}),
      // 429 (20429): Twilio did not process the request (PROVIDER-FACTS 1.3); the page was not refused.
      ...(answer.httpStatus === 429 ? { rateLimited: true } : {}),
    };
  }
  const code = answer.httpStatus === 400 ? answer.code : undefined;
  const account = code !== undefined ? ACCOUNT_PROBLEMS[code] : undefined;
  if (account) {
    log?.warn({ code, httpStatus: answer.httpStatus }, `Twilio refused a message: ${account}`);
    return { status: 'failed', error: `${account} (${answer.error})` };
  }
  const problem = code !== undefined ? NUMBER_PROBLEMS[code] : undefined;
  return {
    status: 'failed',
    error: problem ? `${problem} (${answer.error})` : answer.error,
    ...(problem ? { addressProblem: problem } : {}),
    // An opt-out says nothing of whose number it is: START must be all it takes to be paged again.
    ...(code === OPTED_OUT_CODE ? { optedOut: true } : {}),
  };
}
