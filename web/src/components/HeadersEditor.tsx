import { Button, Fieldset, Group, PasswordInput, Stack, Text, TextInput } from '@mantine/core';

/** How the API shows a stored header's value, and what sent back keeps it. */
export const MASKED_HEADER = '****';

export interface DraftHeader {
  /** React's key: headers are removed from the middle of the list. */
  id: number;
  name: string;
  value: string;
  /**
   * A header the webhook already has: its value is not known, and left empty it is kept while the URL
   * stays as it is.
   */
  stored: boolean;
}

let nextId = 1;

/** The stored headers by name: the server's order is its storage's (PostgreSQL's jsonb), not the one given. */
export function draftHeaders(headers: Record<string, string> | undefined): DraftHeader[] {
  return Object.keys(headers ?? {})
    .sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }))
    .map((name) => ({ id: nextId++, name, value: '', stored: true }));
}

/**
 * The headers as the API takes them: a stored header left empty is sent masked, which keeps its value while
 * the URL stays as it is. Moved to another URL, the server refuses a masked value (422, naming the
 * header) rather than being sent an empty one: the editor asks for the value first, and the refusal is the
 * backstop.
 */
export function headersBody(headers: DraftHeader[]): Record<string, string> {
  return Object.fromEntries(
    headers
      .filter((h) => h.name.trim())
      .map((h) => [h.name.trim(), h.value === '' && h.stored ? MASKED_HEADER : h.value]),
  );
}

/** Whether the draft adds, changes or removes a header of those stored (shown masked by the API). */
export function headersChanged(headers: DraftHeader[], stored: Record<string, string> | undefined): boolean {
  const kept = headers.filter((h) => h.stored);
  return (
    headers.some((h) => !h.stored && h.name.trim() !== '') ||
    kept.some((h) => h.value !== '') ||
    Object.keys(stored ?? {}).some((name) => !kept.some((h) => h.name === name))
  );
}

function normalizedUrl(url: string): string | undefined {
  try {
    return new URL(url.trim()).toString();
  } catch {
    return undefined;
  }
}

/**
 * Whether a webhook's URL moves from the saved one to another, as the server compares them
 * (src/notify/team-destinations/webhook.ts): its stored header values are not sent to another URL, even
 * one on the same host (a hook host serves many customers), unless given again. A URL that does not parse
 * yet counts as moving: the server could not match it either.
 */
export function movesToAnotherUrl(savedUrl: string | undefined, draftUrl: string): boolean {
  if (savedUrl === undefined) return false;
  const to = normalizedUrl(draftUrl);
  return to === undefined || to !== normalizedUrl(savedUrl);
}

/** Headers sent with each request, such as a receiver's credentials: values are written, never shown. */
export function HeadersEditor({
  value,
  onChange,
  storedValuesNeeded = false,
}: {
  value: DraftHeader[];
  onChange: (value: DraftHeader[]) => void;
  /** The URL moves: stored headers need their values again (or to be removed). */
  storedValuesNeeded?: boolean;
}) {
  const set = (id: number, patch: Partial<DraftHeader>) =>
    onChange(value.map((h) => (h.id === id ? { ...h, ...patch } : h)));
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        Headers
      </Text>
      <Text size="xs" c="dimmed">
        Sent with every request (at most 20). Their values are stored and never shown again.
      </Text>
      {value.map((h, i) => (
        <Fieldset key={h.id} legend={`Header ${i + 1}`} p="sm">
          <Group gap="xs" align="flex-start" wrap="wrap">
            <TextInput
              label="Header name"
              required
              maxLength={100}
              value={h.name}
              // A stored header's name is its key: renaming it would need its value again.
              readOnly={h.stored}
              onChange={(e) => set(h.id, { name: e.currentTarget.value })}
              style={{ flex: 1, minWidth: 150 }}
            />
            <PasswordInput
              label="Header value"
              required={!h.stored || storedValuesNeeded}
              placeholder={h.stored && !storedValuesNeeded ? MASKED_HEADER : undefined}
              description={
                !h.stored
                  ? undefined
                  : storedValuesNeeded
                    ? 'The URL changes: give the value again, or remove the header.'
                    : 'Leave it empty to keep the current value.'
              }
              maxLength={1000}
              autoComplete="off"
              value={h.value}
              onChange={(e) => set(h.id, { value: e.currentTarget.value })}
              style={{ flex: 1, minWidth: 150 }}
            />
          </Group>
          <Button
            size="xs"
            variant="subtle"
            color="red"
            mt="xs"
            onClick={() => onChange(value.filter((x) => x.id !== h.id))}
            aria-label={`Remove header ${i + 1}`}
          >
            Remove
          </Button>
        </Fieldset>
      ))}
      <Group>
        <Button
          size="xs"
          variant="light"
          disabled={value.length >= 20}
          onClick={() => onChange([...value, { id: nextId++, name: '', value: '', stored: false }])}
        >
          Add header
        </Button>
      </Group>
    </Stack>
  );
}
