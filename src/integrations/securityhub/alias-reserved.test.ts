import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { securityHubIntake, type IntakeIntegration } from '../../testing/securityhub-intake.js';
import { ROLE } from '../../testing/securityhub-writeback.js';
import { findingAlias } from './finding-sync.js';
import { parseSecurityHubEvent } from './findings.js';

/**
 * The aliases of the Security Hub integration's alerts (a finding's, an insight's, the SNS notices, the
 * write-back warning) are Vigil's, as a heartbeat's are: an alert made first with one would have the
 * finding counted into it (its responders kept, the owner team never paged) and bound to it, so that
 * closing it resolves the finding in Security Hub. The Alert API refuses them, but not the alias findings
 * had before ("securityhub-" and a SHA-1, what forwarders of findings send); a finding that an alert of
 * someone else's took by that alias (made before the new one was reserved) raises its own alert.
 *
 * And a copy of the very event already applied (EventBridge delivers at least once) opens no new alert
 * once the finding's alert was closed in Vigil.
 */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:securityhub-reserved';
const intake = securityHubIntake({ topicArn: TOPIC });
const { addIntegration, post, notification, confirm, importedEvent, alert } = intake;

let server: TestServer;
let db: pg.Client;
let integration: IntakeIntegration;
const run = randomUUID().slice(0, 8);

before(async () => {
  ({ server } = await intake.start());
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  integration = await addIntegration();
  const confirmed = await confirm(integration);
  assert.equal(confirmed.res.body.verdict, 'confirmed', JSON.stringify(confirmed.res.body));
});

after(async () => {
  await db?.end();
  await intake.stop();
});

const aliasOf = (event: Json, of: IntakeIntegration = integration): string => {
  const finding = parseSecurityHubEvent(event).findings[0];
  assert.ok(finding);
  return findingAlias(of.id, finding);
};

/** The alias Vigil gave a finding's alert before it was reserved: "securityhub-" and the same digits. */
const earlierAliasOf = (event: Json, of: IntakeIntegration = integration): string =>
  aliasOf(event, of).replace(/^securityhub:finding:/, 'securityhub-');

/** The imported finding (its own, by `tag`), `minutes` later than the fixture's, its workflow `status`. */
const versionOf = (tag: string, minutes: number, status = 'NEW') =>
  importedEvent((f) => {
    f.Id += `-${tag}-${run}`;
    f.UpdatedAt = new Date(Date.parse(f.UpdatedAt as string) + minutes * 60_000).toISOString();
    f.Workflow = { Status: status };
  });

async function alertsWithAlias(alias: string): Promise<Json[]> {
  const { rows } = await db.query(
    `SELECT id, status, count, responders, integration_id FROM alerts WHERE alias = $1 ORDER BY created_at`,
    [alias],
  );
  return rows as Json[];
}

async function closeAlert(id: string): Promise<void> {
  const closing = await server.call('POST', `/v2/alerts/${id}/close`, {});
  assert.equal(closing.status, 202, JSON.stringify(closing.body));
  await waitFor('the alert to close', async () => ((await alert(id)).status === 'closed' ? true : undefined));
}

describe('the aliases of Security Hub alerts', () => {
  it('are refused to the Alert API; the integration still makes its own', async () => {
    // The subscription notice was made under its reserved alias.
    const notice = `securityhub-subscription-${integration.id}-${TOPIC}`;
    assert.equal((await alertsWithAlias(notice)).length, 1);
    const finding = aliasOf(await importedEvent((f) => (f.Id += `-refused-${run}`)));
    assert.match(finding, /^securityhub:finding:[0-9a-f]{40}$/);
    for (const alias of [
      finding,
      ` ${finding} `,
      notice,
      `securityhub-unsubscribed-${integration.id}-${TOPIC}`,
      `securityhub-writeback-failing-${integration.id}`,
      `securityhub-insight-${randomUUID()}`,
    ]) {
      const answer = await server.call('POST', '/v2/alerts', { message: 'mine', alias, priority: 'P5' });
      assert.equal(answer.status, 422, `${alias}: ${JSON.stringify(answer.body)}`);
      assert.match(
        answer.body.message,
        /is reserved for Vigil's Amazon Security Hub alerts: choose another alias/,
      );
      assert.ok(answer.body.errors.alias.includes(alias.trim()), JSON.stringify(answer.body));
    }
    assert.equal((await alertsWithAlias(finding)).length, 0);
    assert.equal((await alertsWithAlias(notice)).length, 1);
  });

  it("stay the senders' own when only alike: a Config rule's name, a SHA-1, a word where Vigil puts an id", async () => {
    const event = await importedEvent((f) => (f.Id += `-alike-${run}`));
    for (const alias of [
      'securityhub-ec2-ebs-encryption-by-default-d60ccae6',
      // A forwarder's SHA-1 of the finding's id, and the alias Vigil gave the finding before.
      `securityhub-${createHash('sha1').update(`finding-${run}`).digest('hex')}`,
      earlierAliasOf(event),
      `securityhub-${'A'.repeat(40)}`,
      // An open alias is one alert per exact spelling: this one never meets the finding's.
      aliasOf(event)
        .toUpperCase()
        .replace(/^SECURITYHUB:FINDING:/, 'securityhub:finding:'),
      `securityhub:finding:${'a'.repeat(39)}`,
      `securityhub-${'a'.repeat(39)}`,
      `securityhub-${'a'.repeat(41)}`,
      'securityhub-insight-daily',
      'securityhub-writeback-failing-prod',
      `securityhub-subscription-prod-${TOPIC}`,
      `SecurityHub-${'a'.repeat(40)}`,
    ]) {
      const answer = await server.call('POST', '/v2/alerts', { message: `${alias} ${run}`, alias });
      assert.equal(answer.status, 202, `${alias}: ${JSON.stringify(answer.body)}`);
    }
    // The finding still opens its own alert, under its own alias.
    const created = await post(integration.path, notification(event));
    assert.equal(created.body.verdict, 'created', JSON.stringify(created.body));
    const [own] = await alertsWithAlias(aliasOf(event));
    assert.equal(own?.id, created.body.alertIds[0]);
    assert.equal(own?.integration_id, integration.id);
  });
});

/**
 * As before the upgrade: a writing-back integration's finding (`tag`, its first version known), and a
 * user's alert under the finding's earlier alias that the finding was counted into and bound to.
 */
async function findingBoundToTheirAlert(tag: string) {
  const hub = await addIntegration({ sendUpdatesBack: true, roleArn: ROLE, region: 'us-east-1' });
  assert.equal((await confirm(hub)).res.body.verdict, 'confirmed');
  const first = await versionOf(tag, 0, 'NOTIFIED');
  const known = await post(hub.path, notification(first));
  assert.equal(known.body.verdict, 'ignored', JSON.stringify(known.body));
  const earlier = earlierAliasOf(first, hub);
  const made = await server.call('POST', '/v2/alerts', { message: 'not the finding', alias: earlier });
  assert.equal(made.status, 202, JSON.stringify(made.body));
  await server.idle();
  const [taken] = await alertsWithAlias(earlier);
  assert.ok(taken);
  assert.notEqual(taken.integration_id, hub.id);
  const findingId = parseSecurityHubEvent(first).findings[0]?.key.id;
  const bound = await db.query(
    `UPDATE securityhub_findings SET alert_id = $1 WHERE integration_id = $2 AND finding_id = $3`,
    [taken.id, hub.id, findingId],
  );
  assert.equal(bound.rowCount, 1);
  return { hub, first, earlier, taken, findingId };
}

/** The write-back changes recorded for the finding. */
async function writesFor(integrationId: string, findingId: string | undefined): Promise<Json[]> {
  const { rows } = await db.query(
    `SELECT field, value FROM securityhub_writebacks WHERE integration_id = $1 AND finding_id = $2`,
    [integrationId, findingId],
  );
  return rows as Json[];
}

describe("a finding bound to someone else's alert that took it by its earlier alias", () => {
  it('raises its own alert at its next event; nothing more is counted on that one, whose close writes nothing back', async () => {
    // Writes back: closing the alert the finding is bound to would send RESOLVED.
    const { hub, first, earlier, taken, findingId } = await findingBoundToTheirAlert('taken');

    const newer = await post(hub.path, notification(await versionOf('taken', 1)));
    assert.equal(newer.body.verdict, 'created', JSON.stringify(newer.body));
    const ownId = newer.body.alertIds[0] as string;
    assert.notEqual(ownId, taken.id);
    const own = await alert(ownId);
    assert.equal(own.alias, aliasOf(first, hub));
    assert.equal(own.integration.id, hub.id);
    const team = await server.call('GET', '/v2/teams/SecOps?identifierType=name');
    assert.deepEqual(own.responders, [{ type: 'team', id: team.body.data.id }], 'the owner team is paged');
    assert.equal((await alertsWithAlias(earlier))[0]?.count, 1, 'nothing is counted on the other alert');
    const { rows: bindings } = await db.query(
      `SELECT alert_id FROM securityhub_findings WHERE integration_id = $1 AND finding_id = $2`,
      [hub.id, findingId],
    );
    assert.deepEqual(bindings, [{ alert_id: ownId }]);

    await closeAlert(taken.id);
    await server.idle();
    assert.deepEqual(
      await writesFor(hub.id, findingId),
      [],
      'closing the other alert writes nothing back to the finding',
    );
  });

  it('is not resolved in Security Hub when that alert is closed before the finding comes again', async () => {
    const { hub, taken, findingId } = await findingBoundToTheirAlert('closed-first');
    await closeAlert(taken.id);
    await server.idle();
    assert.deepEqual(
      await writesFor(hub.id, findingId),
      [],
      'closing the other alert, still bound, writes nothing back to the finding',
    );
  });

  it('is still counted on its own alert made before the upgrade, under that alias', async () => {
    const first = await versionOf('upgraded', 0);
    const created = await post(integration.path, notification(first));
    assert.equal(created.body.verdict, 'created', JSON.stringify(created.body));
    const alertId = created.body.alertIds[0] as string;
    await db.query(`UPDATE alerts SET alias = $1 WHERE id = $2`, [earlierAliasOf(first), alertId]);
    const updated = await post(integration.path, notification(await versionOf('upgraded', 1)));
    assert.equal(updated.body.verdict, 'updated', JSON.stringify(updated.body));
    assert.deepEqual(updated.body.alertIds, [alertId]);
    assert.equal((await alertsWithAlias(earlierAliasOf(first)))[0]?.count, 2);
  });
});

describe('the same event of a finding again, after its alert was closed in Vigil', () => {
  it('opens no new alert; a newer version of the finding still does', async () => {
    const event = await importedEvent((f) => (f.Id += `-copy-${run}`));
    const alias = aliasOf(event);
    const first = await post(integration.path, notification(event));
    assert.equal(first.body.verdict, 'created', JSON.stringify(first.body));
    const alertId = first.body.alertIds[0] as string;
    // While open, a copy counts (as SNS retries under a new MessageId do).
    const counted = await post(integration.path, notification(event));
    assert.equal(counted.body.verdict, 'updated', JSON.stringify(counted.body));
    await closeAlert(alertId);

    const copy = await post(integration.path, notification(event));
    assert.equal(copy.body.verdict, 'ignored', JSON.stringify(copy.body));
    assert.match(copy.body.reason, /the same event of the finding as the one already applied/);
    await server.idle();
    const after = await alertsWithAlias(alias);
    assert.equal(after.length, 1, JSON.stringify(after));
    assert.equal(after[0]?.status, 'closed');
    assert.equal(after[0]?.count, 2);

    const newer = await importedEvent((f) => {
      f.Id += `-copy-${run}`;
      f.UpdatedAt = new Date(Date.parse(f.UpdatedAt as string) + 60_000).toISOString();
    });
    const reopened = await post(integration.path, notification(newer));
    assert.equal(reopened.body.verdict, 'created', JSON.stringify(reopened.body));
    assert.notEqual(reopened.body.alertIds[0], alertId);
    assert.equal((await alertsWithAlias(alias)).length, 2);
  });
});
