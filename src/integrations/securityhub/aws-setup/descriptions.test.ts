import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeAwsAccount, type FakeAwsAccount } from '../../../testing/fake-aws-account/server.js';
import { operatorAccess } from './aws-context.js';
import { awsDescription } from './names.js';
import { runSetup, type SetupRequest } from './setup.js';
import { cloudFormationTemplate, TEMPLATE_KINDS, type Template } from './templates.js';
import { CUSTOMER, OPERATOR } from '../../../testing/fake-aws-account/identities.js';

/**
 * An integration's name is free text, and it goes into the description of what Vigil makes in AWS. AWS
 * takes only some characters there (IAM: tab, line breaks, printable ASCII and Latin-1; Security Hub and
 * EventBridge: no line break), so a name of any other character must still set up.
 */

/** What every description Vigil writes must match: IAM's set, without the line breaks the others refuse. */
const AWS_DESCRIPTION = /^[\u0020-\u007E\u00A1-\u00FF]*$/;

const NAMES = [
  'Prod — Security Hub',
  'Team’s “prod” hub',
  '本番 Security Hub 🚨',
  'Prod\nSecurity Hub\r\n\tsecond line',
  'Ｐｒｏｄ ﬁndings Zürich',
];

const INTAKE = 'https://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub';
const VIGIL_PRINCIPAL = 'arn:aws:iam::210987654321:user/vigil';

/** Every string under a `Description` key, wherever it is in `node`. */
function descriptions(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) descriptions(n, found);
  else if (typeof node === 'object' && node !== null)
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Description' && typeof value === 'string') found.push(value);
      else descriptions(value, found);
    }
  return found;
}

describe('awsDescription', () => {
  it('keeps Latin-1, says typographic characters plainly and the rest as ?', () => {
    assert.equal(awsDescription('Prod — Security Hub', { maxLength: 100 }), 'Prod - Security Hub');
    assert.equal(awsDescription('Team’s “prod” hub…', { maxLength: 100 }), 'Team\'s "prod" hub...');
    assert.equal(awsDescription('Équipe Zürich ½', { maxLength: 100 }), 'Équipe Zürich ½');
    assert.equal(awsDescription('Ｐｒｏｄ ﬁndings Dvořák', { maxLength: 100 }), 'Prod findings Dvorák');
    assert.equal(awsDescription('本番 🚨 hub', { maxLength: 100 }), '?? ? hub');
    assert.equal(awsDescription('👩‍💻 team', { maxLength: 100 }), '?? team');
    assert.equal(awsDescription(' Prod\r\n\tSecurity\u00A0Hub\n', { maxLength: 100 }), 'Prod Security Hub');
  });

  it('cuts to the length AWS allows, from the start or keeping the end, and to bytes where AWS counts them', () => {
    assert.equal(awsDescription('é'.repeat(600), { maxLength: 512 }).length, 512);
    assert.equal(awsDescription(`${'x'.repeat(600)} end`, { maxLength: 10, keep: 'end' }), 'xxxxxx end');
    const bytes = awsDescription('é'.repeat(1000), { maxLength: 1024, maxBytes: 1024 });
    assert.equal(Buffer.byteLength(bytes), 1024);
    assert.equal(bytes.length, 512);
  });
});

describe('a name AWS would not take in a description', () => {
  for (const name of NAMES) {
    it(`templates: ${JSON.stringify(name)}`, () => {
      for (const kind of TEMPLATE_KINDS)
        for (const events of ['custom-action', 'imported'] as const) {
          const template: Template = cloudFormationTemplate(kind, {
            integration: { id: '3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d', name, externalId: 'abcdef0123456789' },
            intakeUrl: INTAKE,
            rolePrefix: 'VigilSecurityHubRole',
            vigilPrincipalArn: VIGIL_PRINCIPAL,
            events,
          });
          const resources = descriptions(template.Resources);
          assert.ok(resources.length > 0, kind);
          for (const d of [...resources, String(template.Description)])
            assert.match(d, AWS_DESCRIPTION, `${kind} ${events}: ${JSON.stringify(d)}`);
          assert.ok(Buffer.byteLength(String(template.Description)) <= 1024);
        }
    });
  }

  let aws: FakeAwsAccount;
  const savedEnv = { ...process.env };
  before(async () => {
    aws = await startFakeAwsAccount({ callers: [OPERATOR], regions: ['us-east-1'] });
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: OPERATOR.accessKeyId,
      AWS_SECRET_ACCESS_KEY: OPERATOR.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_PROFILE: '',
      ...aws.env,
    });
    delete process.env.AWS_PROFILE;
  });
  after(async () => {
    process.env = savedEnv;
    await aws.close();
  });

  NAMES.forEach((name, i) => {
    it(`vigil aws setup against an AWS account: ${JSON.stringify(name)}`, async () => {
      const id = `${i}b6f1c2e-1234-4abc-9def-0123456789ab`;
      const request: SetupRequest = {
        facts: {
          integration: { id, name, enabled: true },
          intakeUrl: INTAKE,
          externalId: 'abcdef0123456789abcdef0123456789',
          rolePrefix: 'VigilSecurityHubRole',
          vigilPrincipalArn: VIGIL_PRINCIPAL,
          minimumSeverity: 'INFORMATIONAL',
          sendUpdatesBack: false,
          roleArn: null,
          region: null,
        },
        mode: 'api-destination',
        events: 'custom-action',
        regions: ['us-east-1'],
        accounts: [operatorAccess()],
        endpointUrl: `${INTAKE}?apiKey=0b6f1c2e-aaaa-4abc-9def-0123456789ab`,
        vigilPrincipalArn: VIGIL_PRINCIPAL,
        dryRun: false,
        writeback: true,
        confirmTimeoutMs: 1000,
        progress: () => {},
        vigil: {
          eventTypes: async () => ['imported', 'custom-action', 'imported-v2', 'insight-results'],
          updateSettings: async () => {},
        } as unknown as SetupRequest['vigil'],
        lookup: async () => [{ address: '52.94.236.248', family: 4 }],
      };
      const before = aws.calls.length;
      await runSetup(request);
      const made = aws.calls.slice(before).filter((c) => c.mutating);
      assert.deepEqual(
        made.filter((c) => c.status >= 400).map((c) => `${c.action} ${c.errorCode}`),
        [],
      );
      const written = made.flatMap((c) => descriptions(c.input));
      assert.ok(written.length >= 3, JSON.stringify(made.map((c) => c.action)));
      for (const d of written) assert.match(d, AWS_DESCRIPTION, JSON.stringify(d));
      const role = aws.roles(CUSTOMER).find((r) => r.name === `VigilSecurityHubRole-${i}b6f1c2e`);
      assert.match(role?.description ?? '', /^Vigil sends alert updates back to Security Hub \(integration /);
    });
  });
});
