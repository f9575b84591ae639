import {
  Badge,
  Button,
  Card,
  Group,
  NativeSelect,
  NumberInput,
  Skeleton,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { Contact, NotificationRule, NotificationRuleSummary, User } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FormError } from '../../components/FormError';
import { criteriaSummary } from '../../lib/criteria';
import { EditRuleForm } from './EditRuleForm';
import { ACTION_LABELS, contactLabel } from './labels';

export function RuleCard({
  user,
  summary,
  contacts,
  editable,
}: {
  user: User;
  summary: NotificationRuleSummary;
  contacts: Contact[];
  /** Whether the caller may change it (the server's answer): otherwise it is only shown. */
  editable: boolean;
}) {
  const queryClient = useQueryClient();
  const identifier = user.id;
  const path = { identifier, ruleId: summary.id };
  const rule = useQuery({
    queryKey: ['notification-rules', identifier, summary.id],
    queryFn: () =>
      data<NotificationRule>(
        api.GET('/v2/users/{identifier}/notification-rules/{ruleId}', { params: { path } }),
      ),
  });
  const usable = contacts.filter((c) => c.status.enabled);
  const [contactId, setContactId] = useState('');
  const [delay, setDelay] = useState<number>(0);
  const [editing, setEditing] = useState(false);
  const chosen = usable.find((c) => c.id === contactId) ?? usable[0];
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['notification-rules', identifier] });
  const toggle = useMutation({
    mutationFn: () =>
      summary.enabled
        ? data(api.POST('/v2/users/{identifier}/notification-rules/{ruleId}/disable', { params: { path } }))
        : data(api.POST('/v2/users/{identifier}/notification-rules/{ruleId}/enable', { params: { path } })),
    onSuccess: refresh,
  });
  const addStep = useMutation({
    mutationFn: () => {
      if (!chosen) throw new Error('Add a contact method first, then choose it here.');
      return data(
        api.POST('/v2/users/{identifier}/notification-rules/{ruleId}/steps', {
          params: { path },
          body: {
            contact: { method: chosen.method, to: chosen.to },
            sendAfter: { timeAmount: delay, timeUnit: 'minutes' },
          },
        }),
      );
    },
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `A step is added to ${summary.name}.` });
      refresh();
    },
  });
  const removeStep = useMutation({
    mutationFn: (stepId: string) =>
      data(
        api.DELETE('/v2/users/{identifier}/notification-rules/{ruleId}/steps/{stepId}', {
          params: { path: { ...path, stepId } },
        }),
      ),
    onSuccess: refresh,
  });
  const removeRule = useMutation({
    mutationFn: () =>
      data(api.DELETE('/v2/users/{identifier}/notification-rules/{ruleId}', { params: { path } })),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `${summary.name} is deleted.` });
      refresh();
    },
  });
  const headingId = `rule-${summary.id}`;
  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Title order={3} size="h4" id={headingId} className="break-anywhere">
          {summary.name}
        </Title>
        <Badge color={summary.enabled ? 'teal' : 'gray'} variant="dot">
          {summary.enabled ? 'On' : 'Off'}
        </Badge>
      </Group>
      <Text size="sm" c="dimmed" className="break-anywhere">
        {ACTION_LABELS[summary.actionType]}
        {rule.data && rule.data.criteria.type !== 'match-all'
          ? `, for alerts where ${criteriaSummary(rule.data.criteria)}`
          : ''}
      </Text>
      {editable && editing && rule.data ? (
        <EditRuleForm user={user} rule={rule.data} onDone={() => setEditing(false)} />
      ) : null}
      {editable ? (
        <Group gap="xs" my="xs">
          {!editing ? (
            <Button
              size="xs"
              variant="default"
              disabled={!rule.data}
              onClick={() => setEditing(true)}
              aria-label={`Edit the rule ${summary.name}`}
            >
              Edit rule
            </Button>
          ) : null}
          <Button size="xs" variant="default" loading={toggle.isPending} onClick={() => toggle.mutate()}>
            {summary.enabled ? 'Turn off rule' : 'Turn on rule'}
          </Button>
          <ConfirmButton
            label="Delete rule"
            ariaLabel={`Delete the rule ${summary.name}`}
            question={`Delete the notification rule ${summary.name} and its steps?`}
            confirmLabel="Delete rule"
            loading={removeRule.isPending}
            onConfirm={() => removeRule.mutate()}
          />
        </Group>
      ) : null}
      <FormError error={toggle.error ?? removeStep.error ?? removeRule.error} />
      {rule.isError ? (
        <ErrorPanel error={rule.error} retry={() => void rule.refetch()} />
      ) : !rule.data ? (
        <Skeleton height={40} />
      ) : rule.data.steps.length === 0 ? (
        <Text size="sm" c="dimmed">
          No steps: this rule notifies nobody.{editable ? ' Add one below.' : ''}
        </Text>
      ) : (
        <Stack component="ol" gap={4} pl="md" m={0} aria-label={`Steps of ${summary.name}`}>
          {rule.data.steps.map((s) => {
            const what = s.contact ? contactLabel(s.contact) : 'a deleted contact method';
            const text = `After ${s.sendAfter.timeAmount} min: ${what}${s.enabled ? '' : ' (off)'}`;
            return (
              <li key={s.id}>
                <Group gap="xs" wrap="wrap">
                  <Text size="sm" className="break-anywhere">
                    {text}
                  </Text>
                  {editable ? (
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="red"
                      onClick={() => removeStep.mutate(s.id)}
                      loading={removeStep.isPending && removeStep.variables === s.id}
                      aria-label={`Delete step: ${text}`}
                    >
                      Delete step
                    </Button>
                  ) : null}
                </Group>
              </li>
            );
          })}
        </Stack>
      )}
      {editable ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            addStep.mutate();
          }}
        >
          <Group align="flex-end" gap="xs" wrap="wrap" mt="sm">
            <NativeSelect
              label="Contact method"
              data={
                usable.length > 0
                  ? usable.map((c) => ({ value: c.id, label: contactLabel(c) }))
                  : [{ value: '', label: 'No contact method turned on' }]
              }
              value={chosen?.id ?? ''}
              onChange={(e) => setContactId(e.currentTarget.value)}
              miw={200}
            />
            <NumberInput
              label="After (minutes)"
              min={0}
              max={10080}
              allowDecimal={false}
              value={delay}
              onChange={(v) => setDelay(typeof v === 'number' ? v : Number(v) || 0)}
              w={140}
            />
            <Button type="submit" variant="light" loading={addStep.isPending} disabled={!chosen}>
              Add step
            </Button>
          </Group>
          <FormError error={addStep.error} />
        </form>
      ) : null}
    </Card>
  );
}
