import type { Recipient } from '../../api/types';

/** Whom a schedule has on call, as the console names it: a person by username, a team or escalation with its kind. */
export function recipientLabel(recipient: Recipient): string {
  return recipient.type === 'user' ? recipient.name : `${recipient.name} (${recipient.type})`;
}
