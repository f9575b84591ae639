import { Checkbox, Stack, TextInput } from '@mantine/core';
import {
  draftHeaders,
  HeadersEditor,
  headersBody,
  movesToAnotherUrl,
  type DraftHeader,
} from '../../components/HeadersEditor';
import type { Integration } from '../../api/types';

export interface WebhookDraft {
  /** The URL the integration has now (none for a new one): its stored headers are kept for it only. */
  savedUrl?: string;
  webhookUrl: string;
  addAlertDescription: boolean;
  addAlertDetails: boolean;
  headers: DraftHeader[];
}

export function draftWebhook(integration?: Integration): WebhookDraft {
  return {
    ...(integration?.webhookUrl !== undefined ? { savedUrl: integration.webhookUrl } : {}),
    webhookUrl: integration?.webhookUrl ?? '',
    addAlertDescription: integration?.addAlertDescription ?? true,
    addAlertDetails: integration?.addAlertDetails ?? true,
    headers: draftHeaders(integration?.headers),
  };
}

export function webhookBody(draft: WebhookDraft) {
  return {
    webhookUrl: draft.webhookUrl.trim(),
    addAlertDescription: draft.addAlertDescription,
    addAlertDetails: draft.addAlertDetails,
    headers: headersBody(draft.headers),
  };
}

/** A Webhook integration's settings as fields: the URL, what the payload holds, the headers. */
export function WebhookFields({
  value,
  onChange,
}: {
  value: WebhookDraft;
  onChange: (value: WebhookDraft) => void;
}) {
  return (
    <Stack gap="sm">
      <TextInput
        label="Webhook URL"
        description="Where this team’s alert activity is sent (https), signed as team webhooks are."
        type="url"
        required
        maxLength={2048}
        placeholder="https://example.com/hooks/vigil"
        value={value.webhookUrl}
        onChange={(e) => onChange({ ...value, webhookUrl: e.currentTarget.value })}
      />
      <Checkbox
        label="Add the alert’s description to the payload"
        checked={value.addAlertDescription}
        onChange={(e) => onChange({ ...value, addAlertDescription: e.currentTarget.checked })}
      />
      <Checkbox
        label="Add the alert’s details to the payload"
        checked={value.addAlertDetails}
        onChange={(e) => onChange({ ...value, addAlertDetails: e.currentTarget.checked })}
      />
      <HeadersEditor
        value={value.headers}
        onChange={(headers) => onChange({ ...value, headers })}
        storedValuesNeeded={movesToAnotherUrl(value.savedUrl, value.webhookUrl)}
      />
    </Stack>
  );
}
