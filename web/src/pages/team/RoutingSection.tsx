import { Badge, Button, Card, Group, Skeleton, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { RoutingRule, TeamDetail } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FormError } from '../../components/FormError';
import { criteriaSummary } from '../../lib/criteria';
import { timeRestrictionSentence } from '../../lib/timeRestriction';
import { RoutingRuleForm } from './RoutingRuleForm';
import { ReadOnlyNotice, useTeamRight } from './teamRights';

// A rule made through the API (Terraform) may have no name: Opsgenie's rules need none.
const ruleLabel = (rule: RoutingRule): string => rule.name || 'Unnamed rule';

/** "Mon–Fri 09:00–17:00 (Europe/Berlin)", or "At any time". */
const timeSummary = (rule: RoutingRule): string =>
  timeRestrictionSentence(rule.timeRestriction, rule.timezone);

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

function RuleSummary({ rule }: { rule: RoutingRule }) {
  return (
    <>
      <Text size="sm" className="break-anywhere">
        <b>When:</b> {criteriaSummary(rule.criteria)}
      </Text>
      <Text size="sm" className="break-anywhere">
        <b>Time:</b> {timeSummary(rule)}
      </Text>
      <Text size="sm" className="break-anywhere">
        <b>Notify:</b> {notifySummary(rule)}
      </Text>
    </>
  );
}

function AddRule({ team }: { team: TeamDetail }) {
  return (
    <Card withBorder component="section" aria-labelledby="new-routing-rule">
      <Title order={3} size="h4" id="new-routing-rule" mb="xs">
        Add a routing rule
      </Title>
      <RoutingRuleForm team={team} />
      <Text size="xs" c="dimmed" mt="sm">
        The new rule goes last, before the default rule.
      </Text>
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
    onSuccess: (_, { rule, order }) => done(`${ruleLabel(rule)} is now rule ${order + 1}.`),
  });
  const remove = useMutation({
    mutationFn: (rule: RoutingRule) =>
      data(
        api.DELETE('/v2/teams/{identifier}/routing-rules/{ruleId}', {
          params: { path: { identifier: team.id, ruleId: rule.id }, query: { teamIdentifierType: 'id' } },
        }),
      ),
    onSuccess: (_, rule) => done(`${ruleLabel(rule)} is deleted.`),
  });
  const [editing, setEditing] = useState<string | null>(null);
  const canEdit = useTeamRight(team.id, 'edit-routing-rules');
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
      {canEdit === false ? <ReadOnlyNotice team={team} what="its routing rules" /> : null}
      <FormError error={move.error ?? remove.error} />
      {rules.isError ? (
        <ErrorPanel error={rules.error} retry={() => void rules.refetch()} />
      ) : rules.isPending ? (
        <Skeleton height={120} />
      ) : (
        <Stack component="ol" gap="xs" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Routing rules">
          {[...ordinary, ...defaults].map((rule, i) => (
            <Card key={rule.id} withBorder component="li" aria-label={ruleLabel(rule)} p="sm">
              <Group justify="space-between" wrap="wrap" gap="xs">
                <Text fw={600} className="break-anywhere">
                  {rule.isDefault ? ruleLabel(rule) : `${i + 1}. ${ruleLabel(rule)}`}
                </Text>
                {rule.isDefault ? <Badge variant="light">Default rule</Badge> : null}
              </Group>
              {editing === rule.id ? (
                <Stack mt="xs">
                  <RoutingRuleForm team={team} rule={rule} onDone={() => setEditing(null)} />
                  {rule.isDefault ? (
                    <Text size="xs" c="dimmed">
                      The default rule applies to every alert no other rule takes: only its name and whom it
                      notifies change.
                    </Text>
                  ) : null}
                </Stack>
              ) : (
                <RuleSummary rule={rule} />
              )}
              {canEdit && editing !== rule.id ? (
                <Group gap="xs" mt="xs">
                  <Button
                    size="xs"
                    variant="default"
                    onClick={() => setEditing(rule.id)}
                    aria-label={`Edit ${ruleLabel(rule)}`}
                  >
                    Edit
                  </Button>
                  {!rule.isDefault ? (
                    <>
                      <Button
                        size="xs"
                        variant="default"
                        disabled={i === 0 || move.isPending}
                        onClick={() => move.mutate({ rule, order: i - 1 })}
                        aria-label={`Move ${ruleLabel(rule)} up`}
                      >
                        Move up
                      </Button>
                      <Button
                        size="xs"
                        variant="default"
                        disabled={i === ordinary.length - 1 || move.isPending}
                        onClick={() => move.mutate({ rule, order: i + 1 })}
                        aria-label={`Move ${ruleLabel(rule)} down`}
                      >
                        Move down
                      </Button>
                      <ConfirmButton
                        label="Delete"
                        ariaLabel={`Delete ${ruleLabel(rule)}`}
                        question={`Delete the routing rule ${ruleLabel(rule)}?`}
                        confirmLabel="Delete rule"
                        loading={remove.isPending}
                        onConfirm={() => remove.mutate(rule)}
                      />
                    </>
                  ) : null}
                </Group>
              ) : null}
            </Card>
          ))}
        </Stack>
      )}
      {canEdit ? <AddRule team={team} /> : null}
    </Stack>
  );
}
