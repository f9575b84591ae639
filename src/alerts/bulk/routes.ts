import { Type, type Static, type TObject, type TProperties } from 'typebox';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import type { Priority } from '../../db/schema.js';
import { Meta, PrioritySchema, toMetaBody } from '../routes.js';
import { MAX_BULK_ALERTS, type BulkAction, type BulkActionKind, type BulkAlertActions } from './service.js';

/** Vigil's own bulk actions (Opsgenie has none): POST /v2/bulk/alerts/{action}. */

const Identifiers = Type.Array(Type.String(), {
  minItems: 1,
  maxItems: MAX_BULK_ALERTS,
  description: `The alerts' ids, at most ${MAX_BULK_ALERTS} (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone.`,
});

const BulkAnswer = Type.Object({
  data: Type.Object({
    succeeded: Type.Array(Type.String(), { description: 'The ids the action was done on.' }),
    failed: Type.Array(Type.Object({ id: Type.String(), reason: Type.String() }), {
      description: 'The ids it was not done on, each with why.',
    }),
  }),
  took: Type.Number(),
  requestId: Type.String(),
});

export function registerBulkAlertRoutes(app: HttpApp, bulk: BulkAlertActions): void {
  /** One bulk action: the single action's body, with `identifiers` in place of the path's alert. */
  function bulkAction<P extends TProperties>(
    kind: BulkActionKind,
    summary: string,
    fields: P,
    toAction: (body: Static<TObject<P>>) => BulkAction,
  ) {
    const body = Type.Object({ identifiers: Identifiers, ...fields }, { additionalProperties: true });
    app.post(
      `/v2/bulk/alerts/${kind}`,
      {
        schema: {
          tags: ['alerts'],
          summary: `${summary} (Vigil's own, not Opsgenie's)`,
          description: `Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than ${MAX_BULK_ALERTS} identifiers is a 422.`,
          body,
          response: { 200: BulkAnswer },
        },
      },
      async (request) => {
        // Validated against `body` above; TypeScript cannot follow the generic fields through it.
        const given = request.body as Static<TObject<P>> & { identifiers: string[] };
        const data = await bulk.run(
          principalOf(request),
          given.identifiers,
          toAction(given),
          toMetaBody(given as { user?: string; source?: string; note?: string }),
        );
        return envelope(request, { data });
      },
    );
  }

  bulkAction('acknowledge', 'Acknowledge alerts', { ...Meta }, () => ({ kind: 'acknowledge' }));
  bulkAction('unacknowledge', 'Unacknowledge alerts', { ...Meta }, () => ({ kind: 'unacknowledge' }));
  bulkAction('close', 'Close alerts', { ...Meta }, () => ({ kind: 'close' }));
  bulkAction(
    'addNote',
    'Add a note to alerts',
    { note: Type.String({ minLength: 1, maxLength: 25000 }), user: Meta.user, source: Meta.source },
    (b) => ({ kind: 'addNote', note: b.note }),
  );
  bulkAction(
    'snooze',
    'Snooze alerts until a time',
    { endTime: Type.String({ format: 'date-time' }), ...Meta },
    (b) => ({ kind: 'snooze', endTime: new Date(b.endTime) }),
  );
  bulkAction(
    'assign',
    'Assign an owner to alerts',
    {
      owner: Type.Object({
        id: Type.Optional(Type.String({ maxLength: 512 })),
        username: Type.Optional(Type.String({ maxLength: 512 })),
      }),
      ...Meta,
    },
    (b) => ({ kind: 'assign', owner: b.owner }),
  );
  bulkAction(
    'escalate',
    'Move alerts to the next rule of their escalation now',
    {
      escalation: Type.Optional(
        Type.Object({
          id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
      ),
      ...Meta,
    },
    (b) => ({ kind: 'escalate', ...(b.escalation ? { escalation: b.escalation } : {}) }),
  );
  bulkAction('priority', 'Change the priority of alerts', { priority: PrioritySchema, ...Meta }, (b) => ({
    kind: 'priority',
    priority: b.priority as Priority,
  }));
}
