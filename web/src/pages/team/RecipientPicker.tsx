import { Button, Group, NativeSelect, Stack } from '@mantine/core';
import { useState } from 'react';
import type { User } from '../../api/types';
import { UserAutocomplete } from '../../components/UserAutocomplete';

export interface RecipientGroup {
  group: string;
  items: { value: string; label: string }[];
}

/** The option that opens the search rather than naming a recipient. */
const FIND = 'find:';

/**
 * Whom an escalation rule notifies: a native select of the people listed first, the teams and the
 * schedules, whose last person option opens a search of everyone on the server (for the people past the
 * first page). A person found becomes the rule's recipient and is listed from then on (`onFound`).
 */
export function RecipientPicker({
  value,
  onChange,
  groups,
  onFound,
}: {
  value: string;
  onChange: (value: string) => void;
  groups: RecipientGroup[];
  onFound: (user: User) => void;
}) {
  const [finding, setFinding] = useState(false);
  const [text, setText] = useState('');
  const find = { value: FIND, label: 'Find another person…' };
  const withFind = groups.some((g) => g.group === 'People')
    ? groups.map((g) => (g.group === 'People' ? { ...g, items: [...g.items, find] } : g))
    : [{ group: 'People', items: [find] }, ...groups];
  const stop = () => {
    setFinding(false);
    setText('');
  };
  return (
    <Stack gap={4} miw={180}>
      <NativeSelect
        label="Notify"
        data={withFind}
        value={value}
        onChange={(e) => {
          const next = e.currentTarget.value;
          if (next === FIND) setFinding(true);
          else onChange(next);
        }}
      />
      {finding ? (
        <Group gap={4} align="flex-end" wrap="nowrap">
          <UserAutocomplete
            label="Find a person"
            placeholder="Name or email"
            value={text}
            onChange={setText}
            onPick={(user) => {
              onFound(user);
              onChange(`user:${user.id}`);
              stop();
            }}
            // It appears because the person asked to search: the cursor belongs there.
            autoFocus
            style={{ flex: 1, minWidth: 0 }}
          />
          <Button size="xs" variant="subtle" onClick={stop} mb={4}>
            Cancel
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}
