import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { securityHubIntake, type IntakeIntegration } from '../../testing/securityhub-intake.js';

/**
 * Whose team policies run over a Security Hub finding's alert. The integration is a team's (its assignee
 * team, else its owner team), so its alerts run that team's policies, as an API or Email integration's
 * do: whatever the global policies did to the responders first. Both ways a finding's alert is made are
 * covered: a new finding (made with the others of its delivery) and a finding seen before whose alert
 * closed (made on its own).
 */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:securityhub-team-policies';
const intake = securityHubIntake({ topicArn: TOPIC });
const { addIntegration, post, notification, confirm, importedEvent, alert } = intake;

let server: TestServer;
let integration: IntakeIntegration;
let apiKey: string;
const teams: Record<'secOps' | 'audit' | 'other', string> = { secOps: '', audit: '', other: '' };

async function call(method: string, path: string, body?: unknown, key?: string): Promise<Json> {
  const res = await server.call(method, path, body, key);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function policy(body: Json, teamId?: string): Promise<string> {
  const made = await call('POST', `/v2/policies${teamId ? `?teamId=${teamId}` : ''}`, {
    type: 'alert',
    filter: { type: 'match-all' },
    ...body,
  });
  return made.data.id;
}

/** A finding of its own, as Security Hub sends it, at `time` and with this workflow status. */
function finding(id: string, time: string, status = 'NEW') {
  return importedEvent((f) => {
    f.Id += `-${id}`;
    f.Workflow = { Status: status };
  }).then((event) => notification({ ...event, id: randomUUID(), time }));
}

/** The alert of a new finding (made with its delivery's other new findings). */
async function newFindingAlert(): Promise<Json> {
  const res = await post(integration.path, await finding(randomUUID(), '2021-02-17T15:00:00Z'));
  assert.equal(res.body.verdict, 'created', JSON.stringify(res.body));
  return alert(res.body.alertIds[0]);
}

/** The alert of a finding seen before, set back to NEW after its alert closed (made on its own). */
async function reopenedFindingAlert(): Promise<Json> {
  const id = randomUUID();
  const first = await post(integration.path, await finding(id, '2021-02-17T15:00:00Z'));
  assert.equal(first.body.verdict, 'created', JSON.stringify(first.body));
  const resolved = await post(integration.path, await finding(id, '2021-02-17T15:10:00Z', 'RESOLVED'));
  assert.equal(resolved.body.verdict, 'closed', JSON.stringify(resolved.body));
  const again = await post(integration.path, await finding(id, '2021-02-17T15:20:00Z'));
  assert.equal(again.body.verdict, 'created', JSON.stringify(again.body));
  assert.notEqual(again.body.alertIds[0], first.body.alertIds[0], 'a new alert');
  return alert(again.body.alertIds[0]);
}

/** An alert of SecOps's API integration, for comparison. */
async function apiAlert(): Promise<Json> {
  const alias = `api-${randomUUID()}`;
  await call('POST', '/v2/alerts', { message: 'through the API integration', alias }, apiKey);
  return waitFor('the API alert', async () => {
    const res = await server.call('GET', `/v2/alerts/${alias}?identifierType=alias`);
    return res.status === 200 ? res.body.data : undefined;
  });
}

const teamIdsOf = (a: Json) =>
  (a.responders as { type: string; id: string }[]).filter((r) => r.type === 'team').map((r) => r.id);

before(async () => {
  ({ server } = await intake.start());
  teams.secOps = (await call('GET', '/v2/teams/SecOps?identifierType=name')).data.id;
  teams.audit = (await call('POST', '/v2/teams', { name: 'Audit' })).data.id;
  teams.other = (await call('POST', '/v2/teams', { name: 'Other' })).data.id;
  integration = await addIntegration();
  assert.equal((await confirm(integration)).res.status, 200);
  apiKey = (
    await call('POST', '/v2/integrations', { type: 'API', name: 'SecOps API', ownerTeam: { name: 'SecOps' } })
  ).data.apiKey;
  await policy({ name: 'SecOps tag', tags: ['secops-policy'] }, teams.secOps);
  await policy({ name: 'Other tag', tags: ['other-policy'] }, teams.other);
});

after(() => intake.stop());

describe("a Security Hub integration's alerts run its team's policies", () => {
  it('without global policies', async () => {
    for (const a of [await newFindingAlert(), await reopenedFindingAlert(), await apiAlert()]) {
      assert.ok(a.tags.includes('secops-policy'), JSON.stringify(a.tags));
      assert.deepEqual(teamIdsOf(a), [teams.secOps]);
    }
  });

  it('when a global policy adds another team as a responder', async () => {
    const global = await policy({ name: 'Audit all', responders: [{ type: 'team', id: teams.audit }] });
    try {
      for (const a of [await newFindingAlert(), await reopenedFindingAlert(), await apiAlert()]) {
        assert.deepEqual(new Set(teamIdsOf(a)), new Set([teams.secOps, teams.audit]));
        assert.ok(a.tags.includes('secops-policy'), JSON.stringify(a.tags));
      }
    } finally {
      await call('POST', `/v2/policies/${global}/disable`);
    }
  });

  it("when a global policy replaces the responders with another team: not that team's", async () => {
    const global = await policy({
      name: 'All to Other',
      responders: [{ type: 'team', id: teams.other }],
      ignoreOriginalResponders: true,
    });
    try {
      for (const a of [await newFindingAlert(), await reopenedFindingAlert(), await apiAlert()]) {
        assert.deepEqual(teamIdsOf(a), [teams.other]);
        assert.ok(a.tags.includes('secops-policy'), JSON.stringify(a.tags));
        assert.ok(!a.tags.includes('other-policy'), JSON.stringify(a.tags));
      }
    } finally {
      await call('POST', `/v2/policies/${global}/disable`);
    }
  });
});
