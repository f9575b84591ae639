import {
  ActionIcon,
  Button,
  CloseButton,
  Group,
  Modal,
  Paper,
  Popover,
  ScrollArea,
  Skeleton,
  Stack,
  Text,
  TextInput,
  UnstyledButton,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { messageOf } from '../../api/client';
import type { SavedSearch, SavedSearchSummary } from '../../api/types';
import { FormError } from '../../components/FormError';
import {
  createSavedSearch,
  deleteSavedSearch,
  renameSavedSearch,
  SAVED_SEARCHES_KEY,
  useSavedSearchDetails,
  useSavedSearchList,
} from '../../lib/savedSearches';
import { isAdmin, useSession } from '../../session';

/** What "save this search" saves: the saved filter in use, narrowed by the search box. */
export function queryToSave(active: SavedSearch | undefined, query: string): string {
  const q = query.trim();
  if (!active) return q;
  return q ? `(${active.query}) AND (${q})` : active.query;
}

/** Names a saved filter: a new one for the search shown, or a new name for one kept. */
function NameModal({
  opened,
  close,
  title,
  query,
  initialName,
  submitLabel,
  save,
}: {
  opened: boolean;
  close: () => void;
  title: string;
  query: string;
  initialName: string;
  submitLabel: string;
  save: (name: string) => Promise<{ name: string }>;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(initialName);
  const saving = useMutation({
    mutationFn: () => save(name.trim()),
    onSuccess: (made) => {
      notifications.show({ color: 'teal', message: `The saved filter ${made.name} is saved.` });
      void queryClient.invalidateQueries({ queryKey: SAVED_SEARCHES_KEY });
      setName('');
      close();
    },
  });
  return (
    <Modal
      opened={opened}
      onClose={() => {
        saving.reset();
        close();
      }}
      title={title}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) saving.mutate();
        }}
      >
        <Stack>
          <Text size="sm" ff="monospace" className="break-anywhere">
            {query}
          </Text>
          <TextInput
            label="Name"
            description="Names are unique in the organization."
            required
            maxLength={200}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            data-autofocus
          />
          <FormError error={saving.error} />
          <Button type="submit" loading={saving.isPending}>
            {submitLabel}
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

/**
 * The saved filters (the organization's saved searches): apply one, rename or delete one's own, or save the
 * search shown under a name.
 */
export function SavedFilters({
  query,
  active,
  apply,
  onDeleted,
}: {
  query: string;
  active: SavedSearch | undefined;
  apply: (search: SavedSearchSummary) => void;
  onDeleted: (id: string) => void;
}) {
  const session = useSession();
  const admin = isAdmin(session);
  const queryClient = useQueryClient();
  const [opened, setOpened] = useState(false);
  const [saving, { open, close }] = useDisclosure(false);
  const [renaming, setRenaming] = useState<SavedSearch | undefined>();
  const list = useSavedSearchList();
  const searches = useMemo(
    () => [...(list.data ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
    [list.data],
  );
  const details = useSavedSearchDetails(searches, opened);
  const remove = useMutation({
    mutationFn: (search: SavedSearchSummary) => deleteSavedSearch(search.id),
    onSuccess: (_, search) => {
      notifications.show({ color: 'teal', message: `The saved filter ${search.name} is deleted.` });
      void queryClient.invalidateQueries({ queryKey: SAVED_SEARCHES_KEY });
      onDeleted(search.id);
    },
  });
  const toSave = queryToSave(active, query);
  return (
    <>
      <Popover opened={opened} onChange={setOpened} position="bottom-end" withinPortal shadow="md">
        <Popover.Target>
          <Button variant="default" onClick={() => setOpened((o) => !o)}>
            Saved filters{searches.length ? ` (${searches.length})` : ''}
          </Button>
        </Popover.Target>
        <Popover.Dropdown maw={360} p="xs">
          <Stack gap={4}>
            {list.isError ? (
              <Text size="sm" c="red" className="break-anywhere">
                {messageOf(list.error)}
              </Text>
            ) : list.isPending ? (
              <Skeleton height={40} />
            ) : searches.length === 0 ? (
              <Text size="sm" c="dimmed">
                No saved filters yet. Search, then save the search here.
              </Text>
            ) : (
              <ScrollArea.Autosize mah={320} type="auto">
                <Stack
                  gap={2}
                  component="ul"
                  m={0}
                  p={0}
                  style={{ listStyle: 'none' }}
                  aria-label="Saved filters"
                >
                  {searches.map((s, i) => {
                    const detail = details[i]?.data;
                    const mine = detail?.owner?.id === session.user.id;
                    return (
                      <Group key={s.id} component="li" gap={4} wrap="nowrap" justify="space-between">
                        <UnstyledButton
                          onClick={() => {
                            apply(s);
                            setOpened(false);
                          }}
                          style={{ minWidth: 0, flex: 1 }}
                          p={4}
                        >
                          <Text size="sm" fw={500} truncate="end">
                            {s.name}
                          </Text>
                          {detail ? (
                            <Text size="xs" c="dimmed" ff="monospace" truncate="end" title={detail.query}>
                              {detail.query}
                            </Text>
                          ) : null}
                          {detail?.owner && !mine ? (
                            <Text size="xs" c="dimmed" truncate="end">
                              by {detail.owner.username}
                            </Text>
                          ) : null}
                        </UnstyledButton>
                        {detail && (mine || admin) ? (
                          <ActionIcon
                            size="sm"
                            variant="subtle"
                            color="gray"
                            aria-label={`Rename the saved filter ${s.name}`}
                            onClick={() => {
                              setOpened(false);
                              setRenaming(detail);
                            }}
                          >
                            <span aria-hidden>✎</span>
                          </ActionIcon>
                        ) : null}
                        {detail && (mine || admin) ? (
                          <CloseButton
                            size="sm"
                            aria-label={`Delete the saved filter ${s.name}`}
                            disabled={remove.isPending}
                            onClick={() => remove.mutate(s)}
                          />
                        ) : null}
                      </Group>
                    );
                  })}
                </Stack>
              </ScrollArea.Autosize>
            )}
            <FormError error={remove.error} />
            <Button
              size="xs"
              variant="light"
              mt="xs"
              disabled={!toSave}
              onClick={() => {
                setOpened(false);
                open();
              }}
            >
              Save this search…
            </Button>
            <Text size="xs" c="dimmed">
              {toSave
                ? 'Saved filters are kept by Vigil and shared with your organization.'
                : 'Type a search first: the filter saves its query.'}
            </Text>
          </Stack>
        </Popover.Dropdown>
      </Popover>
      <NameModal
        opened={saving}
        close={close}
        title="Save this search"
        query={toSave}
        initialName=""
        submitLabel="Save"
        save={(name) => createSavedSearch({ name, query: toSave, ownerId: session.user.id })}
      />
      {renaming ? (
        <NameModal
          key={renaming.id}
          opened
          close={() => setRenaming(undefined)}
          title={`Rename the saved filter ${renaming.name}`}
          query={renaming.query}
          initialName={renaming.name}
          submitLabel="Rename"
          save={(name) => renameSavedSearch(renaming.id, name)}
        />
      ) : null}
    </>
  );
}

/** The saved filter the list runs, with a way to stop using it. */
export function ActiveSavedFilter({
  search,
  error,
  onClear,
}: {
  search: SavedSearch | undefined;
  error: unknown;
  onClear: () => void;
}) {
  return (
    <Paper withBorder p="xs" mt="sm" role="region" aria-label="Saved filter in use">
      <Group gap="xs" wrap="nowrap" justify="space-between">
        <div style={{ minWidth: 0 }}>
          {error ? (
            <Text size="sm" c="red" className="break-anywhere">
              {messageOf(error)}
            </Text>
          ) : (
            <>
              <Text size="sm" className="break-anywhere">
                Saved filter: <b>{search?.name ?? '…'}</b>
              </Text>
              <Text size="xs" c="dimmed" ff="monospace" className="break-anywhere">
                {search?.query ?? ''}
              </Text>
            </>
          )}
        </div>
        <CloseButton
          aria-label={search ? `Stop using the saved filter ${search.name}` : 'Stop using the saved filter'}
          onClick={onClear}
        />
      </Group>
    </Paper>
  );
}
