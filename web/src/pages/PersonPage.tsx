import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  NativeSelect,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiError, data } from '../api/client';
import { consoleApi } from '../api/console';
import type { Contact, ContactMethod, CustomUserRole, User } from '../api/types';
import { ConfirmButton } from '../components/ConfirmButton';
import { ErrorPanel } from '../components/ErrorPanel';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { ROLE_OPTIONS } from '../lib/oncall';
import { when } from '../lib/time';
import { isAdmin, useSession } from '../session';
import { METHOD_LABELS, contactLabel } from './person/labels';
import { NotificationRules } from './person/NotificationRules';
import { ReadOnlyNotice } from './person/ReadOnlyNotice';

/**
 * The built-in roles by their lower-case names, which the API takes in any case, then the organization's
 * custom roles (/v2/roles) by their own names, so that a person holding one is shown it, not "User".
 */
function roleChoices(custom: CustomUserRole[] | undefined) {
  return [
    ...ROLE_OPTIONS,
    ...(custom ?? []).map((r) => ({ value: r.name, label: `${r.name} (custom, extends ${r.extendedRole})` })),
  ];
}

function RoleForm({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const builtIn = ['owner', 'admin', 'user'].includes(user.role.name.toLowerCase());
  const current = builtIn ? user.role.name.toLowerCase() : user.role.name;
  const [role, setRole] = useState(current);
  const customRoles = useQuery({
    queryKey: ['custom-roles'],
    queryFn: () => data(api.GET('/v2/roles')),
  });
  const save = useMutation({
    mutationFn: () =>
      data(
        api.PATCH('/v2/users/{identifier}', {
          params: { path: { identifier: user.id } },
          body: { role: { name: role } },
        }),
      ),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `${user.username} is now ${role}.` });
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      void queryClient.invalidateQueries({ queryKey: ['user', user.id] });
    },
  });
  if (current === 'owner')
    return <Text size="sm">Role: Owner (the organization's owner keeps every right).</Text>;
  const choices = roleChoices(customRoles.data);
  // Until the custom roles have come (or if they cannot be read), the role held is still offered as is.
  if (!choices.some((c) => c.value === current)) choices.push({ value: current, label: current });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Group align="flex-end" gap="xs" wrap="wrap">
        <NativeSelect
          label="Role in the organization"
          data={choices}
          value={role}
          onChange={(e) => setRole(e.currentTarget.value)}
        />
        <Button type="submit" variant="default" loading={save.isPending} disabled={role === current}>
          Change role
        </Button>
      </Group>
      <FormError error={save.error} />
    </form>
  );
}

/** SMS and voice contacts are paged only once a code sent to them is entered back. */
function needsVerification(c: Contact): boolean {
  return c.method === 'sms' || c.method === 'voice';
}

/** "Send code", then the code and "Verify": the server's words on a refusal. */
function VerifyPanel({ user, contact, done }: { user: User; contact: Contact; done: () => void }) {
  const path = { identifier: user.id, contactId: contact.id };
  const [code, setCode] = useState('');
  const [sent, setSent] = useState<{ expiresAt: string } | null>(null);
  const send = useMutation({
    mutationFn: () =>
      data<{ expiresAt: string }>(
        api.POST('/v2/users/{identifier}/contacts/{contactId}/send-verification', { params: { path } }),
      ),
    onSuccess: (answer) => setSent(answer),
    onError: (error) => {
      // Asked again within a minute: the code sent before still works.
      if (error instanceof ApiError && error.status === 429) setSent((s) => s ?? { expiresAt: '' });
    },
  });
  const verify = useMutation({
    mutationFn: () =>
      data(
        api.POST('/v2/users/{identifier}/contacts/{contactId}/verify', {
          params: { path },
          body: { code: code.replace(/\s+/g, '') },
        }),
      ),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `${contactLabel(contact)} is verified.` });
      done();
    },
  });
  const how = contact.method === 'voice' ? 'calls it and reads out' : 'texts it';
  return (
    <Stack gap="xs" mt="sm" role="group" aria-label={`Verify ${contactLabel(contact)}`}>
      <Text size="sm">
        Vigil pages this number only once it is verified: Vigil {how} a six-digit code, which you enter here.
      </Text>
      <Group gap="xs">
        <Button
          size="xs"
          variant={sent ? 'default' : 'filled'}
          loading={send.isPending}
          onClick={() => send.mutate()}
        >
          {sent ? 'Send a new code' : 'Send code'}
        </Button>
      </Group>
      <FormError error={send.error} />
      {sent?.expiresAt ? (
        <Text size="sm" role="status">
          A code is on its way to {contact.to}. It works until {when(sent.expiresAt)}.
        </Text>
      ) : null}
      {sent ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            verify.mutate();
          }}
        >
          <Group align="flex-end" gap="xs" wrap="wrap">
            <TextInput
              label="Code"
              description="The six digits sent to this number"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              maxLength={20}
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              w={200}
            />
            <Button type="submit" loading={verify.isPending} disabled={code.trim() === ''}>
              Verify
            </Button>
          </Group>
          <FormError error={verify.error} />
        </form>
      ) : null}
    </Stack>
  );
}

function ContactCard({
  user,
  contact: c,
  refresh,
  toggle,
  toggling,
  remove,
  removing,
  editable,
}: {
  user: User;
  contact: Contact;
  refresh: () => void;
  toggle: () => void;
  toggling: boolean;
  remove: () => void;
  removing: boolean;
  /** Whether the caller may change it (the server's answer): verifying and testing it take that too. */
  editable: boolean;
}) {
  const [verifying, setVerifying] = useState(false);
  const unverified = needsVerification(c) && c.status.verified === false;
  const test = useMutation({
    mutationFn: () =>
      data(
        api.POST('/v2/users/{identifier}/contacts/{contactId}/test', {
          params: { path: { identifier: user.id, contactId: c.id } },
        }),
      ),
    onSuccess: () =>
      notifications.show({
        color: 'teal',
        message: `Test message sent to ${contactLabel(c)}.`,
      }),
  });
  return (
    <Card withBorder p="sm" component="li" aria-label={contactLabel(c)}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <div style={{ minWidth: 0 }}>
          <Text size="sm" fw={600}>
            {METHOD_LABELS[c.method]}
          </Text>
          <Text size="sm" className="break-anywhere">
            {c.method === 'mobile' ? 'A device subscribed to push notifications' : c.to}
          </Text>
        </div>
        <Group gap={6} wrap="wrap">
          {needsVerification(c) ? (
            unverified ? (
              <Badge color="yellow.4" c="black" variant="filled" tt="none">
                Not verified
              </Badge>
            ) : (
              <Badge color="teal.9" c="white" variant="filled" tt="none">
                Verified
              </Badge>
            )
          ) : null}
          <Badge color={c.status.enabled ? 'teal' : 'gray'} variant="dot">
            {c.status.enabled ? 'On' : 'Off'}
          </Badge>
        </Group>
      </Group>
      {c.status.disabledReason ? (
        <Badge
          color="red.9"
          c="white"
          variant="filled"
          tt="none"
          mt="xs"
          h="auto"
          py={4}
          maw="100%"
          styles={{ label: { whiteSpace: 'normal', overflow: 'visible' } }}
          className="break-anywhere"
        >
          Not used: {c.status.disabledReason}
        </Badge>
      ) : null}
      {c.method === 'mobile' ? (
        <Text size="xs" c="dimmed" mt="xs">
          Made by a device: manage it in{' '}
          <Anchor component={Link} to="/settings/devices" size="xs" underline="always">
            Notifications on this device
          </Anchor>
          .
        </Text>
      ) : null}
      {editable ? (
        <Group gap="xs" mt="xs">
          {unverified && !verifying ? (
            <Button size="xs" onClick={() => setVerifying(true)} aria-label={`Verify ${contactLabel(c)}`}>
              Verify
            </Button>
          ) : null}
          <Button
            size="xs"
            variant="default"
            onClick={() => test.mutate()}
            loading={test.isPending}
            aria-label={`Test ${contactLabel(c)}`}
          >
            Test
          </Button>
          {c.method === 'mobile' ? null : (
            <>
              <Button
                size="xs"
                variant="default"
                onClick={toggle}
                loading={toggling}
                aria-label={`${c.status.enabled ? 'Turn off' : 'Turn on'} ${contactLabel(c)}`}
              >
                {c.status.enabled ? 'Turn off' : 'Turn on'}
              </Button>
              <ConfirmButton
                label="Delete"
                ariaLabel={`Delete ${contactLabel(c)}`}
                question={`Delete ${contactLabel(c)} and the steps that use it?`}
                confirmLabel="Delete contact"
                loading={removing}
                onConfirm={remove}
              />
            </>
          )}
        </Group>
      ) : null}
      <FormError error={test.error} />
      {editable && unverified && verifying ? (
        <>
          <VerifyPanel
            user={user}
            contact={c}
            done={() => {
              setVerifying(false);
              refresh();
            }}
          />
          <Group mt="xs">
            <Button size="xs" variant="subtle" onClick={() => setVerifying(false)}>
              Cancel
            </Button>
          </Group>
        </>
      ) : null}
    </Card>
  );
}

function ContactsSection({
  user,
  contacts,
  editable,
}: {
  user: User;
  contacts: Contact[];
  /** Whether the caller may change them (the server's answer); undefined while it is asked. */
  editable: boolean | undefined;
}) {
  const queryClient = useQueryClient();
  const [method, setMethod] = useState<ContactMethod>('email');
  const [to, setTo] = useState('');
  const identifier = user.id;
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['contacts', identifier] });
    void queryClient.invalidateQueries({ queryKey: ['notification-rules', identifier] });
  };
  const add = useMutation({
    mutationFn: () =>
      data(
        api.POST('/v2/users/{identifier}/contacts', {
          params: { path: { identifier } },
          body: { method, to: to.trim() },
        }),
      ),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: `${METHOD_LABELS[method]} ${to.trim()} is added.` });
      setTo('');
      refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (c: Contact) =>
      c.status.enabled
        ? data(
            api.POST('/v2/users/{identifier}/contacts/{contactId}/disable', {
              params: { path: { identifier, contactId: c.id } },
            }),
          )
        : data(
            api.POST('/v2/users/{identifier}/contacts/{contactId}/enable', {
              params: { path: { identifier, contactId: c.id } },
            }),
          ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (c: Contact) =>
      data(
        api.DELETE('/v2/users/{identifier}/contacts/{contactId}', {
          params: { path: { identifier, contactId: c.id } },
        }),
      ),
    onSuccess: (_, c) => {
      notifications.show({ color: 'teal', message: `${contactLabel(c)} is deleted.` });
      refresh();
    },
  });
  return (
    <Stack gap="sm" component="section" aria-labelledby="contacts">
      <Title order={2} size="h3" id="contacts">
        Contact methods
      </Title>
      <FormError error={toggle.error ?? remove.error} />
      {editable === false ? <ReadOnlyNotice /> : null}
      {contacts.length === 0 ? (
        <Text c="dimmed">
          {editable ? 'No contact method yet: add one below.' : 'No contact method yet.'}
        </Text>
      ) : null}
      <Stack component="ul" gap="xs" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Contact methods">
        {contacts.map((c) => (
          <ContactCard
            key={c.id}
            user={user}
            contact={c}
            refresh={refresh}
            toggle={() => toggle.mutate(c)}
            toggling={toggle.isPending && toggle.variables.id === c.id}
            remove={() => remove.mutate(c)}
            removing={remove.isPending && remove.variables.id === c.id}
            editable={editable === true}
          />
        ))}
      </Stack>
      {editable ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <Stack gap="xs">
            <Title order={3} size="h5">
              Add a contact method
            </Title>
            <Group grow wrap="wrap" align="flex-start">
              <NativeSelect
                label="Method"
                data={[
                  { value: 'email', label: METHOD_LABELS.email },
                  { value: 'sms', label: METHOD_LABELS.sms },
                  { value: 'voice', label: METHOD_LABELS.voice },
                ]}
                value={method}
                onChange={(e) => setMethod(e.currentTarget.value as ContactMethod)}
                miw={140}
              />
              <TextInput
                label={method === 'email' ? 'Email address' : 'Phone number'}
                description={
                  method === 'email' ? undefined : 'With the country code, such as +44 7700 900123'
                }
                type={method === 'email' ? 'email' : 'tel'}
                required
                value={to}
                onChange={(e) => setTo(e.currentTarget.value)}
                miw={200}
              />
            </Group>
            <FormError error={add.error} />
            <Group>
              <Button type="submit" loading={add.isPending}>
                Add contact method
              </Button>
            </Group>
            <Text size="xs" c="dimmed">
              Mobile push comes from each device that turns on{' '}
              <Anchor component={Link} to="/settings/devices" size="xs" underline="always">
                Notifications on this device
              </Anchor>
              .
            </Text>
          </Stack>
        </form>
      ) : null}
    </Stack>
  );
}

/** A person: their role, contact methods and notification rules. */
export default function PersonPage() {
  const { id = '' } = useParams();
  const session = useSession();
  const admin = isAdmin(session);
  const user = useQuery({
    queryKey: ['user', id],
    queryFn: () => data<User>(api.GET('/v2/users/{identifier}', { params: { path: { identifier: id } } })),
  });
  const contacts = useQuery({
    queryKey: ['contacts', id],
    queryFn: () =>
      data<Contact[]>(api.GET('/v2/users/{identifier}/contacts', { params: { path: { identifier: id } } })),
  });
  // What the server lets the caller change here, by its own checks: forms it would refuse are not offered.
  const rights = useQuery({
    queryKey: ['person-rights', id],
    queryFn: () => consoleApi.personRights(id),
  });
  // Not known (the question failed): offer what the console always did; the server has the last word.
  const canEdit = (right: 'contactsEdit' | 'notificationRulesEdit') =>
    rights.isError ? true : rights.data?.[right];
  if (user.isError)
    return (
      <ErrorPanel
        error={user.error}
        retry={() => void user.refetch()}
        title="This person could not be loaded"
      />
    );
  if (!user.data) return <Skeleton height={200} aria-label="Loading the person" />;
  const u = user.data;
  return (
    <>
      {admin ? (
        <Anchor component={Link} to="/people" size="sm">
          ← People
        </Anchor>
      ) : null}
      <PageTitle mt="xs">{u.fullName || u.username}</PageTitle>
      <Stack gap="xl">
        <Stack gap={4}>
          <Text size="sm" className="break-anywhere">
            {u.username}
          </Text>
          {admin && u.id !== session.user.id ? (
            <RoleForm user={u} />
          ) : (
            <Text size="sm">Role: {u.role.name}</Text>
          )}
        </Stack>
        {contacts.isError ? (
          <ErrorPanel error={contacts.error} retry={() => void contacts.refetch()} />
        ) : !contacts.data ? (
          <Skeleton height={80} />
        ) : (
          <ContactsSection user={u} contacts={contacts.data} editable={canEdit('contactsEdit')} />
        )}
        <NotificationRules
          user={u}
          contacts={contacts.data}
          contactsFailed={contacts.isError}
          editable={canEdit('notificationRulesEdit')}
        />
      </Stack>
    </>
  );
}
