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
    error: unknown;
    fetchNextPage: () => Promise<unknown>;
  };
  label: string;
  mt?: 'sm';
}) {
  if (pages.isFetchNextPageError)
    return <ErrorPanel error={pages.error} retry={() => void pages.fetchNextPage()} />;
  if (!pages.hasNextPage) return null;
  return (
    <Group mt={mt}>
      <Button
        size="xs"
        variant="default"
        loading={pages.isFetchingNextPage}
        onClick={() => void pages.fetchNextPage()}
      >
        {label}
      </Button>
    </Group>
  );
}
