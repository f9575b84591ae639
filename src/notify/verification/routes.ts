import { Type } from 'typebox';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { ContactParams } from '../../oncall/people/routes.js';
import type { ContactVerification } from './service.js';

/** Verifying a contact method with a code sent to it, and sending it a test. */
export function registerVerificationRoutes(app: HttpApp, verification: ContactVerification): void {
  const tags = ['contacts'];

  app.post(
    '/v2/users/:identifier/contacts/:contactId/send-verification',
    {
      schema: {
        tags,
        summary: 'Send a verification code to a contact method',
        description:
          "Sends a six-digit code by the contact's own channel (a text, or a call that reads it out). It works for 10 minutes; one code a minute to a number, texted or called (deleting and adding the contact again does not shorten it), and at most 10 codes and test messages an hour to one person's contacts (429 past either). SMS and voice contacts are paged only once verified; other methods take no code (422).",
        params: ContactParams,
      },
    },
    async (request, reply) => {
      const { identifier, contactId } = request.params;
      const sent = await verification.sendCode(principalOf(request), identifier, contactId);
      return reply
        .status(202)
        .send(envelope(request, { result: 'Sent', data: { expiresAt: sent.expiresAt.toISOString() } }));
    },
  );

  app.post(
    '/v2/users/:identifier/contacts/:contactId/verify',
    {
      schema: {
        tags,
        summary: 'Verify a contact method with the code sent to it',
        params: ContactParams,
        body: Type.Object(
          { code: Type.String({ minLength: 1, maxLength: 20, pattern: '^[0-9 ]+$' }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const { identifier, contactId } = request.params;
      const contact = await verification.verify(
        principalOf(request),
        identifier,
        contactId,
        request.body.code,
      );
      return envelope(request, { result: 'Verified', data: { id: contact.id } });
    },
  );

  app.post(
    '/v2/users/:identifier/contacts/:contactId/test',
    {
      schema: {
        tags,
        summary: 'Send a test message to a contact method',
        description: 'Sends a message that says it is a test, now, whatever the notification rules say.',
        params: ContactParams,
      },
    },
    async (request) => {
      const { identifier, contactId } = request.params;
      await verification.test(principalOf(request), identifier, contactId);
      return envelope(request, { result: 'Sent' });
    },
  );
}
