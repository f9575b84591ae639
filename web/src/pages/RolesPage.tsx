import { Button, Group, Skeleton, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../api/client';
import type { CustomUserRole } from '../api/types';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorPanel } from '../components/ErrorPanel';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { isAdmin, useSession } from '../session';
import { RoleForm, ROLES_KEY } from './roles/RoleForm';

function rightsCount(n: number): string {
  return n === 1 ? '1 right' : `${n} rights`;
}

/** The organization's custom user roles (admins): what each extends, the rights it grants and takes. */
export default function RolesPage() {
  const admin = isAdmin(useSession());
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<CustomUserRole | undefined>();
  const roles = useQuery({
    queryKey: ROLES_KEY,
    queryFn: () => data(api.GET('/v2/roles')),
    enabled: admin,
  });
  const remove = useMutation({
    mutationFn: (role: CustomUserRole) =>
      data(api.DELETE('/v2/roles/{identifier}', { params: { path: { identifier: role.id } } })),
    onSuccess: (_, role) => {
      notifications.show({ color: 'teal', message: `${role.name} is deleted.` });
      if (editing?.id === role.id) setEditing(undefined);
      void queryClient.invalidateQueries({ queryKey: ROLES_KEY });
    },
  });
  if (!admin)
    return (
      <>
        <PageTitle>Roles</PageTitle>
        <Text>Only organization admins manage custom user roles.</Text>
      </>
    );
  return (
    <>
      <PageTitle>Roles</PageTitle>
      <Stack>
        <Text size="sm" c="dimmed">
          Custom user roles: each extends a default role and grants or disallows some of its rights. Give one
          to a person on their page; a role someone holds cannot be deleted.
        </Text>
        <FormError error={remove.error} />
        {roles.isError ? (
          <ErrorPanel error={roles.error} retry={() => void roles.refetch()} />
        ) : roles.isPending ? (
          <Skeleton height={80} />
        ) : roles.data.length === 0 ? (
          <Text c="dimmed">No custom role yet.</Text>
        ) : (
          <Table fz="sm" layout="fixed" aria-label="Custom user roles">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th visibleFrom="sm">Extends</Table.Th>
                <Table.Th visibleFrom="sm">Granted</Table.Th>
                <Table.Th visibleFrom="sm">Disallowed</Table.Th>
                <Table.Th w={{ base: 130, sm: 240 }}>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {roles.data.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td className="break-anywhere">
                    {r.name}
                    <Text size="xs" c="dimmed" hiddenFrom="sm">
                      Extends {r.extendedRole}; {r.grantedRights.length} granted, {r.disallowedRights.length}{' '}
                      disallowed
                    </Text>
                  </Table.Td>
                  <Table.Td visibleFrom="sm">{r.extendedRole}</Table.Td>
                  <Table.Td visibleFrom="sm" title={r.grantedRights.join(', ')}>
                    {rightsCount(r.grantedRights.length)}
                  </Table.Td>
                  <Table.Td visibleFrom="sm" title={r.disallowedRights.join(', ')}>
                    {rightsCount(r.disallowedRights.length)}
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      <Button
                        size="xs"
                        variant="default"
                        aria-label={`Edit ${r.name}`}
                        onClick={() => setEditing(r)}
                      >
                        Edit
                      </Button>
                      <ConfirmButton
                        label="Delete"
                        ariaLabel={`Delete ${r.name}`}
                        question={`Delete ${r.name}?`}
                        confirmLabel="Delete role"
                        loading={remove.isPending}
                        onConfirm={() => remove.mutate(r)}
                      />
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {editing ? <RoleForm key={editing.id} role={editing} onDone={() => setEditing(undefined)} /> : null}
        <RoleForm />
      </Stack>
    </>
  );
}
