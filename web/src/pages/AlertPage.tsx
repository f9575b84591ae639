import { Anchor, Card, Grid, Group, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useRef } from 'react';
import { Link, useParams } from 'react-router';
import { PriorityBadge, StatusBadge } from '../components/AlertBadges';
import { ErrorPanel } from '../components/ErrorPanel';
import { PageTitle } from '../components/PageTitle';
import { useAlertAction, useSendOnce, type AlertAction } from '../lib/alertActions';
import { FINDING_DETAIL_KEYS, findingOf } from '../lib/finding';
import { when } from '../lib/time';
import { AboutCard } from './alerts/AboutCard';
import { AlertActions } from './alerts/AlertActions';
import { alertPageQueries } from './alerts/alertQueries';
import { ActivityLogCard } from './alerts/ActivityLogCard';
import { AttachmentsCard } from './alerts/AttachmentsCard';
import { FindingCard } from './alerts/FindingCard';
import { NotesCard } from './alerts/NotesCard';

/**
 * An alert's page. The notes, the activity log and the attachments each ask for their own data and are
 * redrawn alone when it comes or changes; the page itself only when the alert does.
 */
export default function AlertPage() {
  const { id = '' } = useParams();
  const noteRef = useRef<HTMLTextAreaElement>(null);
  const action = useAlertAction();
  const alert = useQuery(alertPageQueries(id).detail);

  // A key pressed twice quickly sends one request; another action (c once a shows acknowledged, its
  // outcome still being confirmed) goes at once, as on the list: a key is never swallowed unseen.
  const once = useSendOnce();
  const act = (a: AlertAction) => {
    once.send(a.kind, () => action.mutateAsync({ ids: [id], action: a }));
  };
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
      <AlertActions alert={a} act={act} busy={action.isPending} />

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

            <NotesCard alertId={id} inputRef={noteRef} />

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
            <AboutCard alert={a} />

            <AttachmentsCard alertId={id} />

            <ActivityLogCard alertId={id} />
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}
