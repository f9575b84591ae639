import { Alert, Checkbox, Fieldset, Stack } from '@mantine/core';
import { useState } from 'react';
import { DurationFields } from './DurationFields';
import { settingsKeptAsTheyAre, storedBody, type Duration, type Policy, type PolicyBody } from './model';
import { basicsBody, draftBasics, PolicyBasicsFields } from './PolicyBasicsFields';
import { PolicyFormFrame } from './PolicyFormFrame';
import { draftTiming, PolicyTimingFields, timingBody } from './PolicyTimingFields';
import { useSavePolicy } from './useSavePolicy';

const TEN_MINUTES: Required<Duration> = { timeAmount: 10, timeUnit: 'minutes' };

function full(duration: Duration | undefined, fallback: Required<Duration>): Required<Duration> {
  return duration ? { timeAmount: duration.timeAmount, timeUnit: duration.timeUnit ?? 'minutes' } : fallback;
}

/**
 * Creates a team's notification policy (without `policy`) or changes one: when it applies, suppress,
 * delay for a duration, auto-close. Settings the form does not offer (auto-restart, de-duplication,
 * other delays), set through the API, are named and sent back as they were.
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
  const storedDelay = policy?.delayAction?.delayOption === 'for-duration' ? policy.delayAction : undefined;
  const [basics, setBasics] = useState(() => draftBasics(policy));
  const [timing, setTiming] = useState(() => draftTiming(policy));
  const [suppress, setSuppress] = useState(policy?.suppress ?? false);
  const [delay, setDelay] = useState(storedDelay !== undefined);
  const [delayFor, setDelayFor] = useState(() => full(storedDelay?.duration, TEN_MINUTES));
  const [autoClose, setAutoClose] = useState(Boolean(policy?.autoCloseAction));
  const [closeAfter, setCloseAfter] = useState(() =>
    full(policy?.autoCloseAction?.duration, { timeAmount: 1, timeUnit: 'days' }),
  );
  const kept = settingsKeptAsTheyAre(policy);

  const save = useSavePolicy(policy, teamId, 'notification', onDone);

  const policyBody = (): PolicyBody => {
    const stored = storedBody(policy, 'notification');
    return {
      ...stored,
      ...basicsBody(basics),
      ...timingBody(timing, policy),
      suppress,
      // A delay of another kind, set through the API, stays unless a duration replaces it.
      delayAction: delay
        ? { delayOption: 'for-duration', duration: delayFor }
        : storedDelay
          ? null
          : (stored.delayAction ?? null),
      autoCloseAction: autoClose ? { duration: closeAfter } : null,
    };
  };

  return (
    <PolicyFormFrame policy={policy} kind="notification" save={save} body={policyBody} onCancel={onDone}>
      <PolicyBasicsFields value={basics} onChange={setBasics} />
      <PolicyTimingFields kind="notification" value={timing} onChange={setTiming} />
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
    </PolicyFormFrame>
  );
}
