import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  List,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, messageOf } from '../api/client';
import { consoleApi } from '../api/console';
import { DEVICES_KEY, pushApi, type PushDevice } from '../api/push';
import { ErrorPanel } from '../components/ErrorPanel';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { devicesOffer, type DevicesOffer, type RightsAnswer } from '../lib/deviceRights';
import {
  defaultDeviceName,
  isAppleMobile,
  pushSupport,
  PushSetupError,
  removeDevice,
  thisDeviceId,
  turnOnPush,
} from '../lib/push';
import { ago, when } from '../lib/time';
import { useSession } from '../session';

const THIS_DEVICE_KEY = ['push', 'thisDevice'] as const;

function HomeScreenSteps() {
  return (
    <Text size="sm">
      On iPhone and iPad, notifications work only for Vigil added to the Home Screen, on iOS or iPadOS 16.4 or
      later: in Safari tap Share, then “Add to Home Screen”; open Vigil from the Home Screen, sign in, and
      come back to this page.
    </Text>
  );
}

function AllowAgain() {
  return (
    <Stack gap={4}>
      <Text size="sm">
        This browser was told not to show Vigil’s notifications. To allow them again, then reload this page:
      </Text>
      <List size="sm" spacing={2}>
        <List.Item>
          Chrome, Edge: the icon left of the address → Site settings → Notifications → Allow.
        </List.Item>
        <List.Item>
          Firefox: the icon left of the address → clear “Blocked” beside Send notifications.
        </List.Item>
        <List.Item>Safari on a Mac: Safari → Settings → Websites → Notifications → Allow.</List.Item>
        <List.Item>iPhone, iPad: Settings → Notifications → Vigil → Allow Notifications.</List.Item>
        <List.Item>
          Android: Settings → Apps → your browser → Notifications, and this site in its list.
        </List.Item>
      </List>
    </Stack>
  );
}

/** What went wrong, as a title and what to do. */
function explain(error: PushSetupError): [string, ReactNode] {
  switch (error.kind) {
    case 'denied':
      return ['Notifications are blocked for this site', <AllowAgain />];
    case 'dismissed':
      return [
        'No answer to the permission prompt',
        <Text size="sm">
          The browser’s prompt was closed without an answer. Press the button again and choose Allow.
        </Text>,
      ];
    case 'push-refused':
      return [
        'This browser could not subscribe to push messages',
        <Text size="sm" className="break-anywhere">
          Notifications are allowed, but the browser refused to subscribe at its push service. It said: “
          {error.message}”. Private windows, and some browsers’ privacy settings (in Brave: “Use Google
          services for push messaging”), turn push off: try a normal window, or another browser.
        </Text>,
      ];
    case 'push-service':
      return [
        'This browser could not subscribe to push messages',
        <Text size="sm" className="break-anywhere">
          Its push service (Google’s for Chrome and Edge, Mozilla’s for Firefox, Apple’s for Safari), which
          delivers Vigil’s notifications, could not be reached. The browser said: “{error.message}”. Check
          that this network lets the browser reach it (a firewall, proxy or privacy setting may block it),
          then try again.
        </Text>,
      ];
    case 'ios-needs-home-screen':
      return ['Add Vigil to the Home Screen first', <HomeScreenSteps />];
    case 'unsupported':
      return [
        'This browser can not receive notifications',
        <Text size="sm">
          It lacks service workers or the Push API, or the page is not served over HTTPS. A current Chrome,
          Edge, Firefox or Safari can receive them.
        </Text>,
      ];
  }
}

/** Why notifications could not be turned on, in words, with what to do. */
function SetupProblem({ error }: { error: unknown }) {
  if (error instanceof ApiError) {
    return (
      <Stack gap={4}>
        <Text size="sm" fw={600}>
          Vigil did not accept this device
        </Text>
        <FormError error={error} />
      </Stack>
    );
  }
  if (!(error instanceof PushSetupError)) return <FormError error={error} />;
  const [title, body] = explain(error);
  return (
    <Alert color="red" role="alert" title={title}>
      {body}
    </Alert>
  );
}

/** A role without contacts-edit: the server refuses a new device, and removing one (a device is a contact method). */
function AdminManagesDevices() {
  return (
    <Alert color="blue" title="An admin manages your devices">
      <Text size="sm">
        Your role does not let you change your contact methods, and a device is one: you can not add a device
        or remove one here. Ask an admin to add or remove your devices.
      </Text>
    </Alert>
  );
}

/** A role without notification-rules-edit: a new device is subscribed, but no rule pages it yet. */
function NoRuleStep() {
  return (
    <Alert color="yellow" title="A new device is not added to a notification rule">
      <Text size="sm">
        Your role does not let you change your notification rules, so a device you add here is not added to
        one, and Vigil does not page it until an admin adds it to one of your notification rules.
      </Text>
    </Alert>
  );
}

function ThisDevice({ isOn, offer }: { isOn: boolean; offer: DevicesOffer }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(defaultDeviceName);
  const support = pushSupport();
  const blocked = support === 'supported' && Notification.permission === 'denied';
  const turnOn = useMutation({
    mutationFn: () => turnOnPush(name.trim()),
    onSuccess: (device) => {
      void queryClient.invalidateQueries({ queryKey: ['push'] });
      notifications.show({
        color: 'teal',
        title: 'Notifications are on',
        message: offer.noRuleStep
          ? `“${device.deviceName}” is added, but to no notification rule: an admin has to add it to one before Vigil pages it.`
          : `Vigil will page “${device.deviceName}” as your notification rules say.`,
      });
    },
  });

  // Neither offered nor explained as a browser problem: nothing could be added here anyway.
  if (offer.form === 'none') return <AdminManagesDevices />;
  if (offer.form === 'wait') return <Skeleton height={72} aria-label="Loading what you may change" />;
  if (support !== 'supported') return <SetupProblem error={new PushSetupError(support, '')} />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    turnOn.mutate();
  };

  return (
    <Stack gap="sm">
      {isOn ? (
        <Alert
          color="teal"
          title="Notifications are on for this device"
          styles={{ title: { color: 'var(--mantine-color-text)' } }}
        >
          <Text size="sm">It is marked “This device” below. To stop them here, remove it from the list.</Text>
        </Alert>
      ) : null}
      {offer.noRuleStep ? <NoRuleStep /> : null}
      {blocked && !turnOn.error ? (
        <Alert color="yellow" title="Notifications are blocked for this site">
          <AllowAgain />
        </Alert>
      ) : null}
      <form onSubmit={submit}>
        <Stack gap="sm" maw={420}>
          <TextInput
            label="Device name"
            description="How this device appears in your list and in the alert’s log."
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            maxLength={100}
          />
          <Button type="submit" loading={turnOn.isPending} style={{ alignSelf: 'flex-start' }}>
            {isOn ? 'Update this device' : 'Turn on notifications on this device'}
          </Button>
        </Stack>
      </form>
      {turnOn.error ? <SetupProblem error={turnOn.error} /> : null}
      {isAppleMobile() ? null : (
        <Text size="sm" c="dimmed">
          On an iPhone or iPad: open Vigil there, add it to the Home Screen (Share → Add to Home Screen, iOS
          16.4 or later) and turn notifications on from the Home Screen app.
        </Text>
      )}
    </Stack>
  );
}

function DeviceItem({ device, mine, removable }: { device: PushDevice; mine: boolean; removable: boolean }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => removeDevice(device.id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['push'] });
      notifications.show({
        title: 'Device removed',
        message: `Vigil no longer pages “${device.deviceName}”.`,
      });
    },
    onError: (error) =>
      notifications.show({ color: 'red', title: 'Could not remove the device', message: messageOf(error) }),
  });
  return (
    <Card withBorder component="li" padding="sm">
      <Group justify="space-between" wrap="nowrap" align="flex-start" gap="sm">
        <Stack gap={2} style={{ minWidth: 0 }}>
          <Group gap="xs">
            <Text fw={600} className="break-anywhere">
              {device.deviceName}
            </Text>
            {mine ? (
              <Badge variant="light" color="teal" c="teal.9">
                This device
              </Badge>
            ) : null}
          </Group>
          <Text size="sm" c="dimmed" className="break-anywhere">
            Through {device.service}
          </Text>
          <Text size="sm" c="dimmed">
            Added {when(device.createdAt)}
          </Text>
          <Text size="sm" c="dimmed">
            Last push{' '}
            {device.lastSentAt ? (
              <span title={when(device.lastSentAt)}>{ago(device.lastSentAt)}</span>
            ) : (
              'never'
            )}
          </Text>
        </Stack>
        {removable ? (
          <Button
            variant="light"
            color="red"
            size="xs"
            loading={remove.isPending}
            onClick={() => remove.mutate()}
            style={{ flex: 'none' }}
            aria-label={`Remove ${device.deviceName}`}
          >
            Remove
          </Button>
        ) : null}
      </Group>
    </Card>
  );
}

export default function DevicesPage() {
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: pushApi.devices });
  const mine = useQuery({ queryKey: THIS_DEVICE_KEY, queryFn: thisDeviceId });
  const mineId = mine.data ?? null;
  const isOn = mineId !== null && (devices.data ?? []).some((d) => d.id === mineId);
  const userId = useSession().user.id;
  // What the server lets the person change of their own contact methods and rules, by its own checks:
  // buttons it would refuse with a 403 are not offered.
  const rights = useQuery({
    queryKey: ['person-rights', userId],
    queryFn: () => consoleApi.personRights(userId),
  });
  const answer: RightsAnswer = rights.isError ? 'unknown' : (rights.data ?? 'pending');
  const offer = devicesOffer(answer, isOn);

  return (
    <Stack gap="lg" maw={760}>
      <div>
        <PageTitle mb="xs">Notifications on this device</PageTitle>
        <Text>
          Vigil can page you on this device with a notification, as your notification rules say: a new alert
          stays on screen until you answer it, with Acknowledge and Close buttons where the device shows them.
          Turn it on in each browser or phone you want paged.
        </Text>
      </div>
      <section aria-labelledby="this-device">
        <Title order={2} size="h3" id="this-device" mb="sm">
          This device
        </Title>
        <ThisDevice isOn={isOn} offer={offer} />
      </section>
      <section aria-labelledby="your-devices">
        <Title order={2} size="h3" id="your-devices" mb="sm">
          Your devices
        </Title>
        {devices.isError ? (
          <ErrorPanel error={devices.error} retry={() => void devices.refetch()} />
        ) : devices.isPending ? (
          <Skeleton height={72} />
        ) : devices.data.length === 0 ? (
          <Text c="dimmed">No device gets your notifications yet.</Text>
        ) : (
          <Stack gap="xs">
            {/* Said above already when this device's form is not offered. */}
            {offer.adminManagesDevices && offer.form !== 'none' ? <AdminManagesDevices /> : null}
            <Stack component="ul" gap="xs" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
              {devices.data.map((d) => (
                <DeviceItem key={d.id} device={d} mine={d.id === mineId} removable={offer.remove} />
              ))}
            </Stack>
          </Stack>
        )}
      </section>
    </Stack>
  );
}
