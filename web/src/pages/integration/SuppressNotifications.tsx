import { Switch } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, data, messageOf } from '../../api/client';
import type { Integration } from '../../api/types';

/**
 * Opsgenie's "Suppress notifications": the integration's alerts are still made, but their creation pages
 * nobody. Saved as soon as it is switched, as the on/off switch is.
 */
export function SuppressNotificationsSwitch({ integration }: { integration: Integration }) {
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (suppressNotifications: boolean) =>
      data<Integration>(
        api.PATCH('/v2/integrations/{id}', {
          params: { path: { id: integration.id } },
          body: { suppressNotifications },
        }),
      ),
    onSuccess: (updated) => {
      queryClient.setQueryData(['integration', integration.id], (old: Integration | undefined) => ({
        ...old,
        ...updated,
      }));
      notifications.show({
        color: 'teal',
        message: updated.suppressNotifications
          ? 'Its alerts notify nobody from now on.'
          : 'Its alerts notify their responders again.',
      });
    },
    onError: (error) => notifications.show({ color: 'red', title: 'Not changed', message: messageOf(error) }),
  });
  const suppressed = integration.suppressNotifications === true;
  return (
    <Switch
      size="md"
      label="Suppress notifications"
      description={
        suppressed
          ? 'Alerts it creates are made and shown, but nobody is notified of them.'
          : 'Alerts it creates notify their responders.'
      }
      checked={suppressed}
      disabled={save.isPending}
      onChange={(e) => save.mutate(e.currentTarget.checked)}
    />
  );
}
