import { Type } from 'typebox';
import { principalOf, type HttpApp } from '../../http/server.js';
import { MAX_DEVICE_NAME_LENGTH, MAX_ENDPOINT_LENGTH, type PushService } from './service.js';

/** The console's Web Push: the key browsers subscribe with, and the caller's subscribed devices. */

const tags = ['console'];
const Problem = Type.Object({
  message: Type.String(),
  errors: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'The fields at fault.' })),
  took: Type.Optional(Type.Number()),
  requestId: Type.Optional(Type.String()),
});
const Subscription = Type.Object({
  id: Type.String({ format: 'uuid' }),
  deviceName: Type.String(),
  service: Type.String({ description: "The push service's host: which browser family the device uses." }),
  createdAt: Type.String({ format: 'date-time' }),
  lastSentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export function registerPushRoutes(app: HttpApp, push: PushService): void {
  app.get(
    '/api/console/push/key',
    {
      schema: {
        tags,
        summary: "Vigil's VAPID public key: pushManager.subscribe's applicationServerKey",
        response: {
          200: Type.Object({
            publicKey: Type.String({ description: 'The 65-byte uncompressed P-256 point, base64url.' }),
          }),
        },
      },
    },
    async () => ({ publicKey: await push.publicKey() }),
  );

  app.post(
    '/api/console/push/subscriptions',
    {
      schema: {
        tags,
        summary: "Subscribe this device to the caller's pages (again: updates its keys)",
        description:
          'The body is PushSubscription.toJSON() with a name for the device. The device becomes a mobile ' +
          'contact method and, unless the first "create-alert" rule already has one, a step of that rule. ' +
          'A new device needs the contacts-edit right (403 when a custom role takes it away); without ' +
          'notification-rules-edit the device is added but no rule step. A subscription the browser renewed ' +
          '(pushsubscriptionchange) names the one it replaces in oldEndpoint: when that is one of the ' +
          "caller's devices, the device moves to the new endpoint (same id, contact method and rule steps), " +
          'without contacts-edit. An endpoint another person subscribed moves to the caller only with the ' +
          'same keys (the same browser, signed in as someone else of the organization): 409 otherwise, and ' +
          "always for another organization's device.",
        body: Type.Object({
          endpoint: Type.String({ minLength: 1, maxLength: MAX_ENDPOINT_LENGTH }),
          expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
          keys: Type.Object({
            p256dh: Type.String({ minLength: 1, maxLength: 200 }),
            auth: Type.String({ minLength: 1, maxLength: 100 }),
          }),
          deviceName: Type.Optional(Type.String({ maxLength: MAX_DEVICE_NAME_LENGTH })),
          oldEndpoint: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: MAX_ENDPOINT_LENGTH,
              description: "The renewed subscription's previous endpoint (the event's oldSubscription).",
            }),
          ),
        }),
        response: { 201: Subscription, 403: Problem, 409: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const { endpoint, keys, deviceName, oldEndpoint } = request.body;
      const view = await push.subscribe(principalOf(request), { endpoint, keys, deviceName, oldEndpoint });
      return reply.status(201).send({
        ...view,
        createdAt: view.createdAt.toISOString(),
        lastSentAt: view.lastSentAt?.toISOString() ?? null,
      });
    },
  );

  app.get(
    '/api/console/push/subscriptions',
    {
      schema: {
        tags,
        summary: "The caller's subscribed devices",
        response: { 200: Type.Object({ data: Type.Array(Subscription) }), 403: Problem },
      },
    },
    async (request) => ({
      data: (await push.list(principalOf(request))).map((view) => ({
        ...view,
        createdAt: view.createdAt.toISOString(),
        lastSentAt: view.lastSentAt?.toISOString() ?? null,
      })),
    }),
  );

  app.delete(
    '/api/console/push/subscriptions/:id',
    {
      schema: {
        tags,
        summary: "Remove a device (its person, with contacts-edit; an org admin; an owner's: an owner)",
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
        response: { 204: Type.Null({ description: 'Removed' }) },
      },
    },
    async (request, reply) => {
      await push.remove(principalOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
