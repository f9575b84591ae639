import { Anchor, Button, Divider, Paper, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { consoleApi, ssoStartUrl } from '../api/console';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { ssoErrorMessage } from '../lib/ssoErrors';
import { beginSession, useSessionQuery } from '../session';

/** Only paths inside the console: never a redirect to another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/alerts';
}

function ForgotPassword({ email, onBack }: { email: string; onBack: () => void }) {
  const [address, setAddress] = useState(email);
  const reset = useMutation({ mutationFn: consoleApi.requestPasswordReset });
  if (reset.isSuccess) {
    return (
      <Stack>
        <Text role="status">
          If {address} has an account, an email with a link to set a new password is on its way. The link
          works once; check your spam folder if it has not arrived in a few minutes.
        </Text>
        <Button variant="default" onClick={onBack}>
          Back to sign in
        </Button>
      </Stack>
    );
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        reset.mutate({ email: address.trim() });
      }}
    >
      <Stack>
        <Text size="sm">Enter your email: we will send you a link to set a new password.</Text>
        <TextInput
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={address}
          onChange={(e) => setAddress(e.currentTarget.value)}
        />
        <FormError error={reset.error} />
        <Button type="submit" loading={reset.isPending}>
          Send the link
        </Button>
        <Button variant="subtle" onClick={onBack}>
          Back to sign in
        </Button>
      </Stack>
    </form>
  );
}

export default function SignInPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useSessionQuery();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [forgot, setForgot] = useState(false);
  const next = safeNext(params.get('next'));
  const providers = useQuery({
    queryKey: ['sso-providers'],
    queryFn: consoleApi.ssoProviders,
    staleTime: 60_000,
  });
  // A known code's words only: the address is anyone's to write (web/src/lib/ssoErrors.ts).
  const ssoError = ssoErrorMessage(params.get('error'));
  const signIn = useMutation({
    mutationFn: consoleApi.signIn,
    onSuccess: (s) => {
      beginSession(queryClient, s);
      void navigate(next, { replace: true });
    },
  });

  if (session.data && !signIn.isPending) return <Navigate to={next} replace />;

  return (
    <Paper withBorder p="lg" radius="md">
      <PageTitle>{forgot ? 'Reset your password' : 'Sign in to Vigil'}</PageTitle>
      {forgot ? (
        <ForgotPassword email={email} onBack={() => setForgot(false)} />
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            signIn.mutate({ email: email.trim(), password });
          }}
        >
          <Stack>
            <TextInput
              label="Email"
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            {ssoError ? (
              <Text role="alert" c="red" size="sm">
                {ssoError}
              </Text>
            ) : null}
            <FormError error={signIn.error} />
            <Button type="submit" loading={signIn.isPending}>
              Sign in
            </Button>
            <Anchor component="button" type="button" size="sm" onClick={() => setForgot(true)}>
              Forgot password?
            </Anchor>
            {providers.data && providers.data.length > 0 ? (
              <>
                <Divider label="or" labelPosition="center" />
                {providers.data.map((p) => (
                  <Button
                    key={p.organizationId}
                    component="a"
                    variant="default"
                    href={ssoStartUrl(p.organizationId, next)}
                  >
                    Sign in with {p.label}
                  </Button>
                ))}
              </>
            ) : null}
          </Stack>
        </form>
      )}
    </Paper>
  );
}
