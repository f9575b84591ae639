import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import * as reach from '../../testing/team-key-reach.js';
import type { By, Target } from '../../testing/team-key-reach.js';

/**
 * A team-scoped API integration key (allowConfigurationAccess) reaches only its owner team's configuration
 * (docs/api.md): its team's schedules may not have another team, or another team's (or no team's)
 * escalation, as a rotation participant, which would page them with the schedule's on-call. The refusal is
 * what reading the participant answers; a name nothing has stays a 422.
 */
describe("a team integration key's rotations and other teams' teams and escalations", () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  let ownTeam: Target;
  let otherTeam: Target;
  let key: string;
  let scheduleId: string;
  let rotationId: string;
  const theirs: Target[] = [];
  const ours: Target[] = [];

  const read = (t: Target, by: By) => reach.read(server, key, t, by);
  const participant = reach.reference;

  const rotation = (p: Json) => ({
    type: 'weekly',
    startDate: '2026-01-05T09:00:00Z',
    participants: [p],
  });

  /** The ways a rotation comes to have a participant: a new schedule, a new rotation, a changed one. */
  const writes = async (p: Json) => [
    await server.call(
      'POST',
      '/v2/schedules',
      { name: `probe-${randomUUID()}`, ownerTeam: { id: ownTeam.id }, rotations: [rotation(p)] },
      key,
    ),
    await server.call('POST', `/v2/schedules/${scheduleId}/rotations`, rotation(p), key),
    await server.call(
      'PATCH',
      `/v2/schedules/${scheduleId}/rotations/${rotationId}`,
      { participants: [p] },
      key,
    ),
  ];

  before(async () => {
    server = await startTestServer();
    ownTeam = await reach.team(server, `own-${run}`);
    otherTeam = await reach.team(server, `other-${run}`);
    theirs.push(
      otherTeam,
      await reach.escalation(server, `other-esc-${run}`, otherTeam.id, otherTeam.id),
      await reach.escalation(server, `org-esc-${run}`, otherTeam.id),
    );
    ours.push(ownTeam, await reach.escalation(server, `own-esc-${run}`, ownTeam.id, ownTeam.id));
    ({ key } = await reach.teamKey(server, ownTeam.id, `own-config-${run}`));
    const made = await server.callOk(
      'POST',
      '/v2/schedules',
      {
        name: `own-sched-${run}`,
        ownerTeam: { id: ownTeam.id },
        rotations: [rotation({ type: 'team', id: ownTeam.id })],
      },
      key,
    );
    scheduleId = made.data.id;
    const rotations = await server.callOk('GET', `/v2/schedules/${scheduleId}/rotations`, undefined, key);
    rotationId = rotations.data[0].id;
  });
  after(() => server?.stop());

  it("refuses another team, and another team's or no team's escalation, as reading it does", async () => {
    for (const t of theirs) {
      for (const by of ['id', 'name'] as const) {
        const refusal = await read(t, by);
        assert.equal(refusal.status, 403, JSON.stringify(refusal.body));
        for (const [i, answer] of (await writes(participant(t, by))).entries()) {
          const what = `${t.kind} ${t.name} by ${by}, write ${i}`;
          assert.equal(answer.status, 403, `${what}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.message, refusal.body.message, what);
        }
      }
    }
    const rotations = await server.callOk('GET', `/v2/schedules/${scheduleId}/rotations`, undefined, key);
    assert.deepEqual(
      (rotations.data as Json[]).map((r) => (r.participants as Json[]).map((p) => p.id)),
      [[ownTeam.id]],
    );
  });

  it('answers a name nothing has with a 422, and takes its own team and its escalations', async () => {
    for (const answer of await writes({ type: 'escalation', name: `none-${run}` }))
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
    for (const t of ours)
      for (const by of ['id', 'name'] as const)
        for (const [i, answer] of (await writes(participant(t, by))).entries())
          assert.ok(answer.status < 300, `${t.name} by ${by}, write ${i}: ${JSON.stringify(answer.body)}`);
  });

  it("lets an organization's key give a team's schedule any team or escalation", async () => {
    for (const t of theirs) {
      const answer = await server.call('PATCH', `/v2/schedules/${scheduleId}/rotations/${rotationId}`, {
        participants: [participant(t, 'name')],
      });
      assert.ok(answer.status < 300, JSON.stringify(answer.body));
    }
  });
});
