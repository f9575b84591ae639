import pg from 'pg';
import type { Clock } from '../work/clock.js';
import { startFakeTwilio, type FakeTwilio } from './fake-twilio.js';
import { startTestServer, type TestServer } from './harness.js';
import { freePort } from './network.js';

/** The real server texting and calling through a local Twilio, which calls back as Twilio does. */
export interface TwilioTestbed {
  twilio: FakeTwilio;
  server: TestServer;
  /** A connection to the server's database, for what a test sets or reads directly. */
  db: pg.Client;
  stop(): Promise<void>;
}

/**
 * Starts the local Twilio, then the server set up to use it, at a port known before it starts: Twilio's
 * callbacks are signed over the public URL, which must be the one they reach.
 */
export async function startTwilioTestbed(options: {
  accountSid: string;
  authToken: string;
  from: string;
  clock?: Clock;
  engineIntervalMs?: number;
}): Promise<TwilioTestbed> {
  const { accountSid, authToken, from } = options;
  const twilio = await startFakeTwilio({ accountSid, authToken, numbers: [from] });
  const port = await freePort();
  const server = await startTestServer({
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.engineIntervalMs ? { engineIntervalMs: options.engineIntervalMs } : {}),
    env: {
      PORT: String(port),
      VIGIL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      VIGIL_TWILIO_ACCOUNT_SID: accountSid,
      VIGIL_TWILIO_AUTH_TOKEN: authToken,
      VIGIL_TWILIO_FROM: from,
      VIGIL_TWILIO_API_URL: twilio.url,
    },
  });
  twilio.setWebhooks({ smsUrl: `${server.url}/v1/twilio/sms` });
  const db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  return {
    twilio,
    server,
    db,
    async stop() {
      await db.end();
      await server.stop();
      await twilio.close();
    },
  };
}

/**
 * A person paged at once by `method` on `phone`, alone in a team of their own named `<name> <run>`
 * (not verified: a test that needs it verifies the number, or marks it so).
 */
export async function phonePagedPerson(
  server: TestServer,
  person: { name: string; method: 'sms' | 'voice'; phone: string; run: string },
): Promise<{ team: string; user: string; contactId: string }> {
  const { name, method, phone, run } = person;
  const user = `${name.toLowerCase()}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username: user, fullName: name, role: { name: 'User' } });
  const contact = await server.callOk('POST', `/v2/users/${user}/contacts`, { method, to: phone });
  const rules = await server.callOk('GET', `/v2/users/${user}/notification-rules`);
  await server.callOk('PATCH', `/v2/users/${user}/notification-rules/${rules.data[0].id}`, {
    steps: [{ contact: { method, to: phone }, sendAfter: { timeAmount: 0 } }],
  });
  const team = `${name} ${run}`;
  await server.callOk('POST', '/v2/teams', {
    name: team,
    members: [{ user: { username: user }, role: 'user' }],
  });
  return { team, user, contactId: contact.data.id };
}
