import { Anchor, Card, Skeleton, Stack, Table, Text } from '@mantine/core';
import { Link, Navigate } from 'react-router';
import { ErrorPanel } from '../components/ErrorPanel';
import { InviteForm } from '../components/InviteForm';
import { PageTitle } from '../components/PageTitle';
import { useUsers } from '../lib/oncall';
import { isAdmin, useSession } from '../session';

function InvitePerson() {
  return (
    <Card withBorder component="section" aria-labelledby="invite-person">
      <InviteForm heading="Invite a person" headingId="invite-person" headingOrder={2} refresh={['users']} />
    </Card>
  );
}

/** The organization's people (admins); anyone else goes to their own page. */
export default function PeoplePage() {
  const session = useSession();
  const admin = isAdmin(session);
  const users = useUsers(admin);
  if (!admin) return <Navigate to={`/people/${session.user.id}`} replace />;
  return (
    <>
      <PageTitle>People</PageTitle>
      <Stack>
        {users.isError ? (
          <ErrorPanel error={users.error} retry={() => void users.refetch()} />
        ) : users.isPending ? (
          <Skeleton height={120} />
        ) : (
          <Table fz="sm" layout="fixed">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Person</Table.Th>
                <Table.Th w={90}>Role</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {users.data.map((u) => (
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
        )}
        <InvitePerson />
      </Stack>
    </>
  );
}
