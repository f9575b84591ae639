import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  addUserWithKey,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
  type TestUser,
} from '../testing/harness.js';
import { openLiveStream } from '../testing/live-stream.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * The console's live stream tells a user who sees only their alerts when a page makes one theirs: the
 * alert row does not change, so only the notification's insert announces it (migration 0062). An alert
 * that leaves their sight is not told to them (alerts/live-routes.ts `tell`).
 */

let server: TestServer;
let smtp: TestSmtpServer;
const clock = new ShiftedClock();
const run = randomUUID().slice(0, 6);
const streams: AbortController[] = [];
const MINUTE = 60_000;

let paged: TestUser;

interface Stream {
  /** Everything received so far. */
  text(): string;
}

async function openStream(key: string): Promise<Stream> {
  const stream = await openLiveStream(server.url, key, { track: streams });
  assert.equal(stream.status, 200);
  await waitFor('the stream to open', async () => stream.text().includes('event: position'));
  return stream;
}

async function alertId(requestId: string): Promise<string> {
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

const lists = async (key: string, id: string) =>
  ((await server.callOk('GET', '/v2/alerts?limit=100', undefined, key)).data as Json[]).some(
    (a) => a.id === id,
  );

const told = (stream: Stream, id: string) =>
  stream.text().includes(`event: alerts\ndata: {"ids":["${id}"],"more":false,`);

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
  });
  paged = await addUserWithKey(server, 'paged', run);
  await server.callOk('POST', '/v2/teams', { name: `Others ${run}`, members: [] });
  // The page comes ten minutes after the alert: its creation is told (to no one but admins) well before.
  await server.callOk('POST', '/v2/escalations', {
    name: `Later page ${run}`,
    ownerTeam: { name: `Others ${run}` },
    rules: [
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 10 },
        recipient: { type: 'user', username: paged.username },
      },
    ],
  });
});

after(async () => {
  for (const stream of streams) stream.abort();
  await server?.stop();
  await smtp?.stop();
});

describe('the live stream of a user who sees only their alerts', () => {
  it('tells them of an alert a page made theirs', async () => {
    const admin = await openStream(server.key);
    const mine = await openStream(paged.key);
    const made = await server.callOk('POST', '/v2/alerts', {
      message: `paged ${run}`,
      responders: [{ type: 'escalation', name: `Later page ${run}` }],
    });
    const id = await alertId(made.requestId);
    await waitFor('the creation told', async () => told(admin, id));
    await server.idle();
    assert.equal(await lists(paged.key, id), false, 'not theirs before the page');
    assert.ok(!mine.text().includes(id), mine.text());

    clock.advance(11 * MINUTE);
    await waitFor('the page', async () => lists(paged.key, id), 15_000);
    await waitFor('the paged user told', async () => told(mine, id), 10_000);
  });
});
