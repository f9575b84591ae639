import { Button, Group, Menu, NativeSelect, Popover, Select, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { api, data } from '../../api/client';
import { PRIORITIES, type AlertDetail, type Escalation, type Priority } from '../../api/types';
import { UserAutocomplete } from '../../components/UserAutocomplete';
import type { AlertAction } from '../../lib/alertActions';

const SNOOZES = [
  { label: '30 minutes', minutes: 30 },
  { label: '1 hour', minutes: 60 },
  { label: '4 hours', minutes: 240 },
  { label: '1 day', minutes: 1440 },
];

/**
 * A toolbar button that opens a small form below it; the form's submit button says the same as the
 * toolbar's. `onSubmit` says whether the action went ahead (and the form may close).
 */
function FormPopover({
  label,
  disabled,
  opened,
  setOpened,
  onSubmit,
  children,
}: {
  label: string;
  disabled: boolean;
  opened: boolean;
  setOpened: (opened: boolean) => void;
  onSubmit: () => boolean;
  children: ReactNode;
}) {
  return (
    <Popover opened={opened} onChange={setOpened} withinPortal trapFocus position="bottom-start" shadow="md">
      <Popover.Target>
        <Button variant="default" disabled={disabled} onClick={() => setOpened(!opened)}>
          {label}
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (onSubmit()) setOpened(false);
          }}
        >
          <Stack gap="xs" w={260}>
            {children}
            <Button type="submit" size="xs">
              {label}
            </Button>
          </Stack>
        </form>
      </Popover.Dropdown>
    </Popover>
  );
}

/** An alert's toolbar: every action on it, each answered by Vigil a moment later. */
export function AlertActions({
  alert,
  act,
  busy,
}: {
  alert: AlertDetail;
  act: (a: AlertAction) => void;
  busy: boolean;
}) {
  const [owner, setOwner] = useState('');
  const [escalation, setEscalation] = useState<string | null>(null);
  const [assignOpen, setAssignOpen] = useState(false);
  const [escalateOpen, setEscalateOpen] = useState(false);
  const escalations = useQuery({
    queryKey: ['escalations'],
    queryFn: () => data<Escalation[]>(api.GET('/v2/escalations')),
    enabled: escalateOpen,
  });
  const closed = alert.status === 'closed';
  return (
    <Group gap="xs" wrap="wrap" role="toolbar" aria-label="Alert actions">
      {alert.acknowledged ? (
        <Button variant="default" disabled={closed || busy} onClick={() => act({ kind: 'unacknowledge' })}>
          Unacknowledge
        </Button>
      ) : (
        <Button disabled={closed || busy} onClick={() => act({ kind: 'acknowledge' })}>
          Acknowledge
        </Button>
      )}
      <Button color="gray" disabled={closed || busy} onClick={() => act({ kind: 'close' })}>
        Close
      </Button>
      {/* The browser's own list: Mantine's Select (a combobox with its popover) was about half of what
          the toolbar cost the page's render (docs/performance.md). */}
      <NativeSelect
        aria-label="Priority"
        data={PRIORITIES.map((p) => ({ value: p, label: `Priority ${p}` }))}
        value={alert.priority}
        onChange={(e) => {
          const value = e.currentTarget.value as Priority;
          if (value !== alert.priority) act({ kind: 'priority', priority: value });
        }}
        w={130}
        disabled={busy}
      />
      <Menu withinPortal>
        <Menu.Target>
          <Button variant="default" disabled={closed || busy}>
            Snooze
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Label>Snooze for</Menu.Label>
          {SNOOZES.map((s) => (
            <Menu.Item
              key={s.minutes}
              onClick={() =>
                act({ kind: 'snooze', endTime: new Date(Date.now() + s.minutes * 60_000).toISOString() })
              }
            >
              {s.label}
            </Menu.Item>
          ))}
        </Menu.Dropdown>
      </Menu>
      <FormPopover
        label="Assign"
        disabled={busy}
        opened={assignOpen}
        setOpened={setAssignOpen}
        onSubmit={() => {
          if (!owner.trim()) return false;
          act({ kind: 'assign', username: owner.trim() });
          return true;
        }}
      >
        <UserAutocomplete
          label="Owner (email)"
          value={owner}
          onChange={setOwner}
          comboboxProps={{ withinPortal: false }}
          required
        />
      </FormPopover>
      <FormPopover
        label="Escalate"
        disabled={closed || busy}
        opened={escalateOpen}
        setOpened={setEscalateOpen}
        onSubmit={() => {
          act({ kind: 'escalate', ...(escalation ? { escalation: { id: escalation } } : {}) });
          return true;
        }}
      >
        <Select
          label="Escalation"
          placeholder={escalations.isPending ? 'Loading…' : 'Every escalation it is on'}
          data={(escalations.data ?? []).map((e) => ({ value: e.id, label: e.name }))}
          value={escalation}
          onChange={setEscalation}
          comboboxProps={{ withinPortal: false }}
          clearable
        />
        {escalations.isError ? (
          <Text size="xs" c="red">
            {String(escalations.error.message)}
          </Text>
        ) : null}
        <Text size="xs" c="dimmed">
          Moves the alert to the next rule of the escalation now.
        </Text>
      </FormPopover>
    </Group>
  );
}
