import { Anchor, Code, Group, Stack, Text, Title } from '@mantine/core';
import type { Integration } from '../../api/types';
import { CopyField } from '../../components/CopyField';
import { awsSetupCommand } from '../../lib/awsSetup';

const TEMPLATES = [
  {
    kind: 'intake',
    label: 'Intake',
    what: 'the custom action, the SNS topic, its HTTPS subscription (paste the endpoint URL into SNSSubEndpoint) and the EventBridge rule',
  },
  {
    kind: 'role',
    label: 'Role',
    what: 'the IAM role Vigil assumes to send updates back, with the external ID; its ARN goes into "AmazonSecurityHub Role ARN"',
  },
  {
    kind: 'api-destination',
    label: 'API destination',
    what: 'instead of SNS: an EventBridge connection holding the key, the API destination and the rule',
  },
] as const;

/** The AWS side in one command, and the CloudFormation templates for those who deploy through CloudFormation. */
export function AwsSetupSection({ integration }: { integration: Integration }) {
  const command = awsSetupCommand(integration);
  return (
    <>
      <div>
        <Title order={3} size="h5">
          Set up AWS with one command
        </Title>
        <Text size="sm" mb="xs">
          Run it where your AWS credentials are, with an admin&apos;s API key in VIGIL_API_KEY and
          Vigil&apos;s URL in VIGIL_URL. It makes everything below, waits until Vigil has confirmed the SNS
          subscription, and turns sending updates back on. <Code>vigil aws check</Code> then proves each link.
        </Text>
        <CopyField label="Setup command" value={command} />
      </div>
      <div>
        <Title order={3} size="h5">
          CloudFormation templates
        </Title>
        <Stack gap={6} mt={4}>
          {TEMPLATES.map((t) => (
            <Group key={t.kind} gap="xs" wrap="nowrap" align="baseline">
              <Text size="sm" fw={500} style={{ minWidth: '8rem' }}>
                {t.label}
              </Text>
              <Anchor
                size="sm"
                href={`/v2/integrations/${integration.id}/cloudformation/${t.kind}`}
                download
                aria-label={`Download the ${t.label} template (JSON)`}
              >
                JSON
              </Anchor>
              <Anchor
                size="sm"
                href={`/v2/integrations/${integration.id}/cloudformation/${t.kind}?format=yaml`}
                download
                aria-label={`Download the ${t.label} template (YAML)`}
              >
                YAML
              </Anchor>
              <Text size="xs" c="dimmed">
                {t.what}
              </Text>
            </Group>
          ))}
        </Stack>
      </div>
    </>
  );
}
