import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { Integration } from '../../api/types';
import { FormError } from '../../components/FormError';
import { draftWebhook, webhookBody, WebhookFields } from './WebhookFields';

/** A Webhook integration’s URL, payload options and headers (PATCH; a header left empty keeps its value while the URL stays as it is). */
export function WebhookSettings({ integration }: { integration: Integration }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(() => draftWebhook(integration));
  const save = useMutation({
    mutationFn: () =>
      data<Integration>(
        api.PATCH('/v2/integrations/{id}', {
          params: { path: { id: integration.id } },
          body: webhookBody(draft),
        }),
      ),
    onSuccess: (updated) => {
      notifications.show({ color: 'teal', message: 'The webhook is saved.' });
      queryClient.setQueryData(['integration', integration.id], updated);
      setDraft(draftWebhook(updated));
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="webhook-heading">
      <Title order={2} size="h4" id="webhook-heading" mb="xs">
        Webhook
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        The team’s alert activity is sent here. Its deliveries are listed with the team’s destinations.
      </Text>
      <form
        aria-label="Webhook settings"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack gap="sm">
          <WebhookFields value={draft} onChange={setDraft} />
          <FormError error={save.error} />
          <Group>
            <Button type="submit" loading={save.isPending}>
              Save webhook
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
