import { Button, Fieldset, Group, NativeSelect, Stack, Text } from '@mantine/core';
import { UserAutocomplete } from '../../components/UserAutocomplete';
import { useEscalations, useSchedules } from '../../lib/oncall';
import { useTeams } from '../../lib/teams';
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

/**
 * The responders a policy adds: a team, escalation or schedule chosen from a list (sent by id), or a
 * person by email (sent by username). The server looks each up when the policy is saved.
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
                value={r.username ?? ''}
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

/** The responders as the API takes them: each by id (a person by username), incomplete rows left out. */
export function respondersBody(responders: PolicyResponder[]): PolicyResponder[] {
  return responders.flatMap((r): PolicyResponder[] => {
    if (r.type === 'user') return r.username?.trim() ? [{ type: 'user', username: r.username.trim() }] : [];
    // The name only labels it (the id decides): the list of policies shows it.
    return r.id ? [{ type: r.type, id: r.id, ...(r.name ? { name: r.name } : {}) }] : [];
  });
}
