import {
  Button,
  Checkbox,
  Fieldset,
  Group,
  NativeSelect,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import { CriteriaEditor, criteriaBody, draftCriteria } from '../../components/CriteriaEditor';
import { FormError } from '../../components/FormError';
import { scopeQuery, storedBody, type Policy, type PolicyBody } from './model';
import { RespondersEditor, respondersBody } from './RespondersEditor';

const PRIORITY_OPTIONS = [
  { value: '', label: 'Keep the alert’s priority' },
  ...['P1', 'P2', 'P3', 'P4', 'P5'].map((p) => ({ value: p, label: p })),
];

const FLAGS = [
  ['ignoreOriginalTags', 'Replace the alert’s tags with these (ignore the original tags)'],
  ['ignoreOriginalResponders', 'Replace the alert’s responders with these (ignore the original responders)'],
  ['ignoreOriginalDetails', 'Replace the alert’s details with the policy’s (ignore the original details)'],
  ['ignoreOriginalActions', 'Replace the alert’s actions with the policy’s (ignore the original actions)'],
] as const;
type Flag = (typeof FLAGS)[number][0];

const splitTags = (text: string) =>
  text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/**
 * Creates an alert policy (without `policy`) or changes one (PUT: the policy becomes the body, so what
 * the form does not show, such as alias, entity, source, details and actions, is sent back as it was).
 */
export function AlertPolicyForm({
  teamId,
  policy,
  onDone,
}: {
  teamId?: string;
  policy?: Policy;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(policy?.name ?? '');
  const [description, setDescription] = useState(policy?.policyDescription ?? '');
  const [criteria, setCriteria] = useState(() => draftCriteria(policy?.filter ?? undefined));
  const [cont, setCont] = useState(policy?.continue ?? false);
  const [message, setMessage] = useState(policy?.message ?? '{{message}}');
  const [alertDescription, setAlertDescription] = useState(policy?.alertDescription ?? '{{description}}');
  const [priority, setPriority] = useState(policy?.priority ?? '');
  const [tags, setTags] = useState((policy?.tags ?? []).join(', '));
  const [responders, setResponders] = useState(policy?.responders ?? []);
  const [flags, setFlags] = useState<Record<Flag, boolean>>(() => ({
    ignoreOriginalTags: policy?.ignoreOriginalTags ?? false,
    ignoreOriginalResponders: policy?.ignoreOriginalResponders ?? false,
    ignoreOriginalDetails: policy?.ignoreOriginalDetails ?? false,
    ignoreOriginalActions: policy?.ignoreOriginalActions ?? false,
  }));
  const priorities =
    priority && !PRIORITY_OPTIONS.some((o) => o.value === priority)
      ? [...PRIORITY_OPTIONS, { value: priority, label: priority }]
      : PRIORITY_OPTIONS;

  const save = useMutation({
    mutationFn: () => {
      const body: PolicyBody = {
        ...storedBody(policy, 'alert'),
        name: name.trim(),
        policyDescription: description,
        filter: criteriaBody(criteria) as PolicyBody['filter'],
        continue: cont,
        message,
        alertDescription,
        tags: splitTags(tags),
        responders: respondersBody(responders),
        ...flags,
      };
      if (priority) body.priority = priority;
      else delete body.priority;
      const query = scopeQuery(teamId);
      return policy
        ? data(api.PUT('/v2/policies/{id}', { params: { path: { id: policy.id }, query }, body }))
        : data(api.POST('/v2/policies', { params: { query }, body }));
    },
    onSuccess: () => {
      notifications.show({
        color: 'teal',
        message: policy ? `${name.trim()} is saved.` : `The alert policy ${name.trim()} is added.`,
      });
      void queryClient.invalidateQueries({ queryKey: ['policies'] });
      if (policy) void queryClient.invalidateQueries({ queryKey: ['policy', policy.id] });
      onDone();
    },
  });

  return (
    <form
      aria-label={policy ? `Edit the alert policy ${policy.name}` : 'New alert policy'}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack gap="sm">
        <TextInput
          label="Policy name"
          required
          maxLength={200}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <TextInput
          label="Policy description"
          maxLength={1000}
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
        />
        <CriteriaEditor value={criteria} onChange={setCriteria} responderFields />
        <Checkbox
          label="Continue: the next policies are tried too when this one applies"
          checked={cont}
          onChange={(e) => setCont(e.currentTarget.checked)}
        />
        <Fieldset legend="What it changes in the alert" p="sm">
          <Stack gap="sm">
            <Text size="xs" c="dimmed">
              Dynamic fields such as {'{{message}}'}, {'{{description}}'}, {'{{priority}}'} and{' '}
              {'{{details.key}}'} are filled from the alert.
            </Text>
            <TextInput
              label="Message"
              maxLength={15000}
              value={message}
              onChange={(e) => setMessage(e.currentTarget.value)}
            />
            <Textarea
              label="Alert description"
              autosize
              minRows={2}
              maxRows={8}
              maxLength={15000}
              value={alertDescription}
              onChange={(e) => setAlertDescription(e.currentTarget.value)}
            />
            <NativeSelect
              label="Priority"
              data={priorities}
              value={priority}
              onChange={(e) => setPriority(e.currentTarget.value)}
            />
            <TextInput
              label="Tags to add"
              description="Separated by commas."
              value={tags}
              onChange={(e) => setTags(e.currentTarget.value)}
            />
            <div>
              <Text size="sm" fw={500} mb={4}>
                Responders to add
              </Text>
              <RespondersEditor value={responders} onChange={setResponders} />
            </div>
            {FLAGS.map(([flag, label]) => (
              <Checkbox
                key={flag}
                label={label}
                checked={flags[flag]}
                onChange={(e) => {
                  const checked = e.currentTarget.checked;
                  setFlags((f) => ({ ...f, [flag]: checked }));
                }}
              />
            ))}
          </Stack>
        </Fieldset>
        <FormError error={save.error} />
        <Group gap="xs">
          <Button type="submit" loading={save.isPending}>
            {policy ? 'Save policy' : 'Add policy'}
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
