import { Button, Group, NativeSelect, Stack } from '@mantine/core';
import { useRef, useState, type KeyboardEvent } from 'react';
import type { User } from '../../api/types';
import { UserAutocomplete } from '../../components/UserAutocomplete';
import { useUserSearch } from '../../lib/users';

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
 * The picker sits in the policy's form: Enter in the search picks the person whose email is typed in
 * full, and never submits the form (which would save the rule's old recipient).
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
  const selectRef = useRef<HTMLSelectElement>(null);
  // The search's own query (the same key as the field's list): what Enter may pick from.
  const search = useUserSearch(text, finding);
  const find = { value: FIND, label: 'Find another person…' };
  const withFind = groups.some((g) => g.group === 'People')
    ? groups.map((g) => (g.group === 'People' ? { ...g, items: [...g.items, find] } : g))
    : [{ group: 'People', items: [find] }, ...groups];
  const stop = () => {
    setFinding(false);
    setText('');
  };
  const pick = (user: User) => {
    onFound(user);
    onChange(`user:${user.id}`);
    stop();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Enter' || event.nativeEvent.isComposing) return;
    // Not the form's Enter: it would save the rule with the person it named before.
    event.preventDefault();
    // An option chosen with the arrow keys is the list's to pick (it does so after this handler).
    const list = document.getElementById(event.currentTarget.getAttribute('aria-controls') ?? '');
    if (list?.querySelector('[data-combobox-selected]')) return;
    const typed = text.trim().toLowerCase();
    const matches = (search.data?.data ?? []).filter((u) => u.username.toLowerCase() === typed);
    const [user] = matches;
    if (!user || matches.length !== 1) return;
    pick(user);
    // The finder goes: the cursor goes back to the list it was opened from.
    selectRef.current?.focus();
  };
  return (
    <Stack gap={4} miw={180}>
      <NativeSelect
        ref={selectRef}
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
            onPick={pick}
            onKeyDown={onKeyDown}
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
