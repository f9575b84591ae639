import { Anchor, Badge, Card, Group, Stack, Title } from '@mantine/core';
import { Link } from 'react-router';
import type { AlertDetail } from '../../api/types';
import { useTeamNames } from '../../lib/teams';
import { when } from '../../lib/time';
import { Field } from './AlertFields';

/** Who and what an alert is about: owner, teams (named once the teams have come), source, times, tags. */
export function AboutCard({ alert: a }: { alert: AlertDetail }) {
  const teamsOf = useTeamNames();
  return (
    <Card withBorder component="section" aria-labelledby="about-heading">
      <Title order={2} size="h4" id="about-heading" mb="xs">
        About
      </Title>
      <Stack gap="xs">
        <Field label="Owner">{a.owner || undefined}</Field>
        <Field label="Team">{teamsOf(a) || undefined}</Field>
        <Field label="Integration">
          {a.integration.id ? (
            <Anchor component={Link} to={`/integrations/${a.integration.id}`}>
              {a.integration.name}
            </Anchor>
          ) : (
            a.integration.name
          )}
        </Field>
        <Field label="Source">{a.source || undefined}</Field>
        <Field label="Entity">{a.entity || undefined}</Field>
        <Field label="Created">{when(a.createdAt)}</Field>
        <Field label="Last occurred">{when(a.lastOccurredAt)}</Field>
        {a.report.acknowledgedBy ? <Field label="Acknowledged by">{a.report.acknowledgedBy}</Field> : null}
        {a.report.closedBy ? <Field label="Closed by">{a.report.closedBy}</Field> : null}
        <Field label="Tags">
          {a.tags.length ? (
            <Group gap={4}>
              {a.tags.map((t) => (
                <Badge key={t} variant="outline" tt="none" radius="sm" style={{ maxWidth: '100%' }}>
                  {t}
                </Badge>
              ))}
            </Group>
          ) : undefined}
        </Field>
      </Stack>
    </Card>
  );
}
