import { Stack, Text, TextInput } from '@mantine/core';
import {
  draftTimeRestriction,
  sameTimeRestriction,
  TimeRestrictionEditor,
  timeRestrictionBody,
  type DraftTimeRestriction,
} from '../../components/TimeRestrictionEditor';
import { browserTimezone } from '../../lib/time';
import type { Policy, PolicyBody, PolicyKind } from './model';

/** When a policy applies (either kind): its time restriction and the zone that reads it. */
export interface PolicyTiming {
  restriction: DraftTimeRestriction;
  timezone: string;
}

/** A delay until a time of day is read in the policy's zone too: UTC, when the policy has no zone of its own. */
const delaysUntilATime = (policy: Policy) =>
  Boolean(policy.delayAction && policy.delayAction.delayOption !== 'for-duration');

export function draftTiming(policy: Policy | undefined): PolicyTiming {
  return {
    restriction: draftTimeRestriction(policy?.timeRestrictions),
    // A stored zone, else the browser's, unless that would move a delay until a time of day out of UTC.
    timezone: policy?.timezone ?? (policy && delaysUntilATime(policy) ? 'UTC' : browserTimezone()),
  };
}

/**
 * The timing as the PUT (or POST) body carries it. A restriction left as it was is sent back as the API
 * gave it, in whichever of its two forms, so saving an untouched policy changes nothing; one lifted is sent
 * as null. The zone is sent with a restriction, and otherwise stays what it was (it also reads delays).
 */
export function timingBody(
  timing: PolicyTiming,
  policy: Policy | undefined,
): Pick<PolicyBody, 'timeRestrictions' | 'timezone'> {
  const stored = policy?.timeRestrictions ?? null;
  const timeRestrictions = sameTimeRestriction(timing.restriction, stored)
    ? stored
    : timeRestrictionBody(timing.restriction);
  if (timing.restriction.kind !== 'none') return { timeRestrictions, timezone: timing.timezone.trim() };
  return policy?.timezone ? { timeRestrictions, timezone: policy.timezone } : { timeRestrictions };
}

export function PolicyTimingFields({
  kind,
  value,
  onChange,
}: {
  kind: PolicyKind;
  value: PolicyTiming;
  onChange: (value: PolicyTiming) => void;
}) {
  return (
    <Stack gap="xs">
      <TimeRestrictionEditor
        value={value.restriction}
        onChange={(restriction) => onChange({ ...value, restriction })}
      />
      {value.restriction.kind !== 'none' ? (
        <>
          <Text size="xs" c="dimmed">
            The policy applies only to alerts created inside these times.
          </Text>
          <TextInput
            label="Time zone"
            description={`The IANA time zone its times are read in, such as Europe/Berlin or America/New_York${
              kind === 'notification' ? ' (a delay until a time of day is read in it too)' : ''
            }.`}
            required
            maxLength={64}
            value={value.timezone}
            onChange={(e) => onChange({ ...value, timezone: e.currentTarget.value })}
          />
        </>
      ) : null}
    </Stack>
  );
}
