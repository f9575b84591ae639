import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import * as reach from '../../testing/team-key-reach.js';
import type { By, Target } from '../../testing/team-key-reach.js';

/**
 * A team-scoped API integration key (allowConfigurationAccess) reaches only its owner team's configuration
 * (docs/api.md), the team itself included: its team's escalations may not name another team's schedule,
 * one no team owns, or another team as a recipient. Otherwise the key could learn those names (a 422 only
 * for one that does not exist), read the id back from the policy and page the other team with its alerts.
 * The refusal is word for word what reading the recipient answers.
 */
describe("a team integration key's escalations and other teams' schedules and teams", () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  let key: string;
  let escalationId: string;
  const recipients: Record<'ours' | 'theirs' | 'nobodys', Target[]> = {
    ours: [],
    theirs: [],
    nobodys: [],
  };

  const read = (r: Target, by: By) => reach.read(server, key, r, by);

  const rules = (r: Target, by: By) => [
    {
      condition: 'if-not-acked',
      notifyType: 'default',
      delay: { timeAmount: 5 },
      recipient: reach.reference(r, by),
    },
  ];

  /** Both ways an escalation comes to name a recipient: a new one, and new rules for one. */
  const writes = async (r: Target, by: By, asOrganization = false) => {
    const useKey = asOrganization ? undefined : key;
    return [
      await server.call(
        'POST',
        '/v2/escalations',
        { name: `probe-${randomUUID().slice(0, 8)}`, rules: rules(r, by) },
        useKey,
      ),
      await server.call('PATCH', `/v2/escalations/${escalationId}`, { rules: rules(r, by) }, useKey),
    ];
  };

  before(async () => {
    server = await startTestServer();
    const own = await reach.team(server, `own-${run}`);
    const other = await reach.team(server, `other-${run}`);
    recipients.ours.push(own, await reach.schedule(server, `own-sched-${run}`, own.id));
    recipients.theirs.push(other, await reach.schedule(server, `other-sched-${run}`, other.id));
    recipients.nobodys.push(await reach.schedule(server, `org-sched-${run}`));
    ({ key } = await reach.teamKey(server, own.id, `own-config-${run}`));
    escalationId = (
      await server.callOk('POST', '/v2/escalations', { name: `ours-${run}`, rules: rules(own, 'id') }, key)
    ).data.id;
  });
  after(() => server?.stop());

  const escalationNames = async () =>
    ((await server.callOk('GET', '/v2/escalations')).data as Json[]).map((e) => e.name as string).sort();

  it('refuses another team, its schedules and those no team owns as recipients, as reading them does', async () => {
    const before = await escalationNames();
    for (const r of [...recipients.theirs, ...recipients.nobodys]) {
      for (const by of ['id', 'name'] as const) {
        const refusal = await read(r, by);
        assert.equal(refusal.status, 403, JSON.stringify(refusal.body));
        for (const [i, answer] of (await writes(r, by)).entries()) {
          const what = `${r.kind} ${r.name} by ${by}, write ${i}`;
          assert.equal(answer.status, 403, `${what}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.message, refusal.body.message, what);
          if (by === 'id') assert.doesNotMatch(JSON.stringify(answer.body), new RegExp(r.name), what);
        }
      }
    }
    // Nothing was bound: no escalation was made, and the key's one still names its own team.
    assert.deepEqual(await escalationNames(), before);
    const ours = (await server.callOk('GET', `/v2/escalations/${escalationId}`, undefined, key)).data;
    assert.deepEqual(ours.rules[0].recipient, {
      type: 'team',
      id: recipients.ours[0]!.id,
      name: `own-${run}`,
    });
  });

  it('answers a name nothing has with the 422 it always did (reading it is a 404)', async () => {
    for (const kind of ['schedule', 'team'] as const) {
      const unknown: Target = { kind, id: randomUUID(), name: `none-${run}` };
      for (const by of ['id', 'name'] as const) {
        assert.equal((await read(unknown, by)).status, 404);
        for (const answer of await writes(unknown, by)) {
          assert.equal(answer.status, 422, JSON.stringify(answer.body));
        }
      }
    }
  });

  it('still names its own team and its schedules, by id and by name', async () => {
    for (const r of recipients.ours) {
      for (const by of ['id', 'name'] as const) {
        for (const [i, answer] of (await writes(r, by)).entries()) {
          assert.ok(answer.status < 300, `${r.name} by ${by}, write ${i}: ${JSON.stringify(answer.body)}`);
        }
        const ours = (await server.callOk('GET', `/v2/escalations/${escalationId}`, undefined, key)).data;
        assert.deepEqual(ours.rules[0].recipient, { type: r.kind, id: r.id, name: r.name });
      }
    }
  });

  it("lets an organization's key name any team and any schedule", async () => {
    for (const r of [...recipients.theirs, ...recipients.nobodys]) {
      for (const answer of await writes(r, 'name', true)) {
        assert.ok(answer.status < 300, JSON.stringify(answer.body));
      }
      const ours = (await server.callOk('GET', `/v2/escalations/${escalationId}`)).data;
      assert.deepEqual(ours.rules[0].recipient, { type: r.kind, id: r.id, name: r.name });
    }
  });

  it('lets the key send back a recipient an organization admin gave its policy, and nothing else of theirs', async () => {
    const [other, otherSchedule] = recipients.theirs;
    assert.ok(other && otherSchedule);
    await server.callOk('PATCH', `/v2/escalations/${escalationId}`, { rules: rules(other, 'id') });
    for (const by of ['id', 'name'] as const) {
      const resent = await server.call(
        'PATCH',
        `/v2/escalations/${escalationId}`,
        { rules: rules(other, by), description: `again by ${by}` },
        key,
      );
      assert.equal(resent.status, 200, `by ${by}: ${JSON.stringify(resent.body)}`);
    }
    const swapped = await server.call(
      'PATCH',
      `/v2/escalations/${escalationId}`,
      { rules: rules(otherSchedule, 'id') },
      key,
    );
    assert.equal(swapped.status, 403, JSON.stringify(swapped.body));
  });
});
