import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { securityHubEventPattern } from '../../types.js';
import { CLOUDFORMATION_LIMITS, CLOUDFORMATION_SPEC, PSEUDO_PARAMETERS } from './cloudformation-spec.js';
import { matchesEventPattern, validateEventPattern } from './event-pattern.js';
import { ruleEventPattern, type SetupEvents } from './policies.js';
import {
  cloudFormationTemplate,
  renderTemplate,
  TEMPLATE_KINDS,
  type Template,
  type TemplateInput,
} from './templates.js';

const FIXTURES = new URL('../../../../test/fixtures/securityhub/events/', import.meta.url);
const readEvent = async (name: string) =>
  JSON.parse(await readFile(new URL(`source_layer_test_test_json_data_${name}.json`, FIXTURES), 'utf8')) as {
    resources: string[];
    detail: { findings: Record<string, unknown>[] };
  };

const input = (events: SetupEvents): TemplateInput => ({
  integration: {
    id: '3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d',
    name: 'Prod Security Hub',
    externalId: '0123456789abcdef0123456789abcdef',
  },
  intakeUrl: 'https://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub',
  rolePrefix: 'VigilSecurityHubRole',
  vigilPrincipalArn: 'arn:aws:iam::210987654321:role/vigil-server',
  events,
});

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every problem a linter of templates would report, as readable lines. */
function lint(template: Template): string[] {
  const problems: string[] = [];
  const parameters = isRecord(template.Parameters) ? template.Parameters : {};
  const resources = isRecord(template.Resources) ? template.Resources : {};
  const conditions = isRecord(template.Conditions) ? template.Conditions : {};
  const used = new Set<string>();

  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
    if (!isRecord(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref') {
        const name = String(value);
        used.add(name);
        if (!(name in parameters) && !(name in resources) && !PSEUDO_PARAMETERS.includes(name))
          problems.push(`${where}: Ref ${name} resolves to nothing`);
      } else if (key === 'Fn::GetAtt') {
        const [resource, attribute] = value as [string, string];
        const type = isRecord(resources[resource]) ? String(resources[resource].Type) : undefined;
        if (!type) problems.push(`${where}: GetAtt ${resource} is no resource`);
        else if (!CLOUDFORMATION_SPEC[type]?.attributes.includes(attribute))
          problems.push(`${where}: ${type} has no attribute ${attribute}`);
      } else if (key === 'Fn::If') {
        const [condition] = value as [string];
        if (!(condition in conditions)) problems.push(`${where}: condition ${condition} is not defined`);
      }
      walk(value, `${where}.${key}`);
    }
  };

  for (const [name, resource] of Object.entries(resources)) {
    if (!/^[A-Za-z0-9]+$/.test(name)) problems.push(`${name}: logical ids are alphanumeric`);
    if (!isRecord(resource)) continue;
    const spec = CLOUDFORMATION_SPEC[String(resource.Type)];
    if (!spec) {
      problems.push(`${name}: type ${String(resource.Type)} is not in the specification`);
      continue;
    }
    const properties = isRecord(resource.Properties) ? resource.Properties : {};
    for (const [property, value] of Object.entries(properties)) {
      const rule = spec.properties[property];
      if (!rule) {
        problems.push(`${name}: ${String(resource.Type)} has no property ${property}`);
        continue;
      }
      if (typeof value === 'string') {
        if (rule.maxLength !== undefined && value.length > rule.maxLength)
          problems.push(`${name}.${property}: longer than ${rule.maxLength}`);
        if (rule.pattern && !rule.pattern.test(value))
          problems.push(`${name}.${property}: '${value}' does not match ${String(rule.pattern)}`);
      }
    }
    for (const [property, rule] of Object.entries(spec.properties))
      if (rule.required && !(property in properties)) problems.push(`${name}: ${property} is required`);
    if (resource.Type === 'AWS::Events::Rule') {
      const targets = Array.isArray(properties.Targets)
        ? (properties.Targets as Record<string, unknown>[])
        : [];
      if (targets.length > CLOUDFORMATION_LIMITS.targetsPerRule)
        problems.push(`${name}: more than 5 targets`);
      for (const target of targets) {
        if (!CLOUDFORMATION_LIMITS.targetIdPattern.test(String(target.Id)))
          problems.push(`${name}: target id ${String(target.Id)}`);
        if (!('Arn' in target)) problems.push(`${name}: a target without Arn`);
      }
    }
  }
  walk(template.Resources, 'Resources');
  walk(template.Outputs, 'Outputs');
  walk(template.Conditions, 'Conditions');
  for (const [name, parameter] of Object.entries(parameters)) {
    if (!isRecord(parameter) || typeof parameter.Type !== 'string')
      problems.push(`parameter ${name}: no Type`);
    if (!used.has(name)) problems.push(`parameter ${name} is never used`);
    if (
      isRecord(parameter) &&
      typeof parameter.Default === 'string' &&
      typeof parameter.AllowedPattern === 'string'
    )
      if (!new RegExp(parameter.AllowedPattern).test(parameter.Default))
        problems.push(`parameter ${name}: its default does not match its AllowedPattern`);
  }
  const bytes = Buffer.byteLength(renderTemplate(template, 'json'));
  if (bytes > CLOUDFORMATION_LIMITS.templateBodyBytes) problems.push(`template body is ${bytes} bytes`);
  return problems;
}

/** The rule's own pattern (the `Fn::If` branch used when EventPatternParameter is empty), with the action ARN as AWS would make it. */
function generatedPattern(template: Template, actionArn: string): unknown {
  const rule = (
    template.Resources as Record<string, { Properties: { EventPattern: { 'Fn::If': unknown[] } } }>
  ).FindingsRule;
  const pattern = rule?.Properties.EventPattern['Fn::If'][2];
  return JSON.parse(
    JSON.stringify(pattern, (_key, value: unknown) =>
      isRecord(value) && 'Fn::GetAtt' in value ? actionArn : value,
    ),
  );
}

describe('CloudFormation templates', () => {
  for (const kind of TEMPLATE_KINDS) {
    for (const events of ['custom-action', 'imported'] as const) {
      it(`${kind} (${events}): types, properties, references and limits hold`, () => {
        const template = cloudFormationTemplate(kind, input(events));
        assert.deepEqual(lint(template), []);
        const yaml = renderTemplate(template, 'yaml');
        assert.deepEqual(parseYaml(yaml), template, 'the YAML says the same as the JSON');
      });
    }
  }

  it('the linter finds what it looks for', () => {
    const template = cloudFormationTemplate('intake', input('custom-action'));
    const resources = template.Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    resources.FindingsTopic!.Properties.Colour = 'blue';
    resources.FindingsRule!.Properties.Name = 'has spaces';
    resources.FindingsRule!.Properties.Targets = [{ Arn: { Ref: 'Nothing' }, Id: 'x' }];
    delete resources.CustomAction!.Properties.Id;
    (template.Outputs as Record<string, unknown>).Bad = {
      Value: { 'Fn::GetAtt': ['FindingsTopic', 'Colour'] },
    };
    const problems = lint(template).join('\n');
    assert.match(problems, /has no property Colour/);
    assert.match(problems, /'has spaces' does not match/);
    assert.match(problems, /Ref Nothing resolves to nothing/);
    assert.match(problems, /Id is required/);
    assert.match(problems, /has no attribute Colour/);
  });

  it('marks the parameters that carry the integration key NoEcho, and outputs neither', () => {
    for (const [kind, name] of [
      ['intake', 'SNSSubEndpoint'],
      ['api-destination', 'IntegrationApiKey'],
    ] as const) {
      const template = cloudFormationTemplate(kind, input('imported'));
      const parameter = (template.Parameters as Record<string, { NoEcho?: boolean }>)[name];
      assert.equal(parameter?.NoEcho, true, `${kind}: ${name} is NoEcho`);
      assert.doesNotMatch(
        JSON.stringify(template.Outputs ?? {}),
        new RegExp(name),
        `${kind}: no output of ${name}`,
      );
    }
  });

  it("names the seed's parameters and fills in what Vigil knows", () => {
    const intake = cloudFormationTemplate('intake', input('custom-action'));
    const parameters = intake.Parameters as Record<string, { AllowedPattern?: string; Default?: string }>;
    assert.ok(parameters.SNSSubEndpoint && parameters.EventPatternParameter);
    const pattern = new RegExp(parameters.SNSSubEndpoint.AllowedPattern ?? '');
    assert.ok(
      pattern.test('https://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub?apiKey=abc'),
    );
    assert.ok(
      !pattern.test('http://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub?apiKey=abc'),
    );
    assert.ok(!pattern.test('https://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub'));

    const role = cloudFormationTemplate('role', input('imported'));
    const roleParameters = role.Parameters as Record<string, { Default?: string; AllowedPattern: string }>;
    assert.equal(roleParameters.ExternalId?.Default, '0123456789abcdef0123456789abcdef');
    assert.equal(roleParameters.VigilPrincipalArn?.Default, 'arn:aws:iam::210987654321:role/vigil-server');
    assert.match(roleParameters.RoleName?.Default ?? '', /^VigilSecurityHubRole-3f1c9a52$/);
    assert.ok(!new RegExp(roleParameters.RoleName?.AllowedPattern ?? '').test('SomeOtherRole'));
    const properties = (role.Resources as Record<string, { Properties: Record<string, unknown> }>)
      .WritebackRole?.Properties;
    const trust = JSON.stringify(properties?.AssumeRolePolicyDocument);
    assert.match(trust, /"sts:ExternalId":\{"Ref":"ExternalId"\}/);
    const allowed = JSON.stringify(properties?.Policies);
    assert.match(
      allowed,
      /"Action":\["securityhub:BatchUpdateFindings","securityhub:BatchUpdateFindingsV2","securityhub:GetFindings"\]/,
    );

    const unknownPrincipal = cloudFormationTemplate('role', {
      ...input('imported'),
      vigilPrincipalArn: undefined,
    });
    const parameter = (unknownPrincipal.Parameters as Record<string, object>).VigilPrincipalArn ?? {};
    assert.equal(Object.hasOwn(parameter, 'Default'), false, 'CloudFormation asks for it');
  });

  it('the custom-action pattern matches the custom action event and no other action', async () => {
    const event = await readEvent('custom-action-mismatch');
    const ownArn = event.resources[0] ?? '';
    const pattern = generatedPattern(cloudFormationTemplate('intake', input('custom-action')), ownArn);
    assert.equal(validateEventPattern(pattern), undefined);
    assert.ok(matchesEventPattern(pattern, event));
    const other = generatedPattern(
      cloudFormationTemplate('intake', input('custom-action')),
      'arn:aws:securityhub:us-east-1:111111111111:action/custom/SomethingElse',
    );
    assert.ok(!matchesEventPattern(other, event));
    assert.ok(
      !matchesEventPattern(pattern, await readEvent('CIS-1.4')),
      'an Imported event is not a custom action',
    );
  });

  it("the Imported pattern is the page's, with no filter on the findings: it takes every severity and the updates that close alerts", async () => {
    const medium = await readEvent('CIS-1.4');
    const informational = await readEvent('afsbp-ec2.7');
    for (const kind of ['intake', 'api-destination'] as const) {
      const all = generatedPattern(cloudFormationTemplate(kind, input('imported')), '');
      assert.equal(validateEventPattern(all), undefined);
      assert.ok(JSON.stringify(all).length <= CLOUDFORMATION_LIMITS.eventPatternChars);
      assert.deepEqual(all, securityHubEventPattern({ eventTypes: ['imported', 'imported-v2'] }));
      assert.deepEqual(
        all,
        ruleEventPattern('imported', { customActionArn: undefined }),
        'as vigil aws setup',
      );
      assert.ok(matchesEventPattern(all, medium));
      assert.ok(matchesEventPattern(all, informational));

      // Security Hub sends each update of a finding as another Imported event: those close the alert.
      const resolved = structuredClone(medium);
      (resolved.detail.findings[0] as { Workflow: { Status: string } }).Workflow.Status = 'RESOLVED';
      assert.ok(matchesEventPattern(all, resolved));
      const archived = structuredClone(medium);
      archived.detail.findings[0]!.RecordState = 'ARCHIVED';
      assert.ok(matchesEventPattern(all, archived));
    }
    const parameter = (
      cloudFormationTemplate('intake', input('imported')).Parameters as Record<
        string,
        { Description: string }
      >
    ).EventPatternParameter;
    assert.doesNotMatch(parameter?.Description ?? '', /keep "Workflow"/);
  });
});
