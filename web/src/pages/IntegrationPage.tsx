import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  List,
  Modal,
  Select,
  Skeleton,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, data, messageOf } from '../api/client';
import type { Integration, Payload, RoleCheck } from '../api/types';
import { CopyField } from '../components/CopyField';
import { ErrorPanel } from '../components/ErrorPanel';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { AWS_REGIONS } from '../lib/regions';
import { ago, when } from '../lib/time';
import { isAdmin, useSession } from '../session';
import { ActionsSection } from './integration/ActionsSection';
import { DeleteIntegration } from './integration/DeleteIntegration';
import { EmailSection } from './integration/EmailSection';
import { SuppressNotificationsSwitch } from './integration/SuppressNotifications';
import { WebhookSettings } from './integration/WebhookSettings';
import { ConfigureSteps, StandardPlanNotice, TYPE_LABELS } from './TeamPage';

const VERDICT_COLORS: Record<string, string> = {
  created: 'teal',
  updated: 'blue',
  closed: 'gray',
  confirmed: 'teal',
  queued: 'yellow',
  ignored: 'gray',
  duplicate: 'gray',
  refused: 'red',
  failed: 'red',
  unsubscribed: 'orange',
};
const VERDICTS = Object.keys(VERDICT_COLORS);
const PAYLOAD_LOG_REFRESH_MS = 10_000;

/** The answer of "Test connection", in plain words. */
function TestAnswer({ check, region }: { check: RoleCheck; region?: string }) {
  if (check.ok) {
    return (
      <Alert
        color="teal"
        title="The connection works"
        role="status"
        styles={{ title: { color: 'var(--mantine-color-text)' } }}
      >
        Vigil assumed the role, read findings from Security Hub{region ? ` in ${region}` : ''} and may update
        them: acknowledge, close, notes and priority changes will reach the findings.
      </Alert>
    );
  }
  const failed = check.steps.find((s) => !s.ok);
  let words = 'The test did not pass.';
  if (failed?.step === 'settings')
    words =
      'Fill in the AmazonSecurityHub Role ARN and the region, save, then test again (the test does not need “Send alert updates back to Amazon Security Hub” on).';
  else if (failed?.step === 'AssumeRole')
    words =
      "Vigil could not assume the role. Check the role ARN, and that the role's trust policy lets Vigil assume it with this integration's external ID.";
  else if (failed?.step === 'AssumeRoleWithoutExternalId')
    words =
      "Vigil could assume the role without this integration's external ID, so anyone in Vigil's AWS account could. Add the condition sts:ExternalId to the role's trust policy (the role template and vigil aws setup make it so), then test again.";
  else if (failed?.step === 'GetFindings')
    words = `Vigil assumed the role but could not read findings. Check that the role's policy allows securityhub:GetFindings and securityhub:BatchUpdateFindings, and that Security Hub is enabled${region ? ` in ${region}` : ''}.`;
  else if (failed?.step === 'BatchUpdateFindings' || failed?.step === 'BatchUpdateFindingsV2')
    words = `Vigil assumed the role and read findings, but may not update them: add securityhub:${failed.step} to the role's permission policy (run vigil aws setup again, or update the stack), then test again.`;
  return (
    <Alert color="red" title="The connection does not work yet" role="status">
      <Text size="sm">{words}</Text>
      {failed?.error ? (
        <Text size="sm" mt="xs" className="break-anywhere">
          AWS said: {failed.error}
        </Text>
      ) : null}
    </Alert>
  );
}

function WritebackSettings({ integration }: { integration: Integration }) {
  const session = useSession();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    sendUpdatesBack: integration.sendUpdatesBack ?? false,
    roleArn: integration.roleArn ?? '',
    region: integration.region ?? null,
  });
  const standard = session.organization.plan === 'standard';
  const save = useMutation({
    mutationFn: () =>
      data<Integration>(
        api.PATCH('/v2/integrations/{id}', {
          params: { path: { id: integration.id } },
          body: {
            sendUpdatesBack: form.sendUpdatesBack,
            roleArn: form.roleArn.trim(),
            ...(form.region ? { region: form.region } : {}),
          },
        }),
      ),
    onSuccess: (updated) => {
      queryClient.setQueryData(['integration', integration.id], (old: Integration | undefined) => ({
        ...old,
        ...updated,
      }));
      notifications.show({ color: 'teal', message: 'Settings saved.' });
    },
  });
  const test = useMutation({
    mutationFn: () =>
      data<RoleCheck>(
        api.POST('/v2/integrations/{id}/test-writeback', { params: { path: { id: integration.id } } }),
      ),
  });
  // The test assumes the saved role in the saved region: while the form says otherwise, its answer
  // would be about settings the person is replacing.
  const unsaved =
    form.sendUpdatesBack !== (integration.sendUpdatesBack ?? false) ||
    form.roleArn.trim() !== (integration.roleArn ?? '') ||
    form.region !== (integration.region ?? null);
  const change = (next: Partial<typeof form>) => {
    test.reset();
    setForm((f) => ({ ...f, ...next }));
  };

  return (
    <Card withBorder component="section" aria-labelledby="writeback-heading">
      <Title order={2} size="h4" id="writeback-heading" mb="sm">
        Sending updates back
      </Title>
      {standard ? <StandardPlanNotice /> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          test.reset();
          save.mutate();
        }}
      >
        <Stack gap="sm">
          <Switch
            label="Send alert updates back to Amazon Security Hub"
            description="Acknowledged → NOTIFIED, closed → RESOLVED, notes → the finding's note, priority → its severity."
            checked={form.sendUpdatesBack}
            disabled={standard && !form.sendUpdatesBack}
            onChange={(e) => change({ sendUpdatesBack: e.currentTarget.checked })}
          />
          <TextInput
            label="AmazonSecurityHub Role ARN"
            description="The IAM role Vigil assumes; its name must start with VigilSecurityHubRole."
            placeholder="arn:aws:iam::123456789012:role/VigilSecurityHubRole"
            value={form.roleArn}
            onChange={(e) => change({ roleArn: e.currentTarget.value })}
          />
          <Select
            label="Region"
            description="The AWS region where you’ve set up the Security Hub."
            placeholder="Select a region"
            searchable
            data={AWS_REGIONS}
            value={form.region}
            onChange={(region) => change({ region })}
          />
          <CopyField
            label="External ID"
            value={integration.externalId ?? ''}
            description="Put it in the role's trust policy (sts:ExternalId)."
          />
          <FormError error={save.error} />
          <Group>
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
            <Button
              variant="default"
              onClick={() => test.mutate()}
              loading={test.isPending}
              disabled={unsaved}
              aria-describedby={unsaved ? 'writeback-test-unsaved' : undefined}
            >
              Test connection
            </Button>
          </Group>
          {unsaved ? (
            <Text size="xs" c="dimmed" id="writeback-test-unsaved">
              Save first: Test connection uses the saved role and region.
            </Text>
          ) : null}
          {test.isError ? <FormError error={test.error} /> : null}
          {test.data ? <TestAnswer check={test.data} region={integration.region} /> : null}
          {integration.writebackStatus ? (
            <Text size="xs" c="dimmed" className="break-anywhere">
              Last write-back: {describeStatus(integration.writebackStatus)}
            </Text>
          ) : null}
        </Stack>
      </form>
    </Card>
  );
}

function describeStatus(status: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(status)) {
    if (v === null || v === undefined || typeof v === 'object') continue;
    parts.push(k === 'at' && typeof v === 'string' ? ago(v) : `${k}: ${String(v)}`);
  }
  return parts.join(' · ');
}

function KeySection({ integration }: { integration: Integration }) {
  const queryClient = useQueryClient();
  const [confirming, { open, close }] = useDisclosure(false);
  const [revealed, setRevealed] = useState<Integration | null>(null);
  const regenerate = useMutation({
    mutationFn: () =>
      data<Integration>(
        api.POST('/v2/integrations/{id}/api-key', { params: { path: { id: integration.id } } }),
      ),
    onSuccess: (updated) => {
      setRevealed(updated);
      close();
      void queryClient.invalidateQueries({ queryKey: ['integration', integration.id] });
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="key-heading">
      <Title order={2} size="h4" id="key-heading" mb="sm">
        Key
      </Title>
      {revealed?.apiKey ? (
        <Stack gap="sm">
          <Alert color="yellow" role="status">
            Copy the new key now: Vigil shows it only this once. The old key has stopped working; update the
            sender (the SNS subscription's endpoint URL) to this one.
          </Alert>
          <CopyField label="API key" value={revealed.apiKey} />
          {revealed.endpointUrl ? (
            <CopyField label="Integration endpoint URL" value={revealed.endpointUrl} />
          ) : null}
        </Stack>
      ) : (
        <Stack gap="sm" align="flex-start">
          <Text size="sm">
            The key is stored hashed, so it cannot be shown again. Regenerate it to get a new key and endpoint
            URL; the old key stops working at once.
          </Text>
          <Button variant="default" color="red" onClick={open}>
            Regenerate key
          </Button>
        </Stack>
      )}
      <Modal opened={confirming} onClose={close} title="Regenerate the key?">
        <Stack>
          <Text size="sm">
            Deliveries sent with the current key will be refused from now on, until the sender uses the new
            one.
          </Text>
          <FormError error={regenerate.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button color="red" onClick={() => regenerate.mutate()} loading={regenerate.isPending}>
              Regenerate key
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Card>
  );
}

function PayloadLog({ integration }: { integration: Integration }) {
  const session = useSession();
  const queryClient = useQueryClient();
  const [verdict, setVerdict] = useState<string | null>(null);
  const pages = useInfiniteQuery({
    queryKey: ['integration', integration.id, 'payloads', verdict],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      data<Payload[]>(
        api.GET('/v2/integrations/{id}/payloads', {
          params: {
            path: { id: integration.id },
            query: {
              limit: 20,
              includeBody: false,
              ...(pageParam ? { before: pageParam } : {}),
              ...(verdict ? { verdict: verdict as 'created' } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => (last.length === 20 ? last[last.length - 1]?.id : undefined),
    // Deliveries keep arriving while the page is open (as a team destination's log does); not while the
    // tab is hidden.
    refetchInterval: PAYLOAD_LOG_REFRESH_MS,
  });
  const replay = useMutation({
    mutationFn: async (payloadId: string) => {
      const {
        data: body,
        error,
        response,
      } = await api.POST('/v2/integrations/{id}/payloads/{payloadId}/replay', {
        params: { path: { id: integration.id, payloadId } },
      });
      const answer = (body ?? error ?? {}) as {
        result?: string;
        verdict?: string;
        reason?: string;
        message?: string;
      };
      if (answer.message && !answer.verdict) throw new Error(answer.message);
      return { ok: response.ok, ...answer };
    },
    onSuccess: (answer) => {
      notifications.show({
        color: answer.ok ? 'teal' : 'red',
        title: answer.ok
          ? `Replayed: ${answer.verdict ?? answer.result ?? 'done'}`
          : `Replay refused (${answer.verdict ?? ''})`,
        message: answer.reason ?? (answer.ok ? 'The payload was processed again.' : 'See the payload log.'),
      });
      void queryClient.invalidateQueries({ queryKey: ['integration', integration.id, 'payloads'] });
    },
    onError: (error) =>
      notifications.show({ color: 'red', title: 'Replay failed', message: messageOf(error) }),
  });
  const rows = pages.data?.pages.flat() ?? [];
  return (
    <Card withBorder component="section" aria-labelledby="payloads-heading">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={2} size="h4" id="payloads-heading">
          Payload log
        </Title>
        <Select
          aria-label="Verdict"
          placeholder="Every verdict"
          clearable
          data={VERDICTS}
          value={verdict}
          onChange={setVerdict}
          w={170}
        />
      </Group>
      {pages.isError ? (
        <ErrorPanel error={pages.error} retry={() => void pages.refetch()} />
      ) : pages.isPending ? (
        <Skeleton height={80} />
      ) : rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          Nothing received{verdict ? ` with the verdict ${verdict}` : ''} yet.
        </Text>
      ) : (
        <Stack gap={0}>
          {rows.map((p) => (
            <Group
              key={p.id}
              justify="space-between"
              wrap="nowrap"
              align="flex-start"
              py="xs"
              style={{ borderTop: '1px solid var(--mantine-color-default-border)' }}
            >
              <Stack gap={2} style={{ minWidth: 0 }}>
                <Group gap={6} wrap="wrap">
                  <Badge color={VERDICT_COLORS[p.verdict] ?? 'gray'} variant="dot">
                    {p.verdict}
                  </Badge>
                  <Text size="xs" c="dimmed" title={when(p.receivedAt)}>
                    {p.kind} · {ago(p.receivedAt)}
                  </Text>
                </Group>
                {p.reason ? (
                  <Text size="sm" className="break-anywhere">
                    {p.reason}
                  </Text>
                ) : null}
                {p.alertIds && p.alertIds.length > 0 ? (
                  <Group gap={6} wrap="wrap">
                    {p.alertIds.slice(0, 5).map((id, i) => (
                      <Anchor key={id} component={Link} to={`/alerts/${id}`} size="xs">
                        alert {i + 1}
                      </Anchor>
                    ))}
                    {p.alertIds.length > 5 ? <Text size="xs">and {p.alertIds.length - 5} more</Text> : null}
                  </Group>
                ) : null}
              </Stack>
              {isAdmin(session) ? (
                <Button
                  size="xs"
                  variant="default"
                  onClick={() => replay.mutate(p.id)}
                  loading={replay.isPending && replay.variables === p.id}
                  aria-label={`Replay the payload received ${when(p.receivedAt)}`}
                >
                  Replay
                </Button>
              ) : null}
            </Group>
          ))}
          {pages.hasNextPage ? (
            <Button
              variant="subtle"
              mt="xs"
              onClick={() => void pages.fetchNextPage()}
              loading={pages.isFetchingNextPage}
            >
              Older payloads
            </Button>
          ) : null}
        </Stack>
      )}
    </Card>
  );
}

/** What the on/off switch means for the integration's type. */
function switchDescription(i: Integration): string {
  if (i.type === 'Webhook')
    return i.enabled ? 'The team’s alert activity is sent.' : 'Nothing is sent until you turn it on.';
  if (i.type === 'Email') return i.enabled ? 'Mail becomes alerts.' : 'Mail is refused until you turn it on.';
  return i.enabled ? 'Deliveries become alerts.' : 'Deliveries are refused until you turn it on.';
}

export default function IntegrationPage() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const integration = useQuery({
    queryKey: ['integration', id],
    queryFn: () => data<Integration>(api.GET('/v2/integrations/{id}', { params: { path: { id } } })),
  });
  const toggle = useMutation({
    mutationFn: (on: boolean) =>
      data<Integration>(
        on
          ? api.POST('/v2/integrations/{id}/enable', { params: { path: { id } } })
          : api.POST('/v2/integrations/{id}/disable', { params: { path: { id } } }),
      ),
    onSuccess: (updated) => {
      queryClient.setQueryData(['integration', id], (old: Integration | undefined) => ({
        ...old,
        ...updated,
      }));
      void queryClient.invalidateQueries({ queryKey: ['integrations'] });
      notifications.show({
        color: 'teal',
        message: updated.enabled ? 'The integration is on.' : 'The integration is off.',
      });
    },
    onError: (error) => notifications.show({ color: 'red', title: 'Not changed', message: messageOf(error) }),
  });

  if (integration.isError)
    return (
      <ErrorPanel
        error={integration.error}
        retry={() => void integration.refetch()}
        title="This integration could not be loaded"
      />
    );
  const i = integration.data;
  if (!i) return <Skeleton height={200} aria-label="Loading the integration" />;
  // Opsgenie's other types (Prometheus, Grafana…) are API integrations under the name they were made with.
  const apiKind = !['AmazonSecurityHub', 'Email', 'Webhook'].includes(i.type);

  return (
    <>
      <Anchor component={Link} to={`/teams/${i.ownerTeam.id}/integrations`} size="sm">
        ← {i.ownerTeam.name}: Integrations
      </Anchor>
      <PageTitle mt="xs" mb={4}>
        {i.name}
      </PageTitle>
      <Text size="sm" c="dimmed" mb="md">
        {TYPE_LABELS[i.type] ?? i.type} · owned by {i.ownerTeam.name}
        {i.assigneeTeam ? ` · alerts go to ${i.assigneeTeam.name}` : ''}
      </Text>
      <Stack gap="md">
        <Card withBorder>
          <Stack gap="md">
            <Switch
              size="md"
              label={i.enabled ? 'The integration is on' : 'The integration is off'}
              description={switchDescription(i)}
              checked={i.enabled}
              disabled={toggle.isPending}
              onChange={(e) => toggle.mutate(e.currentTarget.checked)}
            />
            {/* A Webhook integration only sends: it creates no alerts whose notifications to suppress. */}
            {i.type === 'Webhook' ? null : <SuppressNotificationsSwitch integration={i} />}
          </Stack>
        </Card>
        {i.type === 'AmazonSecurityHub' ? (
          <>
            <WritebackSettings
              key={`${String(i.sendUpdatesBack)}|${i.roleArn ?? ''}|${i.region ?? ''}`}
              integration={i}
            />
            <ConfigureSteps integration={i} />
            {i.subscriptions && i.subscriptions.length > 0 ? (
              <Card withBorder component="section" aria-labelledby="subs-heading">
                <Title order={2} size="h4" id="subs-heading" mb="xs">
                  SNS subscriptions
                </Title>
                <List size="sm" spacing={4}>
                  {i.subscriptions.map((s) => (
                    <List.Item key={s.topicArn} className="break-anywhere">
                      {s.topicArn}: {s.status} ({ago(s.updatedAt)})
                    </List.Item>
                  ))}
                </List>
              </Card>
            ) : null}
          </>
        ) : i.type === 'Email' ? (
          <EmailSection integration={i} />
        ) : i.type === 'Webhook' ? (
          // Keyed by what it edits: switching the integration on or off keeps a draft not yet saved.
          <WebhookSettings
            key={JSON.stringify([i.webhookUrl, i.addAlertDescription, i.addAlertDetails, i.headers])}
            integration={i}
          />
        ) : (
          <Card withBorder component="section" aria-labelledby="access-heading">
            <Title order={2} size="h4" id="access-heading" mb="xs">
              Access
            </Title>
            <Table fz="sm">
              <Table.Tbody>
                {(
                  [
                    'allowReadAccess',
                    'allowWriteAccess',
                    'allowDeleteAccess',
                    'allowConfigurationAccess',
                  ] as const
                ).map((flag) => (
                  <Table.Tr key={flag}>
                    <Table.Th>{flag}</Table.Th>
                    <Table.Td>{i[flag] ? 'yes' : 'no'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Card>
        )}
        {apiKind || i.type === 'Email' ? <ActionsSection integration={i} /> : null}
        {/* An Email or Webhook integration's key is never used: mail and the URL need none. */}
        {i.type === 'AmazonSecurityHub' || apiKind ? <KeySection integration={i} /> : null}
        {i.type === 'AmazonSecurityHub' ? <PayloadLog integration={i} /> : null}
        <DeleteIntegration integration={i} />
      </Stack>
    </>
  );
}
