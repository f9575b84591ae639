import { Skeleton, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, data } from '../../api/client';
import type { Contact, NotificationRuleSummary, User } from '../../api/types';
import { ErrorPanel } from '../../components/ErrorPanel';
import { NewRuleForm } from './NewRuleForm';
import { ReadOnlyNotice } from './ReadOnlyNotice';
import { RuleCard } from './RuleCard';

/**
 * A person's notification rules, each with its steps, and a form for a new one. The forms need the
 * person's contact methods, and the server's leave (`editable`, undefined while it is asked): without
 * them the rules are only shown.
 */
export function NotificationRules({
  user,
  contacts,
  contactsFailed,
  editable,
}: {
  user: User;
  contacts: Contact[] | undefined;
  /** The contact methods could not be read: the rules are shown, not changed. */
  contactsFailed: boolean;
  editable: boolean | undefined;
}) {
  const rules = useQuery({
    queryKey: ['notification-rules', user.id],
    queryFn: () =>
      data<NotificationRuleSummary[]>(
        api.GET('/v2/users/{identifier}/notification-rules', { params: { path: { identifier: user.id } } }),
      ),
  });
  const ready = contacts !== undefined || contactsFailed;
  const changeable = editable === true && contacts !== undefined;
  return (
    <Stack gap="sm" component="section" aria-labelledby="notification-rules">
      <Title order={2} size="h3" id="notification-rules">
        Notification rules
      </Title>
      {rules.isError ? (
        <ErrorPanel error={rules.error} retry={() => void rules.refetch()} />
      ) : !rules.data || !ready ? (
        <Skeleton height={80} />
      ) : (
        <>
          {editable === false ? <ReadOnlyNotice /> : null}
          {editable && contactsFailed ? (
            <Text size="sm" c="dimmed">
              The contact methods could not be loaded, and rules name them: reload the page to change these.
            </Text>
          ) : null}
          {rules.data.length === 0 ? (
            <Text c="dimmed">No notification rule: nothing reaches {user.username}.</Text>
          ) : (
            rules.data.map((r) => (
              <RuleCard key={r.id} user={user} summary={r} contacts={contacts ?? []} editable={changeable} />
            ))
          )}
          {changeable ? <NewRuleForm user={user} contacts={contacts} /> : null}
        </>
      )}
    </Stack>
  );
}
