import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { FakeSns } from '../../testing/fake-sns.js';
import { startConnectProxy } from '../../testing/network.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import {
  securityHubIntake,
  type IntakeIntegration as Integration,
  type StartedIntake,
} from '../../testing/securityhub-intake.js';
import { signSnsMessage } from '../../testing/sns-signer.js';

/**
 * The Security Hub intake end to end: the real server, real PostgreSQL, SNS messages signed with a
 * test certificate (trusted through VIGIL_SNS_CERT_DIR), and a local HTTPS server standing in for SNS
 * where SubscribeURLs point.
 */

const here = path.dirname(new URL(import.meta.url).pathname);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:securityhub-findings';
const intake = securityHubIntake({ topicArn: TOPIC });
const {
  readJson,
  integrationByKey,
  addIntegration,
  post,
  signed,
  notification,
  confirm,
  importedEvent,
  alert,
} = intake;

let server: TestServer;
let fakeSns: FakeSns;
let certDir: string;
let signer: StartedIntake['signer'];

before(async () => {
  ({ server, fakeSns, certDir, signer } = await intake.start());
});

after(() => intake.stop());

describe('integrations', () => {
  it('creates a Security Hub integration with its endpoint URL, external ID and defaults', async () => {
    const res = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Prod Security Hub',
      ownerTeam: { name: 'SecOps' },
    });
    assert.equal(res.status, 201);
    const d = res.body.data;
    assert.match(
      d.endpointUrl,
      /^https:\/\/vigil\.example\.com\/v1\/json\/integrations\/webhooks\/amazonsecurityhub\?apiKey=/,
    );
    assert.ok(d.endpointUrl.endsWith(encodeURIComponent(d.apiKey)));
    assert.match(d.externalId, /^[0-9a-f]{32}$/);
    assert.notEqual(d.externalId, d.apiKey);
    assert.equal(d.verifySignatures, true);
    assert.equal(d.enabled, true);
    assert.equal(d.sendUpdatesBack, false);
    assert.deepEqual(d.eventPattern.source, ['aws.securityhub']);

    const got = await server.call('GET', `/v2/integrations/${d.id}`);
    assert.equal(got.body.data.apiKey, undefined, 'the key is shown once');
    assert.equal(got.body.data.ownerTeam.name, 'SecOps');

    const dup = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'prod security hub',
      ownerTeam: { name: 'SecOps' },
    });
    assert.equal(dup.status, 409);
    const badTeam = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'x',
      ownerTeam: { name: 'Nope' },
    });
    assert.equal(badTeam.status, 422);
    assert.ok(badTeam.body.errors.ownerTeam);
    const badTopic = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'y',
      ownerTeam: { name: 'SecOps' },
      allowedTopicArns: ['not-an-arn'],
    });
    assert.equal(badTopic.status, 422);

    const patched = await server.call('PATCH', `/v2/integrations/${d.id}`, {
      minimumSeverity: 'HIGH',
      autoClose: { passed: false },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.data.minimumSeverity, 'HIGH');
    assert.deepEqual(patched.body.data.autoClose, {
      resolved: true,
      suppressed: true,
      archived: true,
      passed: false,
    });
  });

  it('regenerates the key: the old one stops working', async () => {
    const integration = await addIntegration({ verifySignatures: false });
    const event = await importedEvent();
    assert.equal((await post(integration.path, event, { 'content-type': 'application/json' })).status, 200);
    const regenerated = await server.call('POST', `/v2/integrations/${integration.id}/api-key`);
    assert.equal(regenerated.status, 200);
    assert.notEqual(regenerated.body.data.apiKey, integration.apiKey);
    assert.equal((await post(integration.path, event)).status, 401);
    integrationByKey.set(regenerated.body.data.apiKey, integration.id);
    const fresh = new URL(regenerated.body.data.endpointUrl);
    assert.equal((await post(`${fresh.pathname}${fresh.search}`, await importedEvent())).status, 200);
  });
});

describe('SNS subscription', () => {
  it('confirms a subscription by fetching its SubscribeURL, and creates the confirmation alert', async () => {
    const integration = await addIntegration();
    const before = fakeSns.requests.length;
    const { res, token } = await confirm(integration);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.verdict, 'confirmed');
    const request = fakeSns.requests[before];
    assert.ok(request);
    assert.equal(request.host, 'sns.us-east-1.amazonaws.com');
    assert.match(request.url, new RegExp(`Action=ConfirmSubscription.*Token=${token}`));
    const confirmation = await alert(res.body.alertIds[0]);
    assert.equal(confirmation.priority, 'P5');
    assert.match(confirmation.message, /is connected/);
    const got = await server.call('GET', `/v2/integrations/${integration.id}`);
    assert.equal(got.body.data.subscriptions[0].topicArn, TOPIC);
    assert.equal(got.body.data.subscriptions[0].status, 'confirmed');
    assert.match(got.body.data.subscriptions[0].subscriptionArn, /^arn:aws:sns:/);
  });

  it('sends the confirmation through HTTPS_PROXY when one is set', async () => {
    const proxy = await startConnectProxy(fakeSns.port);
    const proxied = await startTestServer({
      env: { VIGIL_SNS_CERT_DIR: certDir },
      outbound: { ca: fakeSns.ca, env: { HTTPS_PROXY: proxy.url } },
    });
    try {
      await proxied.call('POST', '/v2/teams', { name: 'SecOps' });
      const created = await proxied.call('POST', '/v2/integrations', {
        type: 'AmazonSecurityHub',
        name: 'proxied',
        ownerTeam: { name: 'SecOps' },
      });
      const url = new URL(created.body.data.endpointUrl);
      const token = fakeSns.issueToken(TOPIC);
      const message = signed({
        Type: 'SubscriptionConfirmation',
        Token: token,
        Message: 'subscribe',
        SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${token}`,
      });
      const response = await fetch(`${proxied.url}${url.pathname}${url.search}`, {
        method: 'POST',
        body: JSON.stringify(message),
      });
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual(
        proxy.connects.map((c) => c.target),
        ['sns.us-east-1.amazonaws.com:443'],
      );
    } finally {
      await proxied.stop();
      await proxy.close();
    }
  });

  it('never fetches a SubscribeURL on another host, and answers 5xx when confirming fails', async () => {
    const integration = await addIntegration();
    const before = fakeSns.requests.length;
    const evil = signed({
      Type: 'SubscriptionConfirmation',
      Token: 't',
      Message: 'subscribe',
      SubscribeURL: 'https://169.254.169.254/latest/meta-data/?Action=ConfirmSubscription',
    });
    const res = await post(integration.path, evil);
    assert.equal(res.status, 403);
    assert.match(res.body.reason, /SubscribeURL/);
    assert.equal(fakeSns.requests.length, before);

    const original = fakeSns.respond;
    fakeSns.respond = (_req, response) =>
      response.writeHead(403).end('<Error><Code>AuthorizationError</Code></Error>');
    try {
      const failed = await confirm(integration);
      assert.equal(failed.res.status, 502);
      assert.equal(failed.res.body.verdict, 'failed');
    } finally {
      fakeSns.respond = original;
    }
    const redirect = fakeSns.respond;
    fakeSns.respond = (_req, response) =>
      response.writeHead(302, { location: 'https://evil.example.com/' }).end();
    try {
      const redirected = await confirm(integration);
      assert.equal(redirected.res.status, 502);
      assert.match(redirected.res.body.reason, /redirect/i);
    } finally {
      fakeSns.respond = redirect;
    }
  });

  it('answers 502 when SNS refuses the token, and makes no "connected" alert', async () => {
    const integration = await addIntegration();
    const token = 'f'.repeat(64);
    const message = signed({
      Type: 'SubscriptionConfirmation',
      Token: token,
      Message: 'subscribe',
      SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${token}`,
    });
    const res = await post(integration.path, message);
    assert.equal(res.status, 502);
    assert.equal(res.body.verdict, 'failed');
    assert.match(res.body.reason, /400/);
    const got = await server.call('GET', `/v2/integrations/${integration.id}`);
    assert.deepEqual(got.body.data.subscriptions, []);
  });

  it('records an UnsubscribeConfirmation and warns the owner team', async () => {
    const integration = await addIntegration();
    await confirm(integration);
    const message = signed({
      Type: 'UnsubscribeConfirmation',
      Token: 'tok',
      Message: 'You have chosen to deactivate subscription',
      SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=tok`,
    });
    const res = await post(integration.path, message);
    assert.equal(res.status, 200);
    assert.equal(res.body.verdict, 'unsubscribed');
    const warning = await alert(res.body.alertIds[0]);
    assert.equal(warning.priority, 'P3');
    const got = await server.call('GET', `/v2/integrations/${integration.id}`);
    assert.equal(got.body.data.subscriptions[0].status, 'unsubscribed');
    // Notifications from that topic are refused from now on.
    assert.equal((await post(integration.path, notification(await importedEvent()))).status, 403);
  });
});

describe('findings to alerts', () => {
  let integration: Integration;
  before(async () => {
    integration = await addIntegration();
    assert.equal((await confirm(integration)).res.status, 200);
  });

  it('makes an alert from an imported finding, field by field, for the owner team', async () => {
    const event = await importedEvent();
    const finding = event.detail.findings[0];
    const res = await post(integration.path, notification(event));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.verdict, 'created');
    const a = await alert(res.body.alertIds[0]);
    assert.match(a.message, /EC2\.7 EBS default encryption should be enabled/);
    assert.ok(a.message.length <= 130);
    assert.equal(a.priority, 'P5');
    assert.equal(a.details.FindingId, finding.Id);
    assert.equal(a.details.ProductArn, finding.ProductArn);
    assert.equal(a.details.AwsAccountId, '111111111111');
    assert.equal(a.details.SeverityLabel, 'INFORMATIONAL');
    assert.equal(a.details.WorkflowStatus, 'NEW');
    assert.equal(a.details.ComplianceStatus, 'FAILED');
    assert.equal(a.integration.type, 'AmazonSecurityHub');
    assert.ok(a.tags.includes('severity:INFORMATIONAL'));
    const teams = await server.call('GET', '/v2/teams/SecOps?identifierType=name');
    assert.deepEqual(a.responders, [{ type: 'team', id: teams.body.data.id }]);
    const logs = await server.call('GET', `/v2/alerts/${a.id}/logs`);
    // The engine adds its own lines (routing, pages) alongside: look for the creation, not at one place.
    const lines = (logs.body.data as { log: string }[]).map((l) => l.log);
    assert.ok(
      lines.some((l) => /created via integration/.test(l)),
      lines.join('\n'),
    );
  });

  it('updates the alert of an updated finding, and counts a resent message once', async () => {
    const first = await post(integration.path, notification(await importedEvent((f) => (f.Id += '-update'))));
    const alertId = first.body.alertIds[0];
    const update = notification(
      await importedEvent((f) => {
        f.Id += '-update';
        f.Severity = { Label: 'HIGH', Normalized: 70 };
        f.FindingProviderFields = { Severity: { Label: 'HIGH' } };
        f.UpdatedAt = '2021-02-18T00:00:00.000Z';
      }),
    );
    const second = await post(integration.path, update);
    assert.equal(second.body.verdict, 'updated');
    assert.deepEqual(second.body.alertIds, [alertId]);
    const retry = await post(integration.path, update);
    assert.equal(retry.status, 200);
    assert.equal(retry.body.verdict, 'duplicate');
    const a = await alert(alertId);
    assert.equal(a.count, 2);
    assert.equal(a.details.SeverityLabel, 'HIGH');
    const logs = await server.call('GET', `/v2/alerts/${alertId}/logs`);
    assert.ok(
      logs.body.data.some((l: Json) => /SeverityLabel/.test(l.log)),
      'the log says what changed',
    );
  });

  it('drops an earlier event of the same UpdatedAt that comes after a later one (a retried delivery)', async () => {
    // One UpdatedAt throughout: Security Hub's own changes (a close in its console) leave it as it was.
    const at = (time: string, status: string) =>
      importedEvent((f) => {
        f.Id += '-same-updated-at';
        f.Workflow = { Status: status };
      }).then((event) => ({ ...event, id: randomUUID(), time }));
    const first = await post(integration.path, notification(await at('2021-02-17T15:00:00Z', 'NEW')));
    assert.equal(first.body.verdict, 'created', JSON.stringify(first.body));
    // Resolved (at 15:10), delivered before an event of 15:05 held back by a retry.
    const resolved = await post(integration.path, notification(await at('2021-02-17T15:10:00Z', 'RESOLVED')));
    assert.equal(resolved.body.verdict, 'closed', JSON.stringify(resolved.body));
    const late = await post(integration.path, notification(await at('2021-02-17T15:05:00Z', 'NEW')));
    assert.equal(late.body.verdict, 'ignored', JSON.stringify(late.body));
    assert.match(late.body.reason, /earlier event of the finding/);
    // A later event of the same UpdatedAt is taken: the finding set back to NEW opens a new alert.
    const reopened = await post(integration.path, notification(await at('2021-02-17T15:20:00Z', 'NEW')));
    assert.equal(reopened.body.verdict, 'created', JSON.stringify(reopened.body));
  });

  it('changes the priority when the provider changes its severity', async () => {
    const id = '-provider';
    await post(
      integration.path,
      notification(
        await importedEvent((f) => {
          f.Id += id;
          f.FindingProviderFields = { Severity: { Label: 'LOW' } };
        }),
      ),
    );
    const res = await post(
      integration.path,
      notification(
        await importedEvent((f) => {
          f.Id += id;
          f.Severity = { Label: 'CRITICAL' };
          f.FindingProviderFields = { Severity: { Label: 'CRITICAL' } };
        }),
      ),
    );
    assert.equal((await alert(res.body.alertIds[0])).priority, 'P1');
  });

  it('closes the alert when the finding is resolved, archived or passes, with a note saying why', async () => {
    for (const [suffix, change, why] of [
      ['-resolved', (f: Json) => (f.Workflow = { Status: 'RESOLVED' }), /RESOLVED/],
      ['-suppressed', (f: Json) => (f.Workflow = { Status: 'SUPPRESSED' }), /SUPPRESSED/],
      ['-archived', (f: Json) => (f.RecordState = 'ARCHIVED'), /ARCHIVED/],
      ['-passed', (f: Json) => (f.Compliance = { Status: 'PASSED' }), /PASSED/],
    ] as const) {
      const created = await post(
        integration.path,
        notification(await importedEvent((f) => (f.Id += suffix))),
      );
      assert.equal(created.body.verdict, 'created');
      const closed = await post(
        integration.path,
        notification(
          await importedEvent((f) => {
            f.Id += suffix;
            change(f);
          }),
        ),
      );
      assert.equal(closed.body.verdict, 'closed', suffix);
      const a = await alert(created.body.alertIds[0]);
      assert.equal(a.status, 'closed');
      const notes = await server.call('GET', `/v2/alerts/${a.id}/notes`);
      assert.match(notes.body.data[0].note, why);
      // A finding that stays resolved does not open a new alert.
      const again = await post(
        integration.path,
        notification(
          await importedEvent((f) => {
            f.Id += suffix;
            change(f);
          }),
        ),
      );
      assert.equal(again.body.verdict, 'ignored');
    }
  });

  it('does not open alerts for findings already handled, unless asked to', async () => {
    const res = await post(
      integration.path,
      notification(
        await importedEvent((f) => {
          f.Id += '-notified';
          f.Workflow = { Status: 'NOTIFIED' };
        }),
      ),
    );
    assert.equal(res.body.verdict, 'ignored');
    assert.match(res.body.reason, /NOTIFIED/);

    // The new Security Hub's (OCSF) "In Progress" is its NOTIFIED: someone is on it.
    const inProgress = await post(
      integration.path,
      notification({
        version: '0',
        id: 'ocsf-in-progress-event',
        'detail-type': 'Findings Imported V2',
        source: 'aws.securityhub',
        account: '123456789012',
        time: '2026-11-27T10:00:00Z',
        region: 'us-east-1',
        resources: [],
        detail: {
          findings: [
            {
              class_uid: 2003,
              severity_id: 4,
              status_id: 2,
              status: 'In Progress',
              finding_info: { uid: 'ocsf-in-progress-finding', title: 'Being looked at already' },
              metadata: { product: { uid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub' } },
              cloud: { account: { uid: '123456789012' }, region: 'us-east-1' },
            },
          ],
        },
      }),
    );
    assert.equal(inProgress.body.verdict, 'ignored', JSON.stringify(inProgress.body));
    assert.match(inProgress.body.reason, /IN_PROGRESS/);
  });

  it('makes one alert per finding of a custom action, with the action in details and tags', async () => {
    const event = await readJson('events/source_layer_test_test_json_data_custom-action-mismatch.json');
    const res = await post(integration.path, notification(event));
    assert.equal(res.status, 200);
    assert.equal(res.body.alertIds.length, event.detail.findings.length);
    const a = await alert(res.body.alertIds[0]);
    assert.equal(a.details.ActionName, event.detail.actionName);
    assert.ok(a.tags.some((t: string) => t.startsWith('action:')));
    assert.equal(a.priority, 'P2');
  });

  it('opens or bumps an alert for a finding sent with the custom action, whatever its state, and never closes it', async () => {
    // The real CIS 1.6 event: a person sent a finding that is RESOLVED and PASSED.
    const sentWithAction = async (suffix: string) => {
      const event = await readJson('events/source_layer_test_test_json_data_CIS_1-6.json');
      event.detail.findings[0].Id += suffix;
      return notification(event);
    };
    const first = await post(integration.path, await sentWithAction('-asked'));
    assert.equal(first.body.verdict, 'created', JSON.stringify(first.body));
    const alertId = first.body.alertIds[0];
    const again = await post(integration.path, await sentWithAction('-asked'));
    assert.equal(again.body.verdict, 'updated', JSON.stringify(again.body));
    assert.deepEqual(again.body.alertIds, [alertId]);
    let a = await alert(alertId);
    assert.equal(a.status, 'open', 'a RESOLVED finding sent with the custom action does not close its alert');
    assert.equal(a.count, 2);

    // An Imported update still RESOLVED is no change: the alert the person asked for stays open...
    const imported = await readJson('events/source_layer_test_test_json_data_CIS_1-6.json');
    imported['detail-type'] = 'Security Hub Findings - Imported';
    imported.resources = [];
    delete imported.detail.actionName;
    delete imported.detail.actionDescription;
    imported.detail.findings[0].Id += '-asked';
    const still = await post(integration.path, notification(imported));
    assert.equal(still.body.verdict, 'updated', JSON.stringify(still.body));
    assert.equal((await alert(alertId)).status, 'open');
    // ...and Imported events keep closing it when the finding becomes RESOLVED (reopened, then resolved).
    imported.detail.findings[0].Workflow = { Status: 'NEW' };
    assert.equal((await post(integration.path, notification(imported))).body.verdict, 'updated');
    imported.detail.findings[0].Workflow = { Status: 'RESOLVED' };
    const closed = await post(integration.path, notification(imported));
    assert.equal(closed.body.verdict, 'closed', JSON.stringify(closed.body));
    a = await alert(alertId);
    assert.equal(a.status, 'closed');

    // Known, still RESOLVED and PASSED, no open alert: sent again, it opens a new one.
    const reopened = await post(integration.path, await sentWithAction('-asked'));
    assert.equal(reopened.body.verdict, 'created', JSON.stringify(reopened.body));
    assert.notEqual(reopened.body.alertIds[0], alertId);

    // Known and PASSED (NEW in Workflow), its alert closed as it passed: the custom action opens one.
    const failed = await post(
      integration.path,
      notification(await importedEvent((f) => (f.Id += '-asked-passed'))),
    );
    assert.equal(failed.body.verdict, 'created');
    const passing = await post(
      integration.path,
      notification(
        await importedEvent((f) => {
          f.Id += '-asked-passed';
          f.Compliance = { Status: 'PASSED' };
        }),
      ),
    );
    assert.equal(passing.body.verdict, 'closed', JSON.stringify(passing.body));
    const action = await readJson('events/source_layer_test_test_json_data_CIS_1-6.json');
    action.detail.findings = (
      await importedEvent((f) => {
        f.Id += '-asked-passed';
        f.Compliance = { Status: 'PASSED' };
      })
    ).detail.findings;
    const asked = await post(integration.path, notification(action));
    assert.equal(asked.body.verdict, 'created', JSON.stringify(asked.body));
  });

  it('makes one alert per insight results invocation', async () => {
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Security Hub Insight Results',
      source: 'aws.securityhub',
      account: '123456789012',
      time: '2026-11-27T10:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:securityhub:us-east-1:123456789012:action/custom/insight'],
      detail: {
        actionName: 'SendToVigil',
        actionDescription: 'Page the team',
        insightArn: 'arn:aws:securityhub:us-east-1:123456789012:insight/123456789012/custom/abc',
        insightName: 'Hosts with critical findings',
        resultType: 'ResourceId',
        'number of results': '2',
        insightResults: [{ 'i-0123456789abcdef0': 7 }, { 'i-0fedcba9876543210': 3 }],
      },
    };
    const res = await post(integration.path, notification(event));
    assert.equal(res.body.verdict, 'created');
    assert.equal(res.body.alertIds.length, 1);
    const a = await alert(res.body.alertIds[0]);
    assert.match(a.message, /Hosts with critical findings/);
  });

  it('makes one alert with count 50 from 50 copies of one finding at once, and counts SNS retries once', async () => {
    const event = await importedEvent((f) => (f.Id += '-storm'));
    const copies = Array.from({ length: 50 }, () => notification(event));
    const answers = await Promise.all(copies.map((m) => post(integration.path, m)));
    assert.ok(
      answers.every((a) => a.status === 200),
      JSON.stringify(answers.filter((a) => a.status !== 200).slice(0, 2)),
    );
    const ids = new Set(answers.map((a) => a.body.alertIds[0]));
    assert.equal(ids.size, 1);
    const [alertId] = [...ids];
    assert.equal((await alert(alertId)).count, 50);

    const retried = notification(await importedEvent((f) => (f.Id += '-retried')));
    const retries = await Promise.all(Array.from({ length: 10 }, () => post(integration.path, retried)));
    assert.ok(retries.every((r) => r.status === 200));
    assert.equal(retries.filter((r) => r.body.verdict === 'created').length, 1);
    assert.equal((await alert(retries.find((r) => r.body.verdict === 'created')?.body.alertIds[0])).count, 1);
  });
});

describe('minimum severity', () => {
  let integration: Integration;
  before(async () => {
    integration = await addIntegration({ minimumSeverity: 'MEDIUM' });
    assert.equal((await confirm(integration)).res.status, 200);
  });

  const at = (suffix: string, label: string, change: (f: Json) => void = () => {}) =>
    importedEvent((f) => {
      f.Id += suffix;
      f.Severity = { Label: label };
      f.FindingProviderFields = { Severity: { Label: label } };
      change(f);
    });

  it('closes the alert of a known finding that falls below the minimum as it is resolved or archived', async () => {
    for (const [suffix, change] of [
      ['-min-resolved', (f: Json) => (f.Workflow = { Status: 'RESOLVED' })],
      ['-min-archived', (f: Json) => (f.RecordState = 'ARCHIVED')],
    ] as const) {
      const created = await post(integration.path, notification(await at(suffix, 'HIGH')));
      assert.equal(created.body.verdict, 'created', JSON.stringify(created.body));
      const closed = await post(integration.path, notification(await at(suffix, 'LOW', change)));
      assert.equal(closed.body.verdict, 'closed', `${suffix}: ${JSON.stringify(closed.body)}`);
      assert.equal((await alert(created.body.alertIds[0])).status, 'closed');
    }
  });

  it('updates the alert of a known finding below the minimum, and opens none for one', async () => {
    const created = await post(integration.path, notification(await at('-min-lowered', 'HIGH')));
    const lowered = await post(integration.path, notification(await at('-min-lowered', 'LOW')));
    assert.equal(lowered.body.verdict, 'updated', JSON.stringify(lowered.body));
    assert.equal((await alert(created.body.alertIds[0])).priority, 'P4');

    const unknown = await post(integration.path, notification(await at('-min-unknown', 'LOW')));
    assert.equal(unknown.body.verdict, 'ignored');
    assert.match(unknown.body.reason, /below the minimum MEDIUM/);
    // Known, its alert closed, back below the minimum: still no alert.
    const opened = await post(integration.path, notification(await at('-min-reopened', 'HIGH')));
    assert.equal(opened.body.verdict, 'created', JSON.stringify(opened.body));
    const resolved = await post(
      integration.path,
      notification(await at('-min-reopened', 'HIGH', (f) => (f.Workflow = { Status: 'RESOLVED' }))),
    );
    assert.equal(resolved.body.verdict, 'closed', JSON.stringify(resolved.body));
    const low = await post(integration.path, notification(await at('-min-reopened', 'LOW')));
    assert.equal(low.body.verdict, 'ignored', JSON.stringify(low.body));
    assert.match(low.body.reason, /below the minimum MEDIUM/);
  });
});

describe('OCSF findings (Findings Imported V2)', () => {
  let integration: Integration;
  before(async () => {
    integration = await addIntegration();
    assert.equal((await confirm(integration)).res.status, 200);
  });

  const v2 = (uid: string, severityId: number, modified: number): Json => ({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Findings Imported V2',
    source: 'aws.securityhub',
    account: '123456789012',
    time: new Date(modified).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      findings: [
        {
          class_uid: 2003,
          severity_id: severityId,
          status_id: 1,
          time: modified,
          finding_info: {
            uid,
            title: 'S3 general purpose buckets should block public read access',
            modified_time: modified,
          },
          metadata: {
            product: {
              uid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
              name: 'Security Hub',
            },
          },
          cloud: { account: { uid: '123456789012' }, region: 'us-east-1' },
        },
      ],
    },
  });

  it('follows a change of severity_id with the alert priority', async () => {
    const uid = `arn:aws:securityhub:us-east-1:123456789012:security-control/S3.2/finding/${randomUUID()}`;
    const created = await post(integration.path, notification(v2(uid, 3, 1_736_935_200_000)));
    assert.equal(created.body.verdict, 'created', JSON.stringify(created.body));
    assert.equal((await alert(created.body.alertIds[0])).priority, 'P3');
    const raised = await post(integration.path, notification(v2(uid, 5, 1_736_935_260_000)));
    assert.equal(raised.body.verdict, 'updated', JSON.stringify(raised.body));
    assert.equal((await alert(created.body.alertIds[0])).priority, 'P1');
  });

  it('drops an earlier event of the same modified_time that comes after a later one', async () => {
    const uid = `arn:aws:securityhub:us-east-1:123456789012:security-control/S3.2/finding/${randomUUID()}`;
    const modified = 1_736_935_200_000;
    /** The finding as of `modified`, in an event EventBridge emitted `minutes` later, `statusId` set. */
    const at = (minutes: number, statusId: number): Json => {
      const event = v2(uid, 3, modified);
      event.time = new Date(modified + minutes * 60_000).toISOString();
      event.detail.findings[0].status_id = statusId;
      return event;
    };
    const created = await post(integration.path, notification(at(0, 1)));
    assert.equal(created.body.verdict, 'created', JSON.stringify(created.body));
    const resolved = await post(integration.path, notification(at(10, 4)));
    assert.equal(resolved.body.verdict, 'closed', JSON.stringify(resolved.body));
    const late = await post(integration.path, notification(at(5, 1)));
    assert.equal(late.body.verdict, 'ignored', JSON.stringify(late.body));
    assert.match(late.body.reason, /earlier event of the finding/);
  });
});

describe('body size', () => {
  let integration: Integration;
  before(async () => {
    integration = await addIntegration();
    assert.equal((await confirm(integration)).res.status, 200);
  });

  it('takes an SNS body over 256 KiB whose Message is within SNS’s 256 KiB', async () => {
    // Quotes in the event are escaped once in the Message and again in the body SNS posts.
    const event = await importedEvent((f) => {
      f.Id += '-large';
      f.ProductFields = { Padding: 'a"'.repeat(60_000) };
    });
    const message = notification(event);
    const body = JSON.stringify(message);
    assert.ok(Buffer.byteLength(message.Message) < 262_144, `Message ${Buffer.byteLength(message.Message)}`);
    assert.ok(Buffer.byteLength(body) > 290_000, `body ${Buffer.byteLength(body)}`);
    const res = await post(integration.path, body);
    assert.notEqual(res.status, 413);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.verdict, 'created', JSON.stringify(res.body));
  });
});

describe('refusals', () => {
  let integration: Integration;
  before(async () => {
    integration = await addIntegration();
    await confirm(integration);
  });

  it('refuses tampered, unsigned-topic and stale messages with 403 and creates nothing', async () => {
    const tampered = notification(await importedEvent((f) => (f.Id += '-tampered')));
    tampered.Message = tampered.Message.replace('EC2.7', 'EC2.8');
    const res = await post(integration.path, tampered);
    assert.equal(res.status, 403);
    assert.match(res.body.reason, /signature/i);

    const otherTopic = notification(await importedEvent(), {
      TopicArn: 'arn:aws:sns:us-east-1:999999999999:someone-else',
    });
    const other = await post(
      integration.path,
      signSnsMessage(otherTopic, signer.keyPem, signer.certUrl, '2'),
    );
    assert.equal(other.status, 403);
    assert.match(other.body.reason, /no confirmed subscription/);

    const stale = notification(await importedEvent(), {
      Timestamp: new Date(Date.now() - 5 * 3600_000).toISOString(),
    });
    const old = await post(integration.path, signSnsMessage(stale, signer.keyPem, signer.certUrl, '2'));
    assert.equal(old.status, 403);

    const count = await server.call('GET', '/v2/alerts/count?query=details.FindingId:*-tampered');
    assert.equal(count.body.data.count, 0);
  });

  it('answers bad input with clear 4xx and never 500', async () => {
    assert.equal((await post(integration.path, '{"Type": "Notification", ')).status, 400);
    assert.equal(
      (await post('/v1/json/integrations/webhooks/amazonsecurityhub?apiKey=nope', await importedEvent()))
        .status,
      401,
    );
    assert.equal(
      (await post('/v1/json/integrations/webhooks/amazonsecurityhub', await importedEvent())).status,
      401,
    );
    const big = await post(integration.path, 'x'.repeat(600 * 1024 + 1));
    assert.equal(big.status, 413);
    assert.match(big.body.message, new RegExp(`limit of ${600 * 1024} bytes`));
    const notSns = await post(integration.path, { Type: 'Notification', MessageId: 'x', TopicArn: TOPIC });
    assert.equal(notSns.status, 400);
    // A bare event on a verifying integration, with the key in the URL: refused.
    const bare = await post(integration.path, await importedEvent());
    assert.equal(bare.status, 403);
    assert.match(bare.body.reason, /X-Api-Key/);
    // And refused again when replayed: it still has no signature, and its key was not in the header.
    const replay = await server.call(
      'POST',
      `/v2/integrations/${integration.id}/payloads/${bare.body.payloadId}/replay`,
    );
    assert.equal(replay.status, 403, JSON.stringify(replay.body));
    assert.match(replay.body.reason, /X-Api-Key/);
  });

  it('replays a bare event that came with its key in the header, signatures on', async () => {
    const event = { ...(await importedEvent((f) => (f.Id += '-apidest-replayed'))), id: randomUUID() };
    const res = await post('/v1/json/integrations/webhooks/amazonsecurityhub', event, {
      'x-api-key': integration.apiKey,
    });
    assert.equal(res.body.verdict, 'created', JSON.stringify(res.body));
    const replay = await server.call(
      'POST',
      `/v2/integrations/${integration.id}/payloads/${res.body.payloadId}/replay`,
    );
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.verdict, 'updated', JSON.stringify(replay.body));
  });

  it('names its payload log record in the answer to every delivery it logs, refused or handled at once', async () => {
    const record = async (answer: { body: Json }) => {
      assert.ok(answer.body.payloadId, `a payloadId in ${JSON.stringify(answer.body)}`);
      const res = await server.call(
        'GET',
        `/v2/integrations/${integration.id}/payloads/${answer.body.payloadId}`,
      );
      assert.equal(res.status, 200);
      return res.body.data;
    };
    const tampered = notification(await importedEvent((f) => (f.Id += '-tampered-logged')));
    tampered.Message = tampered.Message.replace('EC2.7', 'EC2.8');
    const refused = await post(integration.path, tampered);
    assert.equal(refused.status, 403);
    assert.equal((await record(refused)).verdict, 'refused');
    assert.match((await record(refused)).reason, /signature/i);

    const broken = await post(integration.path, '{"Type": "Notification", ');
    assert.equal(broken.status, 400);
    assert.equal((await record(broken)).verdict, 'refused');

    const notAnEvent = notification({}, { Message: 'a test message from the SNS console' });
    const ignored = await post(integration.path, notAnEvent);
    assert.equal(ignored.body.verdict, 'ignored', JSON.stringify(ignored.body));
    assert.equal((await record(ignored)).verdict, 'ignored');
    const duplicate = await post(integration.path, notAnEvent);
    assert.equal(duplicate.body.verdict, 'duplicate');
    assert.notEqual(duplicate.body.payloadId, ignored.body.payloadId);
    assert.equal((await record(duplicate)).verdict, 'duplicate');

    // No integration, no payload log: nothing to name.
    const unknown = await post('/v1/json/integrations/webhooks/amazonsecurityhub?apiKey=nope', tampered);
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.payloadId, undefined);
  });

  it('accepts EventBridge API destinations with the key in a header', async () => {
    const event = await importedEvent((f) => (f.Id += '-apidest'));
    const res = await post('/v1/json/integrations/webhooks/amazonsecurityhub', event, {
      'x-api-key': integration.apiKey,
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.verdict, 'created');
    const again = await post('/v1/json/integrations/webhooks/amazonsecurityhub', event, {
      'x-api-key': integration.apiKey,
    });
    assert.equal(again.body.verdict, 'duplicate');
  });

  it('answers 503 when the database cannot store the delivery, so SNS retries', async () => {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    const message = notification(await importedEvent((f) => (f.Id += '-db-down')));
    try {
      await client.query('ALTER TABLE integration_payloads RENAME TO integration_payloads_away');
      const res = await post(integration.path, message);
      assert.equal(res.status, 503);
    } finally {
      await client.query('ALTER TABLE integration_payloads_away RENAME TO integration_payloads');
      await client.end();
    }
    const retried = await post(integration.path, message);
    assert.equal(retried.body.verdict, 'created');
  });
});

describe('the seed sample, raw delivery, off switch and the payload log', () => {
  it("makes the seed's sample a P4 alert titled from its finding when signatures are not checked", async () => {
    const integration = await addIntegration({ verifySignatures: false });
    const inner = await readJson('vendor-sample-event.json');
    const sample = {
      Type: 'Notification',
      MessageId: '96d4c7c2-999e-57ab-aade',
      TopicArn: 'arn:aws:sns:us-west-2:test',
      Message: JSON.stringify(inner),
      Timestamp: '2017-09-11T10:49:42.630Z',
      SignatureVersion: '1',
      Signature: 'sign',
      SigningCertURL: 'https://sns.us-west-2.amazonaws.com/SimpleNotification.pem',
      UnsubscribeURL:
        'https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:',
    };
    const res = await post(integration.path, sample);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.verdict, 'created');
    const a = await alert(res.body.alertIds[0]);
    assert.equal(a.priority, 'P4');
    assert.match(a.message, /title/);
  });

  it('accepts raw message delivery when signatures are off', async () => {
    const integration = await addIntegration({ verifySignatures: false });
    const res = await post(integration.path, await importedEvent((f) => (f.Id += '-raw')), {
      'x-amz-sns-rawdelivery': 'true',
    });
    assert.equal(res.body.verdict, 'created');
  });

  it('answers 2xx while off, logs the delivery as ignored, and an admin can replay it', async () => {
    const integration = await addIntegration({ verifySignatures: false, enabled: false });
    const res = await post(integration.path, await importedEvent((f) => (f.Id += '-off')));
    assert.equal(res.status, 200);
    assert.equal(res.body.verdict, 'ignored');
    const payloads = await server.call('GET', `/v2/integrations/${integration.id}/payloads`);
    assert.equal(payloads.body.data[0].verdict, 'ignored');
    assert.equal(res.body.payloadId, payloads.body.data[0].id);
    assert.match(payloads.body.data[0].reason, /turned off/);

    await server.call('POST', `/v2/integrations/${integration.id}/enable`);
    const replay = await server.call(
      'POST',
      `/v2/integrations/${integration.id}/payloads/${payloads.body.data[0].id}/replay`,
    );
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.verdict, 'created');
    const after = await server.call('GET', `/v2/integrations/${integration.id}/payloads?includeBody=true`);
    assert.equal(after.body.data[0].verdict, 'created');
    assert.equal(replay.body.payloadId, after.body.data[0].id);
    assert.deepEqual(after.body.data[0].alertIds, replay.body.alertIds);
    assert.ok(after.body.data[0].body.includes('-off'));
  });
});

describe('the genuine SNS messages', () => {
  it('verifies a genuine SNS-signed notification and refuses it tampered', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-genuine-'));
    const snsFixtures = path.resolve(here, '../../../test/fixtures/sns');
    const pem = 'SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem';
    await fs.copyFile(path.join(snsFixtures, pem), path.join(dir, pem));
    const genuine = await startTestServer({
      env: { VIGIL_SNS_CERT_DIR: dir, VIGIL_SNS_MAX_MESSAGE_AGE: '0' },
    });
    try {
      await genuine.call('POST', '/v2/teams', { name: 'SecOps' });
      const message = JSON.parse(
        await fs.readFile(path.join(snsFixtures, 'test-notification-with-subject.json'), 'utf8'),
      );
      const created = await genuine.call('POST', '/v2/integrations', {
        type: 'AmazonSecurityHub',
        name: 'genuine',
        ownerTeam: { name: 'SecOps' },
        allowedTopicArns: [message.TopicArn],
      });
      const url = new URL(created.body.data.endpointUrl);
      const send = (body: object) =>
        fetch(`${genuine.url}${url.pathname}${url.search}`, {
          method: 'POST',
          body: JSON.stringify(body),
        }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Json,
        }));
      const ok = await send(message);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.verdict, 'ignored');
      assert.match(ok.body.reason, /not a JSON object, so not an EventBridge event/);
      const tampered = await send({ ...message, MessageId: randomUUID(), Subject: 'changed' });
      assert.equal(tampered.status, 403);
    } finally {
      await genuine.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
