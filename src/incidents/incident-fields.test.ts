import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addUserWithKey, startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * The Incident API's tags, details, message and description endpoints, as Opsgenie's Go SDK calls them
 * (its incident package's AddTags, RemoveTags, AddDetails, RemoveDetails, UpdateMessage and
 * UpdateDescription), and the list's owner and isSeen sorts, on the real server: each change is the
 * incident's and its open alert's, within an alert's limits, and goes on the incident's log.
 */

let server: TestServer;
let teamId: string;
const run = randomUUID().slice(0, 8);
const teamName = `Fields ${run}`;

before(async () => {
  server = await startTestServer();
  teamId = (await server.callOk('POST', '/v2/teams', { name: teamName })).data.id;
});

after(async () => {
  await server?.stop();
});

/** A request's outcome: answered 202, then its status by GET /v1/incidents/requests/{id}. */
async function accepted(res: { status: number; body: Json }): Promise<Json> {
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.result, 'Request will be processed');
  assert.equal(typeof res.body.requestId, 'string');
  return (await server.callOk('GET', `/v1/incidents/requests/${res.body.requestId}`)).data;
}

/** A request as the Go SDK sends it: its struct encoded by encoding/json, Identifier and Id included. */
async function sdk(method: string, path: string, body?: string, key = server.key) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `GenieKey ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function createIncident(body: Json): Promise<Json> {
  const status = await accepted(await server.call('POST', '/v1/incidents/create', body));
  assert.equal(status.isSuccess, true, JSON.stringify(status));
  return (await server.callOk('GET', `/v1/incidents/${status.incidentId}`)).data;
}

const incidentOf = async (id: string) => (await server.callOk('GET', `/v1/incidents/${id}`)).data;
const alertOf = async (id: string) => (await server.callOk('GET', `/v2/alerts/${id}`)).data;
const alertIdsOf = async (id: string) =>
  (await server.callOk('GET', `/v1/incidents/${id}/associated-alert-ids`)).data as string[];
const logsOf = async (id: string) =>
  ((await server.callOk('GET', `/v1/incidents/${id}/logs?order=asc&limit=100`)).data as Json[]).map(
    (l) => l.log as string,
  );
const notesOf = async (id: string) =>
  ((await server.callOk('GET', `/v1/incidents/${id}/notes?order=asc`)).data as Json[]).map(
    (n) => n.note as string,
  );

describe("the Incident API's tags, details, message and description", () => {
  it("change the incident and its open alert, as Opsgenie's Go SDK sends them", async () => {
    const incident = await createIncident({
      message: `Disk full ${run}`,
      description: 'The disk is full',
      responders: [{ type: 'team', id: teamId }],
      tags: ['disk', 'prod'],
      details: { host: 'db-1', region: 'eu' },
    });
    const [alertId] = await alertIdsOf(incident.id);
    assert.ok(alertId);
    const path = (p: string, type = 'id') =>
      `/v1/incidents/${type === 'tiny' ? incident.tinyId : incident.id}${p}?identifierType=${type}`;

    // incident.AddTagsRequest: Identifier and Id in the body, and its note.
    const tagged = await accepted(
      await sdk(
        'POST',
        path('/tags'),
        `{"Identifier":"id","Id":"${incident.id}","note":"tagged","tags":["sev2","disk"]}\n`,
      ),
    );
    assert.deepEqual(
      [tagged.success, tagged.action, tagged.status, tagged.incidentId],
      [true, 'AddTags', 'Added tags', incident.id],
    );
    assert.deepEqual((await incidentOf(incident.id)).tags, ['disk', 'prod', 'sev2']);
    assert.deepEqual((await alertOf(alertId)).tags, ['disk', 'prod', 'sev2']);

    // incident.RemoveTagsRequest: a DELETE, the tags and note in the query, by tinyId.
    const untagged = await accepted(await sdk('DELETE', `${path('/tags', 'tiny')}&tags=prod,sev2&note=gone`));
    assert.deepEqual([untagged.success, untagged.action], [true, 'RemoveTags']);
    assert.deepEqual((await incidentOf(incident.id)).tags, ['disk']);
    assert.deepEqual((await alertOf(alertId)).tags, ['disk']);

    // incident.AddDetailsRequest.
    const detailed = await accepted(
      await sdk(
        'POST',
        path('/details'),
        `{"Identifier":"id","Id":"${incident.id}","details":{"shard":"7","host":"db-2"}}\n`,
      ),
    );
    assert.deepEqual([detailed.success, detailed.action], [true, 'AddDetails']);
    assert.deepEqual((await incidentOf(incident.id)).extraProperties, {
      host: 'db-2',
      region: 'eu',
      shard: '7',
    });
    const detailedAlert = await alertOf(alertId);
    assert.deepEqual(
      [detailedAlert.details.host, detailedAlert.details.shard, detailedAlert.details.incidentId],
      ['db-2', '7', incident.id],
    );

    // incident.RemoveDetailsRequest; the alert's link to its incident is not the incident's to remove.
    const undetailed = await accepted(await sdk('DELETE', `${path('/details')}&keys=region,incidentId`));
    assert.deepEqual([undetailed.success, undetailed.action], [true, 'RemoveDetails']);
    assert.deepEqual((await incidentOf(incident.id)).extraProperties, { host: 'db-2', shard: '7' });
    const undetailedAlert = await alertOf(alertId);
    assert.equal(undetailedAlert.details.region, undefined);
    assert.equal(undetailedAlert.details.incidentId, incident.id);

    // incident.UpdateMessageRequest and incident.UpdateDescriptionRequest: POSTs.
    const message = `Disk full on db-2 ${run}`;
    const renamed = await accepted(
      await sdk('POST', path('/message'), `{"Identifier":"id","Id":"${incident.id}","message":"${message}"}`),
    );
    assert.deepEqual([renamed.success, renamed.action], [true, 'UpdateMessage']);
    const described = await accepted(
      await sdk(
        'POST',
        path('/description', 'tiny'),
        `{"Identifier":"tiny","Id":"${incident.tinyId}","description":"db-2 is at 100%"}`,
      ),
    );
    assert.deepEqual([described.success, described.action], [true, 'UpdateDescription']);
    const changed = await incidentOf(incident.id);
    assert.deepEqual([changed.message, changed.description], [message, 'db-2 is at 100%']);
    const changedAlert = await alertOf(alertId);
    assert.deepEqual([changedAlert.message, changedAlert.description], [message, 'db-2 is at 100%']);

    // Each on the incident's log, its notes with it.
    const logs = await logsOf(incident.id);
    for (const line of [
      'Tags [sev2] added by',
      'Tags [prod, sev2] removed by',
      'Details [shard, host] added by',
      'Details [region] removed by',
      `Message changed from "Disk full ${run}" to "${message}" by`,
      'Description changed by',
    ])
      assert.ok(
        logs.some((l) => l.startsWith(line)),
        `${line}…\n${logs.join('\n')}`,
      );
    assert.deepEqual(await notesOf(incident.id), ['tagged', 'gone']);

    // What changes nothing is done all the same, and logged nowhere.
    const again = await accepted(await server.call('POST', path('/tags'), { tags: ['disk'] }));
    assert.deepEqual([again.success, again.status], [true, 'Added tags']);
    assert.equal((await logsOf(incident.id)).length, logs.length);
  });

  it('change a resolved incident alone, and reopening it raises an alert that carries them', async () => {
    const incident = await createIncident({ message: `Resolved ${run}`, tags: ['old'] });
    const [first] = await alertIdsOf(incident.id);
    await accepted(await server.call('POST', `/v1/incidents/${incident.id}/resolve`, {}));
    for (const [p, body] of [
      ['/tags', { tags: ['new'] }],
      ['/details', { details: { cause: 'disk', n: 3 } }],
      ['/message', { message: `Resolved, renamed ${run}` }],
      ['/description', { description: '' }],
    ] as const) {
      const outcome = await accepted(await server.call('POST', `/v1/incidents/${incident.id}${p}`, body));
      assert.equal(outcome.success, true, `${p}: ${JSON.stringify(outcome)}`);
    }
    assert.equal((await alertOf(first as string)).message, `Resolved ${run}`, 'its closed alert unchanged');
    await accepted(await server.call('POST', `/v1/incidents/${incident.id}/reopen`, {}));
    const raised = (await alertIdsOf(incident.id)).find((id) => id !== first);
    assert.ok(raised);
    const alert = await alertOf(raised);
    assert.deepEqual(
      [alert.message, alert.tags, alert.details.cause, alert.details.n],
      [`Resolved, renamed ${run}`, ['old', 'new'], 'disk', '3'],
    );
  });

  it("are refused to a caller who may not act on the incident's alert, the incident unchanged", async () => {
    const plain = await addUserWithKey(server, 'plain', run);
    const incident = await createIncident({
      message: `Not plain's ${run}`,
      responders: [{ type: 'team', id: teamId }],
    });
    const refused = await accepted(
      await server.call('POST', `/v1/incidents/${incident.id}/tags`, { tags: ['theirs'] }, plain.key),
    );
    assert.deepEqual(
      [refused.success, refused.status],
      [
        false,
        "Incident was not given the tags: none of its open alerts can be acted on (out of the caller's alert scope).",
      ],
    );
    assert.deepEqual((await incidentOf(incident.id)).tags, []);
  });

  it('answer bad input with a 422 within the limits of an alert, and change nothing', async () => {
    const incident = await createIncident({
      message: `Limits ${run}`,
      tags: Array.from({ length: 19 }, (_, i) => `t${i}`),
      details: { keep: 'me' },
    });
    const [alertId] = await alertIdsOf(incident.id);
    const at = `/v1/incidents/${incident.id}`;
    for (const [method, p, body] of [
      ['POST', '/tags', {}],
      ['POST', '/tags', { tags: [] }],
      ['POST', '/tags', { tags: [''] }],
      ['POST', '/tags', { tags: ['x'.repeat(51)] }],
      ['POST', '/tags', { tags: Array.from({ length: 21 }, (_, i) => `n${i}`) }],
      // 19 and 2 new are over an alert's 20.
      ['POST', '/tags', { tags: ['n1', 'n2'] }],
      ['DELETE', '/tags', undefined],
      ['POST', '/details', {}],
      ['POST', '/details', { details: { nested: { a: 1 } } }],
      ['POST', '/details', { details: { '': 'v' } }],
      ['POST', '/details', { details: { k: 'v'.repeat(8001) } }],
      [
        'POST',
        '/details',
        { details: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 'v'])) },
      ],
      ['DELETE', '/details', undefined],
      ['POST', '/message', {}],
      ['POST', '/message', { message: '' }],
      ['POST', '/message', { message: 'm'.repeat(131) }],
      ['POST', '/description', {}],
      ['POST', '/description', { description: 'd'.repeat(15001) }],
      ['POST', '/tags?identifierType=alias', { tags: ['a'] }],
    ] as const) {
      const res = await server.call(method, `${at}${p}`, body);
      assert.equal(
        res.status,
        422,
        `${method} ${p} ${String(JSON.stringify(body)).slice(0, 80)}: ${JSON.stringify(res.body)}`,
      );
    }
    // The details a request may carry, piled up past an alert's 1,000 keys.
    const many = Object.fromEntries(Array.from({ length: 997 }, (_, i) => [`k${i}`, 'v']));
    assert.equal(
      (await accepted(await server.call('POST', `${at}/details`, { details: many }))).success,
      true,
    );
    const over = await server.call('POST', `${at}/details`, { details: { one: 'more' } });
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.match(over.body.errors.details, /at most 1,000 keys/);

    const unchanged = await incidentOf(incident.id);
    assert.equal(unchanged.tags.length, 19);
    assert.equal(unchanged.message, `Limits ${run}`);
    assert.equal(Object.keys(unchanged.extraProperties).length, 998);
    assert.equal((await alertOf(alertId as string)).tags.length, 19);

    // An unknown incident is accepted, its status saying so.
    const unknown = await accepted(
      await server.call('POST', `/v1/incidents/${randomUUID()}/message`, { message: 'm' }),
    );
    assert.deepEqual([unknown.success, unknown.status], [false, 'Incident does not exist']);
  });
});

describe("the incident list's Go SDK sorts", () => {
  it('sorts by owner (the owner team) and by isSeen (as createdAt)', async () => {
    const [low, high] = (
      await Promise.all(
        ['a', 'b'].map(
          async (n) =>
            (await server.callOk('POST', '/v2/teams', { name: `Owner ${n} ${run}` })).data.id as string,
        ),
      )
    ).sort();
    const tag = `sorted${run}`;
    const made: Json[] = [];
    for (const responders of [[{ type: 'team', id: high }], [], [{ type: 'team', id: low }]])
      made.push(await createIncident({ message: `Sorted ${run}`, tags: [tag], responders }));
    const list = async (sort: string, order: string) =>
      (
        (
          await server.callOk(
            'GET',
            `/v1/incidents?query=${encodeURIComponent(`tag:${tag}`)}&sort=${sort}&order=${order}`,
          )
        ).data as Json[]
      ).map((i) => i.id as string);
    const [byHigh, byNone, byLow] = made.map((i) => i.id as string);
    assert.deepEqual(await list('owner', 'asc'), [byNone, byLow, byHigh]);
    assert.deepEqual(await list('owner', 'desc'), [byHigh, byLow, byNone]);
    assert.deepEqual(await list('isSeen', 'asc'), await list('createdAt', 'asc'));
    assert.deepEqual(await list('isSeen', 'desc'), [byLow, byNone, byHigh]);
    const res = await server.call('GET', '/v1/incidents?sort=seen');
    assert.equal(res.status, 422);
  });
});
