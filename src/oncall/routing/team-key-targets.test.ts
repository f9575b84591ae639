import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import * as reach from '../../testing/team-key-reach.js';
import type { By, Target } from '../../testing/team-key-reach.js';

/**
 * A team-scoped API integration key (allowConfigurationAccess) reaches only its owner team's configuration
 * (docs/api.md): a routing rule of its team may not notify another team's escalation or schedule, nor one no
 * team owns. Otherwise the key could learn those names (201 for one that exists, 422 for one that does
 * not), read the target's id back from the rule, page the other team with its alerts and keep that team
 * from deleting its own escalation. The refusal is word for word what reading the target answers.
 */
describe("a team integration key's routing rules and other teams' escalations and schedules", () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  let ownTeam: string;
  let otherTeam: string;
  let key: string;
  let ruleId: string;
  const targets: Record<'ours' | 'theirs' | 'nobodys', Target[]> = { ours: [], theirs: [], nobodys: [] };

  const read = (t: Target, by: By) => reach.read(server, key, t, by);
  const notify = reach.reference;

  /** The three ways a rule comes to notify something: a new rule, a changed one, the default rule. */
  const writes = async (body: Json, asOrganization = false) => {
    const useKey = asOrganization ? undefined : key;
    return [
      await server.call('POST', `/v2/teams/${ownTeam}/routing-rules`, { name: 'probe', ...body }, useKey),
      await server.call('PATCH', `/v2/teams/${ownTeam}/routing-rules/${ruleId}`, body, useKey),
      await server.call('PUT', `/v2/teams/${ownTeam}/routing-rules/default`, body, useKey),
    ];
  };

  before(async () => {
    server = await startTestServer();
    ownTeam = (await server.callOk('POST', '/v2/teams', { name: `own-${run}` })).data.id;
    otherTeam = (await server.callOk('POST', '/v2/teams', { name: `other-${run}` })).data.id;
    targets.ours.push(
      await reach.escalation(server, `own-esc-${run}`, ownTeam, ownTeam),
      await reach.schedule(server, `own-sched-${run}`, ownTeam),
    );
    targets.theirs.push(
      await reach.escalation(server, `other-esc-${run}`, otherTeam, otherTeam),
      await reach.schedule(server, `other-sched-${run}`, otherTeam),
    );
    targets.nobodys.push(
      await reach.escalation(server, `org-esc-${run}`, otherTeam),
      await reach.schedule(server, `org-sched-${run}`),
    );
    ({ key } = await reach.teamKey(server, ownTeam, `own-config-${run}`));
    ruleId = (
      await server.callOk(
        'POST',
        `/v2/teams/${ownTeam}/routing-rules`,
        { name: 'ours', notify: { type: 'none' } },
        key,
      )
    ).data.id;
  });
  after(() => server?.stop());

  it("refuses another team's escalation or schedule, and one no team owns, as reading it does", async () => {
    for (const t of [...targets.theirs, ...targets.nobodys]) {
      for (const by of ['id', 'name'] as const) {
        const refusal = await read(t, by);
        assert.equal(refusal.status, 403, JSON.stringify(refusal.body));
        for (const [i, answer] of (await writes({ notify: notify(t, by) })).entries()) {
          const what = `${t.kind} ${t.name} by ${by}, write ${i}`;
          assert.equal(answer.status, 403, `${what}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.message, refusal.body.message, what);
          if (by === 'id') assert.doesNotMatch(JSON.stringify(answer.body), new RegExp(t.name), what);
        }
      }
    }
    // Nothing was bound: no rule was added, and the rules notify what they did.
    const rules = (await server.callOk('GET', `/v2/teams/${ownTeam}/routing-rules`, undefined, key)).data;
    assert.deepEqual(
      (rules as Json[]).map((r) => [r.name, r.notify.type]),
      [
        ['ours', 'none'],
        ['Default rule', 'team-members'],
      ],
    );
  });

  it('answers a name nothing has with the 422 it always did (reading it is a 404)', async () => {
    const unknown: Target = { kind: 'escalation', id: randomUUID(), name: `none-${run}` };
    for (const by of ['id', 'name'] as const) {
      assert.equal((await read(unknown, by)).status, 404);
      for (const answer of await writes({ notify: notify(unknown, by) })) {
        assert.equal(answer.status, 422, JSON.stringify(answer.body));
      }
    }
  });

  it("still notifies its own team's escalations and schedules, by id and by name", async () => {
    for (const t of targets.ours) {
      for (const by of ['id', 'name'] as const) {
        for (const [i, answer] of (await writes({ notify: notify(t, by) })).entries()) {
          assert.ok(answer.status < 300, `${t.name} by ${by}, write ${i}: ${JSON.stringify(answer.body)}`);
        }
      }
    }
    const rule = (await server.callOk('GET', `/v2/teams/${ownTeam}/routing-rules/${ruleId}`, undefined, key))
      .data;
    assert.deepEqual(rule.notify, { type: 'schedule', id: targets.ours[1]!.id, name: targets.ours[1]!.name });
  });

  it("lets an organization's key point a team's rules at any team's escalation or schedule", async () => {
    for (const t of [...targets.theirs, ...targets.nobodys]) {
      const answers = await writes({ notify: notify(t, 'name') }, true);
      for (const answer of answers) assert.ok(answer.status < 300, JSON.stringify(answer.body));
      const rule = (await server.callOk('GET', `/v2/teams/${ownTeam}/routing-rules/${ruleId}`)).data;
      assert.deepEqual(rule.notify, { type: t.kind, id: t.id, name: t.name });
    }
  });

  it('lets the key send back a target an organization admin gave its rule, and nothing else of theirs', async () => {
    const [otherEscalation, otherSchedule] = targets.theirs;
    assert.ok(otherEscalation && otherSchedule);
    const path = `/v2/teams/${ownTeam}/routing-rules/${ruleId}`;
    await server.callOk('PATCH', path, { notify: notify(otherEscalation, 'id') });
    for (const by of ['id', 'name'] as const) {
      const resent = await server.call(
        'PATCH',
        path,
        { notify: notify(otherEscalation, by), name: `again by ${by}` },
        key,
      );
      assert.ok(resent.status < 300, `by ${by}: ${JSON.stringify(resent.body)}`);
    }
    const swapped = await server.call('PATCH', path, { notify: notify(otherSchedule, 'id') }, key);
    assert.equal(swapped.status, 403, JSON.stringify(swapped.body));
  });
});
