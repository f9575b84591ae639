import { Type } from 'typebox';
import { StringEnum } from '../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../http/server.js';
import { MAX_INTERVAL_DAYS, heartbeatMeta, presentHeartbeat, type HeartbeatsService } from './service.js';

/** Opsgenie's Heartbeat API: /v2/heartbeats. */

/**
 * Opsgenie takes names of 200 characters, but a name must fit the ping's path, and Fastify's router takes
 * path parameters of at most 100 (Terraform's provider allows 99).
 */
const MAX_NAME = 100;

/**
 * A heartbeat's name is in the ping's URL: printable, without control characters (a NUL arrives here as
 * U+FFFD, which is refused too) or spaces at either end.
 */
const Name = Type.String({
  minLength: 1,
  maxLength: MAX_NAME,
  pattern: '^(?!\\s)(?!.*\\s$)[^\\u0000-\\u001F\\u007F\\uFFFD]+$',
  description: 'Unique in the organization; at most 100 characters, no control characters.',
});

const TeamRef = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 100 })),
    name: Type.Optional(Type.String({ maxLength: 100 })),
  },
  {
    additionalProperties: false,
    description:
      'The team whose alert an expiry raises, by id or name. The key of an API integration always makes its own team the owner.',
  },
);

const fields = {
  description: Type.Optional(Type.String({ maxLength: 10_000 })),
  interval: Type.Integer({
    minimum: 1,
    maximum: MAX_INTERVAL_DAYS * 24 * 60,
    description: `How often a ping is expected, in intervalUnit; at most ${MAX_INTERVAL_DAYS} days.`,
  }),
  intervalUnit: StringEnum(['minutes', 'hours', 'days']),
  enabled: Type.Boolean({ description: 'Whether the heartbeat is watched; false when not given.' }),
  ownerTeam: Type.Optional(TeamRef),
  alertMessage: Type.Optional(
    Type.String({
      maxLength: 15_000,
      description: 'The message of the alert an expiry raises; "<name> is expired" when empty.',
    }),
  ),
  alertTags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20 })),
  alertPriority: Type.Optional(
    StringEnum(['P1', 'P2', 'P3', 'P4', 'P5'], { description: 'P3 when not given.' }),
  ),
};

const Params = Type.Object({ name: Type.String({ minLength: 1, maxLength: MAX_NAME }) });

export function registerHeartbeatRoutes(app: HttpApp, heartbeats: HeartbeatsService): void {
  app.post(
    '/v2/heartbeats',
    {
      schema: {
        tags: ['heartbeats'],
        summary: 'Add a heartbeat',
        body: Type.Object(
          {
            name: Name,
            ...fields,
            // Opsgenie's Go SDK (and so its Terraform provider) leaves `enabled` out when it is false.
            enabled: Type.Optional(fields.enabled),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const row = await heartbeats.create(principalOf(request), request.body);
      return reply.status(201).send(envelope(request, { result: 'Created', data: presentHeartbeat(row) }));
    },
  );

  app.get(
    '/v2/heartbeats',
    { schema: { tags: ['heartbeats'], summary: 'List heartbeats' } },
    async (request) => {
      const rows = await heartbeats.list(principalOf(request));
      return envelope(request, { data: { heartbeats: rows.map(presentHeartbeat) } });
    },
  );

  app.get(
    '/v2/heartbeats/:name',
    { schema: { tags: ['heartbeats'], summary: 'Get a heartbeat by name', params: Params } },
    async (request) =>
      envelope(request, {
        data: presentHeartbeat(await heartbeats.get(principalOf(request), request.params.name)),
      }),
  );

  app.patch(
    '/v2/heartbeats/:name',
    {
      schema: {
        tags: ['heartbeats'],
        summary: 'Update a heartbeat: the fields given change, the others stay',
        params: Params,
        body: Type.Object(
          {
            // Opsgenie's Go SDK sends the name again; a heartbeat is not renamed.
            name: Type.Optional(Type.String({ maxLength: MAX_NAME })),
            description: fields.description,
            interval: Type.Optional(fields.interval),
            intervalUnit: Type.Optional(fields.intervalUnit),
            enabled: Type.Optional(fields.enabled),
            // null takes the owner team away ({}, what the Go SDK sends when none is set, keeps it).
            ownerTeam: Type.Optional(
              Type.Union([TeamRef, Type.Null()], {
                description:
                  'The team whose alert an expiry raises, by id or name; null for none. Left out or {}, it stays. The key of an API integration always makes its own team the owner.',
              }),
            ),
            alertMessage: fields.alertMessage,
            alertTags: fields.alertTags,
            alertPriority: fields.alertPriority,
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { name: _ignored, ...changes } = request.body;
      const row = await heartbeats.update(principalOf(request), request.params.name, changes);
      return envelope(request, { result: 'Updated', data: presentHeartbeat(row) });
    },
  );

  app.delete(
    '/v2/heartbeats/:name',
    { schema: { tags: ['heartbeats'], summary: 'Delete a heartbeat', params: Params } },
    async (request) => {
      await heartbeats.remove(principalOf(request), request.params.name);
      return envelope(request, { result: 'Deleted' });
    },
  );

  // Opsgenie's Heartbeat API v2 takes enable and disable as POST, PUT or PATCH.
  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.route({
      method: ['POST', 'PUT', 'PATCH'],
      url: `/v2/heartbeats/:name/${action}`,
      schema: {
        tags: ['heartbeats'],
        summary: enabled
          ? 'Enable a heartbeat: the wait for a ping starts now'
          : 'Disable a heartbeat: it no longer expires',
        params: Params,
      },
      handler: async (request) => {
        const row = await heartbeats.setEnabled(principalOf(request), request.params.name, enabled);
        return envelope(request, { result: enabled ? 'Enabled' : 'Disabled', data: heartbeatMeta(row) });
      },
    });
  }

  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH'],
    url: '/v2/heartbeats/:name/ping',
    // A followed link must not silence an expired heartbeat's alert for someone signed in to the console.
    config: { changesOnGet: true },
    schema: {
      tags: ['heartbeats'],
      summary:
        "Ping a heartbeat: it is alive (closes its expiry's alert); any API integration's key, or a user's whose role may close alerts",
      params: Params,
    },
    handler: async (request, reply) => {
      await heartbeats.ping(principalOf(request), request.params.name);
      return reply.status(202).send(envelope(request, { result: 'PONG - Heartbeat received' }));
    },
  });
}
