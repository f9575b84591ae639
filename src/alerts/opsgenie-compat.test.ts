import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * Requests exactly as Opsgenie clients send them (Prometheus Alertmanager's notifier, opsgenie-sdk
 * style scripts): headers, query strings and bodies byte for byte, nothing Vigil-specific.
 */

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

async function raw(method: string, path: string, body?: string, contentType = 'application/json') {
  const response = await fetch(server.url + path, {
    method,
    headers: {
      Authorization: `GenieKey ${server.key}`,
      ...(body !== undefined ? { 'Content-Type': contentType } : {}),
      'User-Agent': 'Alertmanager/0.27.0',
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Json };
}

describe('an Opsgenie client, unchanged', () => {
  it("creates with Alertmanager's body, closes by alias, adds notes and sets priority", async () => {
    // The body Alertmanager's opsgenie notifier posts on a firing alert.
    const create = await raw(
      'POST',
      '/v2/alerts',
      JSON.stringify({
        alias: '7f2a9c3e1b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f',
        message: '[FIRING:1] HighErrorRate api (critical)',
        description: 'Alerts Firing:\nLabels:\n - alertname = HighErrorRate\n',
        details: { alertname: 'HighErrorRate', job: 'api', severity: 'critical' },
        source: 'http://alertmanager.example.com',
        responders: [],
        tags: ['HighErrorRate', 'api'],
        note: '',
        priority: 'P1',
        entity: '',
        actions: [],
      }),
    );
    assert.equal(create.status, 202);
    assert.equal(create.body.result, 'Request will be processed');
    assert.equal(typeof create.body.took, 'number');

    const status = await raw('GET', `/v2/alerts/requests/${create.body.requestId}`);
    assert.equal(status.status, 200);
    assert.equal(status.body.data.isSuccess, true);
    assert.equal(status.body.data.status, 'Created alert');
    const alertId = status.body.data.alertId;

    // A note, as the SDKs send it.
    const note = await raw(
      'POST',
      `/v2/alerts/${alertId}/notes?identifierType=id`,
      JSON.stringify({
        user: 'Monitoring Script',
        source: 'AWS Lambda',
        note: 'Action executed via Alert API',
      }),
    );
    assert.equal(note.status, 202);

    // Priority, as the SDKs send it.
    const priority = await raw(
      'PUT',
      `/v2/alerts/${alertId}/priority?identifierType=id`,
      JSON.stringify({ priority: 'P2' }),
    );
    assert.equal(priority.status, 202);

    // Alertmanager's resolve: close by alias with user, source and note.
    const close = await raw(
      'POST',
      '/v2/alerts/7f2a9c3e1b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f/close?identifierType=alias',
      JSON.stringify({
        user: 'Monitoring Script',
        source: 'AWS Lambda',
        note: 'Action executed via Alert API',
      }),
    );
    assert.equal(close.status, 202);
    const closeStatus = await raw('GET', `/v2/alerts/requests/${close.body.requestId}`);
    assert.equal(closeStatus.body.data.action, 'Close');
    assert.equal(closeStatus.body.data.alertId, alertId);

    const alert = await raw('GET', `/v2/alerts/${alertId}`);
    assert.equal(alert.body.data.status, 'closed');
    assert.equal(alert.body.data.priority, 'P2');
    assert.equal(alert.body.data.report.closedBy, 'Monitoring Script');
    assert.deepEqual(alert.body.data.details, {
      alertname: 'HighErrorRate',
      job: 'api',
      severity: 'critical',
    });

    const notes = await raw('GET', `/v2/alerts/${alertId}/notes`);
    assert.deepEqual(notes.body.data.map((n: Json) => n.note).sort(), [
      'Action executed via Alert API',
      'Action executed via Alert API',
    ]);
  });

  it('accepts an action with an empty body, as curl scripts send it', async () => {
    const create = await raw(
      'POST',
      '/v2/alerts',
      JSON.stringify({ message: 'empty body ack', alias: 'empty-ack' }),
    );
    assert.equal(create.status, 202);
    const ack = await raw('POST', '/v2/alerts/empty-ack/acknowledge?identifierType=alias', '');
    assert.equal(ack.status, 202);
    const alert = await raw('GET', '/v2/alerts/empty-ack?identifierType=alias');
    assert.equal(alert.body.data.acknowledged, true);
  });
});
