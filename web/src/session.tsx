import { Center, Loader } from '@mantine/core';
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { onUnauthorized } from './api/client';
import { consoleApi, type Session } from './api/console';
import { ErrorPanel } from './components/ErrorPanel';

export const SESSION_KEY = ['session'] as const;

const sessionQuery = { queryKey: SESSION_KEY, queryFn: consoleApi.session, staleTime: 5 * 60_000 };

export function useSessionQuery() {
  return useQuery(sessionQuery);
}

/** Starts the session check, for RequireSession to find answered or under way. */
/**
 * A session just begun (signed in, set up, a password set): nothing read for whoever used this tab
 * before may show, however their session ended (signed out elsewhere, expired).
 */
export function beginSession(queryClient: QueryClient, session: Session): void {
  queryClient.clear();
  queryClient.setQueryData(SESSION_KEY, session);
}

export function prefetchSession(queryClient: QueryClient): void {
  void queryClient.prefetchQuery(sessionQuery);
}

/** The signed-in session (only inside RequireSession). */
export function useSession(): Session {
  const { data } = useSessionQuery();
  if (!data) throw new Error('useSession outside RequireSession');
  return data;
}

export function isAdmin(session: Session): boolean {
  return session.user.role === 'owner' || session.user.role === 'admin';
}

export function FullPageLoader({ label }: { label: string }) {
  return (
    <Center h="60vh" role="status" aria-live="polite">
      <Loader aria-label={label} />
    </Center>
  );
}

/** Shows its children to a signed-in person; sends anyone else to the setup or sign-in page. */
export function RequireSession({ children }: { children: ReactNode }) {
  const session = useSessionQuery();
  const queryClient = useQueryClient();
  const location = useLocation();
  const setup = useQuery({
    queryKey: ['setup'],
    queryFn: consoleApi.setupStatus,
    enabled: session.data === null,
  });

  // Any 401 from the API means the session ended: ask again, which leads back to the sign-in page.
  useEffect(
    () => onUnauthorized(() => void queryClient.invalidateQueries({ queryKey: SESSION_KEY })),
    [queryClient],
  );

  if (session.isPending) return <FullPageLoader label="Loading your session" />;
  if (session.isError) return <ErrorPanel error={session.error} retry={() => void session.refetch()} />;
  if (session.data) return children;
  if (setup.isPending) return <FullPageLoader label="Loading" />;
  if (setup.data?.setupRequired) return <Navigate to="/setup" replace />;
  const next = location.pathname + location.search;
  return <Navigate to={next === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`} replace />;
}
