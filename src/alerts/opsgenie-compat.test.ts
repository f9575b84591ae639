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

  it("answers with the headers Opsgenie's Go SDK reads into every result", async () => {
    for (const [method, path, body] of [
      ['POST', '/v2/alerts', JSON.stringify({ message: 'headers' })],
      ['GET', '/v2/alerts?limit=1', undefined],
      ['GET', '/v2/alerts/not-there?identifierType=alias', undefined],
    ] as const) {
      const response = await fetch(server.url + path, {
        method,
        headers: {
          Authorization: `GenieKey ${server.key}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body,
      });
      const answer = (await response.json()) as Json;
      // Without them the SDK logs "Could not set requestId, rate limit state, response time." each call.
      assert.equal(response.headers.get('x-request-id'), answer.requestId, `${method} ${path}`);
      assert.equal(response.headers.get('x-ratelimit-state'), 'OK', `${method} ${path}`);
      const responseTime = Number(response.headers.get('x-response-time'));
      // The SDK takes 0 for "not set".
      assert.ok(Number.isFinite(responseTime) && responseTime > 0, `${method} ${path}: ${responseTime}`);
    }
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

  it('answers paths with a trailing slash as the SDK for npm sends them', async () => {
    const create = await raw('POST', '/v2/alerts/', JSON.stringify({ message: 'slash', alias: 'slash-1' }));
    assert.equal(create.status, 202, JSON.stringify(create.body));
    const list = await raw('GET', `/v2/alerts/?query=${encodeURIComponent('alias:slash-1')}`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.data.length, 1);
    const one = await raw('GET', '/v2/alerts/slash-1/?identifierType=alias');
    assert.equal(one.body.data.message, 'slash');
    // An alias up to its limit (512) is a path parameter too, percent-encoded.
    const alias = `é${'a'.repeat(511)}`;
    await raw('POST', '/v2/alerts', JSON.stringify({ message: 'long alias', alias }));
    const long = await raw('GET', `/v2/alerts/${encodeURIComponent(alias)}?identifierType=alias`);
    assert.equal(long.status, 200, JSON.stringify(long.body));
    assert.equal(long.body.data.alias, alias);
  });

  it('deletes with the empty Content-Type Go clients send, and ignores fields it does not know', async () => {
    const user = await raw(
      'POST',
      '/v2/users',
      JSON.stringify({
        username: 'go-sdk@example.com',
        fullName: 'Go',
        role: { name: 'User' },
        UserIdentifier: '',
      }),
    );
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const escalation = await raw(
      'POST',
      '/v2/escalations',
      JSON.stringify({
        name: 'Go escalation',
        rules: [
          {
            condition: 'if-not-acked',
            notifyType: 'default',
            delay: { timeAmount: 5, TimeUnit: 'minutes' },
            recipient: { type: 'user', username: 'go-sdk@example.com', Id: '' },
          },
        ],
        TeamIdentifierType: 'name',
      }),
    );
    assert.equal(escalation.status, 201, JSON.stringify(escalation.body));
    const got = await raw('GET', `/v2/escalations/${escalation.body.data.id}`);
    assert.equal(got.body.data.rules[0].delay.timeAmount, 5);
    assert.equal('TeamIdentifierType' in got.body.data, false);

    // Go's http.NewRequest("DELETE", url, nil) with the header set to "" (as the Go SDK does).
    const deleted = await fetch(`${server.url}/v2/escalations/${escalation.body.data.id}`, {
      method: 'DELETE',
      headers: { Authorization: `GenieKey ${server.key}`, 'Content-Type': '' },
    });
    assert.equal(deleted.status, 200, await deleted.text());
    assert.equal((await raw('GET', `/v2/escalations/${escalation.body.data.id}`)).status, 404);
  });

  it('reads teamIdentifierType on team members, and sorts by report and integration fields', async () => {
    await raw(
      'POST',
      '/v2/users',
      JSON.stringify({ username: 'member@example.com', fullName: 'M', role: { name: 'User' } }),
    );
    assert.equal((await raw('POST', '/v2/teams', JSON.stringify({ name: 'Members' }))).status, 201);
    const added = await raw(
      'POST',
      '/v2/teams/Members/members?teamIdentifierType=name',
      JSON.stringify({ user: { username: 'member@example.com' }, role: 'admin' }),
    );
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const team = await raw('GET', '/v2/teams/Members?identifierType=name');
    assert.deepEqual(
      team.body.data.members.map((m: Json) => [m.user.username, m.role]),
      [['member@example.com', 'admin']],
    );
    for (const sort of [
      'report.ackTime',
      'report.closeTime',
      'report.acknowledgedBy',
      'report.closedBy',
      'integration.name',
      'integration.type',
    ]) {
      const list = await raw('GET', `/v2/alerts?sort=${sort}&order=asc`);
      assert.equal(list.status, 200, `${sort}: ${JSON.stringify(list.body)}`);
    }
  });

  it("searches Opsgenie's createdAt, lastOccurredAt, snoozedUntil, alertId, acknowledgedBy, closedBy and actions", async () => {
    const create = await raw(
      'POST',
      '/v2/alerts',
      JSON.stringify({ message: 'searched by time', alias: 'search-fields-1', actions: ['Restart'] }),
    );
    assert.equal(create.status, 202, JSON.stringify(create.body));
    const id = (await raw('GET', `/v2/alerts/requests/${create.body.requestId}`)).body.data.alertId as string;
    const snoozeUntil = new Date(Date.now() + 3_600_000);
    for (const [action, body] of [
      ['acknowledge', { user: 'acker' }],
      ['snooze', { endTime: snoozeUntil.toISOString() }],
    ] as const) {
      const res = await raw('POST', `/v2/alerts/${id}/${action}`, JSON.stringify(body));
      assert.equal(res.status, 202, JSON.stringify(res.body));
    }
    const alert = (await raw('GET', `/v2/alerts/${id}`)).body.data;
    const createdAt = Date.parse(alert.createdAt);
    const lastOccurredAt = Date.parse(alert.lastOccurredAt);
    const snoozedUntil = Date.parse(alert.snoozedUntil);
    const found = async (query: string) => {
      const res = await raw('GET', `/v2/alerts?query=${encodeURIComponent(query)}&limit=100`);
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      return (res.body.data as Json[]).map((a) => a.id as string);
    };
    for (const query of [
      `alertId:${id}`,
      `createdAt:${createdAt} alias:search-fields-1`,
      `createdAt>=${createdAt} createdAt<=${createdAt} alias:search-fields-1`,
      `lastOccurredAt:${lastOccurredAt} alias:search-fields-1`,
      `snoozedUntil:${snoozedUntil} alias:search-fields-1`,
      `snoozedUntil>${Date.now()} alias:search-fields-1`,
      'acknowledgedBy:acker alias:search-fields-1',
      'actions:Restart alias:search-fields-1',
    ]) {
      assert.deepEqual(await found(query), [id], query);
    }
    assert.deepEqual(await found(`createdAt>${createdAt} alias:search-fields-1`), []);
    assert.deepEqual(await found(`createdAt<${createdAt} alias:search-fields-1`), []);
    assert.deepEqual(await found('alertId:not-a-uuid'), []);
    const close = await raw('POST', `/v2/alerts/${id}/close`, JSON.stringify({ user: 'closer' }));
    assert.equal(close.status, 202);
    // Not by alias: alias: finds the open alert only.
    assert.deepEqual(await found(`closedBy:closer alertId:${id}`), [id]);
    assert.deepEqual(await found('closedBy:closer alias:search-fields-1'), []);
    // Hostile values: a 422 that says what the field takes, never a 500 from PostgreSQL.
    for (const query of [
      'createdAt>abc',
      `createdAt<${'9'.repeat(30)}`,
      'lastOccurredAt>=99999999999999999',
      'snoozedUntil:-5',
      'alertId>5',
    ]) {
      const res = await raw('GET', `/v2/alerts?query=${encodeURIComponent(query)}`);
      assert.equal(res.status, 422, `${query}: ${JSON.stringify(res.body)}`);
      const count = await raw('GET', `/v2/alerts/count?query=${encodeURIComponent(query)}`);
      assert.equal(count.status, 422, `count ${query}: ${JSON.stringify(count.body)}`);
    }
  });

  it('keeps an alert over the limits, cut, with the whole text in details and a line on its log', async () => {
    const message = `Long message ${'m'.repeat(200)} end`;
    const tags = [...Array.from({ length: 22 }, (_, i) => `tag${i}`), `long-${'t'.repeat(60)}`];
    const create = await raw('POST', '/v2/alerts', JSON.stringify({ message, alias: 'over-limits', tags }));
    assert.equal(create.status, 202, JSON.stringify(create.body));
    const alert = (await raw('GET', '/v2/alerts/over-limits?identifierType=alias')).body.data;
    assert.equal(Array.from(alert.message as string).length, 130);
    assert.ok((alert.message as string).endsWith('…'));
    assert.equal(alert.details.fullMessage, message);
    assert.equal(alert.tags.length, 20);
    assert.deepEqual((alert.details.tagsOverLimits as string).split(', ').sort(), [
      `long-${'t'.repeat(60)}`,
      'tag20',
      'tag21',
    ]);
    const logs = (await raw('GET', `/v2/alerts/${alert.id}/logs`)).body.data
      .map((l: Json) => l.log)
      .join('\n');
    assert.match(logs, /over Opsgenie's limits, and kept: the message was cut to 130 characters/);
  });

  it("keeps an alert whose source (Alertmanager's URL and receiver) passes 100 characters, and closes it", async () => {
    const source = `https://alertmanager.monitoring.internal.example.com:9093/#/alerts?receiver=${'platform-'.repeat(6)}`;
    assert.ok(source.length > 100);
    const create = await raw(
      'POST',
      '/v2/alerts',
      JSON.stringify({ message: 'Long source', alias: 'long-source', source }),
    );
    assert.equal(create.status, 202, JSON.stringify(create.body));
    const alert = (await raw('GET', '/v2/alerts/long-source?identifierType=alias')).body.data;
    assert.equal(Array.from(alert.source as string).length, 100);
    assert.equal(alert.details.fullSource, source);
    const close = await raw(
      'POST',
      '/v2/alerts/long-source/close?identifierType=alias',
      JSON.stringify({ source }),
    );
    assert.equal(close.status, 202, JSON.stringify(close.body));
    const closed = (await raw('GET', '/v2/alerts/long-source?identifierType=alias')).body.data;
    assert.equal(closed.status, 'closed');
  });
});
