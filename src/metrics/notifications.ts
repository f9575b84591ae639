import { Counter, type Registry } from 'prom-client';
import type { NotificationObserver } from '../notify/sender.js';

/** Messages to people and destinations, by type and outcome, as the sender records them. */
export function notificationMetrics(registry: Registry): NotificationObserver {
  const outcomes = new Counter({
    name: 'vigil_notifications_total',
    help: 'Notification outcomes recorded by this process, by destination type (email, sms, voice, push, …) and outcome: sent, failed (given up), cancelled (no longer wanted), retry (to be tried again).',
    labelNames: ['method', 'outcome'],
    registers: [registry],
  });
  return {
    recorded(method, state) {
      outcomes.inc({ method, outcome: state === 'pending' ? 'retry' : state });
    },
  };
}
