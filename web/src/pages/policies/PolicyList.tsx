import { Button, Card, Group, Skeleton, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { api, data } from '../../api/client';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FormError } from '../../components/FormError';
import { AlertPolicyForm } from './AlertPolicyForm';
import { scopeQuery, type PolicyKind, type PolicySummary } from './model';
import { NotificationPolicyForm } from './NotificationPolicyForm';
import { PolicyItem } from './PolicyItem';

const HEADINGS: Record<PolicyKind, { title: string; about: string }> = {
  alert: {
    title: 'Alert policies',
    about:
      'Change alerts as they are created: in this order, the first policy whose conditions an alert matches changes it (and the next ones too when it says continue).',
  },
  notification: {
    title: 'Notification policies',
    about:
      'Change how this team is notified of an alert: in this order, the first enabled policy whose conditions the alert matches applies.',
  },
};

/**
 * The policies of one kind and scope (a team's, or the organization's global ones), in their order.
 * `canEdit`: whether the caller may change them (undefined while that is being asked: nothing offered
 * yet); when not, `readOnlyNote` says so in place of the forms.
 */
export function PolicyList({
  kind,
  teamId,
  canEdit = true,
  readOnlyNote,
}: {
  kind: PolicyKind;
  teamId?: string;
  canEdit?: boolean | undefined;
  readOnlyNote?: ReactNode;
}) {
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const key = ['policies', teamId ?? 'global', kind];
  const query = scopeQuery(teamId);
  const list = useQuery({
    queryKey: key,
    queryFn: () =>
      data<PolicySummary[]>(
        kind === 'alert'
          ? api.GET('/v2/policies/alert', { params: { query } })
          : api.GET('/v2/policies/notification', { params: { query } }),
      ),
  });
  const done = (message: string, id: string) => {
    notifications.show({ color: 'teal', message });
    void queryClient.invalidateQueries({ queryKey: key });
    void queryClient.invalidateQueries({ queryKey: ['policy', id] });
  };
  const toggle = useMutation({
    mutationFn: ({ policy, enabled }: { policy: PolicySummary; enabled: boolean }) =>
      data(
        enabled
          ? api.POST('/v2/policies/{id}/enable', { params: { path: { id: policy.id }, query } })
          : api.POST('/v2/policies/{id}/disable', { params: { path: { id: policy.id }, query } }),
      ),
    onSuccess: (_, { policy, enabled }) =>
      done(`${policy.name} is ${enabled ? 'enabled' : 'disabled'}.`, policy.id),
  });
  const move = useMutation({
    mutationFn: ({ policy, targetIndex }: { policy: PolicySummary; targetIndex: number }) =>
      data(
        api.POST('/v2/policies/{id}/change-order', {
          params: { path: { id: policy.id }, query },
          body: { targetIndex },
        }),
      ),
    onSuccess: (_, { policy, targetIndex }) =>
      done(`${policy.name} is now policy ${targetIndex + 1}.`, policy.id),
  });
  const remove = useMutation({
    mutationFn: (policy: PolicySummary) =>
      data(api.DELETE('/v2/policies/{id}', { params: { path: { id: policy.id }, query } })),
    onSuccess: (_, policy) => done(`${policy.name} is deleted.`, policy.id),
  });
  const busy = toggle.isPending || move.isPending || remove.isPending;
  const policies = [...(list.data ?? [])].sort((a, b) => a.order - b.order);
  const headingId = `${kind}-policies-heading`;
  return (
    <Stack component="section" aria-labelledby={headingId}>
      <Group justify="space-between" wrap="wrap">
        <Title order={2} size="h3" id={headingId}>
          {HEADINGS[kind].title}
        </Title>
        {!adding && canEdit ? (
          <Button onClick={() => setAdding(true)}>
            {kind === 'alert' ? 'Add alert policy' : 'Add notification policy'}
          </Button>
        ) : null}
      </Group>
      <Text size="sm" c="dimmed">
        {HEADINGS[kind].about}
      </Text>
      {canEdit === false ? readOnlyNote : null}
      <FormError error={toggle.error ?? move.error ?? remove.error} />
      {adding && canEdit ? (
        <Card withBorder>
          {kind === 'notification' && teamId ? (
            <NotificationPolicyForm teamId={teamId} onDone={() => setAdding(false)} />
          ) : (
            <AlertPolicyForm teamId={teamId} onDone={() => setAdding(false)} />
          )}
        </Card>
      ) : null}
      {list.isError ? (
        <ErrorPanel error={list.error} retry={() => void list.refetch()} />
      ) : list.isPending ? (
        <Skeleton height={80} />
      ) : policies.length === 0 ? (
        <Text c="dimmed" size="sm">
          No {kind} policy yet.
        </Text>
      ) : (
        <Stack
          component="ol"
          gap="xs"
          p={0}
          m={0}
          style={{ listStyle: 'none' }}
          aria-label={HEADINGS[kind].title}
        >
          {policies.map((policy, i) => (
            <PolicyItem
              key={policy.id}
              summary={policy}
              teamId={teamId}
              position={i}
              last={i === policies.length - 1}
              busy={busy}
              canEdit={canEdit === true}
              onToggle={(enabled) => toggle.mutate({ policy, enabled })}
              onMove={(targetIndex) => move.mutate({ policy, targetIndex })}
              onDelete={() => remove.mutate(policy)}
            />
          ))}
        </Stack>
      )}
    </Stack>
  );
}
