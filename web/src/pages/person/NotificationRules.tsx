import { Skeleton, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, data } from '../../api/client';
import type { Contact, NotificationRuleSummary, User } from '../../api/types';
import { ErrorPanel } from '../../components/ErrorPanel';
import { NewRuleForm } from './NewRuleForm';
import { RuleCard } from './RuleCard';

/** A person's notification rules, each with its steps, and a form for a new one. */
export function NotificationRules({ user, contacts }: { user: User; contacts: Contact[] | undefined }) {
  const rules = useQuery({
    queryKey: ['notification-rules', user.id],
    queryFn: () =>
      data<NotificationRuleSummary[]>(
        api.GET('/v2/users/{identifier}/notification-rules', { params: { path: { identifier: user.id } } }),
      ),
  });
  return (
    <Stack gap="sm" component="section" aria-labelledby="notification-rules">
      <Title order={2} size="h3" id="notification-rules">
        Notification rules
      </Title>
      {rules.isError ? (
        <ErrorPanel error={rules.error} retry={() => void rules.refetch()} />
      ) : !rules.data || !contacts ? (
        <Skeleton height={80} />
      ) : (
        <>
          {rules.data.length === 0 ? (
            <Text c="dimmed">No notification rule: nothing reaches {user.username}.</Text>
          ) : (
            rules.data.map((r) => <RuleCard key={r.id} user={user} summary={r} contacts={contacts} />)
          )}
          <NewRuleForm user={user} contacts={contacts} />
        </>
      )}
    </Stack>
  );
}
