import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * The key sent as the password of Basic credentials, the user name empty: how Prometheus Alertmanager's
 * "Watchdog" heartbeat (webhook_configs with http_config.basic_auth.password) and Grafana ping Opsgenie,
 * which takes it. A heartbeat pinged so stays alive; a wrong key is refused; and the Alert API takes the
 * key so too, as it is only another way of sending it.
 */

const clock = new ShiftedClock();
let server: TestServer;
let key: string;
const run = randomUUID().slice(0, 8);
const MINUTE = 60_000;

const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;

async function send(
  method: string,
  path: string,
  authorization: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { authorization };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(server.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const lastPingOf = async (name: string): Promise<string | undefined> =>
  (await server.callOk('GET', `/v2/heartbeats/${name}`)).data.lastPingTime as string | undefined;

before(async () => {
  server = await startTestServer({ clock });
  const team = `Monitoring ${run}`;
  await server.callOk('POST', '/v2/teams', { name: team });
  // Alertmanager holds an API integration's key.
  key = (
    await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `Alertmanager ${run}`,
      ownerTeam: { name: team },
    })
  ).data.apiKey as string;
});

after(async () => {
  await server?.stop();
});

describe('Basic authentication with the key as the password', () => {
  it("pings a heartbeat, as Alertmanager's Watchdog does", async () => {
    const name = `watchdog-${run}`;
    await server.callOk('POST', '/v2/heartbeats', {
      name,
      interval: 5,
      intervalUnit: 'minutes',
      enabled: true,
    });
    assert.equal(await lastPingOf(name), undefined);

    for (const [i, authorization] of [
      basic(`:${key}`),
      basic(`alertmanager:${key}`),
      `basic ${Buffer.from(`:${key}`).toString('base64')}`,
    ].entries()) {
      clock.advance(MINUTE);
      const sent = clock.now().getTime();
      const pong = await send('POST', `/v2/heartbeats/${name}/ping`, authorization);
      assert.equal(pong.status, 202, `${i}: ${JSON.stringify(pong.body)}`);
      assert.equal(pong.body.result, 'PONG - Heartbeat received');
      const pinged = Date.parse((await lastPingOf(name)) ?? '');
      assert.ok(pinged >= sent && pinged <= clock.now().getTime(), `${i}: its last ping moved to now`);
    }
  });

  it('refuses a wrong key, an empty one and malformed credentials, and the heartbeat is not pinged', async () => {
    const name = `refused-${run}`;
    await server.callOk('POST', '/v2/heartbeats', {
      name,
      interval: 5,
      intervalUnit: 'minutes',
      enabled: true,
    });
    await server.callOk('POST', `/v2/heartbeats/${name}/ping`);
    const pinged = await lastPingOf(name);
    clock.advance(MINUTE);
    for (const authorization of [
      basic(`:${randomUUID()}`),
      basic(`${key}:${randomUUID()}`),
      basic(':'),
      'Basic !!not-base64!!',
    ]) {
      const refused = await send('POST', `/v2/heartbeats/${name}/ping`, authorization);
      assert.equal(refused.status, 401, `${authorization}: ${JSON.stringify(refused.body)}`);
    }
    assert.equal(await lastPingOf(name), pinged);
  });

  it('creates an alert through the Alert API', async () => {
    const message = `Watchdog ${run}`;
    const accepted = await send('POST', '/v2/alerts', basic(`:${key}`), { message });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const alertId = await waitFor('the alert', async () => {
      const status = await send('GET', `/v2/alerts/requests/${accepted.body.requestId}`, basic(`:${key}`));
      return status.body.data?.alertId as string | undefined;
    });
    const got = await send('GET', `/v2/alerts/${alertId}`, basic(`:${key}`));
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.data.message, message);
  });
});
