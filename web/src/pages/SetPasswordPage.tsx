import { Anchor, Button, Paper, PasswordInput, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { consoleApi, MIN_PASSWORD_LENGTH } from '../api/console';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { beginSession } from '../session';

/** From an invitation or a password-reset email: choose a password, then you are signed in. */
export default function SetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [touched, setTouched] = useState(false);
  const save = useMutation({
    mutationFn: consoleApi.setPassword,
    onSuccess: (session) => {
      beginSession(queryClient, session);
      void navigate('/alerts', { replace: true });
    },
  });
  const tooShort = password.length < MIN_PASSWORD_LENGTH;
  const mismatch = again !== password;

  return (
    <Paper withBorder p="lg" radius="md">
      <PageTitle>Set your password</PageTitle>
      {token === '' ? (
        <Stack>
          <Text role="alert">
            This link has no token. Open the link from your email again, or ask for a new one from the sign-in
            page (“Forgot password?”).
          </Text>
          <Anchor component={Link} to="/sign-in">
            Go to sign in
          </Anchor>
        </Stack>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setTouched(true);
            if (tooShort || mismatch) return;
            save.mutate({ token, password });
          }}
        >
          <Stack>
            <PasswordInput
              label="New password"
              description={`At least ${MIN_PASSWORD_LENGTH} characters.`}
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              error={touched && tooShort ? `Use at least ${MIN_PASSWORD_LENGTH} characters.` : undefined}
            />
            <PasswordInput
              label="New password again"
              autoComplete="new-password"
              required
              value={again}
              onChange={(e) => setAgain(e.currentTarget.value)}
              error={touched && mismatch ? 'The two passwords differ: type the same one twice.' : undefined}
            />
            <FormError error={save.error} />
            <Button type="submit" loading={save.isPending}>
              Set password and sign in
            </Button>
          </Stack>
        </form>
      )}
    </Paper>
  );
}
