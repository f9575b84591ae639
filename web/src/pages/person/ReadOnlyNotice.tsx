import { Text } from '@mantine/core';

/** The line shown instead of the forms of a section the server would not let the caller change. */
export function ReadOnlyNotice() {
  return (
    <Text size="sm" c="dimmed" role="note">
      Your role lets you see, not change, these; ask an organization admin.
    </Text>
  );
}
