import { lazy } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { Layout, PublicLayout } from './components/Layout';
import { RequireSession } from './session';

// Each page is its own chunk, loaded when first opened.
const SetupPage = lazy(() => import('./pages/SetupPage'));
const SignInPage = lazy(() => import('./pages/SignInPage'));
const SetPasswordPage = lazy(() => import('./pages/SetPasswordPage'));
const AlertsPage = lazy(() => import('./pages/AlertsPage'));
const AlertPage = lazy(() => import('./pages/AlertPage'));
const TeamsPage = lazy(() => import('./pages/TeamsPage'));
const TeamPage = lazy(() => import('./pages/TeamPage'));
const IntegrationPage = lazy(() => import('./pages/IntegrationPage'));
const OnCallPage = lazy(() => import('./pages/OnCallPage'));
const DevicesPage = lazy(() => import('./pages/DevicesPage'));
const PeoplePage = lazy(() => import('./pages/PeoplePage'));
const PersonPage = lazy(() => import('./pages/PersonPage'));
const ApiKeysPage = lazy(() => import('./pages/ApiKeysPage'));
const PoliciesPage = lazy(() => import('./pages/PoliciesPage'));
const NotFoundPage = lazy(() => import('./pages/NotFoundPage'));

export const router = createBrowserRouter([
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
      { path: '/settings/policies', element: <PoliciesPage /> },
      { path: '/people', element: <PeoplePage /> },
      { path: '/people/:id', element: <PersonPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
