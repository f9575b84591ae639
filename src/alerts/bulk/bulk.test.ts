import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startFakeAws, type FakeAws } from '../../testing/fake-aws.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { whenWaitedFor } from '../../testing/lock-waits.js';
import { MAX_BULK_ALERTS, NOT_AN_ID } from './service.js';

/**
 * The bulk actions (POST /v2/bulk/alerts/{action}) on the real server: every action, its effect read
 * back through GET and the alerts' logs; good ids among unknown, malformed, NUL-laden, repeated and
 * out-of-scope ones, each bad one failing alone; the 500 limit; an integration's key acting on its
 * team's alerts and not others', and only where its actions allow; input the single action refuses
 * refused whole with nothing changed; and acknowledgements of Security Hub alerts written back to the
 * findings (a local Security Hub), as single ones are.
 */

const run = randomUUID().slice(0, 8);
let server: TestServer;
let db: pg.Client;
let aws: FakeAws;
let ownTeamId: string;
let adminUsername: string;

const call = (method: string, path: string, body?: unknown, key?: string) =>
  server.callOk(method, path, body, key);

/** Creates an alert (through `key`, the admin's by default) and gives its id. */
async function alert(body: Json = {}, key?: string): Promise<string> {
  const answer = await call('POST', '/v2/alerts', { message: `bulk ${run} ${randomUUID()}`, ...body }, key);
  const status = await call('GET', `/v2/alerts/requests/${answer.requestId}`);
  assert.equal(status.data.success, true, JSON.stringify(status.data));
  return status.data.alertId;
}

const alerts = (n: number, body: Json = {}, key?: string) =>
  Promise.all(Array.from({ length: n }, () => alert(body, key)));

const get = async (id: string): Promise<Json> => (await call('GET', `/v2/alerts/${id}`)).data;

async function logsOf(id: string): Promise<string[]> {
  return (await call('GET', `/v2/alerts/${id}/logs?order=asc`)).data.map((l: Json) => l.log);
}

async function bulk(action: string, body: Json, key?: string) {
  return server.call('POST', `/v2/bulk/alerts/${action}`, body, key);
}

async function bulkOk(action: string, body: Json, key?: string): Promise<Json> {
  const answer = await bulk(action, body, key);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.data;
}

const sorted = (ids: string[]) => [...ids].sort();

before(async () => {
  server = await startTestServer({ writeback: { baseDelayMs: 100, maxDelayMs: 1000 } });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  ownTeamId = (await call('POST', '/v2/teams', { name: `Own ${run}` })).data.id;
  await call('POST', '/v2/teams', { name: `Other ${run}` });
  adminUsername = `owner-${run}@example.com`;
  await call('POST', '/v2/users', {
    username: adminUsername,
    fullName: 'Olive Owner',
    role: { name: 'User' },
  });
});

after(async () => {
  await db?.end();
  await server?.stop();
  await aws?.close();
});

describe('every bulk action, its effect read back', () => {
  it('acknowledges, notes, unacknowledges, changes priority, assigns, snoozes, escalates and closes', async () => {
    const ids = await alerts(3);

    const acked = await bulkOk('acknowledge', {
      identifiers: ids,
      user: 'Dana Bulk',
      source: 'bulk test',
      note: 'looking',
    });
    assert.deepEqual(acked, { succeeded: ids, failed: [] });
    for (const id of ids) {
      const a = await get(id);
      assert.equal(a.acknowledged, true);
      assert.equal(a.report.acknowledgedBy, 'Dana Bulk');
      assert.ok((await logsOf(id)).includes('Alert acknowledged by Dana Bulk'));
      const notes = (await call('GET', `/v2/alerts/${id}/notes`)).data.map((n: Json) => n.note);
      assert.deepEqual(notes, ['looking']);
    }
    // Acknowledging an acknowledged alert changes nothing and succeeds, as alone.
    assert.deepEqual(await bulkOk('acknowledge', { identifiers: ids }), { succeeded: ids, failed: [] });
    assert.equal((await logsOf(ids[0] ?? '')).filter((l) => l.startsWith('Alert acknowledged')).length, 1);

    assert.deepEqual(await bulkOk('addNote', { identifiers: ids, note: 'second note', user: 'Dana Bulk' }), {
      succeeded: ids,
      failed: [],
    });
    for (const id of ids) {
      const notes = (await call('GET', `/v2/alerts/${id}/notes?order=asc`)).data.map((n: Json) => n.note);
      assert.deepEqual(notes, ['looking', 'second note']);
    }

    await bulkOk('unacknowledge', { identifiers: ids });
    for (const id of ids) assert.equal((await get(id)).acknowledged, false);

    await bulkOk('priority', { identifiers: ids, priority: 'P1' });
    for (const id of ids) {
      assert.equal((await get(id)).priority, 'P1');
      assert.ok((await logsOf(id)).some((l) => l.startsWith('Priority changed from P3 to P1')));
    }

    await bulkOk('assign', { identifiers: ids, owner: { username: adminUsername } });
    for (const id of ids) assert.equal((await get(id)).owner, adminUsername);

    const until = new Date(Date.now() + 3_600_000).toISOString();
    await bulkOk('snooze', { identifiers: ids, endTime: until });
    for (const id of ids) {
      const a = await get(id);
      assert.equal(a.snoozed, true);
      assert.equal(a.snoozedUntil, until);
    }

    await bulkOk('escalate', { identifiers: ids, user: 'Dana Bulk' });
    for (const id of ids) assert.ok((await logsOf(id)).includes('Escalated to the next rule by Dana Bulk'));

    await bulkOk('close', { identifiers: ids, user: 'Dana Bulk' });
    for (const id of ids) {
      const a = await get(id);
      assert.equal(a.status, 'closed');
      assert.equal(a.report.closedBy, 'Dana Bulk');
    }

    // What a closed alert refuses alone, it refuses in bulk: each with the single action's reason.
    const refused = await bulkOk('acknowledge', { identifiers: ids });
    assert.deepEqual(refused.succeeded, []);
    assert.deepEqual(
      refused.failed,
      ids.map((id) => ({ id, reason: 'Alert is closed: it can not be acknowledged.' })),
    );
    for (const id of ids) assert.equal((await get(id)).acknowledged, false);
  });
});

describe('bad identifiers fail alone', () => {
  it('applies the good ids among unknown, malformed, NUL-laden and repeated ones', async () => {
    const [good1 = '', good2 = '', closed = ''] = await alerts(3);
    await call('POST', `/v2/alerts/${closed}/close`, {});
    const unknown = randomUUID();
    const withNul = `${good2.slice(0, 8)}\u0000${good2.slice(9)}`;
    const identifiers = [good1, unknown, 'not-an-id', withNul, good2, good1, good1.toUpperCase(), closed, ''];
    const data = await bulkOk('close', { identifiers });
    assert.deepEqual(data.succeeded, [good1, good2, closed]);
    assert.deepEqual(data.failed, [
      { id: unknown, reason: 'Alert does not exist' },
      { id: 'not-an-id', reason: NOT_AN_ID },
      // Vigil makes every string it is sent storable (db/storable.ts): the NUL comes back as U+FFFD.
      { id: withNul.replace('\u0000', '\uFFFD'), reason: NOT_AN_ID },
      { id: '', reason: NOT_AN_ID },
    ]);
    assert.equal((await get(good1)).status, 'closed');
    assert.equal((await get(good2)).status, 'closed');
    // Named three times, closed once.
    assert.equal((await logsOf(good1)).filter((l) => l.startsWith('Alert closed')).length, 1);
  });

  it('answers 200 with every id failed when none is an alert', async () => {
    const data = await bulkOk('acknowledge', { identifiers: ['x', randomUUID()] });
    assert.deepEqual(data.succeeded, []);
    assert.equal(data.failed.length, 2);
  });
});

describe('the limit and malformed requests', () => {
  it(`takes ${MAX_BULK_ALERTS} identifiers and refuses ${MAX_BULK_ALERTS + 1} with a 422 saying the limit`, async () => {
    const real = await alerts(5);
    const identifiers = [
      ...real,
      ...Array.from({ length: MAX_BULK_ALERTS - real.length }, () => randomUUID()),
    ];
    const data = await bulkOk('acknowledge', { identifiers });
    assert.deepEqual(data.succeeded, real);
    assert.equal(data.failed.length, MAX_BULK_ALERTS - real.length);
    for (const id of real) assert.equal((await get(id)).acknowledged, true);

    const over = await alerts(1);
    const tooMany = await bulk('acknowledge', { identifiers: [...over, ...identifiers] });
    assert.equal(tooMany.status, 422, JSON.stringify(tooMany.body));
    assert.match(tooMany.body.errors.identifiers, /at most 500/);
    assert.equal((await get(over[0] ?? '')).acknowledged, false);
  });

  it('refuses no identifiers, a missing field and an unknown action', async () => {
    assert.equal((await bulk('close', { identifiers: [] })).status, 422);
    assert.equal((await bulk('close', {})).status, 422);
    assert.equal((await bulk('addNote', { identifiers: [randomUUID()] })).status, 422);
    assert.equal((await bulk('priority', { identifiers: [randomUUID()], priority: 'P9' })).status, 422);
    assert.equal((await bulk('delete', { identifiers: [randomUUID()] })).status, 404);
  });

  it('refuses whole, changing nothing, what the single action refuses in its own input', async () => {
    const ids = await alerts(2);
    const past = await bulk('snooze', { identifiers: ids, endTime: '2020-01-01T00:00:00Z' });
    assert.equal(past.status, 422, JSON.stringify(past.body));
    assert.match(past.body.errors.endTime, /future/);
    const nobody = await bulk('assign', {
      identifiers: ids,
      owner: { username: `nobody-${run}@example.com` },
    });
    assert.equal(nobody.status, 422, JSON.stringify(nobody.body));
    assert.ok(nobody.body.errors.owner);
    for (const id of ids) {
      const a = await get(id);
      assert.equal(a.snoozed, false);
      assert.equal(a.owner, '');
      const logs = await logsOf(id);
      assert.ok(!logs.some((l) => /snoozed|assigned/.test(l)), logs.join('\n'));
    }
  });
});

describe('a bulk action meeting another transaction that locks the same alerts in the other order', () => {
  it('is aborted by the deadlock detector, runs again and succeeds, rather than answering 500', async () => {
    const [low = '', high = ''] = sorted(await alerts(2));
    // The workers lock new alerts too (their escalations start); one of them waiting in the cycle below
    // restarts the bulk action's wait, and its deadlock check with it. Let them finish first.
    await server.idle();
    const other = new pg.Client({ connectionString: server.databaseUrl });
    await other.connect();
    try {
      // The other side (say a batch of creates for both aliases) holds the later alert first...
      await other.query('BEGIN');
      // PostgreSQL checks a waiter for a cycle once, deadlock_timeout after it began to wait, and aborts
      // the side whose check finds it. The other side checks late, so that side is the bulk action; and
      // should the cycle never be found, the other side gives up with a clear error instead of hanging.
      await other.query(`SET LOCAL deadlock_timeout = '60s'`);
      await other.query(`SET LOCAL lock_timeout = '30s'`);
      await other.query('SELECT 1 FROM alerts WHERE id = $1 FOR UPDATE', [high]);
      // ...the bulk action locks the earlier one and waits for the later...
      const acting = bulkOk('acknowledge', { identifiers: [low, high] });
      // ...and the other side then wants the earlier one: a cycle. The bulk action's one check must come
      // after the cycle closes, within a second of its wait, so the other side waits for it and takes its
      // second lock inside PostgreSQL: a busy test process polling from here could let the second pass.
      await whenWaitedFor(other, {
        then: `PERFORM 1 FROM alerts WHERE id = '${low}' FOR UPDATE`,
        never: 'the bulk action never waited for the later alert',
      });
      await other.query('COMMIT');
      const outcome = await acting;
      assert.deepEqual(sorted(outcome.succeeded), [low, high]);
      for (const id of [low, high]) assert.equal((await get(id)).acknowledged, true);
    } finally {
      await other.end();
    }
  });
});

describe('an alert whose alias is "bulk"', () => {
  it('is reached by alias like any other: the bulk actions live under /v2/bulk, out of the alert paths', async () => {
    const id = await alert({ alias: 'bulk' });
    const noted = await server.call('POST', '/v2/alerts/bulk/notes?identifierType=alias', {
      note: 'by alias',
    });
    assert.equal(noted.status, 202, JSON.stringify(noted.body));
    const notes = (await call('GET', `/v2/alerts/${id}/notes`)).data.map((n: Json) => n.note);
    assert.deepEqual(notes, ['by alias']);
    const byAlias = await server.call('POST', '/v2/alerts/bulk/acknowledge?identifierType=alias', {});
    assert.equal(byAlias.status, 202, JSON.stringify(byAlias.body));
    assert.equal((await get(id)).acknowledged, true);
  });
});

describe("an integration's key", () => {
  it("acts on its team's alerts and answers the others as unknown, as alone", async () => {
    const made = await call('POST', '/v2/integrations', {
      type: 'API',
      name: `Scoped ${run}`,
      ownerTeam: { id: ownTeamId },
    });
    const key = made.data.apiKey as string;
    const mine = await alerts(2, {}, key);
    const theirs = await alerts(2, { responders: [{ type: 'team', name: `Other ${run}` }] });
    const data = await bulkOk('close', { identifiers: [...theirs, ...mine] }, key);
    assert.deepEqual(data.succeeded, mine);
    assert.deepEqual(
      data.failed,
      theirs.map((id) => ({ id, reason: 'Alert does not exist' })),
    );
    for (const id of mine) assert.equal((await get(id)).status, 'closed');
    for (const id of theirs) assert.equal((await get(id)).status, 'open');

    // Without write access, refused as its single actions are.
    await call('PATCH', `/v2/integrations/${made.data.id}`, { allowWriteAccess: false });
    const readOnly = await bulk('close', { identifiers: mine }, key);
    assert.equal(readOnly.status, 403, JSON.stringify(readOnly.body));
  });

  it('acknowledges only the alerts an acknowledge action of the integration matches', async () => {
    const made = await call('POST', '/v2/integrations', {
      type: 'API',
      name: `Gated ${run}`,
      ownerTeam: { id: ownTeamId },
    });
    await call('PUT', `/v2/integrations/${made.data.id}/actions`, {
      create: [{ name: 'Create Alert' }],
      acknowledge: [
        {
          name: 'Ack the ackable',
          filter: {
            conditionMatchType: 'match-all-conditions',
            conditions: [{ field: 'tags', operation: 'contains', expectedValue: 'ackable' }],
          },
        },
      ],
    });
    const key = made.data.apiKey as string;
    const ackable = await alerts(2, { tags: ['ackable'] }, key);
    const other = await alerts(1, {}, key);
    const data = await bulkOk('acknowledge', { identifiers: [...ackable, ...other] }, key);
    assert.deepEqual(data.succeeded, ackable);
    assert.equal(data.failed.length, 1);
    assert.equal(data.failed[0].id, other[0]);
    assert.match(data.failed[0].reason, /No acknowledge action of integration .* matched the alert/);
    for (const id of ackable) assert.equal((await get(id)).acknowledged, true);
    assert.equal((await get(other[0] ?? '')).acknowledged, false);
  });
});

describe('Security Hub alerts', () => {
  const CALLER = { id: 'AKIAVIGILTESTCALLER1', secret: 'vigil-test-caller-secret-key-0123456789' };
  const ACCOUNT = '123456789012';
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/VigilSecurityHubRoleBulk`;
  const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/securityhub';

  it('writes a bulk acknowledgement back to each finding, in one request', async () => {
    const created = await call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: `Hub ${run}`,
      ownerTeam: { id: ownTeamId },
      verifySignatures: false,
      sendUpdatesBack: true,
      roleArn: ROLE,
      region: 'us-east-1',
    });
    aws = await startFakeAws({
      callerAccessKeyId: CALLER.id,
      callerSecretAccessKey: CALLER.secret,
      roles: { [ROLE]: { externalId: created.data.externalId } },
    });
    // The server's AWS clients are made on first use, after this.
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: CALLER.id,
      AWS_SECRET_ACCESS_KEY: CALLER.secret,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_STS: aws.stsUrl,
      AWS_ENDPOINT_URL_SECURITYHUB: aws.securityHubUrl,
    });
    const findingIds = [1, 2, 3].map(
      (n) => `arn:aws:securityhub:us-east-1:${ACCOUNT}:finding/bulk-${run}-${n}`,
    );
    for (const id of findingIds) aws.addFinding({ Id: id, ProductArn: PRODUCT });
    const findings = findingIds.map((id) => ({
      SchemaVersion: '2018-10-08',
      Id: id,
      ProductArn: PRODUCT,
      GeneratorId: 'test',
      AwsAccountId: ACCOUNT,
      Types: ['Software and Configuration Checks'],
      CreatedAt: '2026-11-27T10:00:00Z',
      UpdatedAt: '2026-11-27T10:00:00Z',
      Severity: { Label: 'MEDIUM' },
      FindingProviderFields: { Severity: { Label: 'MEDIUM' } },
      Title: `Bulk finding ${id}`,
      Description: 'A finding for the bulk tests',
      Resources: [{ Type: 'AwsEc2Instance', Id: 'i-0123456789abcdef0' }],
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
    }));
    const url = new URL(created.data.endpointUrl);
    const response = await fetch(`${server.url}${url.pathname}${url.search}`, {
      method: 'POST',
      body: JSON.stringify({
        version: '0',
        id: randomUUID(),
        'detail-type': 'Security Hub Findings - Imported',
        source: 'aws.securityhub',
        account: ACCOUNT,
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: findingIds,
        detail: { findings },
      }),
    });
    const delivery = (await response.json()) as Json;
    assert.equal(response.status, 200, JSON.stringify(delivery));
    const alertIds: string[] = await waitFor('the findings to become alerts', async () => {
      const payload = await call('GET', `/v2/integrations/${created.data.id}/payloads/${delivery.payloadId}`);
      return payload.data.verdict !== 'queued' ? payload.data.alertIds : undefined;
    });
    assert.equal(alertIds.length, 3);

    const before = aws.securityHubRequests.filter((r) => r.operation === 'BatchUpdateFindings').length;
    const data = await bulkOk('acknowledge', { identifiers: alertIds, note: 'on it' });
    assert.deepEqual(sorted(data.succeeded), sorted(alertIds));
    await waitFor(
      'every finding NOTIFIED',
      async () =>
        findingIds.every((id) => aws.findings.get(`${PRODUCT}|${id}`)?.Workflow?.Status === 'NOTIFIED'),
      20_000,
    );
    const { rows } = await db.query<{ field: string; n: number }>(
      `SELECT field, count(*)::int AS n FROM securityhub_writebacks WHERE alert_id = ANY($1::uuid[])
       GROUP BY field ORDER BY field`,
      [alertIds],
    );
    assert.deepEqual(rows, [
      { field: 'note', n: 3 },
      { field: 'workflow', n: 3 },
    ]);
    const used = aws.securityHubRequests.filter((r) => r.operation === 'BatchUpdateFindings').slice(before);
    assert.ok(used.length >= 1 && used.length <= 2, `${used.length} BatchUpdateFindings requests`);
  });
});
