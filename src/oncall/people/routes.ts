import { Type } from 'typebox';
import type { ContactMethodRow, NotificationRuleRow } from '../../db/schema.js';
import { StringEnum } from '../../http/schemas.js';
import { CONTACT_METHOD_TYPES, requiresVerification } from '../../notify/destinations/registry.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { CriteriaSchema, presentCriteria } from '../conditions.js';
import type { NotificationRuleStep } from '../model.js';
import { presentTimeRestriction, TimeRestrictionSchema } from '../time-restriction-input.js';
import type { PeopleService, RuleView } from './service.js';

/** Opsgenie's contact and notification-rule APIs under /v2/users/{identifier}. */

const ACTION_TYPES = [
  'create-alert',
  'acknowledged-alert',
  'closed-alert',
  'add-note',
  'assigned-alert',
] as const;

const Contact = Type.Object(
  {
    method: StringEnum(CONTACT_METHOD_TYPES),
    to: Type.String({ minLength: 1, maxLength: 512 }),
  },
  { additionalProperties: false },
);

const SendAfter = Type.Object(
  {
    // Optional: the Go SDK's og.SendAfter leaves a 0 out (omitempty), so "at once" comes as the unit alone.
    timeAmount: Type.Optional(Type.Integer({ minimum: 0, maximum: 10080, default: 0 })),
    // Terraform's opsgenie_notification_rule sends "minute" (its expandOpsGenieNotificationRuleSteps); days
    // are Opsgenie's third unit. Whatever the unit, a step waits a week at most.
    timeUnit: Type.Optional(
      StringEnum(['minutes', 'hours', 'days', 'minute', 'hour', 'day'], { default: 'minutes' }),
    ),
  },
  { additionalProperties: false },
);

const StepFields = {
  contact: Contact,
  sendAfter: Type.Optional(SendAfter),
  enabled: Type.Optional(Type.Boolean()),
};
const Step = Type.Object(StepFields, { additionalProperties: false });

const RuleName = Type.String({ minLength: 1, maxLength: 512 });
const Steps = Type.Array(Step, { maxItems: 50 });

const RuleTimeRestriction = Type.Union([TimeRestrictionSchema, Type.Null()], {
  description:
    "The rule applies only inside it, read in the user's time zone; left out (or null), at all times",
});

const Repeat = Type.Union(
  [
    Type.Object(
      {
        loopAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 10080, description: 'Minutes' })),
        enabled: Type.Optional(Type.Boolean({ description: 'true when left out' })),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  {
    description:
      "A create-alert rule's steps run again every loopAfter minutes (1 or more) until the alert is acknowledged or closed, at most 10 times",
  },
);

const UserParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 100 }) });
export const ContactParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 100 }),
  contactId: Type.String({ minLength: 1, maxLength: 100 }),
});
const RuleParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 100 }),
  ruleId: Type.String({ minLength: 1, maxLength: 100 }),
});
const StepParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 100 }),
  ruleId: Type.String({ minLength: 1, maxLength: 100 }),
  stepId: Type.String({ minLength: 1, maxLength: 100 }),
});

function presentContact(c: ContactMethodRow) {
  const verified = !requiresVerification(c.method) || c.verified_at !== null;
  return {
    id: c.id,
    method: c.method,
    // As its owner wrote it: Terraform compares it with its configuration.
    to: c.given_to ?? c.address,
    status: {
      enabled: c.enabled,
      // Vigil's own: SMS and voice contacts are paged only once verified, and not while a problem stands.
      verified,
      ...(c.problem ? { disabledReason: c.problem } : {}),
    },
  };
}

function presentStep(step: NotificationRuleStep, contacts: Map<string, ContactMethodRow>) {
  const contact = contacts.get(step.contactId);
  return {
    id: step.id,
    contact: contact ? { method: contact.method, to: contact.given_to ?? contact.address } : null,
    sendAfter: { timeAmount: step.sendAfterMinutes, timeUnit: 'minutes' },
    enabled: step.enabled,
  };
}

function presentRuleSummary(r: NotificationRuleRow) {
  return { id: r.id, name: r.name, actionType: r.action_type, order: r.position, enabled: r.enabled };
}

function presentRule({ rule, contacts }: RuleView) {
  return {
    ...presentRuleSummary(rule),
    criteria: presentCriteria(rule.criteria),
    steps: rule.steps.map((s) => presentStep(s, contacts)),
    ...(rule.time_restriction ? { timeRestriction: presentTimeRestriction(rule.time_restriction) } : {}),
    ...(rule.repeat
      ? { repeat: { loopAfter: rule.repeat.loopAfterMinutes, enabled: rule.repeat.enabled } }
      : {}),
    createdAt: rule.created_at.toISOString(),
    updatedAt: rule.updated_at.toISOString(),
  };
}

/** They hold phone numbers and email addresses (steps name their contact's address too). */
const WHO_READS =
  "Readable by the user themselves, organization admins and the admins of the user's teams; anyone else gets a 403.";

export function registerPeopleRoutes(app: HttpApp, people: PeopleService): void {
  const tags = ['contacts'];

  app.get(
    '/api/console/people/:identifier/rights',
    {
      schema: {
        tags: ['console'],
        summary: "What the caller may change of a user's contact methods and notification rules",
        description:
          'Answered by the checks that refuse a change, so that the console offers only what the server takes. ' +
          WHO_READS,
        params: UserParams,
        response: {
          200: Type.Object({
            contactsEdit: Type.Boolean({
              description: 'May add, change, turn off and delete contact methods',
            }),
            notificationRulesEdit: Type.Boolean({
              description: 'May add, change, turn off and delete notification rules and their steps',
            }),
          }),
        },
      },
    },
    async (request) => {
      const rights = await people.editRights(principalOf(request), request.params.identifier);
      return { contactsEdit: rights.contacts, notificationRulesEdit: rights.notificationRules };
    },
  );

  app.post(
    '/v2/users/:identifier/contacts',
    { schema: { tags, summary: 'Add a contact method to a user', params: UserParams, body: Contact } },
    async (request, reply) => {
      const contact = await people.addContact(principalOf(request), request.params.identifier, request.body);
      return reply.status(201).send(envelope(request, { result: 'Created', data: { id: contact.id } }));
    },
  );

  app.get(
    '/v2/users/:identifier/contacts',
    { schema: { tags, summary: "A user's contact methods", description: WHO_READS, params: UserParams } },
    async (request) => {
      const contacts = await people.listContacts(principalOf(request), request.params.identifier);
      return envelope(request, { data: contacts.map(presentContact) });
    },
  );

  app.get(
    '/v2/users/:identifier/contacts/:contactId',
    { schema: { tags, summary: 'A contact method', description: WHO_READS, params: ContactParams } },
    async (request) => {
      const { identifier, contactId } = request.params;
      const contact = await people.getContact(principalOf(request), identifier, contactId);
      return envelope(request, { data: presentContact(contact) });
    },
  );

  app.patch(
    '/v2/users/:identifier/contacts/:contactId',
    {
      schema: {
        tags,
        summary: "Change a contact method's address",
        params: ContactParams,
        body: Type.Object({ to: Type.Optional(Contact.properties.to) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const { identifier, contactId } = request.params;
      const contact = await people.updateContact(principalOf(request), identifier, contactId, request.body);
      return envelope(request, { result: 'Updated', data: { id: contact.id } });
    },
  );

  app.delete(
    '/v2/users/:identifier/contacts/:contactId',
    {
      schema: {
        tags,
        summary: 'Delete a contact method (and the notification-rule steps that use it)',
        params: ContactParams,
      },
    },
    async (request) => {
      const { identifier, contactId } = request.params;
      await people.deleteContact(principalOf(request), identifier, contactId);
      return envelope(request, { result: 'Deleted' });
    },
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(
      `/v2/users/:identifier/contacts/:contactId/${action}`,
      {
        schema: {
          tags,
          summary: `${action === 'enable' ? 'Enable' : 'Disable'} a contact method`,
          params: ContactParams,
        },
      },
      async (request) => {
        const { identifier, contactId } = request.params;
        const contact = await people.setContactEnabled(principalOf(request), identifier, contactId, enabled);
        return envelope(request, { result: enabled ? 'Enabled' : 'Disabled', data: { id: contact.id } });
      },
    );
  }

  // Notification rules

  const ruleTags = ['notification rules'];

  app.post(
    '/v2/users/:identifier/notification-rules',
    {
      schema: {
        tags: ruleTags,
        summary: 'Add a notification rule',
        params: UserParams,
        body: Type.Object(
          {
            name: RuleName,
            actionType: StringEnum(ACTION_TYPES),
            criteria: Type.Optional(CriteriaSchema),
            steps: Type.Optional(Steps),
            timeRestriction: Type.Optional(RuleTimeRestriction),
            repeat: Type.Optional(Repeat),
            order: Type.Optional(Type.Integer({ minimum: 0 })),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const rule = await people.createRule(principalOf(request), request.params.identifier, request.body);
      return reply.status(201).send(
        envelope(request, {
          result: 'Created',
          data: { id: rule.id, name: rule.name, order: rule.position },
        }),
      );
    },
  );

  app.get(
    '/v2/users/:identifier/notification-rules',
    {
      schema: {
        tags: ruleTags,
        summary: "A user's notification rules, in order",
        description: WHO_READS,
        params: UserParams,
      },
    },
    async (request) => {
      const rules = await people.listRules(principalOf(request), request.params.identifier);
      return envelope(request, { data: rules.map(presentRuleSummary) });
    },
  );

  app.get(
    '/v2/users/:identifier/notification-rules/:ruleId',
    {
      schema: {
        tags: ruleTags,
        summary: 'A notification rule with its criteria and steps',
        description: WHO_READS,
        params: RuleParams,
      },
    },
    async (request) => {
      const { identifier, ruleId } = request.params;
      return envelope(request, {
        data: presentRule(await people.getRule(principalOf(request), identifier, ruleId)),
      });
    },
  );

  app.patch(
    '/v2/users/:identifier/notification-rules/:ruleId',
    {
      schema: {
        tags: ruleTags,
        summary:
          'Change a notification rule (steps, when given, replace the current ones; what is left out stays)',
        params: RuleParams,
        body: Type.Object(
          {
            name: Type.Optional(RuleName),
            criteria: Type.Optional(CriteriaSchema),
            steps: Type.Optional(Steps),
            timeRestriction: Type.Optional(RuleTimeRestriction),
            repeat: Type.Optional(Repeat),
            order: Type.Optional(Type.Integer({ minimum: 0 })),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { identifier, ruleId } = request.params;
      const view = await people.updateRule(principalOf(request), identifier, ruleId, request.body);
      return envelope(request, {
        result: 'Updated',
        data: { id: view.rule.id, name: view.rule.name, order: view.rule.position },
      });
    },
  );

  app.delete(
    '/v2/users/:identifier/notification-rules/:ruleId',
    { schema: { tags: ruleTags, summary: 'Delete a notification rule', params: RuleParams } },
    async (request) => {
      const { identifier, ruleId } = request.params;
      await people.deleteRule(principalOf(request), identifier, ruleId);
      return envelope(request, { result: 'Deleted' });
    },
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(
      `/v2/users/:identifier/notification-rules/:ruleId/${action}`,
      {
        schema: {
          tags: ruleTags,
          summary: `${action === 'enable' ? 'Enable' : 'Disable'} a notification rule`,
          params: RuleParams,
        },
      },
      async (request) => {
        const { identifier, ruleId } = request.params;
        const view = await people.setRuleEnabled(principalOf(request), identifier, ruleId, enabled);
        return envelope(request, { result: enabled ? 'Enabled' : 'Disabled', data: { id: view.rule.id } });
      },
    );
  }

  // Steps of a rule

  app.post(
    '/v2/users/:identifier/notification-rules/:ruleId/steps',
    {
      schema: {
        tags: ruleTags,
        summary: 'Add a step to a notification rule',
        params: RuleParams,
        body: Step,
      },
    },
    async (request, reply) => {
      const { identifier, ruleId } = request.params;
      const { step } = await people.addStep(principalOf(request), identifier, ruleId, request.body);
      return reply.status(201).send(envelope(request, { result: 'Created', data: { id: step.id } }));
    },
  );

  app.get(
    '/v2/users/:identifier/notification-rules/:ruleId/steps',
    {
      schema: {
        tags: ruleTags,
        summary: "A notification rule's steps, in the order given",
        description: WHO_READS,
        params: RuleParams,
      },
    },
    async (request) => {
      const { identifier, ruleId } = request.params;
      const { rule, contacts } = await people.getRule(principalOf(request), identifier, ruleId);
      return envelope(request, { data: rule.steps.map((s) => presentStep(s, contacts)) });
    },
  );

  app.get(
    '/v2/users/:identifier/notification-rules/:ruleId/steps/:stepId',
    {
      schema: {
        tags: ruleTags,
        summary: 'A step of a notification rule',
        description: WHO_READS,
        params: StepParams,
      },
    },
    async (request) => {
      const { identifier, ruleId, stepId } = request.params;
      const { step, contacts } = await people.getStep(principalOf(request), identifier, ruleId, stepId);
      return envelope(request, { data: presentStep(step, contacts) });
    },
  );

  app.patch(
    '/v2/users/:identifier/notification-rules/:ruleId/steps/:stepId',
    {
      schema: {
        tags: ruleTags,
        summary: 'Change a step of a notification rule',
        params: StepParams,
        body: Type.Object(
          {
            contact: Type.Optional(Contact),
            sendAfter: Type.Optional(SendAfter),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { identifier, ruleId, stepId } = request.params;
      const { step } = await people.updateStep(
        principalOf(request),
        identifier,
        ruleId,
        stepId,
        request.body,
      );
      return envelope(request, { result: 'Updated', data: { id: step.id } });
    },
  );

  app.delete(
    '/v2/users/:identifier/notification-rules/:ruleId/steps/:stepId',
    { schema: { tags: ruleTags, summary: 'Delete a step of a notification rule', params: StepParams } },
    async (request) => {
      const { identifier, ruleId, stepId } = request.params;
      await people.deleteStep(principalOf(request), identifier, ruleId, stepId);
      return envelope(request, { result: 'Deleted' });
    },
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(
      `/v2/users/:identifier/notification-rules/:ruleId/steps/:stepId/${action}`,
      {
        schema: {
          tags: ruleTags,
          summary: `${action === 'enable' ? 'Enable' : 'Disable'} a step of a notification rule`,
          params: StepParams,
        },
      },
      async (request) => {
        const { identifier, ruleId, stepId } = request.params;
        const { step } = await people.updateStep(principalOf(request), identifier, ruleId, stepId, {
          enabled,
        });
        return envelope(request, { result: enabled ? 'Enabled' : 'Disabled', data: { id: step.id } });
      },
    );
  }
}
