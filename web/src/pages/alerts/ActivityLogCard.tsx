import { Card, Skeleton, Text, Timeline, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { memo } from 'react';
import { ErrorPanel } from '../../components/ErrorPanel';
import { ago, when } from '../../lib/time';
import { alertPageQueries } from './alertQueries';

const LOG_REREAD_MS = 10_000;

/** An alert's activity log, newest first: redrawn alone when the log changes. */
export const ActivityLogCard = memo(function ActivityLogCard({ alertId }: { alertId: string }) {
  // Read again every 10 s while shown: the live feed announces changes of the alert itself, but the
  // escalation and the notifications add lines (escalated, notified, delivered) that change nothing else.
  const logs = useQuery({ ...alertPageQueries(alertId).logs, refetchInterval: LOG_REREAD_MS });
  return (
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
  );
});
