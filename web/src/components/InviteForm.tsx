import { Button, Group, NativeSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications, type NotificationData } from '@mantine/notifications';
import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { useState } from 'react';
import { consoleApi, type Role } from '../api/console';
import { ROLE_OPTIONS } from '../lib/oncall';
import { FormError } from './FormError';

/**
 * What an invitation's notice says: `sent` when the email went; else the link to hand over (a notice that
 * stays until closed).
 */
export function invitedNotice(email: string, link: string | undefined, sent: string): NotificationData {
  return link
    ? {
        color: 'yellow',
        autoClose: false,
        title: `${email} is added, but the email could not be sent`,
        message: `Give them this link to set their password (it works once, for 7 days): ${link}`,
      }
    : { color: 'teal', message: sent };
}

/**
 * Invites a person by email (POST /api/console/invitations). When Vigil could not send the email, the
 * admin is shown the link to hand over. (A team's page adds people with team/InviteToTeam.tsx.)
 */
export function InviteForm({
  heading,
  headingId,
  refresh,
}: {
  heading: string;
  headingId?: string;
  /** The query to read again once the person is added. */
  refresh: QueryKey;
}) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ email: '', fullName: '', role: 'user' as Role });
  const invite = useMutation({
    mutationFn: () =>
      consoleApi.invite({ email: form.email.trim(), fullName: form.fullName.trim(), role: form.role }),
    onSuccess: (answer) => {
      notifications.show(invitedNotice(form.email, answer.link, `Invitation sent to ${form.email}.`));
      // Invited again: the link went, the name and role asked for did not (the answer says where to).
      if (answer.unchanged)
        notifications.show({ color: 'yellow', autoClose: false, message: answer.unchanged });
      setForm({ email: '', fullName: '', role: 'user' });
      void queryClient.invalidateQueries({ queryKey: refresh });
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        invite.mutate();
      }}
    >
      <Stack gap="xs">
        <Title order={2} size="h4" id={headingId}>
          {heading}
        </Title>
        <Group grow wrap="wrap" align="flex-start">
          <TextInput
            label="Email"
            type="email"
            required
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.currentTarget.value })}
            miw={200}
          />
          <TextInput
            label="Full name"
            required
            value={form.fullName}
            onChange={(e) => setForm({ ...form, fullName: e.currentTarget.value })}
            miw={200}
          />
          <NativeSelect
            label="Role in the organization"
            data={ROLE_OPTIONS}
            value={form.role}
            onChange={(e) => setForm({ ...form, role: e.currentTarget.value as Role })}
            miw={160}
          />
        </Group>
        <FormError error={invite.error} />
        <Group>
          <Button type="submit" loading={invite.isPending}>
            Send invitation
          </Button>
        </Group>
        <Text size="xs" c="dimmed">
          They receive an email with a link to set their password.
        </Text>
      </Stack>
    </form>
  );
}
