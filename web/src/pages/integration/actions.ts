import type { paths } from '../../api/schema';
import type { Condition } from '../../api/types';

/** The body of PUT /v2/integrations/{id}/actions. */
export type AllActionsBody = NonNullable<
  paths['/v2/integrations/{id}/actions']['put']['requestBody']
>['content']['application/json'];
type ActionBody = NonNullable<AllActionsBody['create']>[number];

export const ACTION_TYPES = ['create', 'close', 'acknowledge', 'addNote', 'ignore'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/**
 * The lists that come into play for an integration of this type: an Email integration's message is only
 * ever a create request, so its close, acknowledge and add-note lists would do nothing.
 */
export function actionTypesOf(integrationType: string): readonly ActionType[] {
  return integrationType === 'Email' ? ['create', 'ignore'] : ACTION_TYPES;
}

export const ACTION_LABELS: Record<ActionType, { title: string; about: string }> = {
  create: {
    title: 'Create',
    about: 'The first create action whose conditions a request matches makes the alert, shaped by it.',
  },
  close: { title: 'Close', about: 'A close request runs only when a close action matches the alert.' },
  acknowledge: {
    title: 'Acknowledge',
    about: 'An acknowledge request runs only when an acknowledge action matches the alert.',
  },
  addNote: { title: 'Add note', about: 'A note is added only when an add-note action matches the alert.' },
  ignore: { title: 'Ignore', about: 'A create request an ignore action matches makes no alert.' },
};

/** One action as GET /v2/integrations/{id}/actions presents it (src/integrations/actions/model.ts). */
export interface IntegrationAction {
  type?: string;
  name: string;
  order: number;
  filter: {
    conditionMatchType: 'match-all' | 'match-any-condition' | 'match-all-conditions';
    conditions: Condition[];
  };
  user?: string;
  note?: string;
  alias?: string;
  message?: string;
  description?: string;
  entity?: string;
  source?: string;
  priority?: string;
  customPriority?: string;
  tags?: string[];
  extraProperties?: Record<string, string>;
  responders?: {
    type: 'team' | 'user' | 'escalation' | 'schedule';
    id?: string;
    name?: string;
    username?: string;
  }[];
  alertActions?: string[];
  appendAttachments?: boolean;
  ignoreAlertActionsFromPayload?: boolean;
  ignoreRespondersFromPayload?: boolean;
  ignoreTagsFromPayload?: boolean;
  ignoreExtraPropertiesFromPayload?: boolean;
  ignoreTeamsFromPayload?: boolean;
}

export type IntegrationActions = Record<ActionType, IntegrationAction[]> & {
  _parent: { id: string; name: string; enabled: boolean; type: string };
};

/** Every list as PUT takes it, each renumbered in its order (what the console does not edit goes back as it was). */
export function actionsBody(lists: Record<ActionType, IntegrationAction[]>): AllActionsBody {
  const body: Record<string, ActionBody[]> = {};
  for (const type of ACTION_TYPES)
    body[type] = lists[type].map((action, order) => ({ ...action, order }) as unknown as ActionBody);
  return body as AllActionsBody;
}

/** A new action's starting point: it passes the request's own values through, as Opsgenie's defaults do. */
export function newAction(type: ActionType): IntegrationAction {
  const base = {
    type,
    name: '',
    order: 0,
    filter: { conditionMatchType: 'match-all' as const, conditions: [] },
  };
  if (type === 'ignore') return base;
  if (type !== 'create') return { ...base, user: '{{user}}', note: '{{note}}', alias: '{{alias}}' };
  return {
    ...base,
    message: '{{message}}',
    description: '{{description}}',
    priority: '{{priority}}',
    tags: [],
  };
}
