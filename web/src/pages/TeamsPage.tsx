import { Anchor, Card, SimpleGrid, Skeleton, Text } from '@mantine/core';
import { Link } from 'react-router';
import { ErrorPanel } from '../components/ErrorPanel';
import { PageTitle } from '../components/PageTitle';
import { useTeams } from '../lib/teams';
import { isAdmin, useSession } from '../session';

export default function TeamsPage() {
  const teams = useTeams();
  const session = useSession();
  return (
    <>
      <PageTitle>Teams</PageTitle>
      {isAdmin(session) ? (
        <Text size="sm" mb="md">
          Alert policies for every team’s alerts:{' '}
          <Anchor component={Link} to="/settings/policies" underline="always">
            Global policies
          </Anchor>
        </Text>
      ) : null}
      {teams.isError ? (
        <ErrorPanel error={teams.error} retry={() => void teams.refetch()} />
      ) : teams.isPending ? (
        <Skeleton height={80} />
      ) : teams.data.length === 0 ? (
        <Text c="dimmed">No teams yet. An admin creates them with POST /v2/teams.</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} component="ul" style={{ listStyle: 'none', padding: 0 }}>
          {teams.data.map((t) => (
            <Card withBorder component="li" key={t.id}>
              <Anchor component={Link} to={`/teams/${t.id}`} fw={600} className="break-anywhere">
                {t.name}
              </Anchor>
              <Text size="sm" c="dimmed" lineClamp={2}>
                {t.description || 'Operations page: integrations, members'}
              </Text>
            </Card>
          ))}
        </SimpleGrid>
      )}
    </>
  );
}
