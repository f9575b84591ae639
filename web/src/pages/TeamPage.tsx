import {
  Accordion,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Grid,
  Group,
  NavLink as MantineNavLink,
  Select,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, NavLink, Route, Routes, useLocation, useNavigate, useParams } from 'react-router';
import { api, data } from '../api/client';
import type { Integration, TeamDetail } from '../api/types';
import { CopyField } from '../components/CopyField';
import { ErrorPanel } from '../components/ErrorPanel';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { isAdmin, useSession } from '../session';
import { useAssignableTeams } from './team/assignableTeams';
import { AwsSetupSection } from './team/AwsSetupSection';
import { AddDestination, DestinationPage, DestinationsSection } from './team/DestinationsSection';
import { EscalationsSection } from './team/EscalationsSection';
import { InviteToTeam } from './team/InviteToTeam';
import { RoutingSection } from './team/RoutingSection';
import { ReadOnlyNotice, useTeamRight } from './team/teamRights';
import {
  draftTypeSettings,
  SavedTypeSettings,
  TypeSettingsFields,
  typeSettingsBody,
} from './team/IntegrationTypeSettings';
import { PoliciesSection } from './policies/PoliciesSection';

export const TYPE_LABELS: Record<string, string> = {
  AmazonSecurityHub: 'Amazon Security Hub',
  API: 'API',
  Email: 'Email',
  Webhook: 'Webhook',
};

const CATALOG = [
  {
    type: 'AmazonSecurityHub',
    name: 'Amazon Security Hub',
    description:
      'Findings become alerts for this team; acknowledge, close, notes and priority go back to the finding.',
  },
  {
    type: 'API',
    name: 'API',
    description:
      'A key for the Opsgenie-compatible Alert API, for scripts, Alertmanager, Grafana and other tools.',
  },
  {
    type: 'Email',
    name: 'Email',
    description: 'An email address of its own: each message sent to it becomes an alert for this team.',
  },
  {
    type: 'Webhook',
    name: 'Webhook',
    description:
      'This team’s alert activity (created, acknowledged, closed…) sent as signed JSON to your URL.',
  },
] as const;

/** The Standard plan's limits, in the words of the integration's documentation. */
export function StandardPlanNotice() {
  const session = useSession();
  if (session.organization.plan !== 'standard') return null;
  return (
    <Alert color="yellow" title="Standard plan" mb="md">
      <Text size="sm">
        Bidirectional integrations aren’t supported in the Standard plan. All the other integrations are
        supported at a team level in Standard.
      </Text>
      <Text size="sm" mt="xs">
        If you're using the Standard plan in Vigil, you can add this integration only from your team’s
        operations page. Adding an integration from your team’s operations page makes your team the owner of
        the integration. This means Vigil only assigns the alerts received through this integration to your
        team.
      </Text>
    </Alert>
  );
}

function useTeam(id: string) {
  return useQuery({
    queryKey: ['team', id],
    queryFn: () =>
      data<TeamDetail>(
        api.GET('/v2/teams/{identifier}', {
          params: { path: { identifier: id }, query: { identifierType: 'id' } },
        }),
      ),
  });
}

function Overview({ team }: { team: TeamDetail }) {
  const session = useSession();
  return (
    <Stack>
      <Title order={2} size="h3">
        Members
      </Title>
      {team.members && team.members.length > 0 ? (
        <Table fz="sm" layout="fixed">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>User</Table.Th>
              <Table.Th w={100}>Role</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {team.members.map((m) => (
              <Table.Tr key={m.user.id}>
                <Table.Td className="break-anywhere">{m.user.username}</Table.Td>
                <Table.Td>{m.role}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : (
        <Text c="dimmed">No members yet.</Text>
      )}
      {isAdmin(session) ? (
        <Card withBorder>
          <InviteToTeam team={team} />
        </Card>
      ) : null}
    </Stack>
  );
}

function IntegrationsList({ team }: { team: TeamDetail }) {
  const navigate = useNavigate();
  const canEdit = useTeamRight(team.id, 'edit-integrations');
  const list = useQuery({
    queryKey: ['integrations', { teamId: team.id }],
    queryFn: () =>
      data<Integration[]>(api.GET('/v2/integrations', { params: { query: { teamId: team.id } } })),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2} size="h3">
          Integrations
        </Title>
        {canEdit ? (
          <Button onClick={() => void navigate(`/teams/${team.id}/integrations/new`)}>Add integration</Button>
        ) : null}
      </Group>
      {canEdit === false ? <ReadOnlyNotice team={team} what="its integrations" /> : null}
      <StandardPlanNotice />
      {list.isError ? (
        <ErrorPanel error={list.error} retry={() => void list.refetch()} />
      ) : list.isPending ? (
        <Skeleton height={60} />
      ) : list.data.length === 0 ? (
        <Text c="dimmed">
          This team has no integration yet.{canEdit ? ' Select Add integration to add one.' : ''}
        </Text>
      ) : (
        <Table fz="sm" layout="fixed">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th w={90}>State</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.data.map((i) => (
              <Table.Tr key={i.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/integrations/${i.id}`} className="break-anywhere">
                    {i.name}
                  </Anchor>
                </Table.Td>
                <Table.Td className="break-anywhere">{TYPE_LABELS[i.type] ?? i.type}</Table.Td>
                <Table.Td>
                  <Badge color={i.enabled ? 'teal' : 'gray'} variant="dot">
                    {i.enabled ? 'On' : 'Off'}
                  </Badge>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

const CUSTOM_ACTION_PLACEHOLDER = '< CUSTOM ACTION ARN YOU CREATED IN SECURITY HUB >';

/** "Steps to configure the integration", right after Continue. */
export function ConfigureSteps({
  integration,
  defaultOpen,
}: {
  integration: Integration;
  defaultOpen?: boolean;
}) {
  const [actionArn, setActionArn] = useState('');
  const pattern = JSON.stringify(
    {
      source: ['aws.securityhub'],
      'detail-type': ['Security Hub Findings - Custom Action'],
      resources: [actionArn.trim() || CUSTOM_ACTION_PLACEHOLDER],
    },
    null,
    2,
  );
  const allFindings = integration.eventPattern
    ? JSON.stringify(integration.eventPattern, null, 2)
    : undefined;
  const endpoint = integration.endpointUrl;
  return (
    <Accordion variant="separated" defaultValue={defaultOpen ? 'steps' : null}>
      <Accordion.Item value="steps">
        <Accordion.Control>Steps to configure the integration</Accordion.Control>
        <Accordion.Panel>
          <Stack gap="md">
            {endpoint ? (
              <CopyField
                label="Integration endpoint URL"
                value={endpoint}
                description="Copy it now: it holds the integration's key, which Vigil shows only once. Use it as the HTTPS endpoint of the SNS subscription (or of an EventBridge API destination)."
              />
            ) : (
              <Stack gap={4}>
                <CopyField
                  label="Integration endpoint URL"
                  value={integration.endpointUrlTemplate ?? ''}
                  description="The key is shown only when it is made. To get a full URL again, regenerate the key on the integration's page (the old key stops working)."
                />
              </Stack>
            )}
            <div>
              <Title order={3} size="h5">
                Event pattern
              </Title>
              <Text size="sm" mb="xs">
                Create a custom Security Hub action, enter its ARN here, and use this pattern in the
                EventBridge (CloudWatch Events) rule whose target is the SNS topic.
              </Text>
              <TextInput
                label="Custom action ARN"
                placeholder="arn:aws:securityhub:us-east-1:123456789012:action/custom/SendToVigil"
                value={actionArn}
                onChange={(e) => setActionArn(e.currentTarget.value)}
              />
              <Code
                block
                mt="xs"
                aria-label="Event pattern"
                className="break-anywhere"
                style={{ whiteSpace: 'pre-wrap' }}
              >
                {pattern}
              </Code>
              <CopyButton value={pattern}>
                {({ copied, copy }) => (
                  <Button size="xs" variant="light" mt="xs" onClick={copy}>
                    {copied ? 'Event pattern copied' : 'Copy event pattern'}
                  </Button>
                )}
              </CopyButton>
              {allFindings ? (
                <Text size="sm" mt="sm">
                  To send every finding Security Hub imports instead (no custom action), use{' '}
                  <Code className="break-anywhere" style={{ whiteSpace: 'pre-wrap' }}>
                    {allFindings.replace(/\s+/g, ' ')}
                  </Code>
                  .
                </Text>
              ) : null}
            </div>
            <AwsSetupSection integration={integration} />
          </Stack>
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}

/** The way to add an integration, to those who may (edit-integrations on the team); the others are told. */
function AddIntegrationIfAllowed({ team }: { team: TeamDetail }) {
  const canEdit = useTeamRight(team.id, 'edit-integrations');
  if (canEdit === undefined) return <Skeleton height={60} />;
  if (!canEdit) return <ReadOnlyNotice team={team} what="its integrations" />;
  return <AddIntegration team={team} />;
}

function AddIntegration({ team }: { team: TeamDetail }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const assignable = useAssignableTeams(team.id);
  const [search, setSearch] = useState('');
  const [type, setType] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [assignee, setAssignee] = useState<string | null>(null);
  const [saved, setSaved] = useState<Integration | null>(null);
  const [settings, setSettings] = useState(draftTypeSettings);
  const matches = CATALOG.filter((c) => c.name.toLowerCase().includes(search.trim().toLowerCase()));
  const chosen = CATALOG.find((c) => c.type === type);

  const create = useMutation({
    mutationFn: () =>
      data<Integration>(
        api.POST('/v2/integrations', {
          body: {
            type: chosen?.type ?? 'AmazonSecurityHub',
            name: name.trim(),
            // Saved off, as the page then says: "Turn on integration" is the flow's last step. (An SNS
            // subscription is still confirmed while it is off.)
            enabled: false,
            ownerTeam: { id: team.id },
            ...(assignee ? { assigneeTeam: { id: assignee } } : {}),
            ...typeSettingsBody(chosen?.type ?? '', settings),
          },
        }),
      ),
    onSuccess: (integration) => {
      setSaved(integration);
      void queryClient.invalidateQueries({ queryKey: ['integrations'] });
    },
  });
  const turnOn = useMutation({
    mutationFn: (id: string) =>
      data<Integration>(api.POST('/v2/integrations/{id}/enable', { params: { path: { id } } })),
    onSuccess: (integration) => {
      notifications.show({ color: 'teal', message: `${integration.name} is on.` });
      void queryClient.invalidateQueries({ queryKey: ['integrations'] });
      void navigate(`/integrations/${integration.id}`);
    },
  });

  return (
    <Stack>
      <Title order={2} size="h3">
        Add integration
      </Title>
      <StandardPlanNotice />
      {!saved ? (
        <>
          <TextInput
            label="Search integrations"
            description="Run a search and select “Amazon Security Hub”."
            placeholder="Amazon Security Hub"
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            type="search"
          />
          <Stack gap="xs" role="list" aria-label="Integrations found">
            {matches.length === 0 ? (
              <Text c="dimmed" size="sm">
                No integration matches “{search}”.
              </Text>
            ) : (
              matches.map((c) => (
                <Card
                  key={c.type}
                  withBorder
                  p={0}
                  role="listitem"
                  style={c.type === type ? { borderColor: 'var(--mantine-primary-color-filled)' } : undefined}
                >
                  <UnstyledButton
                    p="sm"
                    w="100%"
                    aria-pressed={c.type === type}
                    onClick={() => {
                      setType(c.type);
                      if (!name) setName(c.name);
                    }}
                  >
                    <Text fw={600}>{c.name}</Text>
                    <Text size="sm" c="dimmed">
                      {c.description}
                    </Text>
                  </UnstyledButton>
                </Card>
              ))
            )}
          </Stack>
          {chosen ? (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                create.mutate();
              }}
            >
              <Stack gap="sm">
                <TextInput
                  label="Name"
                  description="Enter a name for the integration."
                  required
                  maxLength={200}
                  value={name}
                  onChange={(e) => setName(e.currentTarget.value)}
                />
                <Select
                  label="Assignee team"
                  description="Optional: a team to receive the alerts from this integration instead of this one."
                  placeholder={team.name}
                  clearable
                  data={assignable.teams.map((t) => ({ value: t.id, label: t.name }))}
                  disabled={assignable.pending}
                  value={assignee}
                  onChange={setAssignee}
                />
                <TypeSettingsFields type={chosen.type} value={settings} onChange={setSettings} />
                <FormError error={create.error} />
                <Group>
                  <Button type="submit" loading={create.isPending}>
                    Continue
                  </Button>
                </Group>
              </Stack>
            </form>
          ) : null}
        </>
      ) : (
        <>
          <Alert
            color="teal"
            title="The integration is saved"
            styles={{ title: { color: 'var(--mantine-color-text)' } }}
          >
            {saved.name} belongs to {team.name}. It is off until you turn it on.
          </Alert>
          {saved.type === 'AmazonSecurityHub' ? (
            <ConfigureSteps integration={saved} />
          ) : saved.type === 'Email' || saved.type === 'Webhook' ? (
            <SavedTypeSettings integration={saved} />
          ) : saved.apiKey ? (
            <CopyField
              label="API key"
              value={saved.apiKey}
              description="Copy it now: Vigil shows it only once."
            />
          ) : null}
          <FormError error={turnOn.error} />
          <Group>
            <Button onClick={() => turnOn.mutate(saved.id)} loading={turnOn.isPending}>
              Turn on integration
            </Button>
            <Button variant="subtle" component={Link} to={`/integrations/${saved.id}`}>
              Leave it off for now
            </Button>
          </Group>
          <Text size="sm" c="dimmed">
            The rules you create for the integration will work only if you turn on the integration.
          </Text>
        </>
      )}
    </Stack>
  );
}

/** A team's operations page: a left navigation panel and the section chosen in it. */
export default function TeamPage() {
  const { id = '' } = useParams();
  const team = useTeam(id);
  const { pathname } = useLocation();
  if (team.isError)
    return (
      <ErrorPanel
        error={team.error}
        retry={() => void team.refetch()}
        title="This team could not be loaded"
      />
    );
  if (!team.data) return <Skeleton height={200} aria-label="Loading the team" />;
  const t = team.data;
  const base = `/teams/${t.id}`;
  return (
    <>
      <Anchor component={Link} to="/teams" size="sm">
        ← Teams
      </Anchor>
      <PageTitle mt="xs">{t.name}</PageTitle>
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, sm: 3 }}>
          <nav aria-label="Team">
            <MantineNavLink component={NavLink} to={base} end label="Overview" active={pathname === base} />
            <MantineNavLink
              component={NavLink}
              to={`${base}/integrations`}
              label="Integrations"
              active={pathname.startsWith(`${base}/integrations`)}
            />
            <MantineNavLink
              component={NavLink}
              to={`${base}/policies`}
              label="Policies"
              active={pathname.startsWith(`${base}/policies`)}
            />
            <MantineNavLink
              component={NavLink}
              to={`${base}/escalations`}
              label="Escalations"
              active={pathname.startsWith(`${base}/escalations`)}
            />
            <MantineNavLink
              component={NavLink}
              to={`${base}/routing`}
              label="Routing rules"
              active={pathname.startsWith(`${base}/routing`)}
            />
            <MantineNavLink
              component={NavLink}
              to={`${base}/destinations`}
              label="Destinations"
              active={pathname.startsWith(`${base}/destinations`)}
            />
            <MantineNavLink component={NavLink} to="/on-call" label="On-call" />
          </nav>
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 9 }}>
          <Routes>
            <Route index element={<Overview team={t} />} />
            <Route path="integrations" element={<IntegrationsList team={t} />} />
            <Route path="integrations/new" element={<AddIntegrationIfAllowed team={t} />} />
            <Route path="escalations" element={<EscalationsSection team={t} />} />
            <Route path="routing" element={<RoutingSection team={t} />} />
            <Route path="policies" element={<PoliciesSection team={t} />} />
            <Route path="destinations" element={<DestinationsSection team={t} />} />
            <Route path="destinations/new" element={<AddDestination team={t} />} />
            <Route path="destinations/:destinationId/*" element={<DestinationPage team={t} />} />
            <Route path="*" element={<Text>There is no such section: choose one on the left.</Text>} />
          </Routes>
        </Grid.Col>
      </Grid>
    </>
  );
}
