import { Button, Card, Group, Skeleton, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { Integration } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FormError } from '../../components/FormError';
import { criteriaSummary } from '../../lib/criteria';
import { ActionForm } from './ActionForm';
import {
  ACTION_LABELS,
  ACTION_TYPES,
  actionsBody,
  actionTypesOf,
  newAction,
  type ActionType,
  type IntegrationAction,
  type IntegrationActions,
} from './actions';

/** Where the open form is: an action being edited (its type and place), or a new one of a type. */
type Editing = { type: ActionType; index: number | 'new' } | null;

function ActionSummary({
  type,
  action,
  forEmail,
}: {
  type: ActionType;
  action: IntegrationAction;
  forEmail: boolean;
}) {
  const criteria = { type: action.filter.conditionMatchType, conditions: action.filter.conditions };
  return (
    <>
      <Text size="sm" className="break-anywhere">
        <b>When:</b> {criteriaSummary(criteria)}
      </Text>
      {type === 'create' ? (
        <Text size="sm" className="break-anywhere">
          <b>Message:</b> {action.message} · <b>Priority:</b> {action.customPriority || action.priority}
          {action.tags?.length ? (
            <>
              {' '}
              · <b>Tags:</b> {action.tags.join(', ')}
            </>
          ) : null}
        </Text>
      ) : null}
      {type === 'create' && forEmail && action.appendAttachments ? (
        <Text size="sm">The email’s attached files go on the alert.</Text>
      ) : null}
    </>
  );
}

/**
 * An API or Email integration's actions (GET and PUT /v2/integrations/{id}/actions), one ordered list per
 * type; an Email integration shows only the lists that apply to mail. Every change saves all the lists,
 * shown or not, as the API's PUT takes them.
 */
export function ActionsSection({ integration }: { integration: Integration }) {
  const forEmail = integration.type === 'Email';
  const shownTypes = actionTypesOf(integration.type);
  const queryClient = useQueryClient();
  const key = ['integration', integration.id, 'actions'];
  const [editing, setEditing] = useState<Editing>(null);
  const actions = useQuery({
    queryKey: key,
    queryFn: () =>
      data<IntegrationActions>(
        api.GET('/v2/integrations/{id}/actions', { params: { path: { id: integration.id } } }),
      ),
  });
  const save = useMutation({
    mutationFn: (lists: Record<ActionType, IntegrationAction[]>) =>
      data<IntegrationActions>(
        api.PUT('/v2/integrations/{id}/actions', {
          params: { path: { id: integration.id } },
          body: actionsBody(lists),
        }),
      ),
    onSuccess: (saved) => {
      queryClient.setQueryData(key, saved);
      setEditing(null);
    },
  });
  const current = actions.data;
  const change = (type: ActionType, list: IntegrationAction[], message: string) => {
    if (!current) return;
    const lists = Object.fromEntries(ACTION_TYPES.map((t) => [t, current[t] ?? []])) as Record<
      ActionType,
      IntegrationAction[]
    >;
    save.mutate(
      { ...lists, [type]: list },
      { onSuccess: () => notifications.show({ color: 'teal', message }) },
    );
  };

  return (
    <Card withBorder component="section" aria-labelledby="actions-heading">
      <Title order={2} size="h4" id="actions-heading" mb="xs">
        Actions
      </Title>
      {forEmail ? (
        <Text size="sm" c="dimmed" mb="sm">
          What the integration does with each email. An email is a create request: its subject is the message,
          its sender the source and its text the description. Close, acknowledge and add-note actions do not
          apply to email. Until actions are changed, emails pass as they are.
        </Text>
      ) : (
        <Text size="sm" c="dimmed" mb="sm">
          What the integration’s key does with each request. Until actions are changed, requests pass as they
          are.
        </Text>
      )}
      {actions.isError ? (
        <ErrorPanel error={actions.error} retry={() => void actions.refetch()} />
      ) : !current ? (
        <Skeleton height={120} />
      ) : (
        <Stack gap="lg">
          {shownTypes.map((type) => {
            const list = current[type] ?? [];
            const headingId = `actions-${type}`;
            const isNew = editing?.type === type && editing.index === 'new';
            return (
              <Stack key={type} gap="xs" component="section" aria-labelledby={headingId}>
                <Group justify="space-between" wrap="wrap">
                  <Title order={3} size="h5" id={headingId}>
                    {ACTION_LABELS[type].title}
                  </Title>
                  {!isNew ? (
                    <Button
                      size="xs"
                      variant="light"
                      disabled={list.length >= 50}
                      onClick={() => setEditing({ type, index: 'new' })}
                    >
                      Add {ACTION_LABELS[type].title.toLowerCase()} action
                    </Button>
                  ) : null}
                </Group>
                <Text size="xs" c="dimmed">
                  {ACTION_LABELS[type].about}
                </Text>
                {list.length === 0 && !isNew ? (
                  <Text size="sm" c="dimmed">
                    None.
                  </Text>
                ) : null}
                <Stack
                  component="ol"
                  gap="xs"
                  p={0}
                  m={0}
                  style={{ listStyle: 'none' }}
                  aria-label={`${ACTION_LABELS[type].title} actions`}
                >
                  {list.map((action, i) => {
                    const open = editing?.type === type && editing.index === i;
                    return (
                      <Card
                        key={`${i}-${action.name}`}
                        withBorder
                        component="li"
                        aria-label={action.name}
                        p="sm"
                      >
                        <Text fw={600} className="break-anywhere">
                          {i + 1}. {action.name}
                        </Text>
                        {open ? (
                          <ActionForm
                            type={type}
                            forEmail={forEmail}
                            action={action}
                            title={`Edit the action ${action.name}`}
                            saving={save.isPending}
                            error={save.error}
                            onSave={(next) =>
                              change(
                                type,
                                list.map((a, j) => (j === i ? next : a)),
                                `${next.name} is saved.`,
                              )
                            }
                            onCancel={() => setEditing(null)}
                          />
                        ) : (
                          <>
                            <ActionSummary type={type} action={action} forEmail={forEmail} />
                            <Group gap="xs" mt="xs">
                              <Button
                                size="xs"
                                variant="default"
                                onClick={() => setEditing({ type, index: i })}
                                aria-label={`Edit ${action.name}`}
                              >
                                Edit
                              </Button>
                              <Button
                                size="xs"
                                variant="default"
                                disabled={i === 0 || save.isPending}
                                onClick={() =>
                                  change(type, swap(list, i, i - 1), `${action.name} is now ${i}.`)
                                }
                                aria-label={`Move ${action.name} up`}
                              >
                                Move up
                              </Button>
                              <Button
                                size="xs"
                                variant="default"
                                disabled={i === list.length - 1 || save.isPending}
                                onClick={() =>
                                  change(type, swap(list, i, i + 1), `${action.name} is now ${i + 2}.`)
                                }
                                aria-label={`Move ${action.name} down`}
                              >
                                Move down
                              </Button>
                              <ConfirmButton
                                label="Delete"
                                ariaLabel={`Delete ${action.name}`}
                                question={`Delete the action ${action.name}?`}
                                confirmLabel="Delete action"
                                loading={save.isPending}
                                onConfirm={() =>
                                  change(
                                    type,
                                    list.filter((_, j) => j !== i),
                                    `${action.name} is deleted.`,
                                  )
                                }
                              />
                            </Group>
                          </>
                        )}
                      </Card>
                    );
                  })}
                </Stack>
                {isNew ? (
                  <Card withBorder p="sm">
                    <ActionForm
                      type={type}
                      forEmail={forEmail}
                      action={newAction(type)}
                      title={`New ${ACTION_LABELS[type].title.toLowerCase()} action`}
                      saving={save.isPending}
                      error={save.error}
                      onSave={(next) => change(type, [...list, next], `${next.name} is added.`)}
                      onCancel={() => setEditing(null)}
                    />
                  </Card>
                ) : null}
              </Stack>
            );
          })}
          {editing === null ? <FormError error={save.error} /> : null}
        </Stack>
      )}
    </Card>
  );
}

function swap<T>(list: T[], a: number, b: number): T[] {
  const next = [...list];
  [next[a], next[b]] = [next[b] as T, next[a] as T];
  return next;
}
