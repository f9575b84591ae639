import { Stack, Text } from '@mantine/core';
import { PageTitle } from '../components/PageTitle';
import { isAdmin, useSession } from '../session';
import { PolicyList } from './policies/PolicyList';

/** The organization's global alert policies (admins): they run before any team's. */
export default function PoliciesPage() {
  const session = useSession();
  return (
    <>
      <PageTitle mb="md">Global policies</PageTitle>
      {isAdmin(session) ? (
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            Global alert policies apply to every alert of the organization, before the policies of the alert’s
            teams. Teams’ own policies (and their notification policies) are on each team’s page.
          </Text>
          <PolicyList kind="alert" />
        </Stack>
      ) : (
        <Text>Only the organization’s admins manage global policies; a team’s are on its page.</Text>
      )}
    </>
  );
}
