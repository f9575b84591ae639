import type { DeliveryResult } from '../channel.js';
import { NUMBER_PROBLEMS, OPTED_OUT_CODE, type TwilioAnswer } from './client.js';

/** A Twilio answer as the sender's outcome: a refused number also marks its contact method. */
export function deliveryResultOf(answer: TwilioAnswer, detail?: string): DeliveryResult {
  if (answer.ok) return { status: 'sent', providerId: answer.sid, ...(detail ? { detail } : {}) };
  if (answer.kind === 'retry') return { status: 'retry', error: answer.error };
  const problem = answer.code !== undefined ? NUMBER_PROBLEMS[answer.code] : undefined;
  return {
    status: 'failed',
    error: problem ? `${problem} (${answer.error})` : answer.error,
    ...(problem ? { addressProblem: problem } : {}),
    // An opt-out says nothing of whose number it is: START must be all it takes to be paged again.
    ...(answer.code === OPTED_OUT_CODE ? { optedOut: true } : {}),
  };
}
