import { Checkbox, Fieldset, NativeSelect, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useState } from 'react';
import { storedBody, type Policy, type PolicyBody } from './model';
import { basicsBody, draftBasics, PolicyBasicsFields } from './PolicyBasicsFields';
import { PolicyFormFrame } from './PolicyFormFrame';
import { draftTiming, PolicyTimingFields, timingBody } from './PolicyTimingFields';
import { RespondersEditor, respondersBody } from './RespondersEditor';
import { useSavePolicy } from './useSavePolicy';

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
  const [basics, setBasics] = useState(() => draftBasics(policy));
  const [timing, setTiming] = useState(() => draftTiming(policy));
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

  const save = useSavePolicy(policy, teamId, 'alert', onDone);

  const policyBody = (): PolicyBody => {
    const body: PolicyBody = {
      ...storedBody(policy, 'alert'),
      ...basicsBody(basics),
      ...timingBody(timing, policy),
      continue: cont,
      message,
      alertDescription,
      tags: splitTags(tags),
      responders: respondersBody(responders),
      ...flags,
    };
    if (priority) body.priority = priority;
    else delete body.priority;
    return body;
  };

  return (
    <PolicyFormFrame policy={policy} kind="alert" save={save} body={policyBody} onCancel={onDone}>
      <PolicyBasicsFields value={basics} onChange={setBasics} />
      <PolicyTimingFields kind="alert" value={timing} onChange={setTiming} />
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
    </PolicyFormFrame>
  );
}
