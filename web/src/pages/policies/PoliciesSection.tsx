import { Anchor, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { TeamDetail } from '../../api/types';
import { isAdmin, useSession } from '../../session';
import { ReadOnlyNotice, useTeamRight } from '../team/teamRights';
import { PolicyList } from './PolicyList';

/** A team's policies: its alert policies and its notification policies, each in its own order. */
export function PoliciesSection({ team }: { team: TeamDetail }) {
  const session = useSession();
  const editsAlertPolicies = useTeamRight(team.id, 'edit-alert-policies');
  const editsNotificationPolicies = useTeamRight(team.id, 'edit-notification-policies');
  return (
    <Stack gap="xl">
      <Text size="sm" c="dimmed">
        The organization’s global alert policies run before this team’s.{' '}
        {isAdmin(session) ? (
          <Anchor component={Link} to="/settings/policies" underline="always">
            See the global policies.
          </Anchor>
        ) : null}
      </Text>
      <PolicyList
        kind="alert"
        teamId={team.id}
        canEdit={editsAlertPolicies}
        readOnlyNote={<ReadOnlyNotice team={team} what="its alert policies" />}
      />
      <PolicyList
        kind="notification"
        teamId={team.id}
        canEdit={editsNotificationPolicies}
        readOnlyNote={<ReadOnlyNotice team={team} what="its notification policies" />}
      />
    </Stack>
  );
}
