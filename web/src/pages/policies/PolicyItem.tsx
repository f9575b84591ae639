import { Badge, Button, Card, Group, Skeleton, Stack, Switch, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorPanel } from '../../components/ErrorPanel';
import { criteriaSummary } from '../../lib/criteria';
import { timeRestrictionSentence } from '../../lib/timeRestriction';
import { AlertPolicyForm } from './AlertPolicyForm';
import {
  notificationSummary,
  scopeQuery,
  type Policy,
  type PolicyResponder,
  type PolicySummary,
} from './model';
import { NotificationPolicyForm } from './NotificationPolicyForm';
import { useResponderNames } from './RespondersEditor';

/** "Priority P1, tags +db": what an alert policy changes, in a line (responders named by `nameOf`). */
function alertChanges(policy: Policy, nameOf: (r: PolicyResponder) => string | undefined): string {
  const parts: string[] = [];
  if (policy.message && policy.message !== '{{message}}') parts.push(`message “${policy.message}”`);
  if (policy.alertDescription && policy.alertDescription !== '{{description}}') parts.push('description');
  if (policy.priority) parts.push(`priority ${policy.priority}`);
  if (policy.tags?.length)
    parts.push(`${policy.ignoreOriginalTags ? 'tags set to' : 'tags +'} ${policy.tags.join(', ')}`);
  if (policy.responders?.length)
    parts.push(
      `${policy.ignoreOriginalResponders ? 'responders set to' : 'responders +'} ${policy.responders
        .map((r) => nameOf(r) ?? r.type)
        .join(', ')}`,
    );
  return parts.join('; ') || 'Nothing yet';
}

function PolicyDetails({ policy }: { policy: Policy }) {
  // Responders given by id alone (as Terraform sends them) are named by looking them up.
  const { nameOf } = useResponderNames(policy.type === 'alert' ? (policy.responders ?? []) : []);
  return (
    <>
      {policy.policyDescription ? (
        <Text size="sm" c="dimmed" className="break-anywhere">
          {policy.policyDescription}
        </Text>
      ) : null}
      <Text size="sm" className="break-anywhere">
        <b>When:</b> {policy.filter ? criteriaSummary(policy.filter) : 'All alerts'}
      </Text>
      <Text size="sm" className="break-anywhere">
        <b>Time:</b> {timeRestrictionSentence(policy.timeRestrictions, policy.timezone)}
      </Text>
      <Text size="sm" className="break-anywhere">
        <b>{policy.type === 'alert' ? 'Changes:' : 'Does:'}</b>{' '}
        {policy.type === 'alert' ? alertChanges(policy, nameOf) : notificationSummary(policy)}
        {policy.type === 'alert' && policy.continue ? ' (then continues)' : ''}
      </Text>
    </>
  );
}

/**
 * One policy of an ordered list: what it does, its switch, and (for those who may change it) the buttons
 * that move, edit and delete it.
 */
export function PolicyItem({
  summary,
  teamId,
  position,
  last,
  busy,
  canEdit,
  onToggle,
  onMove,
  onDelete,
}: {
  summary: PolicySummary;
  teamId?: string;
  position: number;
  last: boolean;
  busy: boolean;
  /** Whether the caller may change it: if not, it is shown without its buttons. */
  canEdit: boolean;
  onToggle: (enabled: boolean) => void;
  onMove: (targetIndex: number) => void;
  onDelete: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const detail = useQuery({
    queryKey: ['policy', summary.id],
    queryFn: () =>
      data<Policy>(
        api.GET('/v2/policies/{id}', { params: { path: { id: summary.id }, query: scopeQuery(teamId) } }),
      ),
  });
  const name = summary.name;
  return (
    <Card withBorder component="li" aria-label={name} p="sm">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs" wrap="wrap" style={{ minWidth: 0 }}>
          <Text fw={600} className="break-anywhere">
            {position + 1}. {name}
          </Text>
          <Badge variant="light" color={summary.type === 'alert' ? 'blue' : 'grape'}>
            {summary.type === 'alert' ? 'Alert policy' : 'Notification policy'}
          </Badge>
        </Group>
        <Switch
          label="Enabled"
          checked={summary.enabled}
          disabled={busy || !canEdit}
          onChange={(e) => onToggle(e.currentTarget.checked)}
        />
      </Group>
      {detail.isError ? (
        <ErrorPanel error={detail.error} retry={() => void detail.refetch()} />
      ) : !detail.data ? (
        <Skeleton height={40} mt="xs" />
      ) : editing && canEdit ? (
        <Stack mt="xs">
          {detail.data.type === 'notification' && teamId ? (
            <NotificationPolicyForm teamId={teamId} policy={detail.data} onDone={() => setEditing(false)} />
          ) : (
            <AlertPolicyForm teamId={teamId} policy={detail.data} onDone={() => setEditing(false)} />
          )}
        </Stack>
      ) : (
        <PolicyDetails policy={detail.data} />
      )}
      {!editing && canEdit ? (
        <Group gap="xs" mt="xs">
          <Button
            size="xs"
            variant="default"
            disabled={!detail.data}
            onClick={() => setEditing(true)}
            aria-label={`Edit ${name}`}
          >
            Edit
          </Button>
          <Button
            size="xs"
            variant="default"
            disabled={position === 0 || busy}
            onClick={() => onMove(position - 1)}
            aria-label={`Move ${name} up`}
          >
            Move up
          </Button>
          <Button
            size="xs"
            variant="default"
            disabled={last || busy}
            onClick={() => onMove(position + 1)}
            aria-label={`Move ${name} down`}
          >
            Move down
          </Button>
          <ConfirmButton
            label="Delete"
            ariaLabel={`Delete ${name}`}
            question={`Delete the policy ${name}?`}
            confirmLabel="Delete policy"
            loading={busy}
            onConfirm={onDelete}
          />
        </Group>
      ) : null}
    </Card>
  );
}
