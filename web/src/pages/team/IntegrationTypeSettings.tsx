import { Text, TextInput } from '@mantine/core';
import type { Integration } from '../../api/types';
import { CopyField } from '../../components/CopyField';
import { draftWebhook, webhookBody, WebhookFields, type WebhookDraft } from '../integration/WebhookFields';

/** What "Add integration" asks besides the name, for the types that need more. */
export interface TypeSettingsDraft {
  emailUsername: string;
  webhook: WebhookDraft;
}

export function draftTypeSettings(): TypeSettingsDraft {
  return { emailUsername: '', webhook: draftWebhook() };
}

/** The create body's settings for the type. */
export function typeSettingsBody(type: string, draft: TypeSettingsDraft) {
  if (type === 'Email') return { emailUsername: draft.emailUsername.trim() };
  if (type === 'Webhook') return webhookBody(draft.webhook);
  return {};
}

export function TypeSettingsFields({
  type,
  value,
  onChange,
}: {
  type: string;
  value: TypeSettingsDraft;
  onChange: (value: TypeSettingsDraft) => void;
}) {
  if (type === 'Email')
    return (
      <TextInput
        label="Email username"
        description="The part of the address before the @: mail sent to it becomes an alert. Lower-case letters, digits, dots, hyphens and underscores."
        required
        maxLength={64}
        placeholder="payments-alerts"
        value={value.emailUsername}
        onChange={(e) => onChange({ ...value, emailUsername: e.currentTarget.value })}
      />
    );
  if (type === 'Webhook')
    return <WebhookFields value={value.webhook} onChange={(webhook) => onChange({ ...value, webhook })} />;
  return null;
}

/** Right after an Email or Webhook integration is saved: where mail goes, or where activity is sent. */
export function SavedTypeSettings({ integration }: { integration: Integration }) {
  if (integration.type === 'Email')
    return (
      <CopyField
        label="Email address"
        value={integration.emailAddress ?? ''}
        description="Send alerts to this address: each message becomes an alert of the integration."
      />
    );
  if (integration.type === 'Webhook')
    return (
      <Text size="sm" className="break-anywhere">
        The team’s alert activity will be sent to {integration.webhookUrl}, signed; its deliveries are listed
        with the team’s destinations.
      </Text>
    );
  return null;
}
