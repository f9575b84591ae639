import { isValidElement, lazy, type ComponentType } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import { createBrowserRouter, matchRoutes, Navigate, type Params, type RouteObject } from 'react-router';
import { Layout, PublicLayout } from './components/Layout';
import { prefetchAlertPage } from './pages/alerts/alertQueries';
import { prefetchAlertList } from './pages/alerts/listQueries';
import { prefetchOnCall } from './pages/oncall/scheduleQueries';
import { teamsQuery } from './lib/teams';
import { RequireSession } from './session';

/** Asks for what a page shows, given where it is: its route's parameters and its URL's query string. */
type Prefetch = (queryClient: QueryClient, at: { params: Params; search: string }) => void;

/**
 * A page's component, in a chunk of its own loaded when first shown; what starts that load sooner; and
 * what asks for the page's data before it renders.
 *
 * A page whose chunk has already arrived (preloaded while the session was checked) renders at once. A
 * bare `lazy` would suspend on its first render all the same: the "Loading the page" spinner flashed
 * between the session's and the page's own, and React holds back what a boundary was waiting for until
 * 300 ms after its fallback appeared (unless another update shows it sooner).
 */
function page(load: () => Promise<{ default: ComponentType }>, prefetch?: Prefetch) {
  let arrived: ComponentType | undefined;
  const preload = () =>
    load().then((module) => {
      arrived = module.default;
      return module;
    });
  const Lazy = lazy(preload);
  function Page() {
    const Arrived = arrived;
    return Arrived ? <Arrived /> : <Lazy />;
  }
  return Object.assign(Page, { preload, prefetch });
}

// Each page is its own chunk, loaded when first opened.
const SetupPage = page(() => import('./pages/SetupPage'));
const SignInPage = page(() => import('./pages/SignInPage'));
const SetPasswordPage = page(() => import('./pages/SetPasswordPage'));
const AlertsPage = page(() => import('./pages/AlertsPage'), prefetchAlertList);
const AlertPage = page(() => import('./pages/AlertPage'), prefetchAlertPage);
const TeamsPage = page(
  () => import('./pages/TeamsPage'),
  (queryClient) => void queryClient.prefetchQuery(teamsQuery),
);
const TeamPage = page(() => import('./pages/TeamPage'));
const IntegrationPage = page(() => import('./pages/IntegrationPage'));
const OnCallPage = page(() => import('./pages/OnCallPage'), prefetchOnCall);
const DevicesPage = page(() => import('./pages/DevicesPage'));
const PeoplePage = page(() => import('./pages/PeoplePage'));
const PersonPage = page(() => import('./pages/PersonPage'));
const ApiKeysPage = page(() => import('./pages/ApiKeysPage'));
const RolesPage = page(() => import('./pages/RolesPage'));
const PoliciesPage = page(() => import('./pages/PoliciesPage'));
const NotFoundPage = page(() => import('./pages/NotFoundPage'));

const routes: RouteObject[] = [
  {
    element: <PublicLayout />,
    children: [
      { path: '/setup', element: <SetupPage /> },
      { path: '/sign-in', element: <SignInPage /> },
      { path: '/set-password', element: <SetPasswordPage /> },
    ],
  },
  {
    element: (
      <RequireSession>
        <Layout />
      </RequireSession>
    ),
    children: [
      { path: '/', element: <Navigate to="/alerts" replace /> },
      { path: '/alerts', element: <AlertsPage /> },
      { path: '/alerts/:id', element: <AlertPage /> },
      { path: '/teams', element: <TeamsPage /> },
      { path: '/teams/:id/*', element: <TeamPage /> },
      { path: '/integrations/:id', element: <IntegrationPage /> },
      { path: '/on-call', element: <OnCallPage /> },
      { path: '/settings', element: <Navigate to="/settings/devices" replace /> },
      { path: '/settings/devices', element: <DevicesPage /> },
      { path: '/settings/api-keys', element: <ApiKeysPage /> },
      { path: '/settings/roles', element: <RolesPage /> },
      { path: '/settings/policies', element: <PoliciesPage /> },
      { path: '/people', element: <PeoplePage /> },
      { path: '/people/:id', element: <PersonPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];

export const router = createBrowserRouter(routes);

/**
 * Starts loading the code of the page at `location` now, and its data beside the session check:
 * otherwise the first page's chunk is asked for only when the session check has answered and the layout
 * has rendered, and its data only when the chunk has come and rendered, one after the other. Asking for
 * the data only once the session had answered cost a round trip and the busy main thread's delay before
 * it (about 40 ms of a 340 ms load of the alert list; docs/performance.md). A visitor who is not signed
 * in gets 401s for it, which end in the sign-in page as the session check does.
 */
export function preloadPage(location: { pathname: string; search: string }, queryClient: QueryClient): void {
  const match = matchRoutes(routes, location.pathname)?.at(-1);
  const element = match?.route.element;
  const component: unknown = isValidElement(element) ? element.type : undefined;
  if (typeof component !== 'function' || !('preload' in component)) return;
  const { preload, prefetch } = component as { preload: () => Promise<unknown>; prefetch?: Prefetch };
  // A failure is shown when the page renders: lazy asks for the chunk itself then.
  preload().catch(() => undefined);
  prefetch?.(queryClient, { params: match?.params ?? {}, search: location.search });
}
