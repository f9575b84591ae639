import { Card, Skeleton, Text, Timeline, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { memo } from 'react';
import { ErrorPanel } from '../../components/ErrorPanel';
import { ago, when } from '../../lib/time';
import { alertPageQueries, entriesOf } from './alertQueries';
import { ShowOlder } from './ShowOlder';

const LOG_REREAD_MS = 10_000;

/**
 * An alert's activity log, newest first: redrawn alone when the log changes. The newest 100 lines come
 * first; "Show older entries" reads the next 100.
 */
export const ActivityLogCard = memo(function ActivityLogCard({ alertId }: { alertId: string }) {
  // Read again every 10 s while shown: the live feed announces changes of the alert itself, but the
  // escalation and the notifications add lines (escalated, notified, delivered) that change nothing else.
  // Older pages shown are read again with the newest, so that the lines stay in one unbroken run.
  const logs = useInfiniteQuery({ ...alertPageQueries(alertId).logs, refetchInterval: LOG_REREAD_MS });
  const shown = entriesOf(logs.data?.pages);
  return (
    <Card withBorder component="section" aria-labelledby="log-heading">
      <Title order={2} size="h4" id="log-heading" mb="xs">
        Activity log
      </Title>
      {logs.isError && !logs.isFetchNextPageError ? (
        <ErrorPanel error={logs.error} retry={() => void logs.refetch()} />
      ) : logs.isPending ? (
        <Skeleton height={80} />
      ) : shown.length === 0 ? (
        <Text size="sm" c="dimmed">
          Nothing yet.
        </Text>
      ) : (
        <>
          <Timeline bulletSize={10} lineWidth={2}>
            {shown.map((l) => (
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
          <ShowOlder pages={logs} label="Show older entries" mt="sm" />
        </>
      )}
    </Card>
  );
});
