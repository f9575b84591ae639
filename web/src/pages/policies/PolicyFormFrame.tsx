import { Button, Group, Stack } from '@mantine/core';
import type { ReactNode } from 'react';
import { FormError } from '../../components/FormError';
import type { Policy, PolicyBody, PolicyKind } from './model';
import type { PolicySave } from './useSavePolicy';

/**
 * The form around a policy's fields, of either kind: named for the policy it adds or edits, it saves
 * the body the fields make and shows why a save failed.
 */
export function PolicyFormFrame({
  policy,
  kind,
  save,
  body,
  onCancel,
  children,
}: {
  policy: Policy | undefined;
  kind: PolicyKind;
  save: PolicySave;
  body: () => PolicyBody;
  onCancel: () => void;
  children: ReactNode;
}) {
  return (
    <form
      aria-label={policy ? `Edit the ${kind} policy ${policy.name}` : `New ${kind} policy`}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(body());
      }}
    >
      <Stack gap="sm">
        {children}
        <FormError error={save.error} />
        <Group gap="xs">
          <Button type="submit" loading={save.isPending}>
            {policy ? 'Save policy' : 'Add policy'}
          </Button>
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
