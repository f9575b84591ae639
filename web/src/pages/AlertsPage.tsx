import {
  Alert,
  Box,
  Button,
  Card,
  Group,
  Kbd,
  List,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
} from '@mantine/core';
import { useHotkeys, useMediaQuery, type HotkeyItem } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import type { AlertSummary } from '../api/types';
import { ErrorPanel } from '../components/ErrorPanel';
import { SearchIcon } from '../components/icons';
import { PageTitle } from '../components/PageTitle';
import { useTeamNames } from '../lib/teams';
import { useSendOnce, type AlertAction } from '../lib/alertActions';
import { bulkSummary, useBulkAlertAction, type BulkOutcome } from '../lib/bulkAlertActions';
import { useSavedSearch } from '../lib/savedSearches';
import { isAdmin, useSession } from '../session';
import { AlertCard, AlertRow, type AlertLineProps } from './alerts/AlertLine';
import { LegacyFiltersNotice } from './alerts/LegacyFiltersNotice';
import { ActiveSavedFilter, SavedFilters } from './alerts/SavedFilters';
import { alertListQueries, listParams, PAGE_SIZE, VIEWS } from './alerts/listQueries';

/** How many rows are rendered first: more than a tall screen shows. */
const FIRST_ROWS = 20;

/** Inputs that take no text: a key pressed on one (a box just ticked with the mouse) is a shortcut. */
const KEYLESS_INPUTS = new Set(['checkbox', 'radio']);

/**
 * Mantine's `useHotkeys`, told to ignore no INPUT: by default it ignores them all, and a checkbox keeps the
 * focus after a click, so every key was lost once a row was ticked. A text field still gets its keys: a
 * key's default is prevented only once it is known to be a shortcut.
 */
function useListHotkeys(hotkeys: HotkeyItem[]) {
  useHotkeys(
    hotkeys.map(([key, handler, options]) => [
      key,
      (event) => {
        const target = event.target;
        if (target instanceof HTMLInputElement && !KEYLESS_INPUTS.has(target.type)) return;
        if (options?.preventDefault ?? true) event.preventDefault();
        handler(event);
      },
      { ...options, preventDefault: false },
    ]),
    ['TEXTAREA', 'SELECT'],
  );
}

export default function AlertsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  // Read at the first render (the console renders only in a browser): by default Mantine reads it in an
  // effect, after a first render as a wide screen, and its change from undefined redrew the whole page.
  const phone = useMediaQuery('(max-width: 48em)', undefined, { getInitialValueInEffect: false });
  const admin = isAdmin(useSession());
  const shownList = listParams(params);
  // The saved filter in use (searchId), by id: the server runs it, AND-ed with the view and the search box.
  const { query, searchId, viewId, view, offset } = shownList;
  const saved = useSavedSearch(searchId || undefined);
  const [draft, setDraft] = useState(query);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  // By id, not by row: a live update that adds an alert above moves the rows, not what j/k chose.
  const [focusedId, setFocusedId] = useState<string>();
  const searchRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const action = useBulkAlertAction();
  // The last bulk action that left some alerts undone: what was done, and which were not and why.
  const [partial, setPartial] = useState<{
    kind: AlertAction['kind'];
    outcome: BulkOutcome;
    labels: Map<string, string>;
  }>();
  const teamsOf = useTeamNames();

  // The box follows the URL's query when it changes (back, a saved filter).
  const [shown, setShown] = useState(query);
  if (shown !== query) {
    setShown(query);
    setDraft(query);
  }
  // Another list (however the URL changed: back, the header's link) starts with nothing chosen.
  const listKey = params.toString();
  const [listShown, setListShown] = useState(listKey);
  if (listShown !== listKey) {
    setListShown(listKey);
    setSelected(new Set());
    setFocusedId(undefined);
  }

  const update = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next);
    setSelected(new Set());
    setFocusedId(undefined);
  };

  const queries = alertListQueries(shownList);
  const list = useQuery({ ...queries.list, placeholderData: keepPreviousData });
  const counts = useQuery({ ...queries.counts, placeholderData: keepPreviousData });

  const alerts = useMemo(() => list.data ?? [], [list.data]);
  // Only what is shown can be acted on: an alert a live update took off the list stays out of reach.
  const chosen = useMemo(
    () => new Set(alerts.filter((a) => selected.has(a.id)).map((a) => a.id)),
    [alerts, selected],
  );
  const focused = focusedId === undefined ? -1 : alerts.findIndex((a) => a.id === focusedId);
  // For the rows' focus callback, which stays the same so that rows do not redraw for it.
  const shownAlerts = useRef(alerts);
  useEffect(() => {
    shownAlerts.current = alerts;
  }, [alerts]);
  // A screenful of rows renders at once and the rest of the page's rows just after, in a render that
  // gives way to input: all 50 in one go were the longest task of the list's load (docs/performance.md).
  const deferredRows = useDeferredValue(alerts.length, FIRST_ROWS);
  const rows = alerts.slice(0, Math.max(Math.min(alerts.length, FIRST_ROWS), deferredRows));
  // How each alert listed here was shown, to name those a bulk action could not do.
  const seen = useRef(new Map<string, string>());
  useEffect(() => {
    for (const a of alerts) seen.current.set(a.id, `#${a.tinyId} ${a.message}`);
  }, [alerts]);
  // The selection, else the focused alert: one alert goes through its own endpoint (useBulkAlertAction),
  // so a role without the rights to act on many at once can still act on it from here.
  const targets = () => {
    if (chosen.size > 0) return [...chosen];
    const row = alerts[focused];
    return row ? [row.id] : [];
  };
  // A key pressed twice quickly sends one request; another action (c after a) goes at once: each reports
  // its own outcome.
  const once = useSendOnce();
  const run = (kind: 'acknowledge' | 'close') => {
    const ids = targets();
    if (ids.length === 0) return;
    const onSelection = chosen.size > 0;
    // Named as the list showed them: by the time the answer comes, an alert may have left the list.
    const labels = new Map(ids.map((id) => [id, seen.current.get(id) ?? id]));
    once.send(`${kind} ${ids.join(',')}`, () => {
      setPartial(undefined);
      return action.mutateAsync(
        { ids, action: { kind }, labels },
        {
          // The latest call's only (TanStack Query): an earlier one's was replaced as this was sent.
          onSuccess: ({ outcome }) => {
            if (outcome.failed.length > 0) setPartial({ kind, outcome, labels });
            // Vigil answered for these (done, or not with why, shown above); an action refused as a whole
            // (403, 503) or never confirmed keeps its alerts ticked, to try again.
            if (onSelection) {
              const answered = new Set([...outcome.succeeded, ...outcome.failed.map((f) => f.id)]);
              setSelected((s) => new Set([...s].filter((id) => !answered.has(id))));
            }
          },
        },
      );
    });
  };

  const focusRow = (index: number) => {
    const clamped = Math.max(0, Math.min(alerts.length - 1, index));
    setFocusedId(alerts[clamped]?.id);
    const row = listRef.current?.querySelector<HTMLElement>(`[data-index="${clamped}"]`);
    row?.focus();
    row?.scrollIntoView({ block: 'nearest' });
  };
  // Enter and o open the focused row only: on a button or a link, Enter must keep doing what it does,
  // so the hotkeys below leave the key alone unless a row is opened. o opens the row of a ticked (or
  // unticked) box too, as j/k, a and c act from there; Enter on a box is left alone.
  const openFocused = (event: KeyboardEvent, fromBox = false) => {
    const target = event.target as HTMLElement | null;
    const onRowBox =
      fromBox && !!target?.classList.contains('alert-check') && !!target.closest('[data-index]');
    if (target && target !== document.body && !target.classList.contains('alert-row') && !onRowBox) return;
    const row = alerts[focused];
    if (!row) return;
    event.preventDefault();
    void navigate(`/alerts/${row.id}`);
  };

  useListHotkeys([
    ['j', () => focusRow(focused + 1)],
    ['k', () => focusRow(focused < 0 ? 0 : focused - 1)],
    ['Enter', openFocused, { preventDefault: false }],
    ['o', (event) => openFocused(event, true), { preventDefault: false }],
    ['a', () => run('acknowledge')],
    ['c', () => run('close')],
    ['/', () => searchRef.current?.focus(), { preventDefault: true }],
  ]);

  // Stable, so that a row re-renders only when its own alert, focus or selection changes.
  const toggle = useCallback(
    (id: string) =>
      setSelected((s) => {
        const next = new Set(s);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [],
  );
  const open = useCallback((id: string) => void navigate(`/alerts/${id}`), [navigate]);
  const focusLine = useCallback((index: number) => setFocusedId(shownAlerts.current[index]?.id), []);
  const allSelected = alerts.length > 0 && alerts.every((a) => chosen.has(a.id));
  const lineProps = (alert: AlertSummary, index: number): AlertLineProps => ({
    alert,
    index,
    focused: index === focused,
    tabbable: index === focused || (focused < 0 && index === 0),
    selected: chosen.has(alert.id),
    teams: teamsOf(alert),
    onToggle: toggle,
    onFocusLine: focusLine,
    onOpen: open,
  });

  return (
    <>
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
        <PageTitle mb={0}>Alerts</PageTitle>
        <Text size="xs" c="dimmed" visibleFrom="sm">
          <Kbd>j</Kbd>/<Kbd>k</Kbd> move · <Kbd>o</Kbd> open · <Kbd>a</Kbd> acknowledge · <Kbd>c</Kbd> close ·{' '}
          <Kbd>/</Kbd> search
        </Text>
      </Group>

      <LegacyFiltersNotice />

      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          update({ query: draft.trim(), offset: undefined });
        }}
      >
        <Group align="flex-end" gap="xs" mt="md" wrap="nowrap">
          <TextInput
            ref={searchRef}
            label="Search alerts"
            placeholder="status: open AND priority: P1"
            description="Fields such as priority:P1, tag:prod, teams:Security, details.Region:us-east-1; AND, OR, NOT."
            value={draft}
            onChange={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') e.currentTarget.blur();
            }}
            leftSection={<SearchIcon />}
            style={{ flex: 1, minWidth: 0 }}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
          <Button type="submit">Search</Button>
        </Group>
      </form>
      {searchId ? (
        <ActiveSavedFilter
          search={saved.data}
          error={saved.error}
          onClear={() => update({ search: undefined, offset: undefined })}
        />
      ) : null}

      <Group justify="space-between" mt="sm" gap="xs" wrap="wrap">
        <Group gap={6} role="group" aria-label="Alert status" wrap="wrap">
          {VIEWS.map((v, i) => {
            const count = counts.data?.[i]?.count;
            return (
              <Button
                key={v.id}
                size="compact-sm"
                variant={v.id === viewId ? 'filled' : 'default'}
                aria-pressed={v.id === viewId}
                onClick={() => update({ view: v.id === 'open' ? undefined : v.id, offset: undefined })}
              >
                {v.label}
                {count !== undefined ? ` ${count.toLocaleString()}` : ''}
              </Button>
            );
          })}
        </Group>
        <SavedFilters
          query={query}
          active={saved.data}
          apply={(s) => update({ search: s.id, query: undefined, offset: undefined })}
          onDeleted={(id) => {
            if (id === searchId) update({ search: undefined, offset: undefined });
          }}
        />
      </Group>

      {chosen.size > 0 ? (
        <Card withBorder mt="sm" p="xs" role="region" aria-label="Selected alerts">
          <Group gap="xs" wrap="wrap">
            <Text size="sm" fw={500}>
              {chosen.size} selected
            </Text>
            <Button size="xs" onClick={() => run('acknowledge')} loading={action.isPending}>
              Acknowledge
            </Button>
            <Button size="xs" color="gray" onClick={() => run('close')} loading={action.isPending}>
              Close
            </Button>
            <Button size="xs" variant="subtle" onClick={() => setSelected(new Set())}>
              Clear selection
            </Button>
          </Group>
        </Card>
      ) : null}

      {partial ? (
        <Alert
          mt="sm"
          color="yellow"
          role="status"
          styles={{ title: { color: 'var(--mantine-color-text)' } }}
          title={bulkSummary(partial.kind, partial.outcome)}
          withCloseButton
          closeButtonLabel="Dismiss"
          onClose={() => setPartial(undefined)}
        >
          <Text size="sm">Not done:</Text>
          <List size="sm">
            {partial.outcome.failed.map((f) => (
              <List.Item key={f.id}>
                {partial.labels.get(f.id) ?? f.id}: {f.reason}
              </List.Item>
            ))}
          </List>
        </Alert>
      ) : null}

      <Box ref={listRef} mt="sm">
        {list.isError ? (
          <ErrorPanel
            error={list.error}
            retry={() => void list.refetch()}
            title="The alerts could not be loaded"
          />
        ) : list.isPending ? (
          <Stack gap="xs" aria-busy="true" aria-label="Loading alerts">
            {Array.from({ length: 6 }, (_, i) => (
              <Skeleton key={i} height={40} />
            ))}
          </Stack>
        ) : alerts.length === 0 ? (
          <Stack gap={4} py="xl" align="center">
            <Text c="dimmed" ta="center">
              {offset > 0
                ? 'No more alerts.'
                : query || searchId
                  ? 'No alert matches this search.'
                  : `No ${view.label.toLowerCase()} alerts.`}
            </Text>
            {!admin && offset === 0 && (
              <Text c="dimmed" size="sm" ta="center">
                You see the alerts of your teams and those you own or were paged for, unless your role lets
                you see every alert.
              </Text>
            )}
          </Stack>
        ) : phone ? (
          <Stack gap="xs" role="list" aria-label="Alerts">
            {rows.map((alert, index) => (
              <AlertCard key={alert.id} {...lineProps(alert, index)} />
            ))}
          </Stack>
        ) : (
          <Table
            className="alert-table"
            verticalSpacing={6}
            aria-label="Alerts"
            style={{ tableLayout: 'fixed' }}
          >
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <input
                    type="checkbox"
                    className="alert-check"
                    aria-label="Select every alert on this page"
                    checked={allSelected}
                    ref={(box) => {
                      if (box) box.indeterminate = chosen.size > 0 && !allSelected;
                    }}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(alerts.map((a) => a.id)))}
                  />
                </Table.Th>
                <Table.Th w={76}>Priority</Table.Th>
                <Table.Th>Alert</Table.Th>
                <Table.Th w={120}>Status</Table.Th>
                <Table.Th w="12%">Team</Table.Th>
                <Table.Th w="12%">Integration</Table.Th>
                <Table.Th w="12%">Owner</Table.Th>
                <Table.Th w={56}>Age</Table.Th>
                <Table.Th w={60} ta="right">
                  Count
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <tbody>
              {rows.map((alert, index) => (
                <AlertRow key={alert.id} {...lineProps(alert, index)} />
              ))}
            </tbody>
          </Table>
        )}
      </Box>

      <Group justify="space-between" mt="md">
        <Text size="sm" c="dimmed" aria-live="polite">
          {alerts.length > 0 ? `${offset + 1}–${offset + alerts.length}` : ''}
          {list.isFetching && !list.isPending ? ' · updating…' : ''}
        </Text>
        <Group gap="xs">
          <Button
            variant="default"
            disabled={offset === 0}
            onClick={() => update({ offset: String(Math.max(0, offset - PAGE_SIZE)) })}
          >
            Previous
          </Button>
          <Button
            variant="default"
            disabled={alerts.length < PAGE_SIZE}
            onClick={() => update({ offset: String(offset + PAGE_SIZE) })}
          >
            Next
          </Button>
        </Group>
      </Group>
    </>
  );
}
