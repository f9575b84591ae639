import { Button, Group, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { EscalationDetail } from '../../api/types';
import { FormError } from '../../components/FormError';

/**
 * A policy's new name, on its own (PATCH with the name only): the rules being edited beside it are saved
 * by their own button and are not sent with it.
 */
export function RenamePolicy({ policy, onDone }: { policy: EscalationDetail; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(policy.name);
  const rename = useMutation({
    mutationFn: () =>
      data<{ id: string; name: string }>(
        api.PATCH('/v2/escalations/{identifier}', {
          params: { path: { identifier: policy.id }, query: { identifierType: 'id' } },
          body: { name: name.trim() },
        }),
      ),
    onSuccess: (renamed) => {
      notifications.show({ color: 'teal', message: `${policy.name} is now called ${renamed.name}.` });
      void queryClient.invalidateQueries({ queryKey: ['escalations'] });
      // Routing rules show the name of the policy they notify.
      void queryClient.invalidateQueries({ queryKey: ['routing-rules'] });
      onDone();
    },
  });
  const unchanged = name.trim() === policy.name;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (unchanged) onDone();
        else rename.mutate();
      }}
    >
      <Group align="flex-end" gap="xs" wrap="wrap" mb="xs">
        <TextInput
          label="New name"
          required
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          // Opened by "Rename": the name is what is being edited.
          autoFocus
          style={{ flex: 1 }}
          miw={200}
        />
        <Button type="submit" loading={rename.isPending}>
          Save name
        </Button>
        <Button variant="default" onClick={onDone}>
          Cancel
        </Button>
      </Group>
      <FormError error={rename.error} />
    </form>
  );
}
