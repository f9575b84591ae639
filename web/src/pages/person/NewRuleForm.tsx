import {
  Button,
  Card,
  Fieldset,
  Group,
  NativeSelect,
  NumberInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { Contact, NotificationRuleSummary, User } from '../../api/types';
import { CriteriaEditor, criteriaBody, draftCriteria } from '../../components/CriteriaEditor';
import { FormError } from '../../components/FormError';
import { ACTION_LABELS, contactLabel } from './labels';

type ActionType = NotificationRuleSummary['actionType'];

interface DraftStep {
  /** React's key: steps are removed from the middle of the list. */
  id: number;
  /** Empty: the first contact method turned on. */
  contactId: string;
  delay: number;
}

let nextId = 1;
const MAX_STEPS = 50;

/**
 * A whole notification rule at once (POST /v2/users/{id}/notification-rules): its name, the alert event
 * it answers, the alerts it applies to, and its steps. A rule is made with at least one step, since one
 * without steps reaches nobody.
 */
export function NewRuleForm({ user, contacts }: { user: User; contacts: Contact[] }) {
  const queryClient = useQueryClient();
  const usable = contacts.filter((c) => c.status.enabled);
  const [name, setName] = useState('');
  const [actionType, setActionType] = useState<ActionType>('create-alert');
  const [criteria, setCriteria] = useState(() => draftCriteria());
  const [steps, setSteps] = useState<DraftStep[]>(() => [{ id: nextId++, contactId: '', delay: 0 }]);
  const contactOf = (step: DraftStep) => usable.find((c) => c.id === step.contactId) ?? usable[0];
  const setStep = (id: number, patch: Partial<DraftStep>) =>
    setSteps((list) => list.map((s) => (s.id === id ? { ...s, ...patch } : s)));
  const create = useMutation({
    mutationFn: () => {
      const body = steps.map((s) => {
        const contact = contactOf(s);
        if (!contact) throw new Error('Add a contact method first, then choose it for each step.');
        return {
          contact: { method: contact.method, to: contact.to },
          sendAfter: { timeAmount: s.delay, timeUnit: 'minutes' as const },
        };
      });
      return data<{ id: string; name: string }>(
        api.POST('/v2/users/{identifier}/notification-rules', {
          params: { path: { identifier: user.id } },
          body: { name: name.trim(), actionType, criteria: criteriaBody(criteria), steps: body },
        }),
      );
    },
    onSuccess: (made) => {
      notifications.show({ color: 'teal', message: `The notification rule ${made.name} is created.` });
      setName('');
      setCriteria(draftCriteria());
      setSteps([{ id: nextId++, contactId: '', delay: 0 }]);
      void queryClient.invalidateQueries({ queryKey: ['notification-rules', user.id] });
    },
  });
  const contactOptions =
    usable.length > 0
      ? usable.map((c) => ({ value: c.id, label: contactLabel(c) }))
      : [{ value: '', label: 'No contact method turned on' }];
  return (
    <Card withBorder component="section" aria-labelledby="new-notification-rule">
      <Title order={3} size="h4" id="new-notification-rule" mb="xs">
        New notification rule
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Stack gap="sm">
          <Group grow wrap="wrap" align="flex-start" gap="xs">
            <TextInput
              label="Rule name"
              required
              maxLength={512}
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              miw={200}
            />
            <NativeSelect
              label="When"
              data={Object.entries(ACTION_LABELS).map(([value, label]) => ({ value, label }))}
              value={actionType}
              onChange={(e) => setActionType(e.currentTarget.value as ActionType)}
              miw={200}
            />
          </Group>
          <CriteriaEditor value={criteria} onChange={setCriteria} />
          {steps.map((step, i) => (
            <Fieldset key={step.id} legend={`Step ${i + 1}`} p="sm">
              <Group align="flex-end" gap="xs" wrap="wrap">
                <NativeSelect
                  label="Contact method"
                  data={contactOptions}
                  value={contactOf(step)?.id ?? ''}
                  onChange={(e) => setStep(step.id, { contactId: e.currentTarget.value })}
                  miw={200}
                  style={{ flex: 1 }}
                />
                <NumberInput
                  label="After (minutes)"
                  min={0}
                  max={10080}
                  allowDecimal={false}
                  value={step.delay}
                  onChange={(v) => setStep(step.id, { delay: typeof v === 'number' ? v : Number(v) || 0 })}
                  w={140}
                />
                {steps.length > 1 ? (
                  <Button
                    variant="subtle"
                    color="red"
                    onClick={() => setSteps((list) => list.filter((s) => s.id !== step.id))}
                    aria-label={`Remove step ${i + 1}`}
                  >
                    Remove
                  </Button>
                ) : null}
              </Group>
            </Fieldset>
          ))}
          <Group>
            <Button
              size="xs"
              variant="light"
              disabled={steps.length >= MAX_STEPS}
              onClick={() =>
                setSteps((list) => [
                  ...list,
                  { id: nextId++, contactId: '', delay: (list.at(-1)?.delay ?? 0) + 5 },
                ])
              }
            >
              Add another step
            </Button>
          </Group>
          <FormError error={create.error} />
          {usable.length === 0 ? (
            <Text size="sm" c="dimmed">
              Add a contact method above (or turn one on) first: each step sends to one.
            </Text>
          ) : null}
          <Group>
            <Button type="submit" loading={create.isPending} disabled={usable.length === 0}>
              Create rule
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
