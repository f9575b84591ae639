import { Button, Group, NativeSelect, Stack, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { paths } from '../../api/schema';
import type { RoutingRule, TeamDetail } from '../../api/types';
import { CriteriaEditor, criteriaBody, draftCriteria } from '../../components/CriteriaEditor';
import { FormError } from '../../components/FormError';
import {
  draftTimeRestriction,
  sameTimeRestriction,
  TimeRestrictionEditor,
  timeRestrictionBody,
} from '../../components/TimeRestrictionEditor';
import { useEscalations, useSchedules } from '../../lib/oncall';
import { browserTimezone } from '../../lib/time';

type Notify =
  paths['/v2/teams/{identifier}/routing-rules']['post']['requestBody']['content']['application/json']['notify'];

/** A rule's target as an option value: "escalation:<id>", "schedule:<id>" or "none:". */
function notifyValue(rule: RoutingRule): string {
  const n = rule.notify;
  return n.type === 'escalation' || n.type === 'schedule' ? `${n.type}:${n.id ?? ''}` : `${n.type}:`;
}

function notifyBody(value: string): Notify {
  const [type = 'none', id = ''] = value.split(/:(.*)/s) as [Notify['type'], string];
  return type === 'none' ? { type } : { type, id };
}

/** What a rule can notify, grouped; the rule's own target is listed even when it is not settable any more. */
function useTargets(team: TeamDetail, rule?: RoutingRule) {
  const escalations = useEscalations();
  const schedules = useSchedules();
  const mine = (escalations.data ?? []).filter((e) => e.ownerTeam?.id === team.id);
  const others = (escalations.data ?? []).filter((e) => e.ownerTeam?.id !== team.id);
  const groups = [
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
  ];
  const current = rule ? notifyValue(rule) : undefined;
  if (rule && current && !groups.some((g) => g.items.some((i) => i.value === current))) {
    // A deleted target, or the team's members (the default rule before it is set): kept until changed.
    const label =
      rule.notify.type === 'team-members'
        ? 'Every member of the team'
        : `${rule.notify.type === 'schedule' ? 'Schedule' : 'Escalation'} (deleted)`;
    groups.unshift({ group: 'Now', items: [{ value: current, label }] });
  }
  return groups.filter((g) => g.items.length > 0);
}

/**
 * Adds a routing rule (without `rule`) or changes one in place (PATCH: its name, criteria, time
 * restriction, time zone and target; of the default rule, only its name and target, which is all the
 * server lets change). What is left as it was is not sent, so a deleted target, or the team's members,
 * stays until another is chosen, and a restriction made through the API stays as it was written.
 */
export function RoutingRuleForm({
  team,
  rule,
  onDone,
}: {
  team: TeamDetail;
  rule?: RoutingRule;
  onDone?: () => void;
}) {
  const queryClient = useQueryClient();
  const targets = useTargets(team, rule);
  const [name, setName] = useState(rule?.name ?? '');
  const [criteria, setCriteria] = useState(() => draftCriteria(rule?.criteria));
  const [notify, setNotify] = useState(rule ? notifyValue(rule) : '');
  const [restriction, setRestriction] = useState(() => draftTimeRestriction(rule?.timeRestriction));
  const [timezone, setTimezone] = useState(rule?.timezone ?? browserTimezone());
  const restricted = restriction.kind !== 'none';
  const chosen = notify || targets[0]?.items[0]?.value || 'none:';
  const path = { identifier: team.id };
  const query = { teamIdentifierType: 'id' as const };
  const save = useMutation({
    mutationFn: () => {
      if (!rule) {
        return data(
          api.POST('/v2/teams/{identifier}/routing-rules', {
            params: { path, query },
            body: {
              name: name.trim(),
              criteria: criteriaBody(criteria),
              ...(restricted
                ? {
                    timeRestriction: timeRestrictionBody(restriction) ?? undefined,
                    timezone: timezone.trim(),
                  }
                : {}),
              notify: notifyBody(chosen),
            },
          }),
        );
      }
      return data(
        api.PATCH('/v2/teams/{identifier}/routing-rules/{ruleId}', {
          params: { path: { ...path, ruleId: rule.id }, query },
          body: {
            // A rule without a name (made through the API) keeps none unless one is typed: Terraform
            // would see a name it did not give.
            ...(name.trim() !== rule.name ? { name: name.trim() } : {}),
            ...(rule.isDefault ? {} : { criteria: criteriaBody(criteria) }),
            ...(rule.isDefault || sameTimeRestriction(restriction, rule.timeRestriction)
              ? {}
              : { timeRestriction: timeRestrictionBody(restriction) }),
            ...(!rule.isDefault && timezone.trim() !== rule.timezone ? { timezone: timezone.trim() } : {}),
            ...(chosen !== notifyValue(rule) ? { notify: notifyBody(chosen) } : {}),
          },
        }),
      );
    },
    onSuccess: () => {
      notifications.show({
        color: 'teal',
        message: rule
          ? `${name.trim() || 'The unnamed rule'} is saved.`
          : `Routing rule ${name.trim()} is added.`,
      });
      if (!rule) {
        setName('');
        setCriteria(draftCriteria());
        setRestriction(draftTimeRestriction());
      }
      void queryClient.invalidateQueries({ queryKey: ['routing-rules', team.id] });
      onDone?.();
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack gap="sm">
        <TextInput
          label="Rule name"
          // Only a new rule needs one here; one made without a name through the API may stay so.
          required={!rule || rule.name !== ''}
          maxLength={200}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        {!rule?.isDefault ? <CriteriaEditor value={criteria} onChange={setCriteria} /> : null}
        {!rule?.isDefault ? <TimeRestrictionEditor value={restriction} onChange={setRestriction} /> : null}
        {!rule?.isDefault && restricted ? (
          <TextInput
            label="Time zone"
            description="The IANA time zone its times are read in, such as Europe/Berlin or America/New_York."
            required
            maxLength={64}
            value={timezone}
            onChange={(e) => setTimezone(e.currentTarget.value)}
          />
        ) : null}
        <NativeSelect
          label="Notify"
          description="The escalation policy (or schedule) that the alerts it applies to follow."
          data={targets}
          value={chosen}
          onChange={(e) => setNotify(e.currentTarget.value)}
        />
        <FormError error={save.error} />
        <Group gap="xs">
          <Button type="submit" loading={save.isPending}>
            {rule ? 'Save rule' : 'Add rule'}
          </Button>
          {onDone ? (
            <Button variant="default" onClick={onDone}>
              Cancel
            </Button>
          ) : null}
        </Group>
      </Stack>
    </form>
  );
}
