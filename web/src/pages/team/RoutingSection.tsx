import {
  Badge,
  Button,
  Card,
  Group,
  NativeSelect,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { Criteria, RoutingRule, TeamDetail, TimeWindow } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FormError } from '../../components/FormError';
import { useEscalations, useSchedules } from '../../lib/oncall';

const FIELDS = ['message', 'alias', 'description', 'source', 'entity', 'tags', 'priority', 'integration'];
const OPERATIONS = [
  { value: 'contains', label: 'contains' },
  { value: 'equals', label: 'equals' },
  { value: 'starts-with', label: 'starts with' },
  { value: 'ends-with', label: 'ends with' },
  { value: 'matches', label: 'matches (regular expression)' },
  { value: 'is-empty', label: 'is empty' },
  { value: 'greater-than', label: 'is greater than (priority)' },
  { value: 'less-than', label: 'is less than (priority)' },
];

/** "message contains db" or "all alerts". */
export function criteriaSummary(criteria: Criteria): string {
  if (criteria.type === 'match-all' || !criteria.conditions?.length) return 'All alerts';
  const parts = criteria.conditions.map((c) => {
    const field = c.key ? `${c.field} ${c.key}` : c.field;
    const op = c.operation.replace(/-/g, ' ');
    const value = c.operation === 'is-empty' ? '' : ` “${c.expectedValue}”`;
    return `${field} ${c.not ? 'not ' : ''}${op}${value}`;
  });
  return parts.join(criteria.type === 'match-all-conditions' ? ' and ' : ' or ');
}

const pad = (n: number) => String(n).padStart(2, '0');
const time = (h: number, m: number) => `${pad(h)}:${pad(m)}`;

function windowSummary(w: TimeWindow): string {
  const from = `${w.startDay ? `${w.startDay} ` : ''}${time(w.startHour, w.startMin)}`;
  const to = `${w.endDay ? `${w.endDay} ` : ''}${time(w.endHour, w.endMin)}`;
  return `${from}–${to}`;
}

export function timeSummary(rule: RoutingRule): string {
  const r = rule.timeRestriction;
  if (!r) return 'At any time';
  const windows = r.restrictions ?? (r.restriction ? [r.restriction] : []);
  const text = windows.map(windowSummary).join(', ');
  return `${r.type === 'time-of-day' ? 'Every day' : 'Weekly'} ${text} (${rule.timezone})`;
}

function notifySummary(rule: RoutingRule): string {
  const n = rule.notify;
  switch (n.type) {
    case 'none':
      return 'Nobody';
    case 'team-members':
      return 'Every member of the team';
    case 'escalation':
      return `Escalation ${n.name ?? '(deleted)'}`;
    case 'schedule':
      return `On call in ${n.name ?? '(deleted schedule)'}`;
  }
}

function AddRuleForm({ team }: { team: TeamDetail }) {
  const queryClient = useQueryClient();
  const escalations = useEscalations();
  const schedules = useSchedules();
  const [name, setName] = useState('');
  const [match, setMatch] = useState<'all' | 'one'>('all');
  const [field, setField] = useState('message');
  const [operation, setOperation] = useState('contains');
  const [value, setValue] = useState('');
  const [notify, setNotify] = useState('');
  const mine = (escalations.data ?? []).filter((e) => e.ownerTeam?.id === team.id);
  const others = (escalations.data ?? []).filter((e) => e.ownerTeam?.id !== team.id);
  const targets = [
    {
      group: 'Escalations of this team',
      items: mine.map((e) => ({ value: `escalation:${e.id}`, label: e.name })),
    },
    {
      group: 'Other escalations',
      items: others.map((e) => ({ value: `escalation:${e.id}`, label: e.name })),
    },
    {
      group: 'Schedules (who is on call)',
      items: (schedules.data ?? []).map((s) => ({ value: `schedule:${s.id}`, label: s.name })),
    },
    { group: 'Nobody', items: [{ value: 'none:', label: 'Do not notify anyone' }] },
  ].filter((g) => g.items.length > 0);
  const chosen = notify || targets[0]?.items[0]?.value || 'none:';
  const add = useMutation({
    mutationFn: () => {
      const [type = 'none', id = ''] = chosen.split(':') as ['escalation' | 'schedule' | 'none', string];
      return data(
        api.POST('/v2/teams/{identifier}/routing-rules', {
          params: { path: { identifier: team.id }, query: { teamIdentifierType: 'id' } },
          body: {
            name: name.trim(),
            criteria:
              match === 'all'
                ? { type: 'match-all' }
                : {
                    type: 'match-all-conditions',
                    conditions: [
                      {
                        field: field as 'message',
                        operation: operation as 'contains',
                        ...(operation === 'is-empty' ? {} : { expectedValue: value }),
                      },
                    ],
                  },
            notify: type === 'none' ? { type } : { type, id },
          },
        }),
      );
    },
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `Routing rule ${name.trim()} is added.` });
      setName('');
      setValue('');
      void queryClient.invalidateQueries({ queryKey: ['routing-rules', team.id] });
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="new-routing-rule">
      <Title order={3} size="h4" id="new-routing-rule" mb="xs">
        Add a routing rule
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <Stack gap="sm">
          <TextInput
            label="Rule name"
            required
            maxLength={200}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <NativeSelect
            label="Alerts it applies to"
            data={[
              { value: 'all', label: 'All alerts' },
              { value: 'one', label: 'Alerts that match a condition' },
            ]}
            value={match}
            onChange={(e) => setMatch(e.currentTarget.value as 'all' | 'one')}
          />
          {match === 'one' ? (
            <Group grow wrap="wrap" align="flex-start" gap="xs">
              <NativeSelect
                label="Field"
                data={FIELDS}
                value={field}
                onChange={(e) => setField(e.currentTarget.value)}
                miw={140}
              />
              <NativeSelect
                label="Operation"
                data={OPERATIONS}
                value={operation}
                onChange={(e) => setOperation(e.currentTarget.value)}
                miw={160}
              />
              {operation !== 'is-empty' ? (
                <TextInput
                  label="Value"
                  required
                  value={value}
                  onChange={(e) => setValue(e.currentTarget.value)}
                  miw={160}
                />
              ) : null}
            </Group>
          ) : null}
          <NativeSelect
            label="Notify"
            description="The escalation policy (or schedule) that the alerts it applies to follow."
            data={targets}
            value={chosen}
            onChange={(e) => setNotify(e.currentTarget.value)}
          />
          <FormError error={add.error} />
          <Group>
            <Button type="submit" loading={add.isPending}>
              Add rule
            </Button>
          </Group>
          <Text size="xs" c="dimmed">
            The new rule goes last, before the default rule. Time restrictions can be set through the API
            (PATCH …/routing-rules/&#123;ruleId&#125;).
          </Text>
        </Stack>
      </form>
    </Card>
  );
}

/** A team's routing rules: the first that applies to an alert decides whom it notifies. */
export function RoutingSection({ team }: { team: TeamDetail }) {
  const queryClient = useQueryClient();
  const key = ['routing-rules', team.id];
  const rules = useQuery({
    queryKey: key,
    queryFn: () =>
      data<RoutingRule[]>(
        api.GET('/v2/teams/{identifier}/routing-rules', {
          params: { path: { identifier: team.id }, query: { teamIdentifierType: 'id' } },
        }),
      ),
  });
  const done = (message: string) => {
    notifications.show({ color: 'teal', message });
    void queryClient.invalidateQueries({ queryKey: key });
  };
  const move = useMutation({
    mutationFn: ({ rule, order }: { rule: RoutingRule; order: number }) =>
      data(
        api.POST('/v2/teams/{identifier}/routing-rules/{ruleId}/change-order', {
          params: { path: { identifier: team.id, ruleId: rule.id }, query: { teamIdentifierType: 'id' } },
          body: { order },
        }),
      ),
    onSuccess: (_, { rule, order }) => done(`${rule.name} is now rule ${order + 1}.`),
  });
  const remove = useMutation({
    mutationFn: (rule: RoutingRule) =>
      data(
        api.DELETE('/v2/teams/{identifier}/routing-rules/{ruleId}', {
          params: { path: { identifier: team.id, ruleId: rule.id }, query: { teamIdentifierType: 'id' } },
        }),
      ),
    onSuccess: (_, rule) => done(`${rule.name} is deleted.`),
  });
  const list = rules.data ?? [];
  const ordinary = list.filter((r) => !r.isDefault);
  const defaults = list.filter((r) => r.isDefault);
  return (
    <Stack>
      <Title order={2} size="h3">
        Routing rules
      </Title>
      <Text size="sm" c="dimmed">
        Vigil tries the rules in this order: the first one that applies to an alert decides whom it notifies;
        when none does, the default rule does.
      </Text>
      <FormError error={move.error ?? remove.error} />
      {rules.isError ? (
        <ErrorPanel error={rules.error} retry={() => void rules.refetch()} />
      ) : rules.isPending ? (
        <Skeleton height={120} />
      ) : (
        <Stack component="ol" gap="xs" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Routing rules">
          {[...ordinary, ...defaults].map((rule, i) => (
            <Card key={rule.id} withBorder component="li" aria-label={rule.name} p="sm">
              <Group justify="space-between" wrap="wrap" gap="xs">
                <Text fw={600} className="break-anywhere">
                  {rule.isDefault ? rule.name : `${i + 1}. ${rule.name}`}
                </Text>
                {rule.isDefault ? <Badge variant="light">Default rule</Badge> : null}
              </Group>
              <Text size="sm" className="break-anywhere">
                <b>When:</b> {criteriaSummary(rule.criteria)}
              </Text>
              <Text size="sm">
                <b>Time:</b> {timeSummary(rule)}
              </Text>
              <Text size="sm" className="break-anywhere">
                <b>Notify:</b> {notifySummary(rule)}
              </Text>
              {!rule.isDefault ? (
                <Group gap="xs" mt="xs">
                  <Button
                    size="xs"
                    variant="default"
                    disabled={i === 0 || move.isPending}
                    onClick={() => move.mutate({ rule, order: i - 1 })}
                    aria-label={`Move ${rule.name} up`}
                  >
                    Move up
                  </Button>
                  <Button
                    size="xs"
                    variant="default"
                    disabled={i === ordinary.length - 1 || move.isPending}
                    onClick={() => move.mutate({ rule, order: i + 1 })}
                    aria-label={`Move ${rule.name} down`}
                  >
                    Move down
                  </Button>
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete ${rule.name}`}
                    question={`Delete the routing rule ${rule.name}?`}
                    confirmLabel="Delete rule"
                    loading={remove.isPending}
                    onConfirm={() => remove.mutate(rule)}
                  />
                </Group>
              ) : null}
            </Card>
          ))}
        </Stack>
      )}
      <AddRuleForm team={team} />
    </Stack>
  );
}
