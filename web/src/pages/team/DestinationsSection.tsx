import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  NativeSelect,
  Skeleton,
  Stack,
  Switch,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ChangeEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { api, ApiError, data, unwrap } from '../../api/client';
import type {
  Delivery,
  Destination,
  DestinationTestResult,
  DestinationType,
  Integration,
  TeamDetail,
} from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { CopyField } from '../../components/CopyField';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FormError } from '../../components/FormError';
import {
  draftHeaders,
  HeadersEditor,
  headersBody,
  headersChanged,
  movesToAnotherUrl,
  type DraftHeader,
} from '../../components/HeadersEditor';
import { ago, when } from '../../lib/time';
import { ReadOnlyNotice, useTeamRight } from './teamRights';

/**
 * A team's destinations: where its alerts also go besides the people on call (a signed webhook, a Slack
 * channel, a Slack incoming webhook, a Microsoft Teams channel), with a test, and the delivery log.
 */

const TYPES: { value: DestinationType; label: string; description: string }[] = [
  {
    value: 'webhook',
    label: 'Webhook',
    description:
      'Every change of the team’s alerts is POSTed as JSON to your URL, signed the Standard Webhooks way, and retried for a day.',
  },
  {
    value: 'slack',
    label: 'Slack channel',
    description:
      'One message per alert in a Slack channel, kept up to date, with Acknowledge, Close and Add note buttons. It needs Vigil’s Slack app, which an operator sets up; invite the app to the channel.',
  },
  {
    value: 'slack-webhook',
    label: 'Slack incoming webhook',
    description:
      'A message in one Slack channel when an alert is created, acknowledged and closed. It needs only an incoming webhook URL from a Slack app.',
  },
  {
    value: 'teams',
    label: 'Microsoft Teams',
    description:
      'A card in a Teams channel when an alert is created, acknowledged and closed, posted through a Teams Workflows webhook.',
  },
];

function typeLabel(d: Pick<Destination, 'type' | 'label'>): string {
  return TYPES.find((t) => t.value === d.type)?.label ?? d.label;
}

const STATE_COLORS: Record<Delivery['state'], string> = {
  pending: 'yellow',
  sending: 'blue',
  sent: 'teal',
  failed: 'red',
};

const STATE_LABELS: Record<Delivery['state'], string> = {
  pending: 'Waiting to retry',
  sending: 'Sending',
  sent: 'Sent',
  failed: 'Failed',
};

/** The team's destinations: its own, and those of the integrations it owns. */
function useTeamDestinations(team: TeamDetail) {
  const list = useQuery({
    queryKey: ['destinations'],
    queryFn: () => data<Destination[]>(api.GET('/v2/destinations')),
  });
  const integrations = useQuery({
    queryKey: ['integrations', { teamId: team.id }],
    queryFn: () =>
      data<Integration[]>(api.GET('/v2/integrations', { params: { query: { teamId: team.id } } })),
  });
  const owned = new Set((integrations.data ?? []).map((i) => i.id));
  const mine = list.data?.filter(
    (d) => d.team?.id === team.id || (d.integration ? owned.has(d.integration.id) : false),
  );
  return { ...list, data: mine };
}

function useDestination(id: string) {
  return useQuery({
    queryKey: ['destination', id],
    queryFn: () => data<Destination>(api.GET('/v2/destinations/{id}', { params: { path: { id } } })),
  });
}

function StateBadge({ destination }: { destination: Destination }) {
  return (
    <Badge color={destination.enabled ? 'teal' : 'gray'} variant="dot">
      {destination.enabled ? 'On' : 'Off'}
    </Badge>
  );
}

/** The list, on the Destinations tab. */
export function DestinationsSection({ team }: { team: TeamDetail }) {
  const navigate = useNavigate();
  const list = useTeamDestinations(team);
  const canEdit = useTeamRight(team.id, 'edit-integrations');
  const base = `/teams/${team.id}/destinations`;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2} size="h3">
          Destinations
        </Title>
        {canEdit ? <Button onClick={() => void navigate(`${base}/new`)}>Add destination</Button> : null}
      </Group>
      {canEdit === false ? <ReadOnlyNotice team={team} what="its destinations" /> : null}
      <Text size="sm" c="dimmed">
        Besides the people on call, {team.name}’s alerts also go to these: a webhook, a Slack or a Microsoft
        Teams channel.
      </Text>
      {list.isError ? (
        <ErrorPanel error={list.error} retry={() => void list.refetch()} />
      ) : !list.data ? (
        <Skeleton height={60} />
      ) : list.data.length === 0 ? (
        <Text c="dimmed">
          This team has no destination yet.{canEdit ? ' Select Add destination to add one.' : ''}
        </Text>
      ) : (
        <Table fz="sm" layout="fixed" aria-label="Destinations">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th>State</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.data.map((d) => (
              <Table.Tr key={d.id}>
                <Table.Td>
                  <Anchor component={Link} to={`${base}/${d.id}`} className="break-anywhere">
                    {d.name}
                  </Anchor>
                  {d.integration ? (
                    <Text size="xs" c="dimmed" className="break-anywhere">
                      Alerts of the integration {d.integration.name}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td className="break-anywhere">{typeLabel(d)}</Table.Td>
                <Table.Td>
                  <StateBadge destination={d} />
                  {!d.enabled && d.disabledReason ? (
                    <Text size="xs" className="break-anywhere" mt={4}>
                      {d.disabledReason}
                    </Text>
                  ) : null}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

type ConfigValues = Record<string, string>;

/** The settings of a type, as form fields. `current` is the stored config (masked) when editing. */
function ConfigFields({
  type,
  values,
  set,
  current,
}: {
  type: string;
  values: ConfigValues;
  set: (key: string, value: string) => void;
  current?: Record<string, unknown>;
}) {
  const field = (key: string) => ({
    value: values[key] ?? '',
    onChange: (e: ChangeEvent<HTMLInputElement>) => set(key, e.currentTarget.value),
  });
  const masked = typeof current?.url === 'string' ? current.url : '';
  switch (type) {
    case 'webhook':
      return (
        <>
          <TextInput
            label="Receiver URL"
            description="The https URL Vigil POSTs each event to."
            placeholder="https://hooks.example.com/vigil"
            type="url"
            required
            maxLength={2048}
            {...field('url')}
          />
          <TextInput
            label={current ? 'New signing secret' : 'Signing secret'}
            description={
              current
                ? `Leave it empty to keep the current secret (${String(current.secret ?? '')}).`
                : 'Optional: leave it empty and Vigil makes one (whsec_…), shown once after you add the destination.'
            }
            placeholder="whsec_…"
            autoComplete="off"
            {...field('secret')}
          />
        </>
      );
    case 'slack':
      return (
        <TextInput
          label="Channel ID"
          description="In Slack, open the channel’s details: its ID (such as C0123456789) is at the bottom. Invite Vigil’s app to the channel."
          placeholder="C0123456789"
          required
          maxLength={30}
          {...field('channel')}
        />
      );
    case 'slack-webhook':
      return (
        <TextInput
          label="Incoming webhook URL"
          description={
            current
              ? `Leave it empty to keep the current URL (${masked}).`
              : 'From your Slack app’s Incoming Webhooks page.'
          }
          placeholder="https://hooks.slack.com/services/T…/B…/…"
          type="url"
          required={!current}
          maxLength={2048}
          {...field('url')}
        />
      );
    case 'teams':
      return (
        <TextInput
          label="Workflow URL"
          description={
            current
              ? `Leave it empty to keep the current URL (${masked}).`
              : 'In Teams, make a workflow from “Post to a channel when a webhook request is received” and copy the URL of its trigger.'
          }
          placeholder="https://…logic.azure.com/workflows/…"
          type="url"
          required={!current}
          maxLength={2048}
          {...field('url')}
        />
      );
    default:
      return null;
  }
}

/** A webhook's stored headers, as the API shows them (values masked). */
function storedHeaders(config: Record<string, unknown> | undefined): Record<string, string> {
  const headers = config?.headers;
  if (!headers || typeof headers !== 'object') return {};
  return Object.fromEntries(
    Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** The config to send on create. */
function configToCreate(type: string, v: ConfigValues, headers: DraftHeader[]): Record<string, unknown> {
  if (type === 'slack') return { channel: (v.channel ?? '').trim() };
  const url = (v.url ?? '').trim();
  const secret = (v.secret ?? '').trim();
  if (type !== 'webhook') return { url };
  const given = headersBody(headers);
  return { url, ...(secret ? { secret } : {}), ...(Object.keys(given).length > 0 ? { headers: given } : {}) };
}

/**
 * The config to send on an update, or undefined when nothing of it changed. A webhook's headers go with
 * any change of its config, stored values masked: kept while the URL stays, refused by the server (422)
 * when the URL moves to another one and a value is not given again.
 */
function configToUpdate(
  type: string,
  v: ConfigValues,
  current: Record<string, unknown>,
  headers: DraftHeader[],
): Record<string, unknown> | undefined {
  const url = (v.url ?? '').trim();
  const secret = (v.secret ?? '').trim();
  switch (type) {
    case 'webhook':
      return url !== current.url || secret || headersChanged(headers, storedHeaders(current))
        ? { url, ...(secret ? { secret } : {}), headers: headersBody(headers) }
        : undefined;
    case 'slack': {
      const channel = (v.channel ?? '').trim();
      return channel !== current.channel ? { channel } : undefined;
    }
    default:
      return url ? { url } : undefined;
  }
}

/** Add destination: the type, its name and settings; a webhook's secret is shown once after. */
/** The form for a new destination, to those who may add one (edit-integrations on the team). */
export function AddDestination({ team }: { team: TeamDetail }) {
  const canEdit = useTeamRight(team.id, 'edit-integrations');
  if (canEdit === undefined) return <Skeleton height={60} />;
  if (!canEdit) return <ReadOnlyNotice team={team} what="its destinations" />;
  return <NewDestination team={team} />;
}

function NewDestination({ team }: { team: TeamDetail }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [type, setType] = useState<DestinationType>('webhook');
  const [name, setName] = useState('');
  const [values, setValues] = useState<ConfigValues>({});
  const [headers, setHeaders] = useState<DraftHeader[]>([]);
  const [made, setMade] = useState<Destination | null>(null);
  const chosen = TYPES.find((t) => t.value === type) ?? TYPES[0];
  const base = `/teams/${team.id}/destinations`;
  const create = useMutation({
    mutationFn: () =>
      data<Destination>(
        api.POST('/v2/destinations', {
          body: {
            name: name.trim(),
            type,
            team: { id: team.id },
            config: configToCreate(type, values, headers),
          },
        }),
      ),
    onSuccess: (destination) => {
      void queryClient.invalidateQueries({ queryKey: ['destinations'] });
      if (destination.type === 'webhook' && typeof destination.config.secret === 'string') {
        setMade(destination);
        return;
      }
      notifications.show({ color: 'teal', message: `${destination.name} is added.` });
      void navigate(`${base}/${destination.id}`);
    },
  });

  if (made) {
    return (
      <Stack>
        <Title order={2} size="h3">
          Add destination
        </Title>
        <Alert
          color="yellow"
          title={`${made.name} is added`}
          styles={{ title: { color: 'var(--mantine-color-text)' } }}
        >
          <Stack gap="xs">
            <Text size="sm">
              Copy the signing secret now: Vigil shows it only once. Your receiver verifies each request with
              it (the webhook-signature header, as Standard Webhooks has it).
            </Text>
            <CopyField
              label="Signing secret"
              value={String(made.config.secret)}
              description="It will not be shown again: if it is lost, set a new one on the destination."
            />
            <Group>
              <Button size="xs" onClick={() => void navigate(`${base}/${made.id}`)}>
                I have copied it
              </Button>
            </Group>
          </Stack>
        </Alert>
      </Stack>
    );
  }

  return (
    <Stack>
      <Anchor component={Link} to={base} size="sm">
        ← Destinations
      </Anchor>
      <Title order={2} size="h3">
        Add destination
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Stack gap="sm">
          <NativeSelect
            label="Type"
            description={chosen?.description}
            data={TYPES.map((t) => ({ value: t.value, label: t.label }))}
            value={type}
            onChange={(e) => {
              setType(e.currentTarget.value as DestinationType);
              setValues({});
              setHeaders([]);
            }}
          />
          <TextInput
            label="Name"
            description="Unique in the organization, such as “Platform webhook” or “#ops-alerts”."
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <ConfigFields
            type={type}
            values={values}
            set={(key, value) => setValues((v) => ({ ...v, [key]: value }))}
          />
          {type === 'webhook' ? <HeadersEditor value={headers} onChange={setHeaders} /> : null}
          <FormError error={create.error} />
          <Group>
            <Button type="submit" loading={create.isPending}>
              Add destination
            </Button>
            <Button variant="subtle" component={Link} to={base}>
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}

/** "Send test", in plain words. */
function TestAnswer({ result }: { result: DestinationTestResult }) {
  if (result.status === 'sent') {
    return (
      <Alert
        color="teal"
        title="The test arrived"
        role="status"
        styles={{ title: { color: 'var(--mantine-color-text)' } }}
      >
        <Text size="sm" className="break-anywhere">
          Vigil sent a test event{result.detail ? ` (${result.detail})` : ''}.
        </Text>
      </Alert>
    );
  }
  return (
    <Alert color="red" title="The test did not arrive" role="status">
      <Stack gap={4}>
        <Text size="sm" className="break-anywhere">
          {result.error ?? 'The destination refused it.'}
        </Text>
        {result.responseStatus ? (
          <Text size="sm" className="break-anywhere">
            It answered HTTP {result.responseStatus}
            {result.responseExcerpt ? `: ${result.responseExcerpt}` : ''}.
          </Text>
        ) : null}
        {result.disabled ? (
          <Text size="sm">
            Vigil turned the destination off: it says it is no more. Fix it, then turn it on again.
          </Text>
        ) : result.status === 'retry' ? (
          <Text size="sm">A real delivery would be tried again for a day.</Text>
        ) : null}
      </Stack>
    </Alert>
  );
}

/** "Send test" and what came of it (kept while the destination reloads). */
function TestCard({ destination: d }: { destination: Destination }) {
  const queryClient = useQueryClient();
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['destinations'] });
    void queryClient.invalidateQueries({ queryKey: ['destination', d.id] });
  };
  const test = useMutation({
    mutationFn: () =>
      data<DestinationTestResult>(api.POST('/v2/destinations/{id}/test', { params: { path: { id: d.id } } })),
    onSuccess: (result) => {
      if (result.disabled) refresh();
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="destination-test">
      <Stack gap="xs">
        <Title order={3} size="h4" id="destination-test">
          Send test
        </Title>
        <Text size="sm" c="dimmed">
          Sends a test event now (not an alert) and shows what came of it. It is not kept in the delivery log.
        </Text>
        <Group>
          <Button variant="default" onClick={() => test.mutate()} loading={test.isPending}>
            Send test
          </Button>
        </Group>
        <FormError error={test.error} />
        {test.data ? <TestAnswer result={test.data} /> : null}
      </Stack>
    </Card>
  );
}

function SettingsTab({ team, destination: d }: { team: TeamDetail; destination: Destination }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [name, setName] = useState(d.name);
  const [enabled, setEnabled] = useState(d.enabled);
  const [values, setValues] = useState<ConfigValues>((): ConfigValues =>
    d.type === 'webhook'
      ? { url: String(d.config.url ?? '') }
      : d.type === 'slack'
        ? { channel: String(d.config.channel ?? '') }
        : {},
  );
  const [headers, setHeaders] = useState(() => draftHeaders(storedHeaders(d.config)));
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['destinations'] });
    void queryClient.invalidateQueries({ queryKey: ['destination', d.id] });
  };
  const save = useMutation({
    mutationFn: () => {
      const config = configToUpdate(d.type, values, d.config, headers);
      return data<Destination>(
        api.PATCH('/v2/destinations/{id}', {
          params: { path: { id: d.id } },
          body: {
            ...(name.trim() !== d.name ? { name: name.trim() } : {}),
            ...(enabled !== d.enabled ? { enabled } : {}),
            ...(config ? { config } : {}),
          },
        }),
      );
    },
    onSuccess: (saved) => {
      notifications.show({ color: 'teal', message: `${saved.name} is saved.` });
      setValues((v) => ({
        ...v,
        secret: '',
        ...(d.type === 'webhook' || d.type === 'slack' ? {} : { url: '' }),
      }));
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap<void>(api.DELETE('/v2/destinations/{id}', { params: { path: { id: d.id } } })),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `${d.name} is deleted.` });
      queryClient.removeQueries({ queryKey: ['destination', d.id] });
      void queryClient.invalidateQueries({ queryKey: ['destinations'] });
      void navigate(`/teams/${team.id}/destinations`);
    },
  });
  return (
    <Stack gap="lg">
      <Card withBorder component="section" aria-labelledby="destination-settings">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
        >
          <Stack gap="sm">
            <Title order={3} size="h4" id="destination-settings">
              Settings
            </Title>
            <TextInput
              label="Name"
              required
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
            />
            <Switch
              label="On"
              description="Alerts are sent to it while it is on. Turning it on again clears why Vigil turned it off."
              checked={enabled}
              onChange={(e) => setEnabled(e.currentTarget.checked)}
            />
            <ConfigFields
              type={d.type}
              values={values}
              set={(key, value) => setValues((v) => ({ ...v, [key]: value }))}
              current={d.config}
            />
            {d.type === 'webhook' ? (
              <HeadersEditor
                value={headers}
                onChange={setHeaders}
                storedValuesNeeded={movesToAnotherUrl(String(d.config.url ?? ''), values.url ?? '')}
              />
            ) : null}
            <FormError error={save.error} />
            <Group>
              <Button type="submit" loading={save.isPending}>
                Save
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <Card withBorder component="section" aria-labelledby="destination-delete">
        <Stack gap="xs" align="flex-start">
          <Title order={3} size="h4" id="destination-delete">
            Delete
          </Title>
          <Text size="sm" c="dimmed">
            Deleting it deletes its delivery log too.
          </Text>
          <FormError error={remove.error} />
          <ConfirmButton
            label="Delete destination"
            question={`Delete ${d.name} and its delivery log?`}
            confirmLabel="Delete"
            loading={remove.isPending}
            onConfirm={() => remove.mutate()}
          />
        </Stack>
      </Card>
    </Stack>
  );
}

const PAGE = 20;

/**
 * The server's 403 for a delivery log: the caller neither sees every alert nor may change the destination.
 * The console cannot tell beforehand (it does not know who holds alerts-access-all), so it asks once.
 */
function refused(error: unknown): boolean {
  return error instanceof ApiError && error.status === 403;
}

function DeliveriesTab({ destination }: { destination: Destination }) {
  const [offset, setOffset] = useState(0);
  const log = useQuery({
    queryKey: ['destination', destination.id, 'deliveries', offset],
    queryFn: () =>
      data<Delivery[]>(
        api.GET('/v2/destinations/{id}/deliveries', {
          params: { path: { id: destination.id }, query: { limit: PAGE, offset } },
        }),
      ),
    // A refusal stays one: asking again every 15 s, or on focus, would only be refused again.
    refetchInterval: (query) => (refused(query.state.error) ? false : 15_000),
    refetchOnWindowFocus: (query) => !refused(query.state.error),
  });
  const heading = (
    <Title order={3} size="h4" id="deliveries-heading">
      Deliveries
    </Title>
  );
  if (log.isError && refused(log.error))
    return (
      <Stack gap="sm" component="section" aria-labelledby="deliveries-heading">
        {heading}
        <Text size="sm" c="dimmed" role="note">
          You may not read this destination’s delivery log: it names the alerts sent, so only those who see
          every alert or may change the destination read it.
        </Text>
      </Stack>
    );
  return (
    <Stack gap="sm" component="section" aria-labelledby="deliveries-heading">
      <Group justify="space-between" wrap="wrap">
        {heading}
        <Button size="xs" variant="default" onClick={() => void log.refetch()} loading={log.isFetching}>
          Refresh
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        Each event of the team’s alerts sent to {destination.name}, newest first. Failures are tried again for
        a day.
      </Text>
      {log.isError ? (
        <ErrorPanel error={log.error} retry={() => void log.refetch()} />
      ) : log.isPending ? (
        <Skeleton height={80} />
      ) : log.data.length === 0 ? (
        <Text size="sm" c="dimmed">
          {offset > 0 ? 'No older deliveries.' : 'Nothing was sent to this destination yet.'}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={720}>
          <Table fz="sm" aria-label={`Deliveries to ${destination.name}`} verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Time</Table.Th>
                <Table.Th>Event</Table.Th>
                <Table.Th>Alert</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Attempts</Table.Th>
                <Table.Th>Last error</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {log.data.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    <time dateTime={r.createdAt} title={ago(r.createdAt)}>
                      {when(r.createdAt)}
                    </time>
                  </Table.Td>
                  <Table.Td>{r.eventType}</Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/alerts/${r.alertId}`} ff="monospace" size="sm">
                      {r.alertId.slice(0, 8)}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={STATE_COLORS[r.state]} variant="dot" tt="none">
                      {STATE_LABELS[r.state]}
                    </Badge>
                    {r.state === 'pending' && r.nextAttemptAt ? (
                      <Text size="xs" c="dimmed">
                        next {ago(r.nextAttemptAt)}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>{r.attempts}</Table.Td>
                  <Table.Td className="break-anywhere">
                    {r.lastError ??
                      (r.responseStatus && r.state !== 'sent' ? `HTTP ${r.responseStatus}` : '—')}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {offset > 0 || (log.data?.length ?? 0) === PAGE ? (
        <Group>
          <Button
            size="xs"
            variant="default"
            disabled={offset === 0}
            onClick={() => setOffset(Math.max(0, offset - PAGE))}
          >
            Newer
          </Button>
          <Button
            size="xs"
            variant="default"
            disabled={(log.data?.length ?? 0) < PAGE}
            onClick={() => setOffset(offset + PAGE)}
          >
            Older
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}

/** One destination: Settings (test, edit, delete) and Deliveries, as tabs whose address is the URL. */
export function DestinationPage({ team }: { team: TeamDetail }) {
  const { destinationId = '' } = useParams();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const destination = useDestination(destinationId);
  const canEdit = useTeamRight(team.id, 'edit-integrations');
  const base = `/teams/${team.id}/destinations`;
  const tab = pathname.endsWith('/deliveries') ? 'deliveries' : 'settings';
  if (destination.isError)
    return (
      <ErrorPanel
        error={destination.error}
        retry={() => void destination.refetch()}
        title="This destination could not be loaded"
      />
    );
  if (!destination.data) return <Skeleton height={200} aria-label="Loading the destination" />;
  const d = destination.data;
  return (
    <Stack>
      <Anchor component={Link} to={base} size="sm">
        ← Destinations
      </Anchor>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Title order={2} size="h3" className="break-anywhere">
          {d.name}
        </Title>
        <Group gap="xs">
          <Badge variant="light" tt="none">
            {typeLabel(d)}
          </Badge>
          <StateBadge destination={d} />
        </Group>
      </Group>
      {d.integration ? (
        <Text size="sm" c="dimmed" className="break-anywhere">
          Gets the alerts of the integration{' '}
          <Anchor component={Link} to={`/integrations/${d.integration.id}`} size="sm">
            {d.integration.name}
          </Anchor>
          .
        </Text>
      ) : null}
      {!d.enabled ? (
        <Alert color="red" title="This destination is off" role="status">
          <Text size="sm" className="break-anywhere">
            {d.disabledReason
              ? `Vigil turned it off: ${d.disabledReason.replace(/[.\s]+$/, '')}. Fix the cause, then turn it on again.`
              : 'Nothing is sent to it until it is turned on again.'}
          </Text>
        </Alert>
      ) : null}
      <Tabs
        value={tab}
        keepMounted={false}
        onChange={(value) =>
          void navigate(value === 'deliveries' ? `${base}/${d.id}/deliveries` : `${base}/${d.id}`)
        }
      >
        <Tabs.List mb="md">
          <Tabs.Tab value="settings">Settings</Tabs.Tab>
          <Tabs.Tab value="deliveries">Deliveries</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="settings">
          {canEdit === undefined ? (
            <Skeleton height={120} />
          ) : canEdit ? (
            <Stack gap="lg">
              <TestCard destination={d} />
              <SettingsTab key={d.updatedAt} team={team} destination={d} />
            </Stack>
          ) : (
            <ReadOnlyNotice team={team} what="its destinations" />
          )}
        </Tabs.Panel>
        <Tabs.Panel value="deliveries">
          <DeliveriesTab destination={d} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
