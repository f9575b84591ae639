import { Button, Fieldset, Group, NativeSelect, Stack, Text } from '@mantine/core';
import { useQueries, useQuery } from '@tanstack/react-query';
import { api, ApiError, data } from '../../api/client';
import type { User } from '../../api/types';
import { UserAutocomplete } from '../../components/UserAutocomplete';
import { escalationsQuery, schedulesQuery, useEscalations, useSchedules } from '../../lib/oncall';
import { teamsQuery, useTeams } from '../../lib/teams';
import type { PolicyResponder } from './model';

const TYPES = [
  { value: 'team', label: 'Team' },
  { value: 'user', label: 'Person' },
  { value: 'escalation', label: 'Escalation' },
  { value: 'schedule', label: 'Schedule' },
];

const TYPE_LABELS: Record<PolicyResponder['type'], string> = {
  team: 'Team',
  user: 'Person (email)',
  escalation: 'Escalation',
  schedule: 'Schedule',
};

/** A responder given by id alone (as Terraform's opsgenie_alert_policy sends them): its name is looked up. */
const byIdOnly = (r: PolicyResponder): r is PolicyResponder & { id: string } =>
  !!r.id && !(r.type === 'user' ? r.username : r.name);

/**
 * What names the responders given by id alone: a person's username (GET /v2/users/{id}), a team's,
 * escalation's or schedule's name from its list. Only what is needed is asked for.
 */
export function useResponderNames(responders: readonly PolicyResponder[]) {
  const idOnly = responders.filter(byIdOnly);
  const needs = (type: PolicyResponder['type']) => idOnly.some((r) => r.type === type);
  const teams = useQuery({ ...teamsQuery, enabled: needs('team') });
  const escalations = useQuery({ ...escalationsQuery, enabled: needs('escalation') });
  const schedules = useQuery({ ...schedulesQuery, enabled: needs('schedule') });
  const userIds = [...new Set(idOnly.filter((r) => r.type === 'user').map((r) => r.id))];
  const users = useQueries({
    queries: userIds.map((id) => ({
      queryKey: ['user', id],
      queryFn: () => data<User>(api.GET('/v2/users/{identifier}', { params: { path: { identifier: id } } })),
      retry: false,
    })),
  });
  const names = {
    team: new Map((teams.data ?? []).map((t) => [t.id, t.name])),
    escalation: new Map((escalations.data ?? []).map((e) => [e.id, e.name])),
    schedule: new Map((schedules.data ?? []).map((s) => [s.id, s.name])),
    user: new Map(users.flatMap((u) => (u.data ? [[u.data.id, u.data.username] as const] : []))),
  };
  const gone = new Set(
    users.flatMap((u, i) => (u.error instanceof ApiError && u.error.status === 404 ? [userIds[i]] : [])),
  );
  return {
    /** Its name (a person's username), the stored one or the one looked up. */
    nameOf: (r: PolicyResponder): string | undefined =>
      (r.type === 'user' ? r.username : r.name) || (r.id ? names[r.type].get(r.id) : undefined),
    /** Whether it is a person given by id whom the organization no longer has. */
    isGone: (r: PolicyResponder): boolean => byIdOnly(r) && r.type === 'user' && gone.has(r.id),
  };
}

/**
 * The responders a policy adds: a team, escalation or schedule chosen from a list (sent by id), or a
 * person by email (sent by username; one given by id alone, as Terraform does, is shown by username and
 * sent back by id until another is typed). The server looks each up when the policy is saved.
 */
export function RespondersEditor({
  value,
  onChange,
}: {
  value: PolicyResponder[];
  onChange: (value: PolicyResponder[]) => void;
}) {
  const teams = useTeams();
  const escalations = useEscalations();
  const schedules = useSchedules();
  const responderNames = useResponderNames(value);
  const choices: Record<Exclude<PolicyResponder['type'], 'user'>, { value: string; label: string }[]> = {
    team: (teams.data ?? []).map((t) => ({ value: t.id, label: t.name })),
    escalation: (escalations.data ?? []).map((e) => ({ value: e.id, label: e.name })),
    schedule: (schedules.data ?? []).map((s) => ({ value: s.id, label: s.name })),
  };
  const set = (index: number, next: PolicyResponder) =>
    onChange(value.map((r, i) => (i === index ? next : r)));
  const optionsFor = (r: PolicyResponder & { type: keyof typeof choices }) => {
    const list = choices[r.type];
    const placeholder = { value: '', label: `Choose a ${r.type}` };
    // A responder deleted since (or not listed yet) stays until another is chosen.
    if (r.id && !list.some((o) => o.value === r.id))
      return [placeholder, { value: r.id, label: r.name ?? `${r.type} ${r.id}` }, ...list];
    return [placeholder, ...list];
  };
  return (
    <Stack gap="xs">
      {value.length === 0 ? (
        <Text size="sm" c="dimmed">
          No responder added.
        </Text>
      ) : null}
      {value.map((r, i) => (
        <Fieldset key={i} legend={`Responder ${i + 1}`} p="sm">
          <Group gap="xs" align="flex-end" wrap="wrap">
            <NativeSelect
              label="Responder type"
              data={TYPES}
              value={r.type}
              onChange={(e) => set(i, { type: e.currentTarget.value as PolicyResponder['type'] })}
              w={150}
            />
            {r.type === 'user' ? (
              <UserAutocomplete
                label={TYPE_LABELS.user}
                required
                // A person given by id alone shows by username; typing replaces them (sent by username).
                value={r.username ?? responderNames.nameOf(r) ?? ''}
                error={
                  responderNames.isGone(r)
                    ? 'This person is no longer in Vigil: choose another, or remove the responder.'
                    : undefined
                }
                onChange={(username) => set(i, { type: 'user', username })}
                style={{ flex: 1, minWidth: 180 }}
              />
            ) : (
              <NativeSelect
                label={TYPE_LABELS[r.type]}
                required
                data={optionsFor(r as PolicyResponder & { type: keyof typeof choices })}
                value={r.id ?? ''}
                onChange={(e) => {
                  const id = e.currentTarget.value;
                  const label = choices[r.type as keyof typeof choices].find((o) => o.value === id)?.label;
                  set(i, { type: r.type, id, ...(label ? { name: label } : {}) });
                }}
                style={{ flex: 1, minWidth: 180 }}
              />
            )}
            <Button
              size="xs"
              variant="subtle"
              color="red"
              mb={4}
              onClick={() => onChange(value.filter((_, j) => j !== i))}
              aria-label={`Remove responder ${i + 1}`}
            >
              Remove
            </Button>
          </Group>
        </Fieldset>
      ))}
      <Group>
        <Button
          size="xs"
          variant="light"
          disabled={value.length >= 50}
          onClick={() => onChange([...value, { type: 'team' }])}
        >
          Add responder
        </Button>
      </Group>
    </Stack>
  );
}

/**
 * The responders as the API takes them: each by id (a person by username, or by id when given so and not
 * changed), incomplete rows left out.
 */
export function respondersBody(responders: PolicyResponder[]): PolicyResponder[] {
  return responders.flatMap((r): PolicyResponder[] => {
    if (r.type === 'user') {
      if (r.username?.trim()) return [{ type: 'user', username: r.username.trim() }];
      // Typing in the field drops the id: one still there was given by id and is kept.
      return r.id ? [{ type: 'user', id: r.id }] : [];
    }
    // The name only labels it (the id decides): the list of policies shows it.
    return r.id ? [{ type: r.type, id: r.id, ...(r.name ? { name: r.name } : {}) }] : [];
  });
}
