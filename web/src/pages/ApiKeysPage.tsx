import {
  Alert,
  Button,
  Card,
  Group,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../api/client';
import type { ApiKey } from '../api/types';
import { ConfirmButton } from '../components/ConfirmButton';
import { CopyField } from '../components/CopyField';
import { ErrorPanel } from '../components/ErrorPanel';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { when } from '../lib/time';
import { useAllUsers } from '../lib/users';
import { isAdmin, useSession } from '../session';

function NewKey() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [made, setMade] = useState<ApiKey | null>(null);
  const create = useMutation({
    mutationFn: () => data<ApiKey>(api.POST('/v2/api-keys', { body: { name: name.trim() } })),
    onSuccess: (key) => {
      setMade(key);
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="new-api-key">
      <Title order={2} size="h4" id="new-api-key" mb="xs">
        Create an API key
      </Title>
      {made?.key ? (
        <Alert
          color="yellow"
          title={`${made.name} is created`}
          mb="sm"
          styles={{ title: { color: 'var(--mantine-color-text)' } }}
        >
          <Stack gap="xs">
            <CopyField
              label="API key"
              value={made.key}
              description="Copy it now: it will not be shown again. Send it as “Authorization: GenieKey <key>”."
            />
            <Group>
              <Button size="xs" variant="default" onClick={() => setMade(null)}>
                I have copied it
              </Button>
            </Group>
          </Stack>
        </Alert>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Stack gap="xs">
          <TextInput
            label="Key name"
            description="What uses it, such as “Terraform” or “Grafana”."
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <FormError error={create.error} />
          <Group>
            <Button type="submit" loading={create.isPending}>
              Create key
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

/** The organization's API keys (admins): names and dates, never the keys. */
export default function ApiKeysPage() {
  const session = useSession();
  const admin = isAdmin(session);
  const queryClient = useQueryClient();
  const users = useAllUsers(admin);
  const keys = useQuery({
    queryKey: ['api-keys'],
    queryFn: () => data<ApiKey[]>(api.GET('/v2/api-keys')),
    enabled: admin,
  });
  const remove = useMutation({
    mutationFn: (key: ApiKey) => data(api.DELETE('/v2/api-keys/{id}', { params: { path: { id: key.id } } })),
    onSuccess: (_, key) => {
      notifications.show({ color: 'teal', message: `${key.name} is deleted: it no longer works.` });
      void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const username = (id: string | null) =>
    id ? ((users.data ?? []).find((u) => u.id === id)?.username ?? '') : 'The organization';
  if (!admin)
    return (
      <>
        <PageTitle>API keys</PageTitle>
        <Text>Only organization admins manage API keys: ask one of them for a key.</Text>
      </>
    );
  return (
    <>
      <PageTitle>API keys</PageTitle>
      <Stack>
        <Text size="sm" c="dimmed">
          Keys for Vigil's Opsgenie-compatible API, for scripts and tools. Deleting a key stops it at once.
        </Text>
        <FormError error={remove.error} />
        {keys.isError ? (
          <ErrorPanel error={keys.error} retry={() => void keys.refetch()} />
        ) : keys.isPending ? (
          <Skeleton height={80} />
        ) : keys.data.length === 0 ? (
          <Text c="dimmed">No API key yet.</Text>
        ) : (
          <Table fz="sm" layout="fixed" aria-label="API keys">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th visibleFrom="sm">Created</Table.Th>
                <Table.Th visibleFrom="sm">Last used</Table.Th>
                <Table.Th w={{ base: 110, sm: 220 }}>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.data.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td className="break-anywhere">
                    {k.name}
                    <Text size="xs" c="dimmed" className="break-anywhere">
                      {username(k.userId)}
                    </Text>
                  </Table.Td>
                  <Table.Td visibleFrom="sm">{when(k.createdAt)}</Table.Td>
                  <Table.Td visibleFrom="sm">{k.lastUsedAt ? when(k.lastUsedAt) : 'Never'}</Table.Td>
                  <Table.Td>
                    <ConfirmButton
                      label="Delete"
                      ariaLabel={`Delete ${k.name}`}
                      question={`Delete ${k.name}? What uses it stops working.`}
                      confirmLabel="Delete key"
                      loading={remove.isPending}
                      onConfirm={() => remove.mutate(k)}
                    />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <NewKey />
      </Stack>
    </>
  );
}
