import { Alert, Button, Group, List, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { FormError } from '../../components/FormError';
import {
  keepLegacyFilters,
  moveLegacyFilters,
  readLegacyFilters,
  type MoveResult,
} from '../../lib/legacySavedFilters';
import { SAVED_SEARCHES_KEY } from '../../lib/savedSearches';
import { useSession } from '../../session';

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The saved filters this browser kept before Vigil kept them, offered once to be moved to the server.
 * Moving them is asked rather than done unseen because saved searches are shared with the whole
 * organization; those that cannot be moved stay listed, with the reason, until moved or discarded.
 */
export function LegacyFiltersNotice() {
  const session = useSession();
  const queryClient = useQueryClient();
  const [filters, setFilters] = useState(readLegacyFilters);
  const [failed, setFailed] = useState<MoveResult['failed']>([]);
  const [discarding, setDiscarding] = useState(false);
  const move = useMutation({
    mutationFn: () => moveLegacyFilters(filters, session.user),
    onSuccess: (result) => {
      const left = result.failed.map((f) => f.filter);
      keepLegacyFilters(left);
      setFilters(left);
      setFailed(result.failed);
      void queryClient.invalidateQueries({ queryKey: SAVED_SEARCHES_KEY });
      if (result.moved > 0 || result.dropped > 0) {
        notifications.show({
          color: 'teal',
          message: [
            result.moved > 0
              ? `${plural(result.moved, 'saved filter is', 'saved filters are')} now kept by Vigil.`
              : '',
            result.dropped > 0
              ? `${plural(result.dropped, 'filter', 'filters')} with no query (every alert, as the All view shows) left out.`
              : '',
          ]
            .filter(Boolean)
            .join(' '),
        });
      }
    },
  });
  if (filters.length === 0) return null;
  const discard = () => {
    keepLegacyFilters([]);
    setFilters([]);
  };
  return (
    <Alert
      color="blue"
      mt="md"
      title="Saved filters from this browser"
      role="region"
      aria-label="Saved filters from this browser"
    >
      <Text size="sm">
        {failed.length > 0
          ? `${plural(filters.length, 'filter', 'filters')} could not be moved:`
          : `${plural(filters.length, 'filter is', 'filters are')} saved in this browser only. Move them to Vigil so that they follow you to any browser; everyone in your organization will see them.`}
      </Text>
      <List size="sm" mt={4} className="break-anywhere">
        {filters.map((f) => {
          const reason = failed.find((x) => x.filter === f)?.reason;
          return (
            <List.Item key={f.name}>
              <b>{f.name}</b>: <code>{f.query || '(every alert)'}</code>
              {reason ? ` (${reason})` : ''}
            </List.Item>
          );
        })}
      </List>
      <FormError error={move.error} />
      <Group gap="xs" mt="sm">
        <Button size="xs" loading={move.isPending} onClick={() => move.mutate()}>
          {failed.length > 0 ? 'Try again' : 'Move them to Vigil'}
        </Button>
        {discarding ? (
          <Group gap="xs" role="group" aria-label="Forget these filters in this browser?">
            <Text size="sm">Forget these filters in this browser?</Text>
            <Button size="xs" color="red" onClick={discard}>
              Discard
            </Button>
            <Button size="xs" variant="default" onClick={() => setDiscarding(false)}>
              Keep them
            </Button>
          </Group>
        ) : (
          // Not ConfirmButton: its red text is too faint on the notice's blue.
          <Button size="xs" variant="default" onClick={() => setDiscarding(true)}>
            Discard them
          </Button>
        )}
      </Group>
    </Alert>
  );
}
