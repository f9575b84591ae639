import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DeleteApiDestinationCommand,
  DeleteConnectionCommand,
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  UpdateApiDestinationCommand,
  UpdateConnectionCommand,
} from '@aws-sdk/client-eventbridge';
import { isNotFound, SetupError } from './aws-errors.js';
import type { RegionContext } from './aws-context.js';
import type { ResourceNames } from './names.js';
import { API_KEY_HEADER } from './policies.js';
import { planned, type StepResult } from './steps.js';
import { KEY_FINGERPRINT_LENGTH, keyFingerprint } from './vigil-api.js';

/**
 * The EventBridge connection (the integration key in the X-Api-Key header) and the API destination.
 * Neither takes tags: both carry the integration's id in their description, and teardown deletes only
 * what says so. The connection never gives its key back, so its description also carries a short
 * fingerprint of the key: a second run then knows whether the key changed.
 */

export function connectionDescription(integrationId: string, apiKey: string): string {
  return `Vigil intake, integration ${integrationId}, key ${keyFingerprint(apiKey)}`;
}

/** The key fingerprint a connection's description carries (none when setup did not make it). */
export function connectionKeyFingerprint(description: string | undefined): string | undefined {
  return new RegExp(`, key ([0-9a-f]{${KEY_FINGERPRINT_LENGTH}})$`).exec(description ?? '')?.[1];
}

async function describeConnection(r: RegionContext, name: string) {
  try {
    return await r.call('events:DescribeConnection', () =>
      r.events.send(new DescribeConnectionCommand({ Name: name })),
    );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function describeDestination(r: RegionContext, name: string) {
  try {
    return await r.call('events:DescribeApiDestination', () =>
      r.events.send(new DescribeApiDestinationCommand({ Name: name })),
    );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

const placeholderArn = (r: RegionContext, kind: string, name: string) =>
  `arn:${r.account.partition}:events:${r.region}:${r.account.account}:${kind}/${name}/(made by setup)`;

export async function ensureConnection(
  r: RegionContext,
  names: ResourceNames,
  integrationId: string,
  apiKey: string,
  dryRun: boolean,
): Promise<StepResult & { arn: string }> {
  const what = `EventBridge connection ${names.connection}`;
  const description = connectionDescription(integrationId, apiKey);
  const auth = { ApiKeyAuthParameters: { ApiKeyName: API_KEY_HEADER, ApiKeyValue: apiKey } };
  const existing = await describeConnection(r, names.connection);
  if (!existing) {
    const made = dryRun
      ? undefined
      : await r.call('events:CreateConnection', () =>
          r.events.send(
            new CreateConnectionCommand({
              Name: names.connection,
              Description: description,
              AuthorizationType: 'API_KEY',
              AuthParameters: auth,
            }),
          ),
        );
    const arn = made?.ConnectionArn ?? placeholderArn(r, 'connection', names.connection);
    return { what, outcome: planned(dryRun, 'created'), detail: arn, arn };
  }
  const arn = existing.ConnectionArn ?? '';
  if (existing.Description === description) return { what, outcome: 'unchanged', detail: arn, arn };
  if (!existing.Description?.includes(integrationId))
    throw new SetupError(
      `the EventBridge connection ${names.connection} in ${r.region} exists and its description does not name integration ${integrationId}: vigil aws setup did not make it. Delete or rename it, then run again.`,
    );
  if (!dryRun)
    await r.call('events:UpdateConnection', () =>
      r.events.send(
        new UpdateConnectionCommand({
          Name: names.connection,
          Description: description,
          AuthorizationType: 'API_KEY',
          AuthParameters: auth,
        }),
      ),
    );
  return { what, outcome: planned(dryRun, 'updated'), detail: 'the key changed', arn };
}

export async function ensureApiDestination(
  r: RegionContext,
  names: ResourceNames,
  integrationId: string,
  connectionArn: string,
  intakeUrl: string,
  dryRun: boolean,
): Promise<StepResult & { arn: string }> {
  const what = `EventBridge API destination ${names.apiDestination}`;
  const description = `Vigil intake, integration ${integrationId}`;
  const desired = {
    Name: names.apiDestination,
    Description: description,
    ConnectionArn: connectionArn,
    InvocationEndpoint: intakeUrl,
    HttpMethod: 'POST' as const,
  };
  const existing = await describeDestination(r, names.apiDestination);
  if (!existing) {
    const made = dryRun
      ? undefined
      : await r.call('events:CreateApiDestination', () =>
          r.events.send(new CreateApiDestinationCommand(desired)),
        );
    const arn = made?.ApiDestinationArn ?? placeholderArn(r, 'api-destination', names.apiDestination);
    return { what, outcome: planned(dryRun, 'created'), detail: arn, arn };
  }
  const arn = existing.ApiDestinationArn ?? '';
  if (!existing.Description?.includes(integrationId))
    throw new SetupError(
      `the EventBridge API destination ${names.apiDestination} in ${r.region} exists and its description does not name integration ${integrationId}: vigil aws setup did not make it. Delete or rename it, then run again.`,
    );
  const same =
    existing.ConnectionArn === connectionArn &&
    existing.InvocationEndpoint === intakeUrl &&
    existing.HttpMethod === 'POST' &&
    existing.Description === description;
  if (same) return { what, outcome: 'unchanged', detail: arn, arn };
  if (!dryRun)
    await r.call('events:UpdateApiDestination', () =>
      r.events.send(new UpdateApiDestinationCommand(desired)),
    );
  return { what, outcome: planned(dryRun, 'updated'), detail: arn, arn };
}

/** The API destination, then its connection (a connection in use cannot go first). */
export async function removeApiDestination(
  r: RegionContext,
  names: ResourceNames,
  integrationId: string,
  dryRun: boolean,
): Promise<StepResult[]> {
  const steps: StepResult[] = [];
  const destination = await describeDestination(r, names.apiDestination);
  const destinationWhat = `EventBridge API destination ${names.apiDestination}`;
  if (!destination) steps.push({ what: destinationWhat, outcome: 'absent' });
  else if (!destination.Description?.includes(integrationId))
    steps.push({
      what: destinationWhat,
      outcome: 'kept',
      detail: 'its description does not name this integration',
    });
  else {
    if (!dryRun)
      await r.call('events:DeleteApiDestination', () =>
        r.events.send(new DeleteApiDestinationCommand({ Name: names.apiDestination })),
      );
    steps.push({
      what: destinationWhat,
      outcome: planned(dryRun, 'deleted'),
      detail: destination.ApiDestinationArn,
    });
  }
  const connection = await describeConnection(r, names.connection);
  const connectionWhat = `EventBridge connection ${names.connection}`;
  if (!connection) steps.push({ what: connectionWhat, outcome: 'absent' });
  else if (!connection.Description?.includes(integrationId))
    steps.push({
      what: connectionWhat,
      outcome: 'kept',
      detail: 'its description does not name this integration',
    });
  else {
    if (!dryRun)
      await r.call('events:DeleteConnection', () =>
        r.events.send(new DeleteConnectionCommand({ Name: names.connection })),
      );
    steps.push({
      what: connectionWhat,
      outcome: planned(dryRun, 'deleted'),
      detail: connection.ConnectionArn,
    });
  }
  return steps;
}

/** For `vigil aws check`: the connection authorized and the destination active, and the connection's key. */
export async function apiDestinationState(r: RegionContext, names: ResourceNames) {
  const connection = await describeConnection(r, names.connection);
  const destination = await describeDestination(r, names.apiDestination);
  return {
    connection: connection?.ConnectionState,
    destination: destination?.ApiDestinationState,
    keyFingerprint: connectionKeyFingerprint(connection?.Description),
  };
}
