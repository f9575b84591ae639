import { Alert, Button, Stack, Text } from '@mantine/core';
import { messageOf } from '../api/client';

/** An error in words, with a way to try again. */
export function ErrorPanel({ error, retry, title }: { error: unknown; retry?: () => void; title?: string }) {
  return (
    <Alert color="red" title={title ?? 'This could not be loaded'} role="alert" my="md">
      <Stack gap="xs" align="flex-start">
        <Text size="sm" className="break-anywhere">
          {messageOf(error)}
        </Text>
        {retry ? (
          <Button size="xs" variant="light" color="red" onClick={retry}>
            Try again
          </Button>
        ) : null}
      </Stack>
    </Alert>
  );
}
