import {
  Alert,
  Button,
  Card,
  Fieldset,
  Group,
  NativeSelect,
  NumberInput,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type {
  EscalationCondition,
  EscalationDetail,
  EscalationRecipient,
  EscalationRule,
  TeamDetail,
  User,
} from '../../api/types';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FormError } from '../../components/FormError';
import { useTeams } from '../../lib/teams';
import { useEscalations, useSchedules } from '../../lib/oncall';
import { useFirstUsers } from '../../lib/users';
import { RecipientPicker, type RecipientGroup } from './RecipientPicker';
import { RenamePolicy } from './RenamePolicy';
import { ReadOnlyNotice, useTeamRight } from './teamRights';

const CONDITIONS: { value: EscalationCondition; label: string }[] = [
  { value: 'if-not-acked', label: 'If not acknowledged' },
  { value: 'if-not-closed', label: 'If not closed' },
];

interface DraftRule {
  key: number;
  condition: EscalationCondition;
  delay: number;
  /** "user:<id>", "team:<id>" or "schedule:<id>". */
  recipient: string;
  notifyType: EscalationRule['notifyType'];
}

let nextKey = 1;

function draftOf(rule: EscalationRule): DraftRule {
  return {
    key: nextKey++,
    condition: rule.condition,
    delay: rule.delay.timeAmount,
    recipient: `${rule.recipient.type}:${rule.recipient.id}`,
    notifyType: rule.notifyType,
  };
}

/** The rules as the API takes them; a recipient changed to another kind gets that kind's default. */
function bodyOf(rules: DraftRule[]) {
  return rules.map((r) => {
    const [type = 'user', id = ''] = r.recipient.split(/:(.*)/s) as [EscalationRecipient['type'], string];
    const notifyType =
      type === 'user'
        ? 'default'
        : type === 'schedule' && !['default', 'next', 'previous'].includes(r.notifyType)
          ? 'default'
          : type === 'team' && !['default', 'all', 'users', 'admins'].includes(r.notifyType)
            ? 'default'
            : r.notifyType;
    return {
      condition: r.condition,
      notifyType,
      delay: { timeAmount: r.delay, timeUnit: 'minutes' as const },
      recipient: { type, id },
    };
  });
}

function recipientLabel(r: EscalationRecipient): string {
  const name = r.type === 'user' ? r.username : r.name;
  return name ?? `${r.type} ${r.id} (deleted)`;
}

/**
 * The people, teams and schedules a rule can notify, grouped, for a native select: the first page of
 * people, and those found by searching (`found`); the picker searches the server for anyone else.
 */
function useRecipients(policies: EscalationDetail[]): Recipients & { loading: boolean } {
  const users = useFirstUsers();
  const teams = useTeams();
  const schedules = useSchedules();
  const [found, setFound] = useState<User[]>([]);
  const people = new Map((users.data ?? []).map((u) => [u.id, u.username]));
  for (const p of policies)
    for (const { recipient: r } of p.rules) if (r.type === 'user' && r.username) people.set(r.id, r.username);
  for (const u of found) people.set(u.id, u.username);
  const groups: RecipientGroup[] = [
    {
      group: 'People',
      items: [...people].map(([id, username]) => ({ value: `user:${id}`, label: username })),
    },
    {
      group: 'Teams',
      items: (teams.data ?? []).map((t) => ({ value: `team:${t.id}`, label: `Team ${t.name}` })),
    },
    {
      group: 'Schedules',
      items: (schedules.data ?? []).map((s) => ({
        value: `schedule:${s.id}`,
        label: `On call in ${s.name}`,
      })),
    },
  ];
  // A recipient that is not listed (deleted since) stays choosable, so that saving keeps it.
  const known = new Set(groups.flatMap((g) => g.items.map((i) => i.value)));
  const others = new Map<string, string>();
  for (const p of policies)
    for (const rule of p.rules) {
      const value = `${rule.recipient.type}:${rule.recipient.id}`;
      if (!known.has(value)) others.set(value, recipientLabel(rule.recipient));
    }
  if (others.size > 0)
    groups.push({ group: 'Others', items: [...others].map(([value, label]) => ({ value, label })) });
  return {
    groups: groups.filter((g) => g.items.length > 0),
    first: groups.find((g) => g.items.length > 0)?.items[0]?.value ?? '',
    onFound: (user) => setFound((list) => [...list.filter((u) => u.id !== user.id), user]),
    loading: users.isPending || teams.isPending || schedules.isPending,
  };
}

/** What the rules of every policy on the page can notify. */
interface Recipients {
  groups: RecipientGroup[];
  /** The first option, for a new rule. */
  first: string;
  /** Remembers a person found by searching, so that every rule lists them. */
  onFound: (user: User) => void;
}

/** An ordered list of rules: add, remove, move up and down. */
function RulesEditor({
  rules,
  onChange,
  recipients,
}: {
  rules: DraftRule[];
  onChange: (rules: DraftRule[]) => void;
  recipients: Recipients;
}) {
  const set = (i: number, patch: Partial<DraftRule>) =>
    onChange(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const move = (i: number, by: number) => {
    const next = [...rules];
    const [rule] = next.splice(i, 1);
    if (rule) next.splice(i + by, 0, rule);
    onChange(next);
  };
  return (
    <Stack gap="xs">
      {rules.length === 0 ? (
        <Text size="sm" c="dimmed">
          No rules: alerts routed to this policy notify nobody. Select Add rule.
        </Text>
      ) : null}
      {rules.map((rule, i) => {
        const n = i + 1;
        return (
          <Fieldset key={rule.key} legend={`Rule ${n}`} p="sm">
            <Group grow wrap="wrap" align="flex-start" gap="xs">
              <NativeSelect
                label="Condition"
                data={CONDITIONS}
                value={rule.condition}
                onChange={(e) => set(i, { condition: e.currentTarget.value as EscalationCondition })}
                miw={160}
              />
              <NumberInput
                label="After (minutes)"
                description="From the start of the escalation"
                min={0}
                max={10080}
                allowDecimal={false}
                value={rule.delay}
                onChange={(v) => set(i, { delay: typeof v === 'number' ? v : Number(v) || 0 })}
                miw={140}
              />
              <RecipientPicker
                groups={recipients.groups}
                value={rule.recipient}
                onChange={(recipient) => set(i, { recipient })}
                onFound={recipients.onFound}
              />
            </Group>
            <Group gap="xs" mt="xs">
              <Button
                size="xs"
                variant="default"
                disabled={i === 0}
                onClick={() => move(i, -1)}
                aria-label={`Move rule ${n} up`}
              >
                Move up
              </Button>
              <Button
                size="xs"
                variant="default"
                disabled={i === rules.length - 1}
                onClick={() => move(i, 1)}
                aria-label={`Move rule ${n} down`}
              >
                Move down
              </Button>
              <Button
                size="xs"
                variant="subtle"
                color="red"
                onClick={() => onChange(rules.filter((_, j) => j !== i))}
                aria-label={`Remove rule ${n}`}
              >
                Remove
              </Button>
            </Group>
          </Fieldset>
        );
      })}
      <Group>
        <Button
          size="xs"
          variant="light"
          disabled={!recipients.first || rules.length >= 20}
          onClick={() =>
            onChange([
              ...rules,
              {
                key: nextKey++,
                condition: 'if-not-acked',
                delay: rules.at(-1)?.delay ?? 0,
                recipient: recipients.first,
                notifyType: 'default',
              },
            ])
          }
        >
          Add rule
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        Rules run in this order. Each delay counts from the start of the escalation, so a rule cannot wait
        less than the one before it.
      </Text>
    </Stack>
  );
}

/** A policy's rules for someone who may not change them: read, in their order. */
function ReadOnlyPolicy({ policy }: { policy: EscalationDetail }) {
  const headingId = `escalation-${policy.id}`;
  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Title order={3} size="h4" id={headingId} className="break-anywhere" mb="xs">
        {policy.name}
      </Title>
      {policy.rules.length === 0 ? (
        <Text size="sm" c="dimmed">
          No rules: alerts routed to this policy notify nobody.
        </Text>
      ) : (
        <Stack component="ol" gap={4} pl="md" m={0} aria-label={`Rules of ${policy.name}`}>
          {policy.rules.map((r, i) => (
            <Text component="li" size="sm" key={i} className="break-anywhere">
              {CONDITIONS.find((c) => c.value === r.condition)?.label ?? r.condition}, after{' '}
              {r.delay.timeAmount} min: {recipientLabel(r.recipient)}
            </Text>
          ))}
        </Stack>
      )}
    </Card>
  );
}

function PolicyCard({ policy, recipients }: { policy: EscalationDetail; recipients: Recipients }) {
  const queryClient = useQueryClient();
  const [rules, setRules] = useState(() => policy.rules.map(draftOf));
  const [confirming, setConfirming] = useState(false);
  const [renaming, setRenaming] = useState(false);
  const path = { identifier: policy.id };
  const save = useMutation({
    mutationFn: () =>
      data(
        api.PATCH('/v2/escalations/{identifier}', {
          params: { path, query: { identifierType: 'id' } },
          body: { rules: bodyOf(rules) },
        }),
      ),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `${policy.name} is saved.` });
      void queryClient.invalidateQueries({ queryKey: ['escalations'] });
    },
  });
  const remove = useMutation({
    mutationFn: () =>
      data(api.DELETE('/v2/escalations/{identifier}', { params: { path, query: { identifierType: 'id' } } })),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `${policy.name} is deleted.` });
      void queryClient.invalidateQueries({ queryKey: ['escalations'] });
    },
  });
  const headingId = `escalation-${policy.id}`;
  return (
    <Card withBorder component="section" aria-labelledby={headingId}>
      <Group justify="space-between" wrap="nowrap" gap="xs" mb="xs" align="flex-start">
        <Title order={3} size="h4" id={headingId} className="break-anywhere">
          {policy.name}
        </Title>
        {!renaming ? (
          <Button
            size="xs"
            variant="default"
            onClick={() => setRenaming(true)}
            aria-label={`Rename ${policy.name}`}
          >
            Rename
          </Button>
        ) : null}
      </Group>
      {renaming ? <RenamePolicy policy={policy} onDone={() => setRenaming(false)} /> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack gap="sm">
          <RulesEditor rules={rules} onChange={setRules} recipients={recipients} />
          <FormError error={save.error} />
          <FormError error={remove.error} />
          {confirming ? (
            <Alert color="red" title={`Delete ${policy.name}?`}>
              <Text size="sm">Routing rules that use it must be changed first. This cannot be undone.</Text>
              <Group gap="xs" mt="xs">
                <Button size="xs" color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
                  Delete policy
                </Button>
                <Button size="xs" variant="default" onClick={() => setConfirming(false)}>
                  Keep it
                </Button>
              </Group>
            </Alert>
          ) : null}
          <Group gap="xs">
            <Button type="submit" loading={save.isPending}>
              Save rules
            </Button>
            <Button variant="subtle" color="red" onClick={() => setConfirming(true)} disabled={confirming}>
              Delete
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function NewPolicy({ team, recipients }: { team: TeamDetail; recipients: Recipients }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [rules, setRules] = useState<DraftRule[]>([]);
  const create = useMutation({
    mutationFn: () =>
      data<{ id: string; name: string }>(
        api.POST('/v2/escalations', {
          body: { name: name.trim(), ownerTeam: { id: team.id }, rules: bodyOf(rules) },
        }),
      ),
    onSuccess: (made) => {
      notifications.show({ color: 'teal', message: `${made.name} is created.` });
      setName('');
      setRules([]);
      void queryClient.invalidateQueries({ queryKey: ['escalations'] });
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="new-escalation">
      <Title order={3} size="h4" id="new-escalation" mb="xs">
        New escalation policy
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Stack gap="sm">
          <TextInput
            label="Policy name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <RulesEditor rules={rules} onChange={setRules} recipients={recipients} />
          <FormError error={create.error} />
          <Group>
            <Button type="submit" loading={create.isPending}>
              Create policy
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

/** A team's escalation policies: who is notified, in which order, after how long. */
export function EscalationsSection({ team }: { team: TeamDetail }) {
  const list = useEscalations();
  const mine = (list.data ?? []).filter((p) => p.ownerTeam?.id === team.id);
  const { loading, ...recipients } = useRecipients(mine);
  const canEdit = useTeamRight(team.id, 'edit-escalations');
  return (
    <Stack>
      <Title order={2} size="h3">
        Escalations
      </Title>
      <Text size="sm" c="dimmed">
        A routing rule names the policy that an alert of {team.name} follows.
      </Text>
      {list.isError ? (
        <ErrorPanel error={list.error} retry={() => void list.refetch()} />
      ) : list.isPending || loading || canEdit === undefined ? (
        <Skeleton height={120} />
      ) : !canEdit ? (
        <>
          <ReadOnlyNotice team={team} what="its escalation policies" />
          {mine.length === 0 ? (
            <Text c="dimmed">This team has no escalation policy yet.</Text>
          ) : (
            mine.map((p) => <ReadOnlyPolicy key={p.id} policy={p} />)
          )}
        </>
      ) : (
        <>
          {mine.length === 0 ? (
            <Text c="dimmed">This team has no escalation policy yet: create one below.</Text>
          ) : (
            mine.map((p) => (
              <PolicyCard
                // Saved rules come back as a new list: start again from them.
                key={`${p.id}:${JSON.stringify(p.rules)}`}
                policy={p}
                recipients={recipients}
              />
            ))
          )}
          <NewPolicy team={team} recipients={recipients} />
        </>
      )}
    </Stack>
  );
}
