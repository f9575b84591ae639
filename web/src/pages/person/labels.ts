import type { ContactMethod, NotificationRuleSummary } from '../../api/types';

export const METHOD_LABELS: Record<ContactMethod, string> = {
  email: 'Email',
  sms: 'SMS',
  voice: 'Voice call',
  mobile: 'Mobile push',
};

export const ACTION_LABELS: Record<NotificationRuleSummary['actionType'], string> = {
  'create-alert': 'When an alert is created',
  'acknowledged-alert': 'When an alert is acknowledged',
  'closed-alert': 'When an alert is closed',
  'add-note': 'When a note is added',
  'assigned-alert': 'When an alert is assigned to you',
};

export function contactLabel(c: { method: ContactMethod; to: string }): string {
  return c.method === 'mobile' ? `${METHOD_LABELS.mobile} (a device)` : `${METHOD_LABELS[c.method]} ${c.to}`;
}
