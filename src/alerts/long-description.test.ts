import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fitAlertLimits } from './limits.js';
import { matchableOf } from './shaping/shape.js';
import { alertLogs, startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * A description over Opsgenie's 15,000 characters: Alertmanager's default Opsgenie description lists
 * every alert of the group, and past some sixty of them it is longer. The alert is kept with the first
 * 15,000 characters and its log says so, rather than a 422 that Alertmanager does not retry (no alert,
 * no page); so is its Update Description (Alertmanager's `update_alerts`) and a create action's
 * description template that comes out longer.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.stop();
});

const CUT = 'the description was cut to 15,000 characters';

/** Alertmanager's default `opsgenie.default.description` for a group of `n` firing alerts. */
function alertmanagerDescription(n: number): string {
  const lines = [`[FIRING:${n}] HighLatency (prod)`, '*Alerts Firing:*'];
  for (let i = 0; i < n; i++)
    lines.push(
      'Labels:',
      ` - alertname = HighLatency`,
      ` - env = prod`,
      ` - instance = api-${i}.prod.internal:9100`,
      ` - job = node`,
      ` - severity = critical`,
      'Annotations:',
      ` - summary = p99 latency of api-${i} is over 2s for 10 minutes, see the dashboard for the breakdown`,
      `Source: http://prometheus.prod.internal:9090/graph?g0.expr=histogram_quantile%280.99%2C+rate%28http_request_duration_seconds_bucket%7Binstance%3D%22api-${i}%22%7D%5B5m%5D%29%29+%3E+2&g0.tab=1`,
      '',
    );
  return lines.join('\n');
}

async function statusOf(answer: { status: number; body: Json }): Promise<Json> {
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return (await server.callOk('GET', `/v2/alerts/requests/${answer.body.requestId}`)).data;
}

describe('a description over 15,000 characters', () => {
  it('is cut in fitAlertLimits, and the change named for the log', () => {
    const description = `${'d'.repeat(14_999)}😀😀`;
    const { input, changes } = fitAlertLimits({ message: 'm', description });
    assert.equal(Array.from(input.description ?? '').length, 15_000);
    assert.ok(input.description?.endsWith('…'));
    assert.deepEqual(changes, [CUT]);
    const fits = { message: 'm', description: '😀'.repeat(15_000) };
    assert.deepEqual(fitAlertLimits(fits), { input: fits, changes: [] });
  });

  it('is matched by conditions as the alert keeps it', () => {
    const seen = matchableOf({ message: 'm', description: 'd'.repeat(100_000) }, null);
    assert.equal(seen.description.length, 15_000);
  });

  it("keeps Alertmanager's alert of 60 in one group, cut, and says so on its log", async () => {
    const description = alertmanagerDescription(60);
    assert.ok(description.length > 15_000, `${description.length} characters`);
    const alias = `am-${run}`;
    const status = await statusOf(
      await server.call('POST', '/v2/alerts', {
        alias,
        message: '[FIRING:60] HighLatency (prod)',
        description,
        source: 'http://alertmanager:9093',
      }),
    );
    assert.equal(status.success, true, JSON.stringify(status));
    const alert = (await server.callOk('GET', `/v2/alerts/${status.alertId}`)).data;
    assert.equal(Array.from(alert.description as string).length, 15_000);
    assert.ok(alert.description.slice(0, 14_999) === description.slice(0, 14_999), 'its first 14,999 kept');
    const logs = await alertLogs(server, status.alertId);
    assert.ok(logs[0]?.includes(CUT), logs[0]?.slice(0, 500));

    // update_alerts: Alertmanager sends the same description again, to Update Description.
    const longer = alertmanagerDescription(70);
    const updated = await statusOf(
      await server.call('PUT', `/v2/alerts/${alias}/description?identifierType=alias`, {
        description: longer,
      }),
    );
    assert.equal(updated.success, true, JSON.stringify(updated));
    assert.match(updated.status, /cut to 15,000 characters/);
    const after = (await server.callOk('GET', `/v2/alerts/${status.alertId}`)).data;
    assert.ok(after.description.slice(0, 14_999) === longer.slice(0, 14_999), 'its first 14,999 kept');
    assert.equal(Array.from(after.description as string).length, 15_000);
    const logsAfter = await alertLogs(server, status.alertId);
    assert.ok(
      logsAfter.some((l) => /^Description changed by .*cut to 15,000 characters/.test(l)),
      logsAfter.join('\n').slice(0, 2000),
    );
  });

  it("cuts a create action's description that comes out longer, and says so", async () => {
    const team = (await server.callOk('POST', '/v2/teams', { name: `Long ${run}` })).data.id;
    const made = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: `Long ${run}`,
        ownerTeam: { id: team },
      })
    ).data;
    await server.callOk('PUT', `/v2/integrations/${made.id}/actions`, {
      create: [{ name: 'c', description: '{{description}} {{description}}' }],
    });
    const status = await statusOf(
      await server.call(
        'POST',
        '/v2/alerts',
        { alias: `twice-${run}`, message: 'twice', description: 'x'.repeat(10_000) },
        made.apiKey,
      ),
    );
    assert.equal(status.success, true, JSON.stringify(status));
    const alert = (await server.callOk('GET', `/v2/alerts/${status.alertId}`)).data;
    // Compared as a whole, not printed whole when it differs.
    const expected = `${'x'.repeat(10_000)} ${'x'.repeat(4_998)}…`;
    assert.ok(alert.description === expected, `${Array.from(alert.description as string).length} characters`);
    assert.ok((await alertLogs(server, status.alertId))[0]?.includes(CUT));
  });
});
