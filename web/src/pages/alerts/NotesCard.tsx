import { Button, Card, Group, Skeleton, Stack, Text, Textarea, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { memo, useState, type RefObject } from 'react';
import { ErrorPanel } from '../../components/ErrorPanel';
import { useAlertAction, useSendOnce } from '../../lib/alertActions';
import { ago, when } from '../../lib/time';
import { alertPageQueries, entriesOf } from './alertQueries';
import { ShowOlder } from './ShowOlder';

/**
 * An alert's notes and the box to add one. The box's text is this card's own state, so typing redraws
 * the card, not the whole page. `inputRef` is for the page's `n` shortcut. The newest 100 notes come
 * first; "Show older notes" reads the next 100.
 */
export const NotesCard = memo(function NotesCard({
  alertId,
  inputRef,
}: {
  alertId: string;
  inputRef: RefObject<HTMLTextAreaElement | null>;
}) {
  const [note, setNote] = useState('');
  const action = useAlertAction();
  const once = useSendOnce();
  const notes = useInfiniteQuery(alertPageQueries(alertId).notes);
  const shown = entriesOf(notes.data?.pages);
  return (
    <Card withBorder component="section" aria-labelledby="notes-heading">
      <Title order={2} size="h4" id="notes-heading" mb="xs">
        Notes
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          // requestSubmit (Ctrl+Enter) submits even while the button is disabled: a note is sent once.
          if (!note.trim()) return;
          const sent = note;
          once.send('note', () =>
            action.mutateAsync(
              { ids: [alertId], action: { kind: 'note', note: sent.trim() } },
              {
                // Only a note known to be added leaves the box, and not what was typed while it was sent.
                onSuccess: ({ failed, unconfirmed }) => {
                  if (failed.length === 0 && unconfirmed === 0) setNote((now) => (now === sent ? '' : now));
                },
              },
            ),
          );
        }}
      >
        <Stack gap="xs">
          <Textarea
            ref={inputRef}
            label="Add a note"
            description="Press n to come here."
            className="note-input"
            rows={2}
            resize="vertical"
            maxLength={25000}
            value={note}
            onChange={(e) => setNote(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) e.currentTarget.form?.requestSubmit();
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
        {notes.isError && !notes.isFetchNextPageError ? (
          <ErrorPanel error={notes.error} retry={() => void notes.refetch()} />
        ) : notes.isPending ? (
          <Skeleton height={40} />
        ) : shown.length === 0 ? (
          <Text size="sm" c="dimmed">
            No notes yet.
          </Text>
        ) : (
          <>
            {shown.map((n) => (
              <div key={n.offset}>
                <Text size="xs" c="dimmed">
                  {n.owner || 'Someone'} · <span title={when(n.createdAt)}>{ago(n.createdAt)}</span>
                </Text>
                <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} className="break-anywhere">
                  {n.note}
                </Text>
              </div>
            ))}
            <ShowOlder pages={notes} label="Show older notes" />
          </>
        )}
      </Stack>
    </Card>
  );
});
