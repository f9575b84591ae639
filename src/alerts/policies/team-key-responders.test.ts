import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import * as reach from '../../testing/team-key-reach.js';
import type { By, Target } from '../../testing/team-key-reach.js';

/**
 * A team-scoped API integration key (allowConfigurationAccess) reaches only its owner team's configuration
 * (docs/api.md): its team's alert policies may not add another team, or another team's (or no team's)
 * escalation or schedule, as a responder, which would page them with the team's alerts. The refusal is
 * what reading the responder answers; a name nothing has stays a 422; users may be named. A responder the
 * policy already has (an organization admin's) may be sent again as the policy stores it.
 */
describe("a team integration key's alert policies and other teams' responders", () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  let ownTeam: Target;
  let otherTeam: Target;
  let key: string;
  let policyId: string;
  const theirs: Target[] = [];
  const ours: Target[] = [];

  const read = (t: Target, by: By) => reach.read(server, key, t, by);
  const responder = reach.reference;

  const body = (responders: Json[], name = `probe-${randomUUID()}`) => ({
    type: 'alert',
    name,
    filter: { type: 'match-all' },
    responders,
  });

  /** The ways a policy comes to have a responder: a new policy, a policy replaced. */
  const writes = async (r: Json) => [
    await server.call('POST', `/v2/policies?teamId=${ownTeam.id}`, body([r]), key),
    await server.call(
      'PUT',
      `/v2/policies/${policyId}?teamId=${ownTeam.id}`,
      body([r], `own-policy-${run}`),
      key,
    ),
  ];

  const storedResponders = async () =>
    (await server.callOk('GET', `/v2/policies/${policyId}?teamId=${ownTeam.id}`, undefined, key)).data
      .responders as Json[];

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
    ({ key } = await reach.teamKey(server, ownTeam.id, `own-config-${run}`));
    const made = await server.callOk(
      'POST',
      `/v2/policies?teamId=${ownTeam.id}`,
      body([{ type: 'team', id: ownTeam.id }], `own-policy-${run}`),
      key,
    );
    policyId = made.data.id;
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
    assert.deepEqual(
      (await storedResponders()).map((r) => r.id),
      [ownTeam.id],
    );
    const list = await server.callOk('GET', `/v2/policies/alert?teamId=${ownTeam.id}`, undefined, key);
    assert.deepEqual(
      (list.data as Json[]).map((p) => p.name),
      [`own-policy-${run}`],
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

  it('keeps a responder an organization admin gave the policy when the key sends it back as stored, and no other', async () => {
    // The organization's key (an admin's) adds the other team, by id.
    await server.callOk(
      'PUT',
      `/v2/policies/${policyId}?teamId=${ownTeam.id}`,
      body(
        [
          { type: 'team', id: ownTeam.id },
          { type: 'team', id: otherTeam.id },
        ],
        `own-policy-${run}`,
      ),
    );
    const stored = await storedResponders();
    // The policy read back, renamed, and sent again (as Terraform or a read-modify-write client does).
    const renamed = await server.call(
      'PUT',
      `/v2/policies/${policyId}?teamId=${ownTeam.id}`,
      body(stored, `renamed-${run}`),
      key,
    );
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.deepEqual(
      (await storedResponders()).map((r) => r.id),
      [ownTeam.id, otherTeam.id],
    );
    // By a name the policy does not show, it is not confirmed: what reading the team answers.
    const byName = await server.call(
      'PUT',
      `/v2/policies/${policyId}?teamId=${ownTeam.id}`,
      body([{ type: 'team', name: otherTeam.name }], `renamed-${run}`),
      key,
    );
    assert.equal(byName.status, 403, JSON.stringify(byName.body));
    // Nor does the other team's escalation come with it.
    const escalation = theirs.find((t) => t.kind === 'escalation');
    assert.ok(escalation);
    const more = await server.call(
      'PUT',
      `/v2/policies/${policyId}?teamId=${ownTeam.id}`,
      body([...stored, responder(escalation, 'id')], `renamed-${run}`),
      key,
    );
    assert.equal(more.status, 403, JSON.stringify(more.body));
    // Nor into a new policy.
    const copied = await server.call('POST', `/v2/policies?teamId=${ownTeam.id}`, body(stored), key);
    assert.equal(copied.status, 403, JSON.stringify(copied.body));
  });

  it("lets an organization's key give a team's policy any team, escalation or schedule", async () => {
    for (const t of theirs) {
      const answer = await server.call(
        'PUT',
        `/v2/policies/${policyId}?teamId=${ownTeam.id}`,
        body([responder(t, 'name')], `renamed-${run}`),
      );
      assert.ok(answer.status < 300, JSON.stringify(answer.body));
    }
  });
});
