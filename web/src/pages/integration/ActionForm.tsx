import { Button, Checkbox, Group, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useState } from 'react';
import { CriteriaEditor, criteriaBody, draftCriteria } from '../../components/CriteriaEditor';
import { FormError } from '../../components/FormError';
import type { ActionType, IntegrationAction } from './actions';

const splitTags = (text: string) =>
  text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/**
 * One integration action's name, conditions and, by type, the fields it sets ({{placeholders}} are
 * filled from the request), and for an Email integration's create action whether the message's files
 * go on the alert. The rest of the action (responders, details, other flags) is kept as it was.
 */
export function ActionForm({
  type,
  forEmail,
  action,
  title,
  saving,
  error,
  onSave,
  onCancel,
}: {
  type: ActionType;
  forEmail: boolean;
  action: IntegrationAction;
  title: string;
  saving: boolean;
  error: unknown;
  onSave: (action: IntegrationAction) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(action.name);
  const [criteria, setCriteria] = useState(() =>
    draftCriteria({ type: action.filter.conditionMatchType, conditions: action.filter.conditions }),
  );
  const [message, setMessage] = useState(action.message ?? '');
  const [description, setDescription] = useState(action.description ?? '');
  const [priority, setPriority] = useState(action.customPriority || action.priority || '');
  const [tags, setTags] = useState((action.tags ?? []).join(', '));
  const [user, setUser] = useState(action.user ?? '');
  const [note, setNote] = useState(action.note ?? '');
  const [appendAttachments, setAppendAttachments] = useState(action.appendAttachments === true);

  const submit = () => {
    const filter = criteriaBody(criteria);
    const next: IntegrationAction = {
      ...action,
      name: name.trim(),
      filter: {
        conditionMatchType: filter.type ?? 'match-all',
        conditions: (filter.conditions ?? []) as IntegrationAction['filter']['conditions'],
      },
    };
    if (type === 'create') {
      Object.assign(next, { message, description, priority, tags: splitTags(tags) });
      // The priority field says it all: a custom priority left from the API would override it.
      delete next.customPriority;
      // Only shown for email, where it matters; an API integration's flag stays as the API set it.
      if (forEmail) next.appendAttachments = appendAttachments;
    } else if (type !== 'ignore') Object.assign(next, { user, note });
    onSave(next);
  };

  return (
    <form
      aria-label={title}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <Stack gap="sm">
        <TextInput
          label="Action name"
          required
          maxLength={200}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <CriteriaEditor value={criteria} onChange={setCriteria} />
        {type !== 'ignore' ? (
          <Text size="xs" c="dimmed">
            Dynamic fields such as {'{{message}}'}, {'{{description}}'}, {'{{priority}}'}, {'{{tags}}'} and{' '}
            {'{{details.key}}'} are filled from the request.
          </Text>
        ) : null}
        {type === 'create' ? (
          <>
            <TextInput
              label="Message"
              maxLength={15000}
              value={message}
              onChange={(e) => setMessage(e.currentTarget.value)}
            />
            <Textarea
              label="Description"
              autosize
              minRows={2}
              maxRows={8}
              maxLength={15000}
              value={description}
              onChange={(e) => setDescription(e.currentTarget.value)}
            />
            <TextInput
              label="Priority"
              description="P1 to P5, or a dynamic field such as {{priority}}."
              maxLength={200}
              value={priority}
              onChange={(e) => setPriority(e.currentTarget.value)}
            />
            <TextInput
              label="Tags"
              description="Separated by commas; {{tags}} stands for the request’s tags."
              value={tags}
              onChange={(e) => setTags(e.currentTarget.value)}
            />
            {forEmail ? (
              <Checkbox
                label="Attach the email’s files to the alert"
                description="Onto the alert it makes or is de-duplicated into, within the attachment limits; images inside the text are not attached files."
                checked={appendAttachments}
                onChange={(e) => setAppendAttachments(e.currentTarget.checked)}
              />
            ) : null}
          </>
        ) : type !== 'ignore' ? (
          <>
            <TextInput
              label="User"
              maxLength={15000}
              value={user}
              onChange={(e) => setUser(e.currentTarget.value)}
            />
            <TextInput
              label="Note"
              maxLength={15000}
              value={note}
              onChange={(e) => setNote(e.currentTarget.value)}
            />
          </>
        ) : null}
        <FormError error={error} />
        <Group gap="xs">
          <Button type="submit" loading={saving}>
            Save action
          </Button>
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
