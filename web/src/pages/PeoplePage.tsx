import { Anchor, Card, Group, Skeleton, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDeferredValue, useMemo, useState } from 'react';
import { Link, Navigate } from 'react-router';
import { ErrorPanel } from '../components/ErrorPanel';
import { SearchIcon } from '../components/icons';
import { InviteForm } from '../components/InviteForm';
import { PageTitle } from '../components/PageTitle';
import { useAllUsers } from '../lib/users';
import { isAdmin, useSession } from '../session';

function InvitePerson() {
  return (
    <Card withBorder component="section" aria-labelledby="invite-person">
      <InviteForm heading="Invite a person" headingId="invite-person" refresh={['users']} />
    </Card>
  );
}

function count(n: number): string {
  return `${n.toLocaleString()} ${n === 1 ? 'person' : 'people'}`;
}

/** The organization's people (admins); anyone else goes to their own page. */
export default function PeoplePage() {
  const session = useSession();
  const admin = isAdmin(session);
  const users = useAllUsers(admin);
  const [filter, setFilter] = useState('');
  // Everyone is loaded already: narrowing the list is the browser's job, without holding up the typing.
  const needle = useDeferredValue(filter.trim().toLowerCase());
  const shown = useMemo(
    () =>
      (users.data ?? []).filter(
        (u) =>
          !needle || u.username.toLowerCase().includes(needle) || u.fullName.toLowerCase().includes(needle),
      ),
    [users.data, needle],
  );
  if (!admin) return <Navigate to={`/people/${session.user.id}`} replace />;
  return (
    <>
      <PageTitle>People</PageTitle>
      <Stack>
        {users.isError ? (
          <ErrorPanel error={users.error} retry={() => void users.refetch()} />
        ) : users.isPending ? (
          <Skeleton height={120} aria-label="Loading the people" />
        ) : (
          <>
            <Group align="flex-end" justify="space-between" wrap="wrap" gap="xs">
              <TextInput
                label="Find a person"
                placeholder="Name or email"
                leftSection={<SearchIcon />}
                value={filter}
                onChange={(e) => setFilter(e.currentTarget.value)}
                style={{ flex: 1 }}
                miw={200}
                maw={420}
              />
              <Text size="sm" c="dimmed" aria-live="polite">
                {needle
                  ? `${shown.length.toLocaleString()} of ${count(users.data.length)}`
                  : count(users.data.length)}
              </Text>
            </Group>
            <Table fz="sm" layout="fixed" aria-label="People">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Person</Table.Th>
                  <Table.Th w={90}>Role</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((u) => (
                  <Table.Tr key={u.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/people/${u.id}`} className="break-anywhere">
                        {u.fullName || u.username}
                      </Anchor>
                      <Text size="xs" c="dimmed" className="break-anywhere">
                        {u.username}
                        {u.blocked ? ' (blocked)' : ''}
                      </Text>
                    </Table.Td>
                    <Table.Td>{u.role.name}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {shown.length === 0 ? (
              <Text c="dimmed" ta="center">
                Nobody’s name or email holds “{filter.trim()}”.
              </Text>
            ) : null}
          </>
        )}
        <InvitePerson />
      </Stack>
    </>
  );
}
