import { Type } from 'typebox';
import { StringEnum } from '../../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import {
  MAX_SAVED_SEARCHES,
  MAX_SAVED_SEARCHES_PER_OWNER,
  presentSavedSearch,
  type SavedSearchesService,
} from './service.js';

/**
 * Opsgenie's saved searches: /v2/alerts/saved-searches. Fastify matches the static `saved-searches`
 * segment before the alert routes' `:identifier`, so these paths never reach an alert lookup.
 */

const UserRef = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});
const TeamRef = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});

const Name = Type.String({ minLength: 1, maxLength: 200 });
// As long as the alert list takes (GET /v2/alerts?query=).
const Query = Type.String({ minLength: 1, maxLength: 2000 });
const Description = Type.String({ maxLength: 10000 });
const Teams = Type.Array(TeamRef, { maxItems: 50 });

const Params = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 512 }) });
const IdentifierQuery = Type.Object({ identifierType: StringEnum(['id', 'name'], { default: 'id' }) });

export function registerSavedSearchRoutes(app: HttpApp, searches: SavedSearchesService): void {
  app.post(
    '/v2/alerts/saved-searches',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Create a saved search',
        description: `A named alert query (validated as GET /v2/alerts validates \`query\`) that the list and count run by searchIdentifier. Names are unique in the organization, without regard to case. An organization holds at most ${MAX_SAVED_SEARCHES.toLocaleString('en')} and a user owns at most ${MAX_SAVED_SEARCHES_PER_OWNER} (a 422 beyond: delete some first).`,
        body: Type.Object({
          name: Name,
          query: Query,
          owner: UserRef,
          description: Type.Optional(Description),
          teams: Type.Optional(Teams),
        }),
      },
    },
    async (request, reply) => {
      const row = await searches.create(principalOf(request), request.body);
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: { id: row.id, name: row.name } }));
    },
  );

  app.get(
    '/v2/alerts/saved-searches',
    {
      schema: {
        tags: ['alerts'],
        summary: 'List saved searches',
        description: `All of the organization's saved searches (at most ${MAX_SAVED_SEARCHES.toLocaleString('en')}), by name, unpaged as in Opsgenie.`,
      },
    },
    async (request) => {
      const rows = await searches.list(principalOf(request));
      return envelope(request, { data: rows.map((r) => ({ id: r.id, name: r.name })) });
    },
  );

  app.get(
    '/v2/alerts/saved-searches/:identifier',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Get a saved search by id or name',
        params: Params,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      const row = await searches.get(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType,
      );
      return envelope(request, { data: presentSavedSearch(row) });
    },
  );

  app.patch(
    '/v2/alerts/saved-searches/:identifier',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Update a saved search (the fields given; teams, when given, replaces the list)',
        params: Params,
        querystring: IdentifierQuery,
        body: Type.Object({
          name: Type.Optional(Name),
          query: Type.Optional(Query),
          owner: Type.Optional(UserRef),
          description: Type.Optional(Description),
          teams: Type.Optional(Teams),
        }),
      },
    },
    async (request) => {
      const row = await searches.update(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType,
        request.body,
      );
      return envelope(request, { result: 'Updated', data: { id: row.id, name: row.name } });
    },
  );

  app.delete(
    '/v2/alerts/saved-searches/:identifier',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Delete a saved search',
        params: Params,
        querystring: IdentifierQuery,
      },
    },
    async (request) => {
      await searches.delete(principalOf(request), request.params.identifier, request.query.identifierType);
      return envelope(request, { result: 'Deleted' });
    },
  );
}
