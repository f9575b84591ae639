import { Button, Group } from '@mantine/core';
import { ErrorPanel } from '../../components/ErrorPanel';

/**
 * The "Show older" button under a list read a page at a time (an alert's notes, its log), or what went
 * wrong reading the next page, with a retry: the entries already shown stay.
 */
export function ShowOlder({
  pages,
  label,
  mt,
}: {
  pages: {
    hasNextPage: boolean;
    isFetchNextPageError: boolean;
    isFetchingNextPage: boolean;
    isRefetching: boolean;
    error: unknown;
    fetchNextPage: (options?: { cancelRefetch?: boolean }) => Promise<unknown>;
  };
  label: string;
  mt?: 'sm';
}) {
  // Never cancelling a re-read under way (a live change's, the log's timer): the newest entries it brings
  // would be lost until the next one. The button waits for it instead.
  const older = () => void pages.fetchNextPage({ cancelRefetch: false });
  if (pages.isFetchNextPageError) return <ErrorPanel error={pages.error} retry={older} />;
  if (!pages.hasNextPage) return null;
  return (
    <Group mt={mt}>
      <Button
        size="xs"
        variant="default"
        loading={pages.isFetchingNextPage}
        disabled={pages.isRefetching}
        onClick={older}
      >
        {label}
      </Button>
    </Group>
  );
}
