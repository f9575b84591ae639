import type { WorkQueueSpec } from '../../work/runner.js';
import { QUEUES } from '../../work/queue-names.js';
import type { SessionsService } from './service.js';

/**
 * Emails the password resets people asked for, from their rows (`password_reset_requests`): the request
 * only stores the email, so that its answer takes the same time whether or not an account has it. A
 * request wakes the queue; a round leases a batch (SKIP LOCKED: any number of workers share it), sends
 * and forgets them. A row whose worker died is taken again once its lease ends.
 */
export function passwordResetsQueue(
  sessions: Pick<SessionsService, 'sendAskedPasswordResets' | 'nextPasswordResetLeaseEnd'>,
  options: { batch?: number } = {},
): WorkQueueSpec {
  const batch = options.batch ?? 20;
  return {
    name: QUEUES.passwordResets,
    idleMs: 60_000,
    async round(now) {
      const sent = await sessions.sendAskedPasswordResets(now, batch);
      if (sent >= batch) return { more: true };
      return { more: false, nextDueAt: (await sessions.nextPasswordResetLeaseEnd()) ?? null };
    },
  };
}
