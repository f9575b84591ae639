import type { Json, TestServer } from './harness.js';

/**
 * Set-up shared by the tests of what a team-scoped API integration key (allowConfigurationAccess) may name
 * in its team's configuration: teams, escalations and schedules made with the organization's key, the
 * team's key itself, and what reading one of them with that key answers.
 */

/** A team, escalation or schedule that a rule, rotation, policy or action can name. */
export type Target = { kind: 'team' | 'escalation' | 'schedule'; id: string; name: string };

/** How a write names a target: by its id or by its name. */
export type By = 'id' | 'name';

export async function team(server: TestServer, name: string): Promise<Target> {
  return { kind: 'team', id: (await server.callOk('POST', '/v2/teams', { name })).data.id, name };
}

/** An escalation whose one rule notifies the team `notifies`, owned by `ownerTeam` or by no team. */
export async function escalation(
  server: TestServer,
  name: string,
  notifies: string,
  ownerTeam?: string,
): Promise<Target> {
  const made = await server.callOk('POST', '/v2/escalations', {
    name,
    ...(ownerTeam ? { ownerTeam: { id: ownerTeam } } : {}),
    rules: [
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 0 },
        recipient: { type: 'team', id: notifies },
      },
    ],
  });
  return { kind: 'escalation', id: made.data.id, name };
}

/** A schedule without rotations, owned by `ownerTeam` or by no team. */
export async function schedule(server: TestServer, name: string, ownerTeam?: string): Promise<Target> {
  const made = await server.callOk('POST', '/v2/schedules', {
    name,
    timezone: 'UTC',
    ...(ownerTeam ? { ownerTeam: { id: ownerTeam } } : {}),
  });
  return { kind: 'schedule', id: made.data.id, name };
}

/** An API integration of `ownerTeam` with configuration access: its id and its key. */
export async function teamKey(
  server: TestServer,
  ownerTeam: string,
  name: string,
): Promise<{ integrationId: string; key: string }> {
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name,
    ownerTeam: { id: ownerTeam },
    allowConfigurationAccess: true,
  });
  return { integrationId: made.data.id, key: made.data.apiKey };
}

/** What reading the target with the key answers: by id, or by name as a write names it. */
export function read(
  server: TestServer,
  key: string,
  t: Target,
  by: By,
): Promise<{ status: number; body: Json }> {
  return server.call(
    'GET',
    `/v2/${t.kind}s/${by === 'id' ? t.id : `${encodeURIComponent(t.name)}?identifierType=name`}`,
    undefined,
    key,
  );
}

/** The target as a write names it: `{ type, id }` or `{ type, name }`. */
export function reference(
  t: Target,
  by: By,
): { type: Target['kind']; id: string } | { type: Target['kind']; name: string } {
  return by === 'id' ? { type: t.kind, id: t.id } : { type: t.kind, name: t.name };
}
