import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Db } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import { localDeliveryConfig } from '../../testing/team-deliveries.js';
import { slackWebhookKind } from '../slack/webhook-kind.js';
import { teamsKind } from '../teams/kind.js';
import {
  countsAgainstDestination,
  type TeamDelivery,
  type TeamDeliveryContext,
  type TeamDestinationKind,
} from './kind.js';
import { webhookKind } from './webhook.js';

/**
 * A refusal of one message (too large, a layout the receiver will not take) says nothing of the
 * destination, which still takes the others: it must not count towards disabling it. One about the
 * receiver (gone, a hook revoked) still does. Each kind's answer to such statuses, from a receiver on
 * 127.0.0.1 that answers what the test queues.
 */

let server: http.Server;
let url: string;
const answers: { status: number; body: string }[] = [];
const clock: Clock = { now: () => new Date(), fromSystemTime: (t) => t, toSystemTime: (t) => t };
const context: TeamDeliveryContext = {
  // Not read: no destination here belongs to an integration.
  db: undefined as unknown as Db,
  log: createLogger('silent'),
  clock,
  config: localDeliveryConfig(),
  fetch: (input, init) => fetch(input, init),
};

function delivery(config: Record<string, unknown>): TeamDelivery {
  return {
    deliveryId: '00000000-0000-4000-8000-000000000001',
    attempt: 1,
    destination: {
      id: '00000000-0000-4000-8000-000000000002',
      orgId: '00000000-0000-4000-8000-000000000003',
      name: 'Receiver',
      teamId: null,
      integrationId: null,
      config,
    },
    event: {
      type: 'test',
      eventId: '00000000-0000-4000-8000-000000000004',
      orgId: '00000000-0000-4000-8000-000000000003',
      at: new Date().toISOString(),
      actor: { kind: 'system', name: 'test' },
    },
    alert: undefined,
    links: { view: 'https://vigil.example.com/alerts' },
  };
}

async function answer(kind: TeamDestinationKind, config: Record<string, unknown>, status: number, body = '') {
  answers.push({ status, body });
  const result = await kind.deliver(delivery(config), context);
  assert.equal(result.response?.status, status);
  return { result, counts: countsAgainstDestination(result) };
}

before(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const next = answers.shift() ?? { status: 200, body: 'ok' };
      res.writeHead(next.status, { 'content-type': 'text/plain' }).end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("a receiver's refusal of one message", () => {
  it('webhook: a 413 fails the delivery alone, not counted; a 404 or 503 is', async () => {
    const config = { url, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    const tooLarge = await answer(webhookKind, config, 413);
    assert.equal(tooLarge.result.status, 'failed');
    assert.equal(tooLarge.counts, false);
    assert.equal((await answer(webhookKind, config, 404)).counts, true);
    assert.equal((await answer(webhookKind, config, 503)).counts, true);
  });

  it("Teams: a 413 fails the card alone, not counted; a 401 (the URL's signature) is", async () => {
    const tooLarge = await answer(teamsKind, { url }, 413);
    assert.equal(tooLarge.result.status, 'failed');
    assert.equal(tooLarge.counts, false);
    assert.match('error' in tooLarge.result ? tooLarge.result.error : '', /too large/);
    assert.equal((await answer(teamsKind, { url }, 401)).counts, true);
  });

  it("Slack incoming webhook: a 413 is not counted; a refused new post and a hook's own 400 are", async () => {
    assert.equal((await answer(slackWebhookKind, { url }, 413)).counts, false);
    // Every post is a new message, built alike: a hook that refuses one may refuse every alert, and a day
    // of that must turn the destination off with its reason, not leave it on and silent.
    const refused = await answer(slackWebhookKind, { url }, 400, 'invalid_payload');
    assert.equal(refused.result.status, 'failed');
    assert.equal(refused.counts, true);
    assert.equal((await answer(slackWebhookKind, { url }, 400, 'no_text')).counts, true);
    assert.equal((await answer(slackWebhookKind, { url }, 400, 'no_team')).counts, true);
    assert.equal((await answer(slackWebhookKind, { url }, 404, 'no_service')).result.status, 'gone');
  });
});
