import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { alertLogs, startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * What senders leave empty, on the real server: the blank tags, actions and responders templated
 * senders send when a field of theirs is unset (Zabbix's Opsgenie media type, Alertmanager and Grafana
 * templates), and JSON null in an optional field (Sentry's Opsgenie client sends `"priority": null`).
 * A create keeps the alert: blanks are left out and null is as if the field were not given.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

/** The request's status, the alert it made and its log, oldest first. */
/** The lines the requests wrote: the engine writes its own ("no responders") in its own time. */
const requestLogs = (logs: string[]) => logs.filter((line) => !/has no responders/.test(line));

async function made(res: { status: number; body: Json }): Promise<{ alert: Json; logs: string[] }> {
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const status = (await server.callOk('GET', `/v2/alerts/requests/${res.body.requestId}`)).data;
  assert.deepEqual([status.success, status.status], [true, 'Created alert'], JSON.stringify(status));
  const alert = (await server.callOk('GET', `/v2/alerts/${status.alertId}`)).data;
  return { alert, logs: await alertLogs(server, status.alertId) };
}

describe('blank tags, actions and responders of a create', () => {
  it("keeps the alert Zabbix's Opsgenie media type sends with its tags and teams unset", async () => {
    const team = (await server.callOk('POST', '/v2/teams', { name: `Zabbix ops ${run}` })).data.id;
    // media_opsgenie.yaml: `opsgenie_tags` and `opsgenie_teams` left empty split into [""].
    const res = await server.call('POST', '/v2/alerts', {
      message: `[Zabbix] disk full ${run}`,
      alias: `zabbix-${run}`,
      priority: 'P2',
      tags: ['zabbix', '', '  '],
      actions: ['', 'Restart', ' '],
      responders: [
        { type: 'team', name: '' },
        { type: 'team', id: team },
      ],
    });
    const { alert, logs } = await made(res);
    assert.deepEqual(alert.tags, ['zabbix']);
    assert.deepEqual(alert.actions, ['Restart']);
    assert.deepEqual(alert.responders, [{ type: 'team', id: team }]);
    assert.ok(logs[0]?.includes('Responder team names nothing (no id or name): left out'), logs[0]);
  });

  it('keeps the alert a template sends with a responder and a visibleTo that name nothing', async () => {
    // Alertmanager drops a responder only when every field is empty: `{name: "{{.CommonLabels.team}}"}`
    // without that label arrives as {"type": "team"}.
    const res = await server.call('POST', '/v2/alerts', {
      message: `templated ${run}`,
      responders: [{ type: 'team' }, { type: 'user', username: '' }],
      visibleTo: [{ type: 'team', name: '' }],
      tags: [''],
    });
    const { alert, logs } = await made(res);
    assert.deepEqual([alert.responders, alert.visibleTo, alert.tags], [[], [], []]);
    assert.ok(logs[0]?.includes('Responder team names nothing (no id or name): left out'), logs[0]);
    assert.ok(logs[0]?.includes('Responder user names nothing (no id or username): left out'), logs[0]);
    assert.ok(logs[0]?.includes('Team of visibleTo names nothing (no id or name): left out'), logs[0]);
  });

  it("through an integration's key, goes to its team when its responders name nothing", async () => {
    const team = (await server.callOk('POST', '/v2/teams', { name: `Grafana owners ${run}` })).data.id;
    const key = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: `Grafana ${run}`,
        ownerTeam: { id: team },
      })
    ).data.apiKey;
    const res = await server.call(
      'POST',
      '/v2/alerts',
      { message: `grafana ${run}`, responders: [{ type: 'team' }] },
      key,
    );
    const { alert } = await made(res);
    assert.deepEqual(alert.responders, [{ type: 'team', id: team }]);
  });

  it('still refuses an Add Responder that names nothing, and a visibleTo that is not a team or user', async () => {
    const { alert } = await made(await server.call('POST', '/v2/alerts', { message: `add ${run}` }));
    const add = await server.call('POST', `/v2/alerts/${alert.id}/responders`, {
      responder: { type: 'team' },
    });
    assert.equal(add.status, 422, JSON.stringify(add.body));
    assert.ok(add.body.errors.responder, JSON.stringify(add.body));
    const seen = await server.call('POST', '/v2/alerts', {
      message: `escalation sees ${run}`,
      visibleTo: [{ type: 'escalation', name: '' }],
    });
    assert.equal(seen.status, 422, JSON.stringify(seen.body));
    assert.ok(
      Object.keys(seen.body.errors).some((f) => f.startsWith('visibleTo[0]')),
      JSON.stringify(seen.body),
    );
  });
});

describe('null in an optional field', () => {
  /** What a create makes of a field, as an alert shows it. */
  const shown = (alert: Json) => ({
    priority: alert.priority,
    tags: alert.tags,
    actions: alert.actions,
    responders: alert.responders,
    visibleTo: alert.visibleTo,
    description: alert.description,
    entity: alert.entity,
    source: alert.source,
    owner: alert.owner,
    details: alert.details,
  });

  it('is a create as if the field were not given', async () => {
    const nulls = await made(
      await server.call('POST', '/v2/alerts', {
        message: `sentry ${run}`,
        alias: null,
        description: null,
        priority: null,
        tags: null,
        actions: null,
        responders: null,
        visibleTo: null,
        details: null,
        entity: null,
        user: null,
        source: null,
        note: null,
      }),
    );
    const absent = await made(await server.call('POST', '/v2/alerts', { message: `sentry ${run}` }));
    assert.deepEqual(shown(nulls.alert), shown(absent.alert));
    assert.equal(nulls.alert.priority, 'P3');
    assert.equal(nulls.alert.alias, nulls.alert.id);
    assert.deepEqual(requestLogs(nulls.logs), requestLogs(absent.logs));
  });

  it('is left out of tags, actions, responders and visibleTo', async () => {
    const team = (await server.callOk('POST', '/v2/teams', { name: `Nulls ${run}` })).data.id;
    const { alert } = await made(
      await server.call('POST', '/v2/alerts', {
        message: `null entries ${run}`,
        tags: ['kept', null],
        actions: [null, 'Run'],
        responders: [null, { type: 'team', id: team }],
        visibleTo: [null],
      }),
    );
    assert.deepEqual(
      [alert.tags, alert.actions, alert.responders, alert.visibleTo],
      [['kept'], ['Run'], [{ type: 'team', id: team }], []],
    );
  });

  it('still refuses a null message, and a null field an action requires', async () => {
    const create = await server.call('POST', '/v2/alerts', { message: null, priority: 'P1' });
    assert.equal(create.status, 422, JSON.stringify(create.body));
    assert.ok(create.body.errors.message, JSON.stringify(create.body));
    const { alert } = await made(await server.call('POST', '/v2/alerts', { message: `required ${run}` }));
    for (const [path, body, field] of [
      ['/notes', { note: null }, 'note'],
      ['/priority', { priority: null }, 'priority'],
    ] as const) {
      const res = await server.call(
        path === '/priority' ? 'PUT' : 'POST',
        `/v2/alerts/${alert.id}${path}`,
        body,
      );
      assert.equal(res.status, 422, `${path}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.errors[field], `${path}: ${JSON.stringify(res.body)}`);
    }
  });

  it('clears a description, as before: a required field is left to validation, which reads null as ""', async () => {
    const { alert } = await made(
      await server.call('POST', '/v2/alerts', { message: `described ${run}`, description: 'to clear' }),
    );
    const res = await server.call('PUT', `/v2/alerts/${alert.id}/description`, { description: null });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const status = (await server.callOk('GET', `/v2/alerts/requests/${res.body.requestId}`)).data;
    assert.equal(status.success, true, JSON.stringify(status));
    assert.equal((await server.callOk('GET', `/v2/alerts/${alert.id}`)).data.description, '');
  });

  it("is an action's field not given", async () => {
    const acked = async (body: Json) => {
      const { alert } = await made(await server.call('POST', '/v2/alerts', { message: `ack ${run}` }));
      const ack = await server.call('POST', `/v2/alerts/${alert.id}/acknowledge`, body);
      assert.equal(ack.status, 202, JSON.stringify(ack.body));
      const status = (await server.callOk('GET', `/v2/alerts/requests/${ack.body.requestId}`)).data;
      assert.equal(status.success, true, JSON.stringify(status));
      const after = (await server.callOk('GET', `/v2/alerts/${alert.id}`)).data;
      return { owner: after.owner, logs: requestLogs(await alertLogs(server, alert.id)) };
    };
    assert.deepEqual(await acked({ user: null, source: null, note: null }), await acked({}));
    const { alert } = await made(await server.call('POST', '/v2/alerts', { message: `escalate ${run}` }));
    const escalate = await server.call('POST', `/v2/alerts/${alert.id}/escalate`, { escalation: null });
    assert.equal(escalate.status, 202, JSON.stringify(escalate.body));
  });
});
