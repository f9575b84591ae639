import { Autocomplete, Loader, Text, type AutocompleteProps } from '@mantine/core';
import { useState } from 'react';
import type { User } from '../api/types';
import { SEARCH_LIMIT, useUserSearch } from '../lib/users';

/**
 * A person's email, typed or found: as one types, the server searches usernames and full names, so
 * everyone can be found however many people the organization has. `onPick` gets the person chosen from
 * the list (typing a whole email without choosing is fine too: the value is the email).
 */
export function UserAutocomplete({
  value,
  onChange,
  onPick,
  ...props
}: {
  value: string;
  onChange: (value: string) => void;
  onPick?: (user: User) => void;
} & Omit<AutocompleteProps, 'value' | 'onChange' | 'data' | 'onOptionSubmit'>) {
  // Nothing is asked of the server until the field is used.
  const [used, setUsed] = useState(false);
  const search = useUserSearch(value, used);
  const found = search.data?.data ?? [];
  const byUsername = new Map(found.map((u) => [u.username, u]));
  const more = (search.data?.totalCount ?? 0) - found.length;
  return (
    <Autocomplete
      {...props}
      value={value}
      onChange={onChange}
      onFocus={(e) => {
        setUsed(true);
        props.onFocus?.(e);
      }}
      data={found.map((u) => u.username)}
      // The server has already matched full names too, which the default filter (on emails) would drop.
      filter={({ options }) => options}
      limit={SEARCH_LIMIT}
      onOptionSubmit={(username) => {
        const user = byUsername.get(username);
        if (user) onPick?.(user);
      }}
      renderOption={({ option }) => {
        const user = byUsername.get(option.value);
        return (
          <div style={{ minWidth: 0 }}>
            {user?.fullName ? (
              <Text size="sm" className="break-anywhere">
                {user.fullName}
              </Text>
            ) : null}
            <Text size="xs" c="dimmed" className="break-anywhere">
              {option.value}
            </Text>
          </div>
        );
      }}
      rightSection={search.isFetching ? <Loader size="xs" aria-label="Searching" /> : props.rightSection}
      description={
        props.description ??
        (more > 0 ? `${more.toLocaleString()} more match: type more of the name or email.` : undefined)
      }
    />
  );
}
