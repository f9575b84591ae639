import { Type } from 'typebox';
import type { Config } from '../../../config.js';
import { invalidField } from '../../../errors.js';
import { envelope, principalOf, type HttpApp } from '../../../http/server.js';
import { StringEnum } from '../../../http/schemas.js';
import type { IntegrationWithTeams } from '../../repository.js';
import { SECURITY_HUB_INTAKE_PATH, type IntegrationsService } from '../../service.js';
import { SEVERITY_LABELS, securityHubSettings } from '../../types.js';
import { shortId } from './names.js';
import { cloudFormationTemplate, renderTemplate, TEMPLATE_KINDS, type TemplateInput } from './templates.js';
import { fingerprintOfHash } from './vigil-api.js';
import type { VigilPrincipalSource } from './vigil-principal.js';

/** What the AWS side of an integration needs from Vigil: the CloudFormation templates and `vigil aws setup`'s facts. */

const SETUP_EVENTS = ['custom-action', 'imported'] as const;

export function registerAwsSetupRoutes(
  app: HttpApp,
  deps: { config: Config; integrations: IntegrationsService; vigilPrincipal: VigilPrincipalSource },
): void {
  const { config, integrations, vigilPrincipal } = deps;
  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
  const intakeUrl = `${config.publicUrl}${SECURITY_HUB_INTAKE_PATH}`;

  /**
   * The integration, for those who manage it (as updating it: its assignee team's right too, when that is
   * another), and only of type AmazonSecurityHub. `vigil aws setup` starts here and ends by storing the
   * role and region in the integration: one who may not change the integration is refused before any of
   * the AWS side is made, not after.
   */
  async function securityHubIntegration(request: Parameters<typeof principalOf>[0], id: string) {
    const p = principalOf(request);
    const row: IntegrationWithTeams = await integrations.get(p, id);
    await integrations.requireManages(p, row);
    if (row.type !== 'AmazonSecurityHub')
      throw invalidField(
        'id',
        `is an integration of type ${row.type}: only AmazonSecurityHub integrations have an AWS side.`,
      );
    return row;
  }

  app.get(
    '/v2/integrations/:id/aws-setup',
    {
      schema: {
        tags: ['integrations'],
        summary: "What `vigil aws setup` needs to set up an integration's AWS side",
        description:
          "The intake URL (without the key, which Vigil keeps only hashed), the key's fingerprint (the first 12 hex digits of its SHA-256, by which `vigil aws` tells this integration's current key from another), the external ID, the prefix of the role names Vigil assumes and Vigil's own AWS identity, which the role must trust (null when Vigil has no AWS credentials and VIGIL_AWS_PRINCIPAL_ARN is not set).",
        params: IdParams,
      },
    },
    async (request) => {
      const row = await securityHubIntegration(request, request.params.id);
      const principal = await vigilPrincipal.get();
      const settings = securityHubSettings(row.settings);
      return envelope(request, {
        data: {
          integration: { id: row.id, name: row.name, enabled: row.enabled },
          intakeUrl,
          // Vigil stores the key's SHA-256: its beginning is the fingerprint setup compares keys by.
          keyFingerprint: fingerprintOfHash(row.api_key_hash),
          externalId: row.external_id,
          rolePrefix: config.writebackRolePrefix,
          vigilPrincipalArn: principal?.arn ?? null,
          vigilPrincipalSource: principal?.source ?? null,
          minimumSeverity: settings.minimumSeverity,
          sendUpdatesBack: settings.sendUpdatesBack,
          roleArn: settings.roleArn ?? null,
          region: settings.region ?? null,
        },
      });
    },
  );

  app.get(
    '/v2/integrations/:id/cloudformation/:kind',
    {
      schema: {
        tags: ['integrations'],
        summary: 'A CloudFormation template for the integration, filled in',
        description:
          'intake: a Security Hub custom action (with events=custom-action), an SNS topic EventBridge may publish to, an HTTPS subscription to SNSSubEndpoint and the EventBridge rule. role: the IAM role Vigil assumes for the write-back, trusting Vigil on the condition of the external ID. api-destination: the same intake without SNS, through an EventBridge connection and API destination. JSON, or YAML with format=yaml.',
        params: Type.Object({ id: IdParams.properties.id, kind: StringEnum(TEMPLATE_KINDS) }),
        querystring: Type.Object({
          format: Type.Optional(StringEnum(['json', 'yaml'] as const)),
          events: Type.Optional(
            StringEnum(SETUP_EVENTS, {
              description:
                "custom-action (the default, as the seed's guide does): findings someone sends with the custom action. imported: every Imported finding event (ASFF and OCSF), new findings and their updates; Vigil applies the integration's minimumSeverity to new findings",
            }),
          ),
          minSeverity: Type.Optional(
            StringEnum(SEVERITY_LABELS, {
              description:
                "Ignored (kept for old links): the rule does not filter on severity; Vigil applies the integration's minimumSeverity to new findings",
            }),
          ),
        }),
      },
    },
    async (request, reply) => {
      const row = await securityHubIntegration(request, request.params.id);
      const input: TemplateInput = {
        integration: { id: row.id, name: row.name, externalId: row.external_id },
        intakeUrl,
        rolePrefix: config.writebackRolePrefix,
        vigilPrincipalArn: request.params.kind === 'role' ? (await vigilPrincipal.get())?.arn : undefined,
        events: request.query.events ?? 'custom-action',
      };
      const format = request.query.format ?? 'json';
      const body = renderTemplate(cloudFormationTemplate(request.params.kind, input), format);
      const file = `vigil-${request.params.kind}-${shortId(row.id)}.${format === 'yaml' ? 'yaml' : 'json'}`;
      return reply
        .header('content-disposition', `attachment; filename="${file}"`)
        .type(format === 'yaml' ? 'application/yaml; charset=utf-8' : 'application/json; charset=utf-8')
        .send(body);
    },
  );
}
