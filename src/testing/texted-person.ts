import type pg from 'pg';
import type { TestServer } from './harness.js';

/**
 * A person paged by text only (their one rule's one step, `afterMinutes` after an alert), with their
 * number marked verified (twilio.test.ts verifies one with a real code), in a team of their own named
 * `<name> <run>`; the team's name.
 */
export async function textedPerson(
  server: TestServer,
  db: pg.Client,
  person: { name: string; phone: string; run: string; afterMinutes: number },
): Promise<string> {
  const { name, phone, run } = person;
  const username = `${name.toLowerCase()}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username, fullName: name, role: { name: 'User' } });
  const sms = await server.callOk('POST', `/v2/users/${username}/contacts`, { method: 'sms', to: phone });
  await db.query(`UPDATE contact_methods SET verified_at = now() WHERE id = $1`, [sms.data.id]);
  const rules = await server.callOk('GET', `/v2/users/${username}/notification-rules`);
  await server.callOk('PATCH', `/v2/users/${username}/notification-rules/${rules.data[0].id}`, {
    steps: [
      {
        contact: { method: 'sms', to: phone.replaceAll(' ', '') },
        sendAfter: { timeAmount: person.afterMinutes },
      },
    ],
  });
  const team = `${name} ${run}`;
  await server.callOk('POST', '/v2/teams', { name: team, members: [{ user: { username }, role: 'user' }] });
  return team;
}
