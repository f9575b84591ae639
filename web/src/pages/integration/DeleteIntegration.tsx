import { Card, Group, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, data } from '../../api/client';
import type { Integration } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { FormError } from '../../components/FormError';

/** Deletes the integration (asked twice), then goes back to its team's integrations. */
export function DeleteIntegration({ integration }: { integration: Integration }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const remove = useMutation({
    mutationFn: () => data(api.DELETE('/v2/integrations/{id}', { params: { path: { id: integration.id } } })),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `${integration.name} is deleted.` });
      queryClient.removeQueries({ queryKey: ['integration', integration.id] });
      void queryClient.invalidateQueries({ queryKey: ['integrations'] });
      void navigate(`/teams/${integration.ownerTeam.id}/integrations`);
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="delete-heading">
      <Title order={2} size="h4" id="delete-heading" mb="xs">
        Delete
      </Title>
      <Text size="sm" mb="xs">
        It stops at once, with its settings; the alerts it made stay.
      </Text>
      <FormError error={remove.error} />
      <Group>
        <ConfirmButton
          label="Delete integration"
          question={`Delete the integration ${integration.name}?`}
          confirmLabel="Delete it"
          loading={remove.isPending}
          onConfirm={() => remove.mutate()}
        />
      </Group>
    </Card>
  );
}
