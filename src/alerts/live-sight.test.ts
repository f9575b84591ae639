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
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * The console's live stream tells a user who sees only their alerts when one becomes theirs, or stops
 * being theirs, without its change being one they may see afterwards: a page reaching them (the alert
 * row does not change), and an alert assigned away from them (they may not see its new state).
 */

let server: TestServer;
let smtp: TestSmtpServer;
const clock = new ShiftedClock();
const run = randomUUID().slice(0, 6);
const streams: AbortController[] = [];
const MINUTE = 60_000;

let paged: TestUser;
let owner: TestUser;
let other: TestUser;
let bystander: TestUser;

interface Stream {
  /** Everything received so far. */
  text(): string;
}

async function openStream(key: string): Promise<Stream> {
  const controller = new AbortController();
  streams.push(controller);
  const response = await fetch(`${server.url}/api/console/events`, {
    headers: { authorization: `GenieKey ${key}` },
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  let received = '';
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) received += decoder.decode(chunk);
  })().catch(() => {});
  await waitFor('the stream to open', async () => received.includes('event: position'));
  return { text: () => received };
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

const told = (stream: Stream, id: string, from = 0) =>
  stream.text().slice(from).includes(`event: alerts\ndata: {"ids":["${id}"],"more":false,`);
const toldMore = (stream: Stream, from = 0) =>
  stream.text().slice(from).includes('event: alerts\ndata: {"ids":[],"more":true,');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
  });
  paged = await addUserWithKey(server, 'paged', run);
  owner = await addUserWithKey(server, 'owner', run);
  other = await addUserWithKey(server, 'other', run);
  bystander = await addUserWithKey(server, 'bystander', run);
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

  it('tells an owner whose alert is assigned away to read their list again, naming nothing', async () => {
    const made = await server.callOk('POST', '/v2/alerts', { message: `owned ${run}` });
    const id = await alertId(made.requestId);
    await server.callOk('POST', `/v2/alerts/${id}/assign`, { owner: { username: owner.username } });
    await waitFor('theirs', async () => lists(owner.key, id));

    const admin = await openStream(server.key);
    const mine = await openStream(owner.key);
    const aside = await openStream(bystander.key);
    const from = { admin: admin.text().length, mine: mine.text().length, aside: aside.text().length };

    // A change that leaves who sees it as it was: one who does not see the alert hears nothing of it.
    await server.callOk('POST', `/v2/alerts/${id}/tags`, { tags: ['looked-at'] });
    await waitFor('the tag told', async () => told(admin, id, from.admin));
    await waitFor('the owner told of the tag', async () => told(mine, id, from.mine));
    await sleep(500);
    assert.ok(!toldMore(aside, from.aside), aside.text());
    assert.ok(!toldMore(mine, from.mine), mine.text());

    from.admin = admin.text().length;
    from.mine = mine.text().length;
    await server.callOk('POST', `/v2/alerts/${id}/assign`, { owner: { username: other.username } });
    await waitFor('the assignment told', async () => told(admin, id, from.admin));
    assert.equal(await lists(owner.key, id), false, 'no longer theirs');
    await waitFor('the former owner told to read again', async () => toldMore(mine, from.mine), 10_000);
    assert.ok(!mine.text().slice(from.mine).includes(id), 'the alert is not named to who no longer sees it');
  });
});
