import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createAlert, startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import type { NotificationChannel } from './channel.js';

/**
 * A page planned for a person who is blocked before it falls due: not sent, and the alert's log says the
 * person is blocked, not that they no longer exist.
 */

const clock = new ShiftedClock();
const MIN = 60_000;
const run = randomUUID().slice(0, 8);

const received: { address: string; alertId: string }[] = [];
const email: NotificationChannel = {
  type: 'email',
  async send(message) {
    received.push({ address: message.to.address, alertId: message.alert.id });
    return { status: 'sent', providerId: `mail-${received.length}` };
  },
};

let server: TestServer;

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100, channels: [email] });
});

after(async () => {
  await server?.stop();
});

describe('a delayed page to a person blocked meanwhile', () => {
  it('is cancelled, and the log says the person is blocked', async () => {
    const username = `hal.${run}@example.com`;
    const desk = `hal.desk.${run}@example.com`;
    const user = `/v2/users/${encodeURIComponent(username)}`;
    await server.callOk('POST', '/v2/users', { username, fullName: 'Hal', role: { name: 'User' } });
    await server.callOk('POST', `${user}/contacts`, { method: 'email', to: desk });
    const ruleId = ((await server.callOk('GET', `${user}/notification-rules`)).data as Json[])[0]
      .id as string;
    await server.callOk('PATCH', `${user}/notification-rules/${ruleId}`, {
      steps: [
        { contact: { method: 'email', to: username }, sendAfter: { timeAmount: 0 } },
        { contact: { method: 'email', to: desk }, sendAfter: { timeAmount: 5 } },
      ],
      repeat: { loopAfter: 0, enabled: false },
    });

    const alertId = await createAlert(server, {
      message: `disk full ${run}`,
      responders: [{ type: 'user', username }],
    });
    await waitFor('the first email', async () =>
      received.some((r) => r.alertId === alertId && r.address === username) ? true : undefined,
    );
    await server.callOk('PATCH', user, { blocked: true });
    clock.advance(5 * MIN);
    await server.idle();
    const row = await waitFor('the second step to be done with', async () => {
      const found = await server.app.context.db
        .selectFrom('notifications')
        .select(['state', 'last_error'])
        .where('alert_id', '=', alertId)
        .where('address', '=', desk)
        .executeTakeFirst();
      return found && found.state !== 'pending' && found.state !== 'sending' ? found : undefined;
    });
    await server.idle();

    assert.deepEqual(row, { state: 'cancelled', last_error: 'the user is blocked' });
    assert.equal(received.filter((r) => r.alertId === alertId && r.address === desk).length, 0);
    const logs = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
    const lines = (logs.data as Json[]).map((l) => l.log as string);
    assert.ok(lines.includes('Email to Hal not sent: the user is blocked'), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('no longer exists')), lines.join('\n'));
  });
});
