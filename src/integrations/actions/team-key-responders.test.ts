import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import * as reach from '../../testing/team-key-reach.js';
import type { By, Target } from '../../testing/team-key-reach.js';

/**
 * A team-scoped API integration key (allowConfigurationAccess) reaches only its owner team's configuration
 * (docs/api.md): its integration's actions may not add another team, or another team's (or no team's)
 * escalation or schedule, as a responder, which would page them with the integration's alerts. The refusal
 * is what reading the responder answers; a name nothing has stays a 422; users may be named. A responder
 * the integration's actions already have (an organization admin's) may be sent again as they store it.
 */
describe("a team integration key's actions and other teams' responders", () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  let ownTeam: Target;
  let otherTeam: Target;
  let integrationId: string;
  let key: string;
  const theirs: Target[] = [];
  const ours: Target[] = [];

  const read = (t: Target, by: By) => reach.read(server, key, t, by);
  const responder = reach.reference;

  const action = (responders: Json[], name = `probe-${randomUUID()}`) => ({ name, responders });

  /** The ways the actions come to have a responder: one action added, all of them replaced. */
  const writes = async (r: Json) => [
    await server.call(
      'POST',
      `/v2/integrations/${integrationId}/actions`,
      { type: 'create', ...action([r]) },
      key,
    ),
    await server.call('PUT', `/v2/integrations/${integrationId}/actions`, { create: [action([r])] }, key),
  ];

  const stored = async () =>
    (await server.callOk('GET', `/v2/integrations/${integrationId}/actions`, undefined, key)).data;

  before(async () => {
    server = await startTestServer();
    ownTeam = await reach.team(server, `own-${run}`);
    otherTeam = await reach.team(server, `other-${run}`);
    theirs.push(
      otherTeam,
      await reach.escalation(server, `other-esc-${run}`, otherTeam.id, otherTeam.id),
      await reach.escalation(server, `org-esc-${run}`, otherTeam.id),
      await reach.schedule(server, `other-sched-${run}`, otherTeam.id),
      await reach.schedule(server, `org-sched-${run}`),
    );
    ours.push(
      ownTeam,
      await reach.escalation(server, `own-esc-${run}`, ownTeam.id, ownTeam.id),
      await reach.schedule(server, `own-sched-${run}`, ownTeam.id),
    );
    ({ integrationId, key } = await reach.teamKey(server, ownTeam.id, `own-config-${run}`));
    await server.callOk(
      'PUT',
      `/v2/integrations/${integrationId}/actions`,
      { create: [action([{ type: 'team', id: ownTeam.id }], `own-action-${run}`)] },
      key,
    );
  });
  after(() => server?.stop());

  it("refuses another team, and another team's or no team's escalation or schedule, as reading it does", async () => {
    for (const t of theirs) {
      for (const by of ['id', 'name'] as const) {
        const refusal = await read(t, by);
        assert.equal(refusal.status, 403, JSON.stringify(refusal.body));
        for (const [i, answer] of (await writes(responder(t, by))).entries()) {
          const what = `${t.kind} ${t.name} by ${by}, write ${i}`;
          assert.equal(answer.status, 403, `${what}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.message, refusal.body.message, what);
        }
      }
    }
    const { create } = await stored();
    assert.deepEqual(
      (create as Json[]).map((a) => [a.name, (a.responders as Json[]).map((r) => r.id)]),
      [[`own-action-${run}`, [ownTeam.id]]],
    );
  });

  it('answers a name nothing has with a 422, and takes its own team, its escalations, schedules and users', async () => {
    for (const answer of await writes({ type: 'team', name: `none-${run}` }))
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
    const user = await server.callOk('POST', '/v2/users', {
      username: `someone-${run}@example.com`,
      fullName: 'Someone',
      role: { name: 'User' },
    });
    for (const t of ours)
      for (const by of ['id', 'name'] as const)
        for (const [i, answer] of (await writes(responder(t, by))).entries())
          assert.ok(answer.status < 300, `${t.name} by ${by}, write ${i}: ${JSON.stringify(answer.body)}`);
    for (const answer of await writes({ type: 'user', id: user.data.id }))
      assert.ok(answer.status < 300, JSON.stringify(answer.body));
  });

  it('keeps a responder an organization admin gave the actions when the key sends it back as stored, and no other', async () => {
    // The organization's key (an admin's) adds the other team, by id.
    await server.callOk('PUT', `/v2/integrations/${integrationId}/actions`, {
      create: [
        action(
          [
            { type: 'team', id: ownTeam.id },
            { type: 'team', id: otherTeam.id },
          ],
          `own-action-${run}`,
        ),
      ],
    });
    const create = ((await stored()).create as Json[]).map((a) => ({
      name: a.name,
      responders: a.responders,
    }));
    // The actions read back, one added, and all sent again (as Terraform's integration_action does).
    const again = await server.call(
      'PUT',
      `/v2/integrations/${integrationId}/actions`,
      { create: [...create, action([{ type: 'team', id: ownTeam.id }], `more-${run}`)] },
      key,
    );
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(
      ((await stored()).create as Json[]).map((a) => [a.name, (a.responders as Json[]).map((r) => r.id)]),
      [
        [`own-action-${run}`, [ownTeam.id, otherTeam.id]],
        [`more-${run}`, [ownTeam.id]],
      ],
    );
    // By a name the actions do not show, it is not confirmed: what reading the team answers.
    const refusal = await read(otherTeam, 'name');
    for (const [i, answer] of (await writes({ type: 'team', name: otherTeam.name })).entries()) {
      assert.equal(answer.status, 403, `write ${i}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.message, refusal.body.message);
    }
    // Nor does the other team's escalation come with it.
    const escalation = theirs.find((t) => t.kind === 'escalation');
    assert.ok(escalation);
    const more = await server.call(
      'PUT',
      `/v2/integrations/${integrationId}/actions`,
      { create: [...create, action([responder(escalation, 'id')])] },
      key,
    );
    assert.equal(more.status, 403, JSON.stringify(more.body));
  });

  it("lets an organization's key give a team's integration any team, escalation or schedule", async () => {
    for (const t of theirs) {
      const answer = await server.call('PUT', `/v2/integrations/${integrationId}/actions`, {
        create: [action([responder(t, 'name')])],
      });
      assert.ok(answer.status < 300, JSON.stringify(answer.body));
    }
  });
});
