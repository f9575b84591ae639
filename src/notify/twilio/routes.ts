import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isUuid } from '../../db/database.js';
import type { HttpApp } from '../../http/server.js';
import type { Logger } from '../../logger.js';
import { SMS_PATH, STATUS_PATH, VOICE_PATH } from './channels.js';
import type { TwilioInbound } from './inbound.js';
import type { TwilioSettings } from './settings.js';
import { formParams, isValidTwilioSignature, type TwilioParams } from './signature.js';
import { gatherOneDigit, hangup, message, say, twimlResponse } from './twiml.js';

/**
 * Where Twilio calls Vigil: replies to texts, a call's script and the keys pressed, and status callbacks.
 * No API key: each request must carry Twilio's signature of the exact URL it called (VIGIL_PUBLIC_URL
 * plus the path and query Vigil gave it) and of every form field, made with the auth token.
 */

export interface TwilioRouteDeps {
  settings: TwilioSettings | undefined;
  inbound: TwilioInbound;
  log: Logger;
}

// A bundle is one round of the sender at most (24); the rest of a longer list is not Vigil's.
const MAX_NOTIFICATIONS_PER_CALL = 50;

/** The messages a call or text was about, from the URL Vigil gave Twilio (and Twilio signed). */
function notificationIdsOf(query: Record<string, string | undefined>): string[] {
  return (query.notifications ?? '')
    .split(',')
    .filter((id) => isUuid(id))
    .slice(0, MAX_NOTIFICATIONS_PER_CALL);
}

function one(params: TwilioParams, name: string): string {
  const value = params[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function twiml(reply: FastifyReply, body: string) {
  return reply.code(200).type('text/xml; charset=utf-8').send(body);
}

export function registerTwilioRoutes(app: HttpApp, deps: TwilioRouteDeps): void {
  const { settings, inbound, log } = deps;

  /** The request's form fields when Twilio signed them; otherwise the answer has been sent. */
  function verified(request: FastifyRequest, reply: FastifyReply): TwilioParams | undefined {
    if (!settings) {
      void reply
        .code(503)
        .type('text/plain')
        .send(
          'Twilio is not set up in Vigil: set VIGIL_TWILIO_ACCOUNT_SID, VIGIL_TWILIO_AUTH_TOKEN and VIGIL_TWILIO_FROM.',
        );
      return undefined;
    }
    const params = formParams(typeof request.body === 'string' ? request.body : '');
    const header = request.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!signature) {
      void reply
        .code(400)
        .type('text/plain')
        .send('X-Twilio-Signature is missing: only Twilio may call this URL.');
      return undefined;
    }
    const url = `${settings.publicUrl}${request.url}`;
    if (!isValidTwilioSignature(settings.authToken, url, params, signature)) {
      log.warn({ url: request.url }, 'a Twilio webhook with a wrong signature was refused');
      void reply
        .code(403)
        .type('text/plain')
        .send(
          'X-Twilio-Signature does not match: check that VIGIL_PUBLIC_URL is the address Twilio calls and VIGIL_TWILIO_AUTH_TOKEN is the account\u2019s auth token.',
        );
      return undefined;
    }
    if (one(params, 'AccountSid') !== settings.accountSid) {
      void reply.code(403).type('text/plain').send('This request is for another Twilio account.');
      return undefined;
    }
    return params;
  }

  const schema = { hide: true, querystring: Type.Record(Type.String(), Type.String()) };

  // Encapsulated so that only these routes take Twilio's form bodies, as text (the signature covers them).
  void app.register(async (scope: HttpApp) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 65_536 },
      (_request, body, done) => done(null, body),
    );

    scope.post(SMS_PATH, { config: { public: true }, schema }, async (request, reply) => {
      const params = verified(request, reply);
      if (!params) return reply;
      const answer = await inbound.smsReply(one(params, 'From'), one(params, 'Body'));
      return twiml(reply, answer === undefined ? twimlResponse() : twimlResponse(message(answer)));
    });

    scope.post(VOICE_PATH, { config: { public: true }, schema }, async (request, reply) => {
      const params = verified(request, reply);
      if (!params) return reply;
      const query = request.query as Record<string, string | undefined>;
      const ids = notificationIdsOf(query);
      const answered = query.answer === '1';
      const digits = answered ? one(params, 'Digits') : undefined;
      const script = await inbound.voice(ids, digits);
      if (!script)
        return twiml(
          reply,
          twimlResponse(say('This is Vigil. This call is not about any alert. Goodbye.'), hangup()),
        );
      if (script.kind === 'done') return twiml(reply, twimlResponse(say(script.text), hangup()));
      const base = `${settings?.publicUrl ?? ''}${VOICE_PATH}?notifications=${ids.join(',')}`;
      const prompt = answered ? [say('That key does nothing.')] : [];
      return twiml(
        reply,
        twimlResponse(
          ...prompt,
          gatherOneDigit(`${base}&answer=1`, say(script.text), say(inbound.menu(script.count))),
          // No key: say it once more, then leave the alert to the escalation.
          gatherOneDigit(`${base}&answer=1`, say(inbound.menu(script.count))),
          say('No key was pressed. The alert stays open and will escalate. Goodbye.'),
          hangup(),
        ),
      );
    });

    scope.post(STATUS_PATH, { config: { public: true }, schema }, async (request, reply) => {
      const params = verified(request, reply);
      if (!params) return reply;
      const callSid = one(params, 'CallSid');
      const errorCode = one(params, 'ErrorCode');
      const duration = one(params, 'CallDuration');
      await inbound.status({
        notificationIds: notificationIdsOf(request.query as Record<string, string | undefined>),
        isCall: callSid !== '',
        status: callSid ? one(params, 'CallStatus') : one(params, 'MessageStatus'),
        ...(errorCode ? { errorCode } : {}),
        ...(duration ? { duration } : {}),
      });
      return reply.code(204).send();
    });
  });
}
