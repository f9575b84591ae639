import { Anchor, Button, Card, FileButton, Group, Skeleton, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { memo } from 'react';
import { api, csrfHeaders, data, errorFrom } from '../../api/client';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FormError } from '../../components/FormError';
import { alertPageQueries, type AttachmentMeta } from './alertQueries';

/** Where the download links' own route begins (src/alerts/attachments/links.ts). */
const ATTACHMENT_LINK_PATH = '/v1/alert-attachments/';

/** Hands the browser a file to save, as a link with `download` would. */
function saveFile(name: string, file: Blob) {
  const href = URL.createObjectURL(file);
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  link.click();
  // Revoked later rather than at once: the browser may still be reading it when click() returns.
  window.setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

/**
 * An alert's attachments: each downloads through the signed link the API hands out (asked for when
 * pressed, so it has not expired), and a file can be added or deleted. Adding and deleting go on the
 * alert's log, so the log is fetched again after each.
 */
export const AttachmentsCard = memo(function AttachmentsCard({ alertId }: { alertId: string }) {
  const queryClient = useQueryClient();
  const path = { identifier: alertId };
  const queries = alertPageQueries(alertId);
  const list = useQuery(queries.attachments);
  const changed = () => {
    void queryClient.invalidateQueries({ queryKey: queries.attachments.queryKey });
    void queryClient.invalidateQueries({ queryKey: queries.logs.queryKey });
  };

  const upload = useMutation({
    // A form, not JSON: sent with fetch, as the typed client sends JSON only.
    mutationFn: async (file: File) => {
      const form = new FormData();
      form.append('file', file, file.name);
      let response: Response;
      try {
        response = await fetch(`/v2/alerts/${encodeURIComponent(alertId)}/attachments`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: csrfHeaders('POST'),
          body: form,
        });
      } catch {
        throw new Error('Vigil could not be reached: check your connection and try again.');
      }
      if (!response.ok) throw await errorFrom(response);
      return file.name;
    },
    onSuccess: (name) => {
      notifications.show({ color: 'teal', message: `${name} is attached.` });
      changed();
    },
  });

  const download = useMutation({
    // The link is fetched here rather than opened, so that a refusal (Vigil busy reading other files, the
    // file deleted) is said on this page instead of replacing the console with its JSON. It is asked of
    // the Vigil serving this page, from its /v1/alert-attachments/ on: the link names VIGIL_PUBLIC_URL,
    // which may be another origin than the address bar's, or carry a path a proxy takes off. The file (at
    // most VIGIL_ATTACHMENT_MAX_BYTES) is then saved from memory under its own name.
    mutationFn: async (a: AttachmentMeta) => {
      const { name, url } = await data<{ name: string; url: string }>(
        api.GET('/v2/alerts/{identifier}/attachments/{attachmentId}', {
          params: { path: { ...path, attachmentId: String(a.id) }, query: {} },
        }),
      );
      const link = new URL(url, window.location.href);
      const at = link.pathname.indexOf(ATTACHMENT_LINK_PATH);
      const ownPath = at >= 0 ? link.pathname.slice(at) + link.search : url;
      let response: Response;
      try {
        response = await fetch(ownPath, { credentials: 'omit' });
      } catch {
        throw new Error('Vigil could not be reached: check your connection and try again.');
      }
      if (!response.ok) throw await errorFrom(response);
      // Anything else (the console's own page, from a path that missed the link's route) is not the file.
      if (!/^attachment/i.test(response.headers.get('content-disposition') ?? '')) {
        throw new Error('Vigil did not answer with the file: get a new link by pressing its name again.');
      }
      return { name, file: await response.blob() };
    },
    onSuccess: ({ name, file }) => saveFile(name, file),
  });

  const remove = useMutation({
    mutationFn: (a: AttachmentMeta) =>
      data(
        api.DELETE('/v2/alerts/{identifier}/attachments/{attachmentId}', {
          params: { path: { ...path, attachmentId: String(a.id) }, query: {} },
        }),
      ),
    onSuccess: (_, a) => {
      notifications.show({ color: 'teal', message: `${a.name} is deleted.` });
      changed();
    },
  });

  return (
    <Card withBorder component="section" aria-labelledby="attachments-heading">
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Title order={2} size="h4" id="attachments-heading">
          Attachments
        </Title>
        <FileButton onChange={(file) => file && upload.mutate(file)}>
          {(props) => (
            <Button {...props} size="xs" variant="default" loading={upload.isPending}>
              Attach a file
            </Button>
          )}
        </FileButton>
      </Group>
      <Stack gap="xs">
        <FormError error={upload.error ?? download.error ?? remove.error} />
        {list.isError ? (
          <ErrorPanel error={list.error} retry={() => void list.refetch()} />
        ) : list.isPending ? (
          <Skeleton height={24} />
        ) : list.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            No attachments.
          </Text>
        ) : (
          <ul aria-label="Attachments" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {list.data.map((a) => (
              <li key={a.id}>
                <Group gap="xs" justify="space-between" wrap="nowrap">
                  <Anchor
                    component="button"
                    type="button"
                    size="sm"
                    ta="left"
                    aria-label={`Download ${a.name}`}
                    aria-busy={download.isPending && download.variables?.id === a.id}
                    onClick={() => download.mutate(a)}
                    className="break-anywhere"
                  >
                    {a.name}
                  </Anchor>
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete ${a.name}`}
                    question={`Delete ${a.name}?`}
                    confirmLabel="Delete"
                    loading={remove.isPending}
                    onConfirm={() => remove.mutate(a)}
                  />
                </Group>
              </li>
            ))}
          </ul>
        )}
      </Stack>
    </Card>
  );
});
