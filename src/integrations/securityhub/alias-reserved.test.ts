import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { securityHubIntake, type IntakeIntegration } from '../../testing/securityhub-intake.js';
import { findingAlias } from './finding-sync.js';
import { parseSecurityHubEvent } from './findings.js';

/**
 * The aliases of the Security Hub integration's alerts (a finding's, an insight's, the SNS notices, the
 * write-back warning) are Vigil's, as a heartbeat's are: an alert made first with one would have the
 * finding counted into it (its responders kept, the owner team never paged) and bound to it, so that
 * closing it resolves the finding in Security Hub. The Alert API refuses them; a finding whose alias an
 * alert of someone else's already holds (made before they were reserved) is not bound to it.
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

const aliasOf = (event: Json): string => {
  const finding = parseSecurityHubEvent(event).findings[0];
  assert.ok(finding);
  return findingAlias(integration.id, finding);
};

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
    for (const alias of [
      finding,
      ` ${finding} `,
      `securityhub-${finding.slice('securityhub-'.length).toUpperCase()}`,
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

  it("stay the senders' own when only alike: a Config rule's name, a word where Vigil puts an id", async () => {
    for (const alias of [
      'securityhub-ec2-ebs-encryption-by-default-d60ccae6',
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
  });
});

describe("a finding whose alias someone else's open alert holds", () => {
  it('is not bound to that alert, nor counted on it; once it is closed the finding opens its own', async () => {
    const event = await importedEvent((f) => (f.Id += `-squatted-${run}`));
    const alias = aliasOf(event);
    // As made before the alias was reserved: an alert of the Alert API, given the finding's alias.
    const own = `squatter-${run}`;
    const made = await server.call('POST', '/v2/alerts', { message: 'not the finding', alias: own });
    assert.equal(made.status, 202);
    await server.idle();
    await db.query(`UPDATE alerts SET alias = $1 WHERE alias = $2`, [alias, own]);
    const [squatter] = await alertsWithAlias(alias);
    assert.ok(squatter);

    const refused = await post(integration.path, notification(event));
    assert.equal(refused.status, 200);
    assert.equal(refused.body.verdict, 'failed', JSON.stringify(refused.body));
    assert.match(refused.body.reason, /held by open alert .*which this integration did not make/);
    assert.deepEqual(refused.body.alertIds, []);
    const held = await alertsWithAlias(alias);
    assert.equal(held.length, 1, JSON.stringify(held));
    assert.equal(held[0]?.count, 1, "the finding is not counted on the squatter's alert");
    const { rows: bound } = await db.query(
      `SELECT alert_id FROM securityhub_findings WHERE integration_id = $1 AND alert_id = $2`,
      [integration.id, squatter.id],
    );
    assert.deepEqual(bound, []);

    await closeAlert(squatter.id);
    const created = await post(integration.path, notification(event));
    assert.equal(created.body.verdict, 'created', JSON.stringify(created.body));
    const fresh = await alert(created.body.alertIds[0]);
    assert.equal(fresh.alias, alias);
    assert.equal(fresh.integration.id, integration.id);
    assert.notEqual(created.body.alertIds[0], squatter.id);
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
