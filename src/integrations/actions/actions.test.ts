import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Opsgenie's integration actions on the real server: GET shows Opsgenie's defaults until actions are set,
 * and the integration behaves as before; PUT replaces every list and POST adds one, both read back in
 * Opsgenie's shape; then the key's creates are ignored, shaped by the first create action that matches
 * (placeholders expanded, lists added to) or not made when none does, and its closes, acknowledgements and
 * notes run only when an action of their type matches the alert. Each outcome is in the request's status
 * and the alert's log.
 */

let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
let teamId: string;
let api: { id: string; key: string };
let plain: { id: string; key: string };
let userKey: string;

const call = (method: string, path: string, body?: unknown, key?: string) =>
  server.callOk(method, path, body, key);

async function integration(name: string): Promise<{ id: string; key: string }> {
  const made = await call('POST', '/v2/integrations', { type: 'API', name, ownerTeam: { id: teamId } });
  return { id: made.data.id, key: made.data.apiKey };
}

/** Creates through a key: the request's id and its status once processed. */
async function createVia(key: string, body: Json): Promise<{ requestId: string; status: Json }> {
  const answer = await server.call('POST', '/v2/alerts', body, key);
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  const status = await call('GET', `/v2/alerts/requests/${answer.body.requestId}`);
  return { requestId: answer.body.requestId, status: status.data };
}

async function alertByAlias(alias: string): Promise<Json | undefined> {
  const { rows } = await db.query("SELECT * FROM alerts WHERE alias = $1 AND status <> 'deleted'", [alias]);
  return rows[0];
}

async function logsOf(alertId: string): Promise<string[]> {
  const { rows } = await db.query<{ log: string }>(
    'SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id',
    [alertId],
  );
  return rows.map((r) => r.log);
}

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  teamId = (await call('POST', '/v2/teams', { name: `Storage ${run}` })).data.id;
  await call('POST', '/v2/teams', { name: `SRE ${run}` });
  const user = await call('POST', '/v2/users', {
    username: `viewer-${run}@example.com`,
    fullName: 'Viewer',
    role: { name: 'User' },
  });
  userKey = (await call('POST', '/v2/api-keys', { name: 'viewer', user: { id: user.data.id } })).data.key;
  api = await integration(`Prometheus ${run}`);
  plain = await integration(`Untouched ${run}`);
});

after(async () => {
  await db?.end();
  await server?.stop();
});

const SHAPING = {
  name: 'Page storage',
  order: 0,
  filter: {
    conditionMatchType: 'match-any-condition',
    conditions: [
      { field: 'priority', operation: 'greater-than', expectedValue: 'P3', not: false, order: 0 },
      { field: 'extra-properties', key: 'severity', operation: 'equals', expectedValue: 'critical' },
    ],
  },
  message: '[{{entity}}] {{message}}',
  description: '{{description}} (service {{extraProperties.service}}; missing: "{{details.nope}}")',
  alias: '{{alias}}',
  priority: 'P1',
  tags: ['paged', '{{entity}}'],
  extraProperties: { runbook: 'https://runbooks.example.com/{{details.service}}' },
  responders: [{ type: 'team', name: `SRE ${run}` }],
  alertActions: ['Restart'],
  somethingOpsgenieAdds: true,
};

describe('before any action is set', () => {
  it("shows Opsgenie's defaults and creates exactly as before", async () => {
    const got = await call('GET', `/v2/integrations/${plain.id}/actions`);
    assert.equal(typeof got.took, 'number');
    assert.equal(typeof got.requestId, 'string');
    assert.deepEqual(got.data._parent, {
      id: plain.id,
      name: `Untouched ${run}`,
      enabled: true,
      type: 'API',
    });
    assert.equal(got.data.create.length, 1);
    assert.equal(got.data.create[0].message, '{{message}}');
    assert.deepEqual(got.data.create[0].filter, { conditionMatchType: 'match-all', conditions: [] });
    assert.deepEqual(got.data.ignore, []);
    assert.equal(got.data.close.length, 1);

    const alias = `plain-${run}`;
    const { status } = await createVia(plain.key, { message: 'Plain', alias, tags: ['a'], priority: 'P5' });
    assert.equal(status.status, 'Created alert');
    const alert = await alertByAlias(alias);
    assert.equal(alert.message, 'Plain');
    assert.deepEqual(alert.tags, ['a']);
    assert.ok((await logsOf(alert.id)).every((l) => !l.includes('Shaped by')));
    // The column was never written: the integration is as it always was.
    const { rows } = await db.query('SELECT actions FROM integrations WHERE id = $1', [plain.id]);
    assert.equal(rows[0].actions, null);
  });
});

describe('PUT, POST and GET', () => {
  it('PUT replaces every list and GET reads it back in Opsgenie’s shape', async () => {
    const put = await call('PUT', `/v2/integrations/${api.id}/actions`, {
      create: [{ ...SHAPING, type: 'create' }],
      close: [
        {
          type: 'close',
          name: 'Close auto-closable',
          filter: {
            conditionMatchType: 'match-all-conditions',
            conditions: [{ field: 'tags', operation: 'contains', expectedValue: 'auto-close' }],
          },
          note: 'closed by {{user}}: {{note}}',
        },
      ],
      acknowledge: [],
      addNote: null,
      ignore: [
        {
          name: 'Drop tests',
          filter: {
            conditionMatchType: 'match-all-conditions',
            conditions: [{ field: 'tags', operation: 'contains', expectedValue: 'test' }],
          },
        },
      ],
    });
    assert.equal(put.result, 'Updated');
    const got = await call('GET', `/v2/integrations/${api.id}/actions`);
    assert.deepEqual(got.data, put.data);
    const [create] = got.data.create;
    assert.equal(create.name, 'Page storage');
    assert.equal(create.type, 'create');
    assert.equal(create.order, 0);
    assert.equal(create.somethingOpsgenieAdds, undefined);
    assert.equal(create.user, '{{user}}');
    assert.equal(create.entity, '{{entity}}');
    assert.deepEqual(create.filter.conditions[1], {
      field: 'extra-properties',
      key: 'severity',
      not: false,
      operation: 'equals',
      expectedValue: 'critical',
      order: 1,
    });
    assert.equal(create.responders[0].name, `SRE ${run}`);
    assert.match(create.responders[0].id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(got.data.acknowledge, []);
    assert.deepEqual(got.data.addNote, []);
    assert.equal(got.data.ignore[0].name, 'Drop tests');
    assert.equal(got.data.close[0].note, 'closed by {{user}}: {{note}}');
  });

  it('refuses bad actions with a 422 naming the field, and leaves the actions as they were', async () => {
    const before = await call('GET', `/v2/integrations/${api.id}/actions`);
    const cases: [unknown, RegExp][] = [
      [
        { create: [{ name: 'x', filter: { conditionMatchType: 'match-all-conditions', conditions: [] } }] },
        /create\[0\]\.filter\.conditions/,
      ],
      [
        {
          create: [
            {
              name: 'x',
              filter: {
                conditionMatchType: 'match-all-conditions',
                conditions: [{ field: 'priority', operation: 'contains', expectedValue: 'P1' }],
              },
            },
          ],
        },
        /create\[0\]\.filter\.conditions\[0\]\.operation/,
      ],
      [{ create: [{ name: 'x', responders: [{ type: 'team', name: 'No such team' }] }] }, /responders\[0\]/],
      [{ create: [{ name: 'x', priority: 'urgent' }] }, /priority/],
      [{ create: [{ name: '' }] }, /name/],
    ];
    for (const [body, field] of cases) {
      const answer = await server.call('PUT', `/v2/integrations/${api.id}/actions`, body);
      assert.ok([400, 422].includes(answer.status), JSON.stringify(answer.body));
      assert.match(JSON.stringify(answer.body), field);
    }
    const bogus = await server.call('POST', `/v2/integrations/${api.id}/actions`, {
      type: 'bogus',
      name: 'x',
    });
    assert.equal(bogus.status, 422, JSON.stringify(bogus.body));
    // Text PostgreSQL cannot store is made storable, as everywhere in the API.
    const other = await integration(`NUL ${run}`);
    const nul = await server.call('POST', `/v2/integrations/${other.id}/actions`, {
      type: 'ignore',
      name: 'nul\u0000',
      filter: {
        conditionMatchType: 'match-all-conditions',
        conditions: [{ field: 'message', operation: 'contains', expectedValue: '\u0000\ud800' }],
      },
    });
    assert.equal(nul.status, 201, JSON.stringify(nul.body));
    assert.equal(nul.body.data.ignore[0].name, 'nul\uFFFD');
    const viewer = await server.call('PUT', `/v2/integrations/${api.id}/actions`, { create: [] }, userKey);
    assert.equal(viewer.status, 403, JSON.stringify(viewer.body));
    assert.deepEqual((await call('GET', `/v2/integrations/${api.id}/actions`)).data, before.data);
  });

  it('refuses actions on an integration that is not of type API', async () => {
    const hub = await call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: `Hub ${run}`,
      ownerTeam: { id: teamId },
    });
    const answer = await server.call('GET', `/v2/integrations/${hub.data.id}/actions`);
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.match(JSON.stringify(answer.body), /type API/);
  });
});

describe('creates through the key', () => {
  it('shapes the alert by the first matching create action, expanding placeholders', async () => {
    const alias = `disk-${run}`;
    const { status } = await createVia(api.key, {
      message: 'Disk full',
      alias,
      description: 'Only 2% left',
      entity: 'db-1',
      priority: 'P2',
      tags: ['disk'],
      details: { service: 'postgres', severity: 'warning' },
    });
    assert.equal(status.isSuccess, true, JSON.stringify(status));
    assert.equal(status.status, 'Created alert');
    const alert = await alertByAlias(alias);
    assert.equal(alert.message, '[db-1] Disk full');
    assert.equal(alert.description, 'Only 2% left (service postgres; missing: "")');
    assert.equal(alert.priority, 'P1');
    assert.deepEqual(alert.tags, ['disk', 'paged', 'db-1']);
    assert.deepEqual(alert.details, {
      service: 'postgres',
      severity: 'warning',
      runbook: 'https://runbooks.example.com/postgres',
    });
    assert.deepEqual(alert.actions, ['Restart']);
    const sre = (await call('GET', `/v2/teams/${encodeURIComponent(`SRE ${run}`)}?identifierType=name`)).data
      .id;
    // The action's responder is added to the integration's own team, which the request left to it.
    assert.deepEqual(alert.team_ids.sort(), [sre, teamId].sort());
    const logs = await logsOf(alert.id);
    assert.match(logs[0] ?? '', /Shaped by integration action 'Page storage'/);
  });

  it('answers 202 but makes no alert for an ignored request, and says which action ignored it', async () => {
    const alias = `ignored-${run}`;
    const { status } = await createVia(api.key, { message: 'Test', alias, priority: 'P1', tags: ['test'] });
    assert.equal(status.success, false);
    assert.equal(status.action, 'Create');
    assert.equal(status.alias, alias);
    assert.equal(status.integrationId, api.id);
    assert.match(status.status, /Ignored by integration action 'Drop tests'/);
    assert.equal(await alertByAlias(alias), undefined);
  });

  it('makes no alert when no create action matches, and says so', async () => {
    const alias = `quiet-${run}`;
    const { status } = await createVia(api.key, { message: 'Low', alias, priority: 'P4' });
    assert.equal(status.success, false);
    assert.match(status.status, /No create action of integration \[Prometheus .*\] matched/);
    assert.equal(await alertByAlias(alias), undefined);
  });

  it('POST adds one action at its order; the new one then catches what the first does not', async () => {
    const added = await server.call('POST', `/v2/integrations/${api.id}/actions`, {
      type: 'create',
      name: 'Everything else',
      filter: { conditionMatchType: 'match-all' },
      message: '{{message}} (low)',
      tags: ['{{tags}}', 'low'],
      ignoreTagsFromPayload: true,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(
      added.body.data.create.map((a: Json) => [a.name, a.order]),
      [
        ['Page storage', 0],
        ['Everything else', 1],
      ],
    );
    const again = await server.call('POST', `/v2/integrations/${api.id}/actions`, {
      type: 'create',
      name: 'Everything else',
    });
    assert.equal(again.status, 409, JSON.stringify(again.body));

    const alias = `low-${run}`;
    await createVia(api.key, { message: 'Low', alias, priority: 'P4', tags: ['x'] });
    const alert = await alertByAlias(alias);
    assert.equal(alert.message, 'Low (low)');
    assert.deepEqual(alert.tags, ['x', 'low']);
    assert.match((await logsOf(alert.id))[0] ?? '', /Shaped by integration action 'Everything else'/);
  });
});

describe('close, acknowledge and add-note through the key', () => {
  it('runs a close only when a close action matches the alert', async () => {
    const keep = `keep-${run}`;
    const closable = `closable-${run}`;
    await createVia(api.key, { message: 'Keep me', alias: keep, priority: 'P1' });
    await createVia(api.key, { message: 'Close me', alias: closable, priority: 'P1', tags: ['auto-close'] });

    const refused = await server.call(
      'POST',
      `/v2/alerts/${keep}/close?identifierType=alias`,
      { user: 'bot', note: 'resolved' },
      api.key,
    );
    assert.equal(refused.status, 202);
    const refusedStatus = (await call('GET', `/v2/alerts/requests/${refused.body.requestId}`)).data;
    assert.equal(refusedStatus.success, false);
    assert.match(
      refusedStatus.status,
      /No close action of integration .* matched the alert: it was not closed/,
    );
    assert.equal((await alertByAlias(keep)).status, 'open');

    const closed = await server.call(
      'POST',
      `/v2/alerts/${closable}/close?identifierType=alias`,
      { user: 'bot', note: 'resolved' },
      api.key,
    );
    const closedStatus = (await call('GET', `/v2/alerts/requests/${closed.body.requestId}`)).data;
    assert.equal(closedStatus.status, 'Closed');
    const alert = await alertByAlias(closable);
    assert.equal(alert.status, 'closed');
    assert.equal(alert.closed_by, 'bot');
    const { rows } = await db.query<{ note: string }>('SELECT note FROM alert_notes WHERE alert_id = $1', [
      alert.id,
    ]);
    assert.deepEqual(
      rows.map((r) => r.note),
      ['closed by bot: resolved'],
    );

    // A user's key is not the integration's: its close runs whatever the integration's actions say.
    const byUser = await server.call('POST', `/v2/alerts/${keep}/close?identifierType=alias`, {});
    assert.equal(byUser.status, 202);
    assert.equal((await alertByAlias(keep)).status, 'closed');
  });

  it('refuses acknowledgements and notes when their lists are empty', async () => {
    const alias = `ack-${run}`;
    await createVia(api.key, { message: 'Ack me', alias, priority: 'P1' });
    const ack = await server.call(
      'POST',
      `/v2/alerts/${alias}/acknowledge?identifierType=alias`,
      {},
      api.key,
    );
    const ackStatus = (await call('GET', `/v2/alerts/requests/${ack.body.requestId}`)).data;
    assert.match(ackStatus.status, /No acknowledge action/);
    const note = await server.call(
      'POST',
      `/v2/alerts/${alias}/notes?identifierType=alias`,
      { note: 'hello' },
      api.key,
    );
    const noteStatus = (await call('GET', `/v2/alerts/requests/${note.body.requestId}`)).data;
    assert.match(noteStatus.status, /No addNote action/);
    const alert = await alertByAlias(alias);
    assert.equal(alert.acknowledged, false);
    const { rows } = await db.query('SELECT 1 FROM alert_notes WHERE alert_id = $1', [alert.id]);
    assert.equal(rows.length, 0);
  });
});

describe('a responder an action names, deleted since', () => {
  it('is left out, and the key still makes its alerts for its own team', async () => {
    const doomed = (await call('POST', '/v2/teams', { name: `Doomed ${run}` })).data.id;
    const sender = await integration(`Grafana ${run}`);
    await call('PUT', `/v2/integrations/${sender.id}/actions`, {
      create: [{ name: 'Page doomed', responders: [{ type: 'team', id: doomed }] }],
    });
    await call('DELETE', `/v2/teams/${doomed}`);
    const alias = `after-delete-${run}`;
    const answer = await server.call('POST', '/v2/alerts', { message: 'Still paging', alias }, sender.key);
    // Before: every create through this key was refused (422) for as long as the action named the team.
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    const status = (await call('GET', `/v2/alerts/requests/${answer.body.requestId}`)).data;
    assert.equal(status.isSuccess, true, JSON.stringify(status));
    const alert = await alertByAlias(alias);
    assert.ok(alert, 'the alert was made');
    assert.deepEqual(alert.team_ids, [teamId]);
    const logs = await logsOf(alert.id);
    assert.match(logs[0] ?? '', /of integration action 'Page doomed' no longer exists: left out/);

    // A responder the request itself names, and that does not exist, is left out too, as Opsgenie adds
    // them "if they exist": the alert goes to the integration's team.
    const leftOut = await server.call(
      'POST',
      '/v2/alerts',
      {
        message: 'Bad responder',
        alias: `${alias}-bad`,
        responders: [{ type: 'team', name: `No such team ${run}` }],
      },
      sender.key,
    );
    assert.equal(leftOut.status, 202, JSON.stringify(leftOut.body));
    const made = await alertByAlias(`${alias}-bad`);
    assert.ok(made, 'the alert was made');
    assert.deepEqual(made.team_ids, [teamId]);
    assert.ok(
      (await logsOf(made.id)).some((l) =>
        l.includes(`Responder team "No such team ${run}" does not exist: left out`),
      ),
    );
  });
});

describe('ignoreTeamsFromPayload and ignoreRespondersFromPayload', () => {
  it('the first drops only the teams the request names; the second every responder it names', async () => {
    const alice = (
      await call('POST', '/v2/users', {
        username: `alice-${run}@example.com`,
        fullName: 'Alice',
        role: { name: 'User' },
      })
    ).data.id;
    const dbTeam = (await call('POST', '/v2/teams', { name: `DB ${run}` })).data.id;
    const sre = (await call('GET', `/v2/teams/${encodeURIComponent(`SRE ${run}`)}?identifierType=name`)).data
      .id;
    const responders = [
      { type: 'user', username: `alice-${run}@example.com` },
      { type: 'team', name: `DB ${run}` },
    ];
    const cases = [
      { flag: 'ignoreTeamsFromPayload', expected: [`user:${alice}`, `team:${sre}`] },
      { flag: 'ignoreRespondersFromPayload', expected: [`team:${sre}`] },
    ];
    for (const { flag, expected } of cases) {
      const sender = await integration(`Grafana ${flag} ${run}`);
      await call('PUT', `/v2/integrations/${sender.id}/actions`, {
        create: [{ name: 'Page SRE', responders: [{ type: 'team', name: `SRE ${run}` }], [flag]: true }],
      });
      const alias = `${flag}-${run}`;
      const { status } = await createVia(sender.key, { message: 'Replica lag', alias, responders });
      assert.equal(status.isSuccess, true, JSON.stringify(status));
      const alert = await alertByAlias(alias);
      const got = (alert.responders as { type: string; id: string }[]).map((r) => `${r.type}:${r.id}`);
      assert.deepEqual(got.sort(), [...expected].sort(), flag);
      assert.ok(!alert.team_ids.includes(dbTeam), `${flag}: the request's team is not paged`);
    }
  });
});

describe("an action's default {{note}}", () => {
  it('passes a note as long as the Alert API takes (25,000 characters) through whole', async () => {
    const sender = await integration(`Notes ${run}`);
    await call('PUT', `/v2/integrations/${sender.id}/actions`, {
      create: [{ name: 'Create' }],
      addNote: [{ name: 'Note' }],
    });
    const long = (c: string) => c.repeat(25_000);
    const alias = `long-note-${run}`;
    await createVia(sender.key, { message: 'Long note', alias, note: long('a') });
    const alert = await alertByAlias(alias);
    const added = await server.call(
      'POST',
      `/v2/alerts/${alias}/notes?identifierType=alias`,
      { note: long('b') },
      sender.key,
    );
    assert.equal(added.status, 202, JSON.stringify(added.body));
    const { rows } = await db.query<{ note: string }>(
      'SELECT note FROM alert_notes WHERE alert_id = $1 ORDER BY created_at, id',
      [alert.id],
    );
    // Before: the expansion of '{{note}}' cut both to 16,000 characters, silently.
    assert.deepEqual(
      rows.map((r) => r.note.length),
      [25_000, 25_000],
    );
  });
});

describe('orders and priorities as given', () => {
  it('keeps each order as given (ties in the order sent), and a create action given no priority has none', async () => {
    const sender = await integration(`Orders ${run}`);
    const tagged = (tag: string) => ({
      conditionMatchType: 'match-all-conditions',
      conditions: [{ field: 'tags', operation: 'contains', expectedValue: tag }],
    });
    await call('PUT', `/v2/integrations/${sender.id}/actions`, {
      create: [
        { name: 'Last', order: 7, filter: { conditionMatchType: 'match-all' }, message: 'last: {{message}}' },
        { name: 'First of ones', order: 1, filter: tagged('one'), message: 'first: {{message}}' },
        { name: 'Second of ones', order: 1, filter: tagged('one'), message: 'second: {{message}}' },
        { name: 'Unordered', filter: tagged('zero'), message: 'zero: {{message}}', priority: '' },
      ],
    });
    const got = await call('GET', `/v2/integrations/${sender.id}/actions`);
    assert.deepEqual(
      got.data.create.map((a: Json) => [a.name, a.order, a.priority]),
      [
        ['Unordered', 0, undefined],
        ['First of ones', 1, undefined],
        ['Second of ones', 1, undefined],
        ['Last', 7, undefined],
      ],
    );
    // Stored that way too: no renumbering waits in the column.
    const { rows } = await db.query('SELECT actions FROM integrations WHERE id = $1', [sender.id]);
    assert.deepEqual(
      rows[0].actions.create.map((a: Json) => [a.order, 'priority' in a]),
      [
        [0, false],
        [1, false],
        [1, false],
        [7, false],
      ],
    );

    // Evaluated in that order; with no priority in the action, the alert keeps the request's own.
    const tie = `tie-${run}`;
    await createVia(sender.key, { message: 'Tie', alias: tie, priority: 'P4', tags: ['one', 'zero'] });
    const tied = await alertByAlias(tie);
    assert.equal(tied.message, 'zero: Tie');
    assert.equal(tied.priority, 'P4');
    const ones = `ones-${run}`;
    await createVia(sender.key, { message: 'Ones', alias: ones, tags: ['one'] });
    const onesAlert = await alertByAlias(ones);
    assert.equal(onesAlert.message, 'first: Ones');
    assert.equal(onesAlert.priority, 'P3', "no priority anywhere: Opsgenie's default");
  });

  it('POST adds at its order before those of the same order, else after the last; other orders stay', async () => {
    const sender = await integration(`Added ${run}`);
    await call('PUT', `/v2/integrations/${sender.id}/actions`, {
      close: [
        { name: 'Three', order: 3 },
        { name: 'Five', order: 5 },
      ],
    });
    const before3 = await call('POST', `/v2/integrations/${sender.id}/actions`, {
      type: 'close',
      name: 'Also three',
      order: 3,
    });
    assert.deepEqual(
      before3.data.close.map((a: Json) => [a.name, a.order]),
      [
        ['Also three', 3],
        ['Three', 3],
        ['Five', 5],
      ],
    );
    const last = await call('POST', `/v2/integrations/${sender.id}/actions`, { type: 'close', name: 'Tail' });
    assert.deepEqual(
      last.data.close.map((a: Json) => [a.name, a.order]),
      [
        ['Also three', 3],
        ['Three', 3],
        ['Five', 5],
        ['Tail', 6],
      ],
    );
    const got = await call('GET', `/v2/integrations/${sender.id}/actions`);
    assert.deepEqual(got.data.close, last.data.close);
  });
});

describe('adds sent at once', () => {
  it('each one stays: none overwrites another that came in between', async () => {
    const target = await integration(`Parallel adds ${run}`);
    const names = Array.from({ length: 8 }, (_, i) => `Ignore ${i}`);
    const answers = await Promise.all(
      names.map((name, i) =>
        server.call('POST', `/v2/integrations/${target.id}/actions`, {
          type: 'ignore',
          name,
          filter: {
            conditionMatchType: 'match-all-conditions',
            conditions: [{ field: 'message', operation: 'equals', expectedValue: `noise ${i}` }],
          },
        }),
      ),
    );
    for (const answer of answers) assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const stored = await call('GET', `/v2/integrations/${target.id}/actions`);
    assert.deepEqual(stored.data.ignore.map((a: Json) => a.name).sort(), names);
  });
});
