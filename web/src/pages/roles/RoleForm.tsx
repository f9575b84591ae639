import { Button, Card, Group, MultiSelect, NativeSelect, Stack, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, data } from '../../api/client';
import type { CustomUserRole } from '../../api/types';
import { FormError } from '../../components/FormError';
import { EXTENDED_ROLES, USER_RIGHTS } from '../../lib/userRights';

type ExtendedRole = CustomUserRole['extendedRole'];

export const ROLES_KEY = ['custom-roles'] as const;

/** The rights one picker offers: every right but those the other picker holds (the API refuses both). */
function rightsBut(taken: string[]): string[] {
  return USER_RIGHTS.filter((right) => !taken.includes(right));
}

/**
 * A custom user role's name, the default role it extends and its rights: a new role (POST /v2/roles), or,
 * given `role`, that one replaced as a whole (PUT /v2/roles/{id}), as the API's update does.
 */
export function RoleForm({ role, onDone }: { role?: CustomUserRole; onDone?: () => void }) {
  const queryClient = useQueryClient();
  const headingId = useId();
  const [name, setName] = useState(role?.name ?? '');
  const [extendedRole, setExtendedRole] = useState<ExtendedRole>(role?.extendedRole ?? 'user');
  const [granted, setGranted] = useState<string[]>(role?.grantedRights ?? []);
  const [disallowed, setDisallowed] = useState<string[]>(role?.disallowedRights ?? []);
  const save = useMutation({
    mutationFn: () => {
      const body = { name: name.trim(), extendedRole, grantedRights: granted, disallowedRights: disallowed };
      return role
        ? data(api.PUT('/v2/roles/{identifier}', { params: { path: { identifier: role.id } }, body }))
        : data(api.POST('/v2/roles', { body }));
    },
    onSuccess: () => {
      notifications.show({
        color: 'teal',
        message: role ? `${name.trim()} is saved.` : `${name.trim()} is created.`,
      });
      void queryClient.invalidateQueries({ queryKey: ROLES_KEY });
      if (!role) {
        setName('');
        setExtendedRole('user');
        setGranted([]);
        setDisallowed([]);
      }
      onDone?.();
    },
  });
  const title = role ? `Change ${role.name}` : 'Create a role';
  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Title order={2} size="h4" id={headingId} mb="xs" className="break-anywhere">
        {title}
      </Title>
      <form
        aria-label={title}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack gap="xs">
          <TextInput
            label="Role name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <NativeSelect
            label="Extends"
            description="The default role whose rights it starts from."
            data={EXTENDED_ROLES.map((r) => ({ value: r, label: r }))}
            value={extendedRole}
            onChange={(e) => setExtendedRole(e.currentTarget.value as ExtendedRole)}
          />
          <MultiSelect
            label="Rights granted"
            description="Added to what the extended role allows."
            placeholder={granted.length === 0 ? 'None' : undefined}
            data={rightsBut(disallowed)}
            value={granted}
            onChange={setGranted}
            searchable
            hidePickedOptions
            clearable
            comboboxProps={{ withinPortal: true }}
          />
          <MultiSelect
            label="Rights disallowed"
            description="Taken away, whatever the extended role allows."
            placeholder={disallowed.length === 0 ? 'None' : undefined}
            data={rightsBut(granted)}
            value={disallowed}
            onChange={setDisallowed}
            searchable
            hidePickedOptions
            clearable
            comboboxProps={{ withinPortal: true }}
          />
          <FormError error={save.error} />
          <Group gap="xs">
            <Button type="submit" loading={save.isPending}>
              {role ? 'Save role' : 'Create role'}
            </Button>
            {role ? (
              <Button variant="default" onClick={onDone}>
                Cancel
              </Button>
            ) : null}
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
