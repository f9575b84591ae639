import { Card, Text, Title } from '@mantine/core';
import type { Integration } from '../../api/types';
import { CopyField } from '../../components/CopyField';

/** Where mail must be sent for an Email integration to make alerts. */
export function EmailSection({ integration }: { integration: Integration }) {
  return (
    <Card withBorder component="section" aria-labelledby="email-heading">
      <Title order={2} size="h4" id="email-heading" mb="xs">
        Email address
      </Title>
      <CopyField
        label="Send alerts to"
        value={integration.emailAddress ?? ''}
        description={`Each message sent to this address (its name: ${integration.emailUsername ?? ''}) becomes an alert: the subject is its message, the text its description.`}
      />
      <Text size="xs" c="dimmed" mt="xs">
        Mail reaches Vigil through its SMTP listener; see the documentation on inbound email.
      </Text>
    </Card>
  );
}
