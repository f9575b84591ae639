import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { startTestServer, type TestServer } from '../../../testing/harness.js';

let server: TestServer;
let integration: { id: string; externalId: string; apiKey: string };

before(async () => {
  server = await startTestServer({
    env: {
      VIGIL_PUBLIC_URL: 'https://vigil.example.com',
      VIGIL_AWS_PRINCIPAL_ARN: 'arn:aws:iam::210987654321:role/vigil-server',
    },
  });
  await server.callOk('POST', '/v2/teams', { name: 'SecOps' });
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: 'Prod Hub',
    ownerTeam: { name: 'SecOps' },
    minimumSeverity: 'HIGH',
  });
  integration = { id: made.data.id, externalId: '', apiKey: made.data.apiKey };
  integration.externalId = (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data.externalId;
});
after(() => server.stop());

describe('GET /v2/integrations/{id}/cloudformation/{kind}', () => {
  it('serves the intake template as a JSON download, filled in for the integration', async () => {
    const response = await fetch(`${server.url}/v2/integrations/${integration.id}/cloudformation/intake`, {
      headers: { authorization: `GenieKey ${server.key}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(
      response.headers.get('content-disposition') ?? '',
      /attachment; filename="vigil-intake-[0-9a-f]{8}\.json"/,
    );
    const template = (await response.json()) as {
      Parameters: Record<string, { Description: string }>;
      Resources: Record<string, { Type: string }>;
    };
    assert.match(
      template.Parameters.SNSSubEndpoint?.Description ?? '',
      /https:\/\/vigil\.example\.com\/v1\/json\/integrations\/webhooks\/amazonsecurityhub\?apiKey=/,
    );
    assert.equal(
      template.Resources.CustomAction?.Type,
      'AWS::SecurityHub::ActionTarget',
      'custom-action by default, as the seed',
    );
  });

  it('takes events=imported, with a rule that does not filter on severity or state, and YAML', async () => {
    const response = await fetch(
      `${server.url}/v2/integrations/${integration.id}/cloudformation/api-destination?format=yaml&events=imported`,
      { headers: { authorization: `GenieKey ${server.key}` } },
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/yaml/);
    const template = parseYaml(await response.text()) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    assert.equal(template.Resources.CustomAction, undefined);
    const rule = JSON.stringify(template.Resources.FindingsRule?.Properties.EventPattern);
    assert.match(rule, /"detail-type":\["Security Hub Findings - Imported","Findings Imported V2"\]/);
    assert.doesNotMatch(rule, /Label|Workflow|RecordState/, 'the intake applies HIGH to new findings itself');
    assert.equal(
      template.Resources.VigilApiDestination?.Properties.InvocationEndpoint,
      'https://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub',
    );
  });

  it('fills the role template with the external ID and Vigil’s configured principal', async () => {
    const res = await server.call('GET', `/v2/integrations/${integration.id}/cloudformation/role`);
    assert.equal(res.status, 200);
    assert.equal(res.body.Parameters.ExternalId.Default, integration.externalId);
    assert.equal(
      res.body.Parameters.VigilPrincipalArn.Default,
      'arn:aws:iam::210987654321:role/vigil-server',
    );
  });

  it('refuses what is not a template of a Security Hub integration', async () => {
    assert.equal(
      (await server.call('GET', `/v2/integrations/${integration.id}/cloudformation/lambda`)).status,
      422,
    );
    const missing = await server.call(
      'GET',
      '/v2/integrations/00000000-0000-4000-8000-000000000000/cloudformation/role',
    );
    assert.equal(missing.status, 404);
    const api = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: 'Grafana',
      ownerTeam: { name: 'SecOps' },
    });
    const refused = await server.call('GET', `/v2/integrations/${api.data.id}/cloudformation/intake`);
    assert.equal(refused.status, 422);
    assert.match(JSON.stringify(refused.body), /only AmazonSecurityHub integrations have an AWS side/);
  });
});

describe('GET /v2/integrations/{id}/aws-setup', () => {
  it('gives what vigil aws setup needs and never the key, only its fingerprint', async () => {
    const res = await server.callOk('GET', `/v2/integrations/${integration.id}/aws-setup`);
    assert.deepEqual(res.data, {
      integration: { id: integration.id, name: 'Prod Hub', enabled: true },
      intakeUrl: 'https://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub',
      keyFingerprint: createHash('sha256').update(integration.apiKey).digest('hex').slice(0, 12),
      externalId: integration.externalId,
      rolePrefix: 'VigilSecurityHubRole',
      vigilPrincipalArn: 'arn:aws:iam::210987654321:role/vigil-server',
      vigilPrincipalSource: 'configured',
      minimumSeverity: 'HIGH',
      sendUpdatesBack: false,
      roleArn: null,
      region: null,
    });
    assert.doesNotMatch(JSON.stringify(res.data), new RegExp(integration.apiKey));
  });

  it('gives the new key’s fingerprint once the key is regenerated', async () => {
    const fingerprint = async () =>
      (await server.callOk('GET', `/v2/integrations/${integration.id}/aws-setup`)).data.keyFingerprint;
    const before = await fingerprint();
    const url = new URL(
      (await server.callOk('POST', `/v2/integrations/${integration.id}/api-key`)).data.endpointUrl,
    );
    const key = url.searchParams.get('apiKey') ?? '';
    assert.notEqual(await fingerprint(), before);
    assert.equal(await fingerprint(), createHash('sha256').update(key).digest('hex').slice(0, 12));
  });
});
