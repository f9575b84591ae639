import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * A team-scoped API integration key (allowConfigurationAccess) may not make another team, or its
 * escalation, a rotation participant (team-key-participants.test.ts); one an organization admin made a
 * participant of the key's team's rotation is no reason to refuse the key's other changes to it: only the
 * participants a change names anew must be the key's team's. Sent again (by id or by the name the
 * rotation shows), one already in that rotation stays.
 */
describe("a team integration key's rotation an organization admin gave another team", () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  let ownTeam: { id: string; name: string };
  let otherTeam: { id: string; name: string };
  let otherEscalation: { id: string; name: string };
  let key: string;
  let scheduleId: string;
  let rotationId: string;

  const rotationPath = () => `/v2/schedules/${scheduleId}/rotations/${rotationId}`;
  const patch = (body: Json, as?: string) => server.call('PATCH', rotationPath(), body, as);
  const rotation = async () => (await server.callOk('GET', rotationPath(), undefined, key)).data;

  before(async () => {
    server = await startTestServer();
    ownTeam = { id: '', name: `own-${run}` };
    ownTeam.id = (await server.callOk('POST', '/v2/teams', { name: ownTeam.name })).data.id;
    otherTeam = { id: '', name: `other-${run}` };
    otherTeam.id = (await server.callOk('POST', '/v2/teams', { name: otherTeam.name })).data.id;
    otherEscalation = { id: '', name: `other-esc-${run}` };
    otherEscalation.id = (
      await server.callOk('POST', '/v2/escalations', {
        name: otherEscalation.name,
        ownerTeam: { id: otherTeam.id },
        rules: [
          {
            condition: 'if-not-acked',
            notifyType: 'default',
            delay: { timeAmount: 0 },
            recipient: { type: 'team', id: otherTeam.id },
          },
        ],
      })
    ).data.id;
    key = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: `own-config-${run}`,
        ownerTeam: { id: ownTeam.id },
        allowConfigurationAccess: true,
      })
    ).data.apiKey;
    scheduleId = (
      await server.callOk(
        'POST',
        '/v2/schedules',
        {
          name: `own-sched-${run}`,
          ownerTeam: { id: ownTeam.id },
          rotations: [
            {
              name: 'primary',
              type: 'weekly',
              startDate: '2026-01-05T09:00:00Z',
              participants: [{ type: 'team', id: ownTeam.id }],
            },
          ],
        },
        key,
      )
    ).data.id;
    const rotations = await server.callOk('GET', `/v2/schedules/${scheduleId}/rotations`, undefined, key);
    rotationId = rotations.data[0].id;
    // An organization admin (the organization's key) adds the other team.
    const added = await patch({
      participants: [
        { type: 'team', id: ownTeam.id },
        { type: 'team', id: otherTeam.id },
      ],
    });
    assert.ok(added.status < 300, JSON.stringify(added.body));
  });
  after(() => server?.stop());

  const participantIds = async () => ((await rotation()).participants as Json[]).map((p) => p.id);

  it('lets the key change the rest of the rotation, keeping the participants it has', async () => {
    const renamed = await patch({ name: `renamed-${run}`, length: 2 }, key);
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    const got = await rotation();
    assert.equal(got.name, `renamed-${run}`);
    assert.equal(got.length, 2);
    assert.deepEqual(await participantIds(), [ownTeam.id, otherTeam.id]);
  });

  it('lets the key send the participants back as the rotation shows them (by id or name), reordered or fewer', async () => {
    const shown = (await rotation()).participants as Json[];
    const again = await patch({ participants: shown }, key);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const byName = await patch(
      {
        participants: [
          { type: 'team', name: otherTeam.name },
          { type: 'team', name: ownTeam.name },
        ],
      },
      key,
    );
    assert.equal(byName.status, 200, JSON.stringify(byName.body));
    assert.deepEqual(await participantIds(), [otherTeam.id, ownTeam.id]);
    const fewer = await patch({ participants: [{ type: 'team', id: otherTeam.id }] }, key);
    assert.equal(fewer.status, 200, JSON.stringify(fewer.body));
    assert.deepEqual(await participantIds(), [otherTeam.id]);
  });

  it("still refuses what the rotation does not have: another team's escalation, or the team once dropped", async () => {
    const refusal = await server.call('GET', `/v2/escalations/${otherEscalation.id}`, undefined, key);
    assert.equal(refusal.status, 403, JSON.stringify(refusal.body));
    const added = await patch(
      {
        participants: [
          { type: 'team', id: otherTeam.id },
          { type: 'escalation', id: otherEscalation.id },
        ],
      },
      key,
    );
    assert.equal(added.status, 403, JSON.stringify(added.body));
    assert.equal(added.body.message, refusal.body.message);
    // Dropped, the other team is named anew when sent again.
    assert.equal((await patch({ participants: [{ type: 'team', id: ownTeam.id }] }, key)).status, 200);
    const back = await patch({ participants: [{ type: 'team', id: otherTeam.id }] }, key);
    assert.equal(back.status, 403, JSON.stringify(back.body));
    assert.deepEqual(await participantIds(), [ownTeam.id]);
  });
});
