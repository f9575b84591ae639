import { Button, Group, Stack, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { NotificationRule, User } from '../../api/types';
import { CriteriaEditor, criteriaBody, draftCriteria } from '../../components/CriteriaEditor';
import { FormError } from '../../components/FormError';

/**
 * An existing notification rule's name and the alerts it applies to (PATCH with those two only, so
 * its steps, order and switch stay as they are).
 */
export function EditRuleForm({
  user,
  rule,
  onDone,
}: {
  user: User;
  rule: NotificationRule;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(rule.name);
  const [criteria, setCriteria] = useState(() => draftCriteria(rule.criteria));
  const save = useMutation({
    mutationFn: () =>
      data(
        api.PATCH('/v2/users/{identifier}/notification-rules/{ruleId}', {
          params: { path: { identifier: user.id, ruleId: rule.id } },
          body: { name: name.trim(), criteria: criteriaBody(criteria) },
        }),
      ),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `The notification rule ${name.trim()} is saved.` });
      void queryClient.invalidateQueries({ queryKey: ['notification-rules', user.id] });
      onDone();
    },
  });
  return (
    <form
      aria-label={`Edit the rule ${rule.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack gap="sm" my="xs">
        <TextInput
          label="Rule name"
          required
          maxLength={512}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <CriteriaEditor value={criteria} onChange={setCriteria} />
        <FormError error={save.error} />
        <Group gap="xs">
          <Button type="submit" loading={save.isPending}>
            Save rule
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
