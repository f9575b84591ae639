import { Alert, Button, Checkbox, Fieldset, Group, Stack, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import { CriteriaEditor, criteriaBody, draftCriteria } from '../../components/CriteriaEditor';
import { FormError } from '../../components/FormError';
import { DurationFields } from './DurationFields';
import {
  scopeQuery,
  settingsKeptAsTheyAre,
  storedBody,
  type Duration,
  type Policy,
  type PolicyBody,
} from './model';

const TEN_MINUTES: Required<Duration> = { timeAmount: 10, timeUnit: 'minutes' };

function full(duration: Duration | undefined, fallback: Required<Duration>): Required<Duration> {
  return duration ? { timeAmount: duration.timeAmount, timeUnit: duration.timeUnit ?? 'minutes' } : fallback;
}

/**
 * Creates a team's notification policy (without `policy`) or changes one: suppress, delay for a
 * duration, auto-close. Settings the form does not offer (time restrictions, auto-restart,
 * de-duplication, other delays), set through the API, are named and sent back as they were.
 */
export function NotificationPolicyForm({
  teamId,
  policy,
  onDone,
}: {
  teamId: string;
  policy?: Policy;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const storedDelay = policy?.delayAction?.delayOption === 'for-duration' ? policy.delayAction : undefined;
  const [name, setName] = useState(policy?.name ?? '');
  const [description, setDescription] = useState(policy?.policyDescription ?? '');
  const [criteria, setCriteria] = useState(() => draftCriteria(policy?.filter ?? undefined));
  const [suppress, setSuppress] = useState(policy?.suppress ?? false);
  const [delay, setDelay] = useState(storedDelay !== undefined);
  const [delayFor, setDelayFor] = useState(() => full(storedDelay?.duration, TEN_MINUTES));
  const [autoClose, setAutoClose] = useState(Boolean(policy?.autoCloseAction));
  const [closeAfter, setCloseAfter] = useState(() =>
    full(policy?.autoCloseAction?.duration, { timeAmount: 1, timeUnit: 'days' }),
  );
  const kept = settingsKeptAsTheyAre(policy);

  const save = useMutation({
    mutationFn: () => {
      const stored = storedBody(policy, 'notification');
      const body: PolicyBody = {
        ...stored,
        name: name.trim(),
        policyDescription: description,
        filter: criteriaBody(criteria) as PolicyBody['filter'],
        suppress,
        // A delay of another kind, set through the API, stays unless a duration replaces it.
        delayAction: delay
          ? { delayOption: 'for-duration', duration: delayFor }
          : storedDelay
            ? null
            : (stored.delayAction ?? null),
        autoCloseAction: autoClose ? { duration: closeAfter } : null,
      };
      const query = scopeQuery(teamId);
      return policy
        ? data(api.PUT('/v2/policies/{id}', { params: { path: { id: policy.id }, query }, body }))
        : data(api.POST('/v2/policies', { params: { query }, body }));
    },
    onSuccess: () => {
      notifications.show({
        color: 'teal',
        message: policy ? `${name.trim()} is saved.` : `The notification policy ${name.trim()} is added.`,
      });
      void queryClient.invalidateQueries({ queryKey: ['policies'] });
      if (policy) void queryClient.invalidateQueries({ queryKey: ['policy', policy.id] });
      onDone();
    },
  });

  return (
    <form
      aria-label={policy ? `Edit the notification policy ${policy.name}` : 'New notification policy'}
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
        <Fieldset legend="What it does to the team’s notifications" p="sm">
          <Stack gap="sm">
            <Checkbox
              label="Suppress: nobody in the team is notified"
              checked={suppress}
              onChange={(e) => setSuppress(e.currentTarget.checked)}
            />
            <Checkbox
              label="Delay the team’s notifications"
              checked={delay}
              onChange={(e) => setDelay(e.currentTarget.checked)}
            />
            {delay ? <DurationFields label="Delay for" value={delayFor} onChange={setDelayFor} /> : null}
            <Checkbox
              label="Close the alert automatically if it is still open"
              checked={autoClose}
              onChange={(e) => setAutoClose(e.currentTarget.checked)}
            />
            {autoClose ? (
              <DurationFields label="Close after" value={closeAfter} onChange={setCloseAfter} />
            ) : null}
          </Stack>
        </Fieldset>
        {kept.length > 0 ? (
          <Alert
            color="blue"
            title="Also set through the API"
            styles={{ title: { color: 'var(--mantine-color-text)' } }}
          >
            This policy also has {kept.join(', ')}; saving here keeps them as they are.
          </Alert>
        ) : null}
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
