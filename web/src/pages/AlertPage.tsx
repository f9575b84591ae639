import {
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Grid,
  Group,
  Menu,
  NativeSelect,
  Popover,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Textarea,
  Timeline,
  Title,
} from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useRef, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { api, data } from '../api/client';
import { PRIORITIES, type AlertDetail, type Escalation, type Priority } from '../api/types';
import { PriorityBadge, StatusBadge } from '../components/AlertBadges';
import { ErrorPanel } from '../components/ErrorPanel';
import { ExternalIcon } from '../components/icons';
import { PageTitle } from '../components/PageTitle';
import { alertPageQueries } from './alerts/alertQueries';
import { AttachmentsCard } from './alerts/AttachmentsCard';
import { UserAutocomplete } from '../components/UserAutocomplete';
import { useTeamNames } from '../lib/teams';
import { useAlertAction, type AlertAction } from '../lib/alertActions';
import { FINDING_DETAIL_KEYS, findingOf, safeUrl, type FindingView } from '../lib/finding';
import { ago, when } from '../lib/time';

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div style={{ minWidth: 0 }}>
      <Text size="xs" c="dimmed" fw={500} tt="uppercase">
        {label}
      </Text>
      <Text size="sm" component="div" className="break-anywhere">
        {children ?? '—'}
      </Text>
    </div>
  );
}

function ExternalLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Anchor href={href} target="_blank" rel="noopener noreferrer" className="break-anywhere">
      {children} <ExternalIcon />
      <span style={{ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }}>
        (opens in a new tab)
      </span>
    </Anchor>
  );
}

/** Background and text of each severity, each pair above 4.5:1. */
const SEVERITY_COLORS: Record<string, [string, string]> = {
  CRITICAL: ['red.8', 'white'],
  HIGH: ['orange.5', 'black'],
  MEDIUM: ['yellow.4', 'black'],
  LOW: ['blue.8', 'white'],
  INFORMATIONAL: ['gray.7', 'white'],
};

function FindingCard({ finding }: { finding: FindingView }) {
  return (
    <Card withBorder component="section" aria-labelledby="finding-heading">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={2} size="h4" id="finding-heading">
          Security Hub finding
        </Title>
        {finding.consoleUrl ? (
          <ExternalLink href={finding.consoleUrl}>Open in the AWS console</ExternalLink>
        ) : null}
      </Group>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
        <Field label="Account">{finding.account}</Field>
        <Field label="Region">{finding.region}</Field>
        <Field label="Severity">
          {finding.severity ? (
            <Badge
              color={SEVERITY_COLORS[finding.severity]?.[0] ?? 'gray.7'}
              c={SEVERITY_COLORS[finding.severity]?.[1] ?? 'white'}
              variant="filled"
            >
              {finding.severity}
            </Badge>
          ) : null}
        </Field>
        <Field label="Workflow status">{finding.workflowStatus}</Field>
        <Field label="Compliance">{finding.compliance}</Field>
        <Field label="Record state">{finding.recordState}</Field>
        <Field label="Product">{finding.productName}</Field>
        <Field label="Generator">{finding.generatorId}</Field>
        <Field label="Types">{finding.types.join(', ') || undefined}</Field>
      </SimpleGrid>
      <Stack gap="sm" mt="md">
        <Field
          label={`Resources${finding.resourceTypes.length ? ` (${finding.resourceTypes.join(', ')})` : ''}`}
        >
          {finding.resources.length ? (
            <Stack gap={2}>
              {finding.resources.map((r) => (
                <Code key={r.id} className="break-anywhere" style={{ whiteSpace: 'normal' }}>
                  {r.id}
                </Code>
              ))}
            </Stack>
          ) : undefined}
        </Field>
        {finding.remediationText || finding.remediationUrl ? (
          <Field label="Remediation">
            <Stack gap={4}>
              {finding.remediationText ? <Text size="sm">{finding.remediationText}</Text> : null}
              {safeUrl(finding.remediationUrl) ? (
                <ExternalLink href={safeUrl(finding.remediationUrl) as string}>
                  {finding.remediationUrl}
                </ExternalLink>
              ) : null}
            </Stack>
          </Field>
        ) : null}
        <Field label="Finding ID">
          <Code className="break-anywhere" style={{ whiteSpace: 'normal' }}>
            {finding.id}
          </Code>
        </Field>
      </Stack>
    </Card>
  );
}

const SNOOZES = [
  { label: '30 minutes', minutes: 30 },
  { label: '1 hour', minutes: 60 },
  { label: '4 hours', minutes: 240 },
  { label: '1 day', minutes: 1440 },
];

function Actions({ alert, act, busy }: { alert: AlertDetail; act: (a: AlertAction) => void; busy: boolean }) {
  const [owner, setOwner] = useState('');
  const [escalation, setEscalation] = useState<string | null>(null);
  const [assignOpen, setAssignOpen] = useState(false);
  const [escalateOpen, setEscalateOpen] = useState(false);
  const escalations = useQuery({
    queryKey: ['escalations'],
    queryFn: () => data<Escalation[]>(api.GET('/v2/escalations')),
    enabled: escalateOpen,
  });
  const closed = alert.status === 'closed';
  return (
    <Group gap="xs" wrap="wrap" role="toolbar" aria-label="Alert actions">
      {alert.acknowledged ? (
        <Button variant="default" disabled={closed || busy} onClick={() => act({ kind: 'unacknowledge' })}>
          Unacknowledge
        </Button>
      ) : (
        <Button disabled={closed || busy} onClick={() => act({ kind: 'acknowledge' })}>
          Acknowledge
        </Button>
      )}
      <Button color="gray" disabled={closed || busy} onClick={() => act({ kind: 'close' })}>
        Close
      </Button>
      {/* The browser's own list: Mantine's Select (a combobox with its popover) was about half of what
          the toolbar cost the page's render (docs/performance.md). */}
      <NativeSelect
        aria-label="Priority"
        data={PRIORITIES.map((p) => ({ value: p, label: `Priority ${p}` }))}
        value={alert.priority}
        onChange={(e) => {
          const value = e.currentTarget.value as Priority;
          if (value !== alert.priority) act({ kind: 'priority', priority: value });
        }}
        w={130}
        disabled={busy}
      />
      <Menu withinPortal>
        <Menu.Target>
          <Button variant="default" disabled={closed || busy}>
            Snooze
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Label>Snooze for</Menu.Label>
          {SNOOZES.map((s) => (
            <Menu.Item
              key={s.minutes}
              onClick={() =>
                act({ kind: 'snooze', endTime: new Date(Date.now() + s.minutes * 60_000).toISOString() })
              }
            >
              {s.label}
            </Menu.Item>
          ))}
        </Menu.Dropdown>
      </Menu>
      <Popover
        opened={assignOpen}
        onChange={setAssignOpen}
        withinPortal
        trapFocus
        position="bottom-start"
        shadow="md"
      >
        <Popover.Target>
          <Button variant="default" disabled={busy} onClick={() => setAssignOpen((o) => !o)}>
            Assign
          </Button>
        </Popover.Target>
        <Popover.Dropdown>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (!owner.trim()) return;
              act({ kind: 'assign', username: owner.trim() });
              setAssignOpen(false);
            }}
          >
            <Stack gap="xs" w={260}>
              <UserAutocomplete
                label="Owner (email)"
                value={owner}
                onChange={setOwner}
                comboboxProps={{ withinPortal: false }}
                required
              />
              <Button type="submit" size="xs">
                Assign
              </Button>
            </Stack>
          </form>
        </Popover.Dropdown>
      </Popover>
      <Popover
        opened={escalateOpen}
        onChange={setEscalateOpen}
        withinPortal
        trapFocus
        position="bottom-start"
        shadow="md"
      >
        <Popover.Target>
          <Button variant="default" disabled={closed || busy} onClick={() => setEscalateOpen((o) => !o)}>
            Escalate
          </Button>
        </Popover.Target>
        <Popover.Dropdown>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              act({ kind: 'escalate', escalation: escalation ? { id: escalation } : {} });
              setEscalateOpen(false);
            }}
          >
            <Stack gap="xs" w={260}>
              <Select
                label="Escalation"
                placeholder={escalations.isPending ? 'Loading…' : 'Every escalation it is on'}
                data={(escalations.data ?? []).map((e) => ({ value: e.id, label: e.name }))}
                value={escalation}
                onChange={setEscalation}
                comboboxProps={{ withinPortal: false }}
                clearable
              />
              {escalations.isError ? (
                <Text size="xs" c="red">
                  {String(escalations.error.message)}
                </Text>
              ) : null}
              <Text size="xs" c="dimmed">
                Moves the alert to the next rule of the escalation now.
              </Text>
              <Button type="submit" size="xs">
                Escalate
              </Button>
            </Stack>
          </form>
        </Popover.Dropdown>
      </Popover>
    </Group>
  );
}

export default function AlertPage() {
  const { id = '' } = useParams();
  const noteRef = useRef<HTMLTextAreaElement>(null);
  const [note, setNote] = useState('');
  const action = useAlertAction();
  const teamsOf = useTeamNames();
  const queries = alertPageQueries(id);
  const alert = useQuery(queries.detail);
  const notes = useQuery(queries.notes);
  const logs = useQuery(queries.logs);

  const act = (a: AlertAction) => action.mutate({ ids: [id], action: a });
  const a = alert.data;
  useHotkeys([
    ['a', () => a && a.status === 'open' && !a.acknowledged && act({ kind: 'acknowledge' })],
    ['c', () => a && a.status === 'open' && act({ kind: 'close' })],
    ['n', () => noteRef.current?.focus(), { preventDefault: true }],
  ]);

  if (alert.isError) {
    return (
      <>
        <Anchor component={Link} to="/alerts" size="sm">
          ← Alerts
        </Anchor>
        <PageTitle mt="sm">Alert</PageTitle>
        <ErrorPanel
          error={alert.error}
          retry={() => void alert.refetch()}
          title="This alert could not be loaded"
        />
      </>
    );
  }
  if (!a) {
    return (
      <Stack aria-busy="true" aria-label="Loading the alert">
        <Skeleton height={32} width="60%" />
        <Skeleton height={36} />
        <Skeleton height={200} />
      </Stack>
    );
  }

  const finding = findingOf(a.details, a.description);
  const description = finding ? finding.description : a.description;
  const otherDetails = Object.entries(a.details).filter(
    ([k]) => !finding || !FINDING_DETAIL_KEYS.includes(k),
  );

  return (
    <>
      <Anchor component={Link} to="/alerts" size="sm">
        ← Alerts
      </Anchor>
      <Group gap="xs" mt="sm" mb={4} wrap="wrap">
        <PriorityBadge priority={a.priority} />
        <StatusBadge alert={a} />
        <Text size="sm" c="dimmed">
          #{a.tinyId}
          {a.count > 1 ? ` · occurred ${a.count} times` : ''}
          {a.snoozed && a.snoozedUntil ? ` · snoozed until ${when(a.snoozedUntil)}` : ''}
        </Text>
      </Group>
      <PageTitle>{a.message}</PageTitle>
      <Actions alert={a} act={act} busy={action.isPending} />

      <Grid mt="md" gap="md">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Stack gap="md">
            {finding ? <FindingCard finding={finding} /> : null}
            {description ? (
              <Card withBorder component="section" aria-labelledby="description-heading">
                <Title order={2} size="h4" id="description-heading" mb="xs">
                  Description
                </Title>
                <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} className="break-anywhere">
                  {description}
                </Text>
              </Card>
            ) : null}

            <Card withBorder component="section" aria-labelledby="notes-heading">
              <Title order={2} size="h4" id="notes-heading" mb="xs">
                Notes
              </Title>
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  if (!note.trim()) return;
                  action.mutate(
                    { ids: [id], action: { kind: 'note', note: note.trim() } },
                    { onSuccess: ({ failed }) => failed.length === 0 && setNote('') },
                  );
                }}
              >
                <Stack gap="xs">
                  <Textarea
                    ref={noteRef}
                    label="Add a note"
                    description="Press n to come here."
                    className="note-input"
                    rows={2}
                    resize="vertical"
                    maxLength={25000}
                    value={note}
                    onChange={(e) => setNote(e.currentTarget.value)}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter' && (e.metaKey || e.ctrlKey))
                        e.currentTarget.form?.requestSubmit();
                    }}
                  />
                  <Group>
                    <Button type="submit" size="xs" loading={action.isPending} disabled={!note.trim()}>
                      Add note
                    </Button>
                  </Group>
                </Stack>
              </form>
              <Stack gap="sm" mt="md">
                {notes.isError ? (
                  <ErrorPanel error={notes.error} retry={() => void notes.refetch()} />
                ) : notes.isPending ? (
                  <Skeleton height={40} />
                ) : notes.data.length === 0 ? (
                  <Text size="sm" c="dimmed">
                    No notes yet.
                  </Text>
                ) : (
                  notes.data.map((n) => (
                    <div key={n.offset}>
                      <Text size="xs" c="dimmed">
                        {n.owner || 'Someone'} · <span title={when(n.createdAt)}>{ago(n.createdAt)}</span>
                      </Text>
                      <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} className="break-anywhere">
                        {n.note}
                      </Text>
                    </div>
                  ))
                )}
              </Stack>
            </Card>

            {otherDetails.length > 0 ? (
              <Card withBorder component="section" aria-labelledby="details-heading">
                <Title order={2} size="h4" id="details-heading" mb="xs">
                  Details
                </Title>
                <Table layout="fixed" fz="sm">
                  <Table.Tbody>
                    {otherDetails.map(([k, v]) => (
                      <Table.Tr key={k}>
                        <Table.Th w="35%" className="break-anywhere">
                          {k}
                        </Table.Th>
                        <Table.Td className="break-anywhere">{v}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Card>
            ) : null}
          </Stack>
        </Grid.Col>

        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="md">
            <Card withBorder component="section" aria-labelledby="about-heading">
              <Title order={2} size="h4" id="about-heading" mb="xs">
                About
              </Title>
              <Stack gap="xs">
                <Field label="Owner">{a.owner || undefined}</Field>
                <Field label="Team">{teamsOf(a) || undefined}</Field>
                <Field label="Integration">
                  {a.integration.id ? (
                    <Anchor component={Link} to={`/integrations/${a.integration.id}`}>
                      {a.integration.name}
                    </Anchor>
                  ) : (
                    a.integration.name
                  )}
                </Field>
                <Field label="Source">{a.source || undefined}</Field>
                <Field label="Entity">{a.entity || undefined}</Field>
                <Field label="Created">{when(a.createdAt)}</Field>
                <Field label="Last occurred">{when(a.lastOccurredAt)}</Field>
                {a.report.acknowledgedBy ? (
                  <Field label="Acknowledged by">{a.report.acknowledgedBy}</Field>
                ) : null}
                {a.report.closedBy ? <Field label="Closed by">{a.report.closedBy}</Field> : null}
                <Field label="Tags">
                  {a.tags.length ? (
                    <Group gap={4}>
                      {a.tags.map((t) => (
                        <Badge key={t} variant="outline" tt="none" radius="sm" style={{ maxWidth: '100%' }}>
                          {t}
                        </Badge>
                      ))}
                    </Group>
                  ) : undefined}
                </Field>
              </Stack>
            </Card>

            <AttachmentsCard alertId={id} />

            <Card withBorder component="section" aria-labelledby="log-heading">
              <Title order={2} size="h4" id="log-heading" mb="xs">
                Activity log
              </Title>
              {logs.isError ? (
                <ErrorPanel error={logs.error} retry={() => void logs.refetch()} />
              ) : logs.isPending ? (
                <Skeleton height={80} />
              ) : logs.data.length === 0 ? (
                <Text size="sm" c="dimmed">
                  Nothing yet.
                </Text>
              ) : (
                <Timeline bulletSize={10} lineWidth={2}>
                  {logs.data.map((l) => (
                    <Timeline.Item key={l.offset}>
                      <Text size="sm" className="break-anywhere">
                        {l.log}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {l.owner ? `${l.owner} · ` : ''}
                        <span title={when(l.createdAt)}>{ago(l.createdAt)}</span>
                      </Text>
                    </Timeline.Item>
                  ))}
                </Timeline>
              )}
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}
