/**
 * The lateness benchmarks' set-up: a person with no contact method (so a page measures the engine, not
 * a channel) on a team routed to a policy whose rules fire at once, after 1 minute and after 30.
 */

/** Calls the Vigil API and gives the parsed JSON answer. */
export type ApiCall = (method: string, route: string, body?: object) => Promise<unknown>;

export const QUIET_USER = 'quiet@example.com';
export const QUIET_TEAM = 'Escalating';

export async function setUpQuietPolicy(call: ApiCall): Promise<void> {
  await call('POST', '/v2/users', { username: QUIET_USER, fullName: 'Quiet', role: { name: 'User' } });
  // Every new user gets an email contact by default: remove it.
  const contacts = (await call('GET', `/v2/users/${QUIET_USER}/contacts`)) as { data: { id: string }[] };
  for (const c of contacts.data) await call('DELETE', `/v2/users/${QUIET_USER}/contacts/${c.id}`);
  await call('POST', '/v2/teams', { name: QUIET_TEAM, members: [{ user: { username: QUIET_USER } }] });
  await call('POST', '/v2/escalations', {
    name: 'Bench policy',
    rules: [0, 1, 30].map((minutes) => ({
      condition: 'if-not-acked',
      notifyType: 'default',
      delay: { timeAmount: minutes },
      recipient: { type: 'user', username: QUIET_USER },
    })),
  });
  await call('PUT', `/v2/teams/${QUIET_TEAM}/routing-rules/default?teamIdentifierType=name`, {
    notify: { type: 'escalation', name: 'Bench policy' },
  });
}
