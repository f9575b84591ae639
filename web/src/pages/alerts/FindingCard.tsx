import { Badge, Card, Code, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { safeUrl, type FindingView } from '../../lib/finding';
import { ExternalLink, Field } from './AlertFields';

/** Background and text of each severity, each pair above 4.5:1. */
const SEVERITY_COLORS: Record<string, [string, string]> = {
  CRITICAL: ['red.8', 'white'],
  HIGH: ['orange.5', 'black'],
  MEDIUM: ['yellow.4', 'black'],
  LOW: ['blue.8', 'white'],
  INFORMATIONAL: ['gray.7', 'white'],
};

/** What Security Hub said of the finding an alert is made from, with a link to it in the AWS console. */
export function FindingCard({ finding }: { finding: FindingView }) {
  return (
    <Card withBorder component="section" aria-labelledby="finding-heading">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={2} size="h4" id="finding-heading">
          Security Hub finding
        </Title>
        {finding.consoleUrl ? (
          <ExternalLink href={finding.consoleUrl}>Open in the AWS console</ExternalLink>
        ) : null}
      </Group>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
        <Field label="Account">{finding.account}</Field>
        <Field label="Region">{finding.region}</Field>
        <Field label="Severity">
          {finding.severity ? (
            <Badge
              color={SEVERITY_COLORS[finding.severity]?.[0] ?? 'gray.7'}
              c={SEVERITY_COLORS[finding.severity]?.[1] ?? 'white'}
              variant="filled"
            >
              {finding.severity}
            </Badge>
          ) : null}
        </Field>
        <Field label="Workflow status">{finding.workflowStatus}</Field>
        <Field label="Compliance">{finding.compliance}</Field>
        <Field label="Record state">{finding.recordState}</Field>
        <Field label="Product">{finding.productName}</Field>
        <Field label="Generator">{finding.generatorId}</Field>
        <Field label="Types">{finding.types.join(', ') || undefined}</Field>
      </SimpleGrid>
      <Stack gap="sm" mt="md">
        {finding.actionName ? (
          <Field label="Sent with custom action">
            <Stack gap={2}>
              <Text size="sm" fw={600}>
                {finding.actionName}
              </Text>
              {finding.actionDescription ? <Text size="sm">{finding.actionDescription}</Text> : null}
            </Stack>
          </Field>
        ) : null}
        <Field
          label={`Resources${finding.resourceTypes.length ? ` (${finding.resourceTypes.join(', ')})` : ''}`}
        >
          {finding.resources.length ? (
            <Stack gap={2}>
              {finding.resources.map((r) => (
                <Code key={r.id} className="break-anywhere" style={{ whiteSpace: 'normal' }}>
                  {r.id}
                </Code>
              ))}
            </Stack>
          ) : undefined}
        </Field>
        {finding.remediationText || finding.remediationUrl ? (
          <Field label="Remediation">
            <Stack gap={4}>
              {finding.remediationText ? <Text size="sm">{finding.remediationText}</Text> : null}
              {safeUrl(finding.remediationUrl) ? (
                <ExternalLink href={safeUrl(finding.remediationUrl) as string}>
                  {finding.remediationUrl}
                </ExternalLink>
              ) : null}
            </Stack>
          </Field>
        ) : null}
        {finding.sourceUrl ? (
          <Field label="Source">
            {/* Details come from anyone with an API key: only an http(s) address is made a link. */}
            {safeUrl(finding.sourceUrl) ? (
              <ExternalLink href={safeUrl(finding.sourceUrl) as string}>{finding.sourceUrl}</ExternalLink>
            ) : (
              <Code className="break-anywhere" style={{ whiteSpace: 'normal' }}>
                {finding.sourceUrl}
              </Code>
            )}
          </Field>
        ) : null}
        <Field label="Product ARN">
          {finding.productArn ? (
            <Code className="break-anywhere" style={{ whiteSpace: 'normal' }}>
              {finding.productArn}
            </Code>
          ) : undefined}
        </Field>
        <Field label="Finding ID">
          <Code className="break-anywhere" style={{ whiteSpace: 'normal' }}>
            {finding.id}
          </Code>
        </Field>
      </Stack>
    </Card>
  );
}
