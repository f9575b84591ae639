import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import type { Clock } from '../../work/clock.js';
import type { SlackService } from './service.js';
import { verifySlackSignature } from './signature.js';

/**
 * Slack's side of the `slack` destinations: the app's Interactivity Request URL (no API key: Slack's
 * signature over the body is the credential), and linking Slack users to Vigil users.
 */

export const SLACK_INTERACTIONS_PATH = '/v1/slack/interactions';
/** A block_actions payload carries the whole message it was made on: well under this. */
const INTERACTION_BODY_LIMIT = 256 * 1024;

export interface SlackRouteDeps {
  slack: SlackService;
  config: Config;
  clock: Clock;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A form body of `ssl_check=1`, with at most Slack's (deprecated) verification token besides. */
function isSslCheck(rawBody: string): boolean {
  const form = new URLSearchParams(rawBody);
  return (
    form.getAll('ssl_check').join() === '1' &&
    [...form.keys()].every((k) => k === 'ssl_check' || k === 'token')
  );
}

export function registerSlackRoutes(app: HttpApp, deps: SlackRouteDeps): void {
  const { slack, config, clock } = deps;

  // Its own scope: the signature is over the body exactly as sent, so it is taken as text, unparsed.
  void app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'string', bodyLimit: INTERACTION_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      SLACK_INTERACTIONS_PATH,
      {
        config: { public: true },
        bodyLimit: INTERACTION_BODY_LIMIT,
        schema: {
          tags: ['slack'],
          summary: "The Slack app's Interactivity Request URL: buttons and the note form of Vigil's messages",
          description:
            "Called by Slack, signed with the app's signing secret (X-Slack-Signature, X-Slack-Request-Timestamp); a form body with one field, payload. Answers 401 to a request not signed by Slack within the last 5 minutes.",
        },
      },
      async (request, reply) => {
        const secret = config.slack.signingSecret;
        if (!secret) {
          return reply.status(503).send(
            envelope(request, {
              message:
                'Slack is not set up in this Vigil: an operator sets VIGIL_SLACK_SIGNING_SECRET (and VIGIL_SLACK_BOT_TOKEN).',
            }),
          );
        }
        const rawBody = typeof request.body === 'string' ? request.body : '';
        // Slack's certificate check comes unsigned (Bolt answers it before verifying, too): it gets its 200
        // and nothing else, and only a body that is nothing but the check is one.
        if (isSslCheck(rawBody)) return reply.status(200).send('');
        const verdict = verifySlackSignature({
          secret,
          signature: header(request.headers['x-slack-signature']),
          timestamp: header(request.headers['x-slack-request-timestamp']),
          rawBody,
          now: clock.toSystemTime(clock.now()),
        });
        if (!verdict.ok) {
          request.log.warn({ reason: verdict.reason }, 'a Slack interaction was refused');
          return reply
            .status(401)
            .send(envelope(request, { message: `Not a request from Slack: ${verdict.reason}.` }));
        }
        const form = new URLSearchParams(rawBody);
        let payload: unknown;
        try {
          payload = JSON.parse(form.get('payload') ?? '');
        } catch {
          return reply
            .status(400)
            .send(envelope(request, { message: 'The request has no payload field holding JSON.' }));
        }
        const answer = await slack.handleInteraction(payload, request.id);
        if (answer.status === 400) {
          return reply
            .status(400)
            .send(envelope(request, { message: 'The payload is not a Slack interaction Vigil reads.' }));
        }
        return answer.body ? reply.status(200).send(answer.body) : reply.status(200).send('');
      },
    );
  });

  const Params = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 100 }) });
  const Link = Type.Object(
    {
      slackUserId: Type.String({
        pattern: '^[UW][A-Z0-9]{2,30}$',
        description: "The Slack member ID (U…): in Slack, the person's profile, ⋮, Copy member ID.",
      }),
      slackTeamId: Type.Optional(
        Type.String({
          pattern: '^[TE][A-Z0-9]{2,30}$',
          description:
            "The Slack workspace the person presses from (T…, or E… for an Enterprise Grid organization): the app's, or a Slack Connect partner's own; without it the link holds in any.",
        }),
      ),
    },
    { additionalProperties: false },
  );
  const present = (rows: { slack_team_id: string; slack_user_id: string; created_at: Date }[]) =>
    rows.map((r) => ({
      slackUserId: r.slack_user_id,
      ...(r.slack_team_id ? { slackTeamId: r.slack_team_id } : {}),
      createdAt: r.created_at.toISOString(),
    }));

  app.get(
    '/v2/users/:identifier/slack',
    {
      schema: {
        tags: ['users'],
        summary: "The Slack user a user's clicks in Slack come from",
        params: Params,
      },
    },
    async (request) =>
      envelope(request, {
        data: present(await slack.links(principalOf(request), request.params.identifier)),
      }),
  );

  app.put(
    '/v2/users/:identifier/slack',
    {
      schema: {
        tags: ['users'],
        summary: "Link a Slack user to a user: their clicks on Vigil's Slack messages act as this user",
        description:
          'Only an owner may link an owner, or a Slack user linked to an owner. Replaces the links of the user and of the Slack user.',
        params: Params,
        body: Link,
      },
    },
    async (request) => {
      const user = await slack.link(principalOf(request), request.params.identifier, request.body);
      return envelope(request, {
        result: 'Linked',
        data: { id: user.id, username: user.username, slackUserId: request.body.slackUserId },
      });
    },
  );

  app.delete(
    '/v2/users/:identifier/slack',
    {
      schema: {
        tags: ['users'],
        summary: "Remove a user's Slack link",
        description:
          'Only an owner may unlink an owner. The email match no longer links the Slack users this unlinks to anyone of the organization: only a link made with PUT links them again.',
        params: Params,
      },
    },
    async (request) => {
      const removed = await slack.unlink(principalOf(request), request.params.identifier);
      return envelope(request, { result: removed > 0 ? 'Unlinked' : 'Was not linked' });
    },
  );
}
