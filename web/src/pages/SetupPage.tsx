import { Button, Paper, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { consoleApi, MIN_PASSWORD_LENGTH } from '../api/console';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { FullPageLoader, beginSession } from '../session';

/** The first visit on an empty database: the organization and its first admin. */
export default function SetupPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [search] = useSearchParams();
  const status = useQuery({ queryKey: ['setup'], queryFn: consoleApi.setupStatus });
  // The link Vigil logs at start carries the code, so following it just works; otherwise it is pasted.
  const [form, setForm] = useState({
    setupCode: search.get('code') ?? '',
    organizationName: '',
    fullName: '',
    email: '',
    password: '',
  });
  const [touched, setTouched] = useState(false);
  const setup = useMutation({
    mutationFn: consoleApi.setup,
    onSuccess: (session) => {
      beginSession(queryClient, session);
      queryClient.setQueryData(['setup'], { setupRequired: false });
      void navigate('/alerts', { replace: true });
    },
  });
  const tooShort = form.password.length < MIN_PASSWORD_LENGTH;
  const field = (name: keyof typeof form) => ({
    value: form[name],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => {
      const value = e.currentTarget.value;
      setForm((f) => ({ ...f, [name]: value }));
    },
  });

  if (status.isPending) return <FullPageLoader label="Loading" />;
  if (status.data && !status.data.setupRequired && !setup.isPending && !setup.isSuccess)
    return <Navigate to="/sign-in" replace />;

  return (
    <Paper withBorder p="lg" radius="md">
      <PageTitle>Set up Vigil</PageTitle>
      <Text size="sm" mb="md">
        Create your organization and its first administrator. You can invite the rest of your team afterwards.
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setTouched(true);
          if (tooShort) return;
          setup.mutate({
            ...form,
            setupCode: form.setupCode.trim(),
            email: form.email.trim(),
            organizationName: form.organizationName.trim(),
          });
        }}
      >
        <Stack>
          <TextInput
            label="Setup code"
            description={`In Vigil's start-up log: the line "There is no organization yet" ends with a link to this page that carries it.`}
            required
            autoComplete="off"
            spellCheck={false}
            {...field('setupCode')}
          />
          <TextInput
            label="Organization name"
            required
            autoComplete="organization"
            {...field('organizationName')}
          />
          <TextInput label="Your name" required autoComplete="name" {...field('fullName')} />
          <TextInput label="Email" type="email" required autoComplete="email" {...field('email')} />
          <PasswordInput
            label="Password"
            description={`At least ${MIN_PASSWORD_LENGTH} characters.`}
            required
            autoComplete="new-password"
            error={touched && tooShort ? `Use at least ${MIN_PASSWORD_LENGTH} characters.` : undefined}
            {...field('password')}
          />
          <FormError error={setup.error} />
          <Button type="submit" loading={setup.isPending}>
            Create the organization
          </Button>
        </Stack>
      </form>
    </Paper>
  );
}
