import { api, unwrap, type Json } from './client';
import type { paths } from './schema';

/** The console's Web Push endpoints: the VAPID key, and the signed-in person's devices. */

export type PushDevice = Json<paths['/api/console/push/subscriptions']['post']['responses'][201]>;
export type PushSubscriptionBody = NonNullable<
  Json<paths['/api/console/push/subscriptions']['post']['requestBody']>
>;

export const DEVICES_KEY = ['push', 'devices'] as const;

export const pushApi = {
  publicKey: async () => (await unwrap<{ publicKey: string }>(api.GET('/api/console/push/key'))).publicKey,
  devices: async () =>
    (await unwrap<{ data: PushDevice[] }>(api.GET('/api/console/push/subscriptions'))).data,
  subscribe: (body: PushSubscriptionBody) =>
    unwrap<PushDevice>(api.POST('/api/console/push/subscriptions', { body })),
  remove: (id: string) =>
    unwrap<void>(api.DELETE('/api/console/push/subscriptions/{id}', { params: { path: { id } } })),
};
