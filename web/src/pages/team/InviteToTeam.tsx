import { Button, Group, NativeSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError, data } from '../../api/client';
import { consoleApi, type Role } from '../../api/console';
import type { TeamDetail, User } from '../../api/types';
import { invitedNotice } from '../../components/InviteForm';
import { FormError } from '../../components/FormError';
import { UserAutocomplete } from '../../components/UserAutocomplete';
import { ROLE_OPTIONS } from '../../lib/oncall';

/** The person with this email, or undefined when the organization has nobody by it (a 404). */
async function existingUser(email: string): Promise<User | undefined> {
  try {
    return await data<User>(api.GET('/v2/users/{identifier}', { params: { path: { identifier: email } } }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

type Outcome = { kind: 'added'; username: string } | { kind: 'invited'; email: string; link?: string };

/**
 * Adds a person to the team by email: someone already in Vigil (GET /v2/users/{email}) becomes a member
 * at once (POST /v2/teams/{id}/members), sent a link to set a password if they have none yet; someone new is invited (POST /api/console/invitations, an email
 * with a link to set their password) and then made a member. Only the new need a full name and a role.
 */
export function InviteToTeam({ team }: { team: TeamDetail }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ email: '', fullName: '', role: 'user' as Role });
  const addMember = (user: { id: string } | { username: string }) =>
    data(
      api.POST('/v2/teams/{identifier}/members', {
        params: { path: { identifier: team.id }, query: { identifierType: 'id' } },
        body: { user, role: 'user' },
      }),
    );
  const add = useMutation({
    mutationFn: async (): Promise<Outcome> => {
      const email = form.email.trim();
      const existing = await existingUser(email);
      if (existing) {
        // Adding again would set their role in the team back to user.
        if (team.members?.some((m) => m.user.id === existing.id))
          throw new Error(`${existing.username} is already a member of ${team.name}.`);
        // Someone without a password yet (made through the API, Terraform or the import, or whose
        // invitation ran out) is sent a link too, as their name and role stand; someone who can already
        // sign in is refused it (409) and only added.
        const invited = await consoleApi
          .invite({ email: existing.username, fullName: existing.fullName })
          .catch((error: unknown) => {
            if (error instanceof ApiError && error.status === 409) return undefined;
            throw error;
          });
        await addMember({ username: existing.username });
        return invited
          ? { kind: 'invited', email: existing.username, link: invited.link }
          : { kind: 'added', username: existing.username };
      }
      const fullName = form.fullName.trim();
      if (!fullName) throw new Error(`${email} is not in Vigil yet: enter their full name to invite them.`);
      const answer = await consoleApi.invite({ email, fullName, role: form.role });
      await addMember({ id: answer.userId });
      return { kind: 'invited', email, link: answer.link };
    },
    onSuccess: (outcome) => {
      notifications.show(
        outcome.kind === 'added'
          ? {
              color: 'teal',
              message: `${outcome.username} is added to ${team.name}. They were already in Vigil, so no invitation is sent.`,
            }
          : invitedNotice(
              outcome.email,
              outcome.link,
              `Invitation sent to ${outcome.email}, who is added to ${team.name}.`,
            ),
      );
      setForm({ email: '', fullName: '', role: 'user' });
      void queryClient.invalidateQueries({ queryKey: ['team', team.id] });
      if (outcome.kind === 'invited') void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <Stack gap="xs">
        <Title order={3} size="h5">
          Invite a person to this team
        </Title>
        <Group grow wrap="wrap" align="flex-start">
          <UserAutocomplete
            label="Email"
            required
            value={form.email}
            onChange={(email) => setForm({ ...form, email })}
            miw={200}
          />
          <TextInput
            label="Full name"
            description="For someone new to Vigil"
            value={form.fullName}
            onChange={(e) => setForm({ ...form, fullName: e.currentTarget.value })}
            miw={200}
          />
          <NativeSelect
            label="Role in the organization"
            description="For someone new to Vigil"
            data={ROLE_OPTIONS}
            value={form.role}
            onChange={(e) => setForm({ ...form, role: e.currentTarget.value as Role })}
            miw={160}
          />
        </Group>
        <FormError error={add.error} />
        <Group>
          <Button type="submit" loading={add.isPending}>
            Add to team
          </Button>
        </Group>
        <Text size="xs" c="dimmed">
          Someone already in Vigil is added to the team at once. Someone new receives an email with a link to
          set their password, and is added.
        </Text>
      </Stack>
    </form>
  );
}
