import {
  ActionIcon,
  AppShell,
  Anchor,
  Box,
  Burger,
  Button,
  Drawer,
  Group,
  Menu,
  Modal,
  Stack,
  Text,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { Suspense, useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { messageOf } from '../api/client';
import { consoleApi } from '../api/console';
import { pushApi, type PushDevice } from '../api/push';
import { stopPushHere, thisDeviceId } from '../lib/push';
import { useLiveAlerts } from '../live';
import { FullPageLoader, isAdmin, useSession } from '../session';
import { BellIcon, MoonIcon, SunIcon } from './icons';

const NAV = [
  { to: '/alerts', label: 'Alerts' },
  { to: '/teams', label: 'Teams' },
  { to: '/on-call', label: 'On-call' },
  { to: '/people', label: 'People' },
  { to: '/settings/roles', label: 'Roles', adminOnly: true },
  { to: '/settings/api-keys', label: 'API keys', adminOnly: true },
];

/** This browser's device, as signing out asks about it. */
type DeviceHere = Pick<PushDevice, 'id' | 'deviceName'>;

function ColorSchemeMenu() {
  const { colorScheme, setColorScheme } = useMantineColorScheme();
  // Read at the first render: read in an effect, a dark screen first drew the light icon, then redrew.
  const computed = useComputedColorScheme('light', { getInitialValueInEffect: false });
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Tooltip label="Colour scheme" withArrow>
          <ActionIcon variant="default" size="lg" aria-label="Colour scheme">
            {computed === 'dark' ? <MoonIcon /> : <SunIcon />}
          </ActionIcon>
        </Tooltip>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Colour scheme</Menu.Label>
        {(['auto', 'light', 'dark'] as const).map((scheme) => (
          <Menu.Item
            key={scheme}
            onClick={() => setColorScheme(scheme)}
            aria-current={colorScheme === scheme ? 'true' : undefined}
            fw={colorScheme === scheme ? 700 : undefined}
          >
            {scheme === 'auto' ? 'Follow the system' : scheme === 'light' ? 'Light' : 'Dark'}
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}

function NavLinks({ onNavigate }: { onNavigate?: () => void }) {
  const admin = isAdmin(useSession());
  return NAV.filter((item) => admin || !item.adminOnly).map((item) => (
    <Button
      key={item.to}
      component={NavLink}
      to={item.to}
      variant="subtle"
      onClick={onNavigate}
      className="nav-link"
      styles={{ root: { fontWeight: 500 } }}
    >
      {item.label}
    </Button>
  ));
}

/**
 * Whether the live updates are on, and what keeps them on: a component of its own, so that the stream's
 * opening (during the first page's load) redraws this dot, not the whole layout.
 */
function LiveIndicator() {
  const live = useLiveAlerts();
  const label = live === 'live' ? 'Live updates on' : 'Live updates reconnecting';
  return (
    <Box
      component="span"
      title={label}
      aria-label={label}
      role="img"
      w={8}
      h={8}
      style={{
        borderRadius: 4,
        flex: 'none',
        background: live === 'live' ? 'var(--mantine-color-teal-6)' : 'var(--mantine-color-gray-5)',
      }}
    />
  );
}

/**
 * Asked on signing out of a browser that gets the person's pages: an explicit sign-out is someone leaving
 * this browser, and the pages (what each alert is about, and Acknowledge and Close buttons that act as
 * them) would keep coming to whoever uses it next. A session that merely expires asks nothing.
 */
function StopPagesQuestion({
  device,
  pending,
  signOut,
  cancel,
}: {
  device: DeviceHere | null;
  pending: 'stop' | 'keep' | null;
  signOut: (stopPages: boolean) => void;
  cancel: () => void;
}) {
  return (
    <Modal
      opened={device !== null}
      onClose={cancel}
      title="Stop your pages on this browser?"
      closeButtonProps={{ 'aria-label': 'Stay signed in' }}
    >
      <Stack>
        <Text size="sm">
          This browser is your device “{device?.deviceName}”: Vigil pages you here. Signed out, its
          notifications keep showing what each alert is about, and their Acknowledge and Close buttons act as
          you, for whoever uses this browser next. Keep them only if this browser is yours alone.
        </Text>
        <Group justify="flex-end">
          <Button
            data-autofocus
            loading={pending === 'stop'}
            disabled={pending === 'keep'}
            onClick={() => signOut(true)}
          >
            Sign out and stop pages here
          </Button>
          <Button
            variant="default"
            loading={pending === 'keep'}
            disabled={pending === 'stop'}
            onClick={() => signOut(false)}
          >
            Sign out, keep pages here
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** The signed-in console: the header, and the page below it. */
export function Layout() {
  const session = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [opened, { toggle, close }] = useDisclosure(false);
  // This browser's device, when it is one of the signed-in person's: signing out asks about its pages.
  const [deviceHere, setDeviceHere] = useState<DeviceHere | null>(null);
  const [pending, setPending] = useState<'stop' | 'keep' | null>(null);

  const endSession = async () => {
    await consoleApi.signOut();
    queryClient.clear();
    void navigate('/sign-in', { replace: true });
  };
  const signOut = async () => {
    try {
      const here = await thisDeviceId();
      if (here !== null) {
        // Held to the person's own devices (a browser taken over since is someone else's). When they cannot
        // be read, the question is asked all the same: signing out must not hang on it, nor skip it.
        const devices = await pushApi.devices().catch(() => undefined);
        const device = devices
          ? devices.find((d) => d.id === here)
          : { id: here, deviceName: 'this browser' };
        if (device) {
          setDeviceHere({ id: device.id, deviceName: device.deviceName });
          return;
        }
      }
      await endSession();
    } catch (error) {
      notifications.show({ color: 'red', title: 'Could not sign out', message: messageOf(error) });
    }
  };
  const answer = async (stopPages: boolean) => {
    if (!deviceHere) return;
    setPending(stopPages ? 'stop' : 'keep');
    // The device goes first: signed out, this browser could no longer remove it.
    if (stopPages) {
      try {
        await stopPushHere(deviceHere.id);
      } catch (error) {
        notifications.show({
          color: 'red',
          title: 'Could not stop pages on this browser',
          message: `${messageOf(error)} You are still signed in.`,
        });
        setPending(null);
        return;
      }
    }
    try {
      await endSession();
    } catch (error) {
      notifications.show({ color: 'red', title: 'Could not sign out', message: messageOf(error) });
      setPending(null);
      // Its pages already stopped: a second try signs out without asking.
      if (stopPages) setDeviceHere(null);
    }
  };

  return (
    <AppShell header={{ height: 56 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={opened ? 'Close navigation' : 'Open navigation'}
            />
            <Anchor component={NavLink} to="/alerts" underline="never" c="inherit" style={{ minWidth: 0 }}>
              <Text fw={700} truncate="end" title={session.organization.name}>
                {session.organization.name}
              </Text>
            </Anchor>
            <LiveIndicator />
          </Group>
          <Group component="nav" aria-label="Main" gap={4} visibleFrom="sm" wrap="nowrap">
            <NavLinks />
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Tooltip label="Notifications on this device" withArrow>
              <ActionIcon
                component={NavLink}
                to="/settings/devices"
                variant="default"
                size="lg"
                aria-label="Notifications on this device"
              >
                <BellIcon />
              </ActionIcon>
            </Tooltip>
            <ColorSchemeMenu />
            <Button variant="default" onClick={() => void signOut()} visibleFrom="xs">
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <Drawer opened={opened} onClose={close} title="Vigil" size="xs" hiddenFrom="sm">
        <Stack component="nav" aria-label="Main" gap="xs">
          <NavLinks onNavigate={close} />
          <Button
            component={NavLink}
            to="/settings/devices"
            variant="subtle"
            onClick={close}
            className="nav-link"
            styles={{ root: { fontWeight: 500 } }}
          >
            Notifications on this device
          </Button>
          <Text size="sm" c="dimmed" mt="md">
            Signed in as {session.user.username}
          </Text>
          <Button
            variant="default"
            onClick={() => {
              close();
              void signOut();
            }}
          >
            Sign out
          </Button>
        </Stack>
      </Drawer>
      <StopPagesQuestion
        device={deviceHere}
        pending={pending}
        signOut={(stopPages) => void answer(stopPages)}
        cancel={() => {
          if (pending === null) setDeviceHere(null);
        }}
      />
      <AppShell.Main>
        <Box maw={1280} mx="auto">
          <Suspense fallback={<FullPageLoader label="Loading the page" />}>
            <Outlet />
          </Suspense>
        </Box>
      </AppShell.Main>
    </AppShell>
  );
}

/** The pages before signing in: a narrow centred column. */
export function PublicLayout() {
  return (
    <Box component="main" maw={420} mx="auto" px="md" py={48}>
      <Suspense fallback={<FullPageLoader label="Loading the page" />}>
        <Outlet />
      </Suspense>
    </Box>
  );
}
