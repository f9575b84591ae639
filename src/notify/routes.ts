import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Principal } from '../accounts/service.js';
import { accountsRepository } from '../accounts/repository.js';
import { principalOfUser } from '../accounts/user-principal.js';
import type { AlertsService } from '../alerts/service.js';
import type { Db } from '../db/database.js';
import type { AlertRow } from '../db/schema.js';
import { isDomainError } from '../errors.js';
import type { HttpApp } from '../http/server.js';
import { peopleRepository } from '../oncall/people/repository.js';
import type { Clock } from '../work/clock.js';
import { escapeHtml, FONT, PRIORITY_COLORS } from './html.js';
import type { ActionLinkClaims, ActionLinks } from './links.js';

/**
 * The pages behind the acknowledge / close links in notifications. No API key: the signed token is the
 * credential, and the action is taken as the person the link was made for.
 *
 * GET only shows the alert and a button; the POST that button sends is what acts. Mail scanners and link
 * previews fetch every URL in a message, and must not acknowledge a page nobody has read.
 *
 * A link acts only while the contact method it was sent to is still the person's, at the address it was
 * sent to, and enabled: once an address is corrected (a mistyped email, a username fixed, a number given
 * to someone else) or a contact or device removed or turned off, whoever still holds the message must not
 * be able to act as the person with it.
 */

export interface ActionLinkDeps {
  links: ActionLinks;
  alerts: AlertsService;
  db: Db;
  /** Where people open Vigil (the pages point there when a link can not be used). */
  publicUrl: string;
  /** The clock links are made on (the engine's), so also the one that says when they expire. */
  clock: Clock;
}

/**
 * The token is the rest of the path. A wildcard rather than `:token`: Fastify refuses a path parameter over
 * 100 characters (maxParamLength) with 414, and a link's JWT is about 340.
 */
const Params = Type.Object({ '*': Type.String() });

/**
 * Where the link was used from, for the activity's source: `via=push` is added by the push channel to the
 * links it gives the service worker (push/channel.ts). Not part of the signed token, so it only names the
 * source, and only one of these.
 */
const Query = Type.Object({ via: Type.Optional(Type.Literal('push')) });
const SOURCES = { email: 'email link', push: 'push notification' } as const;

const VERBS: Record<ActionLinkClaims['action'], { button: string; done: string }> = {
  acknowledge: { button: 'Acknowledge', done: 'acknowledged' },
  close: { button: 'Close', done: 'closed' },
};

interface Page {
  status: number;
  title: string;
  /** Already-escaped HTML. */
  body: string;
}

function render(page: Page): string {
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">` +
    `<title>${escapeHtml(page.title)} · Vigil</title></head>` +
    `<body style="margin:0;background:#f3f4f6;font-family:${FONT};color:#111827;line-height:1.45;">` +
    `<main style="max-width:480px;margin:0 auto;padding:24px 16px;">` +
    `<div style="background:#ffffff;border-radius:8px;padding:20px;">${page.body}</div>` +
    `<p style="font-size:12px;color:#6b7280;text-align:center;">Vigil</p></main></body></html>`
  );
}

function send(reply: FastifyReply, page: Page) {
  return (
    reply
      .status(page.status)
      .header('content-type', 'text/html; charset=utf-8')
      // The URL is a credential: no caches, no Referer to wherever the page links, no framing.
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('x-robots-tag', 'noindex')
      .header('x-frame-options', 'DENY')
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      )
      .send(render(page))
  );
}

function heading(text: string): string {
  return `<h1 style="font-size:20px;margin:0 0 12px;">${escapeHtml(text)}</h1>`;
}

function paragraph(html: string): string {
  return `<p style="margin:0 0 12px;">${html}</p>`;
}

function summary(alert: AlertRow): string {
  const color = PRIORITY_COLORS[alert.priority] ?? '#4b5563';
  const status = alert.status === 'closed' ? 'Closed' : alert.acknowledged ? 'Acknowledged' : 'Open';
  return (
    `<div style="font-size:13px;color:${color};font-weight:600;">${escapeHtml(alert.priority)} · #${escapeHtml(alert.tiny_id)} · ${status}</div>` +
    `<div style="font-size:17px;margin:4px 0 16px;word-break:break-word;">${escapeHtml(alert.message)}</div>`
  );
}

function nextSteps(publicUrl: string): string {
  const base = escapeHtml(publicUrl);
  return paragraph(
    `Open <a href="${base}" style="color:#1d4ed8;">Vigil</a> to act on the alert, or use the API: ` +
      `<code style="word-break:break-all;">POST ${base}/v2/alerts/{id}/acknowledge</code> (or <code>/close</code>) with your API key.`,
  );
}

export function registerActionLinkRoutes(app: HttpApp, deps: ActionLinkDeps): void {
  const { links, alerts, db, publicUrl, clock } = deps;

  const notValid: Page = {
    status: 400,
    title: 'Link not valid',
    body:
      heading('This link is not valid') +
      paragraph('It may have been cut short or changed on the way. Use the link from the email as a whole.') +
      nextSteps(publicUrl),
  };

  /**
   * The contact method the link was sent to is no longer the person's at that address, or is turned off.
   * Says no more than that: whoever holds the link may be the stranger the mail reached.
   */
  function contactGone(alertId: string): Page {
    const alert = escapeHtml(`${publicUrl}/alerts/${alertId}`);
    return {
      status: 403,
      title: 'Link no longer acts',
      body:
        heading('This link no longer acts on the alert') +
        paragraph(
          'The email address or device it was sent to has since been changed, removed or turned off in ' +
            'Vigil, so the link can no longer act for the person it was sent to.',
        ) +
        paragraph(
          `To acknowledge or close the alert, <a href="${alert}" style="color:#1d4ed8;">open it in Vigil</a>.`,
        ),
    };
  }

  /** The link's claims and the person it acts as, or the page that says why it can not be used. */
  async function resolve(
    token: string,
  ): Promise<{ claims: ActionLinkClaims; principal: Principal; userName: string } | Page> {
    const verdict = await links.verify(token, clock.now());
    if ('error' in verdict) {
      return verdict.error === 'expired'
        ? {
            status: 410,
            title: 'Link expired',
            body: heading('This link has expired') + nextSteps(publicUrl),
          }
        : notValid;
    }
    const user = await accountsRepository.findUser(db, verdict.orgId, verdict.userId);
    if (!user || user.blocked) {
      return {
        status: 403,
        title: 'Link not usable',
        body:
          heading('This link can no longer be used') +
          paragraph('The person it was made for has been removed or blocked in Vigil.') +
          nextSteps(publicUrl),
      };
    }
    // A link without a contact was made before links named one, and acts as it did until it expires
    // (links.ts verify).
    if (verdict.contact) {
      const contact = await peopleRepository.findContact(db, user.id, verdict.contact.id);
      if (!contact || !contact.enabled || !links.sentTo(verdict.contact, contact.address)) {
        return contactGone(verdict.alertId);
      }
    }
    return { claims: verdict, principal: principalOfUser(user), userName: user.full_name || user.username };
  }

  async function findAlert(principal: Principal, alertId: string): Promise<AlertRow | undefined> {
    try {
      return await alerts.get(principal, alertId, 'id');
    } catch (error) {
      if (isDomainError(error, 'not-found')) return undefined;
      throw error;
    }
  }

  const gone: Page = {
    status: 404,
    title: 'Alert not found',
    body: heading('This alert no longer exists') + paragraph('It may have been deleted.'),
  };

  /** What the alert's state says before anyone presses anything (undefined: the action still applies). */
  function alreadyDone(alert: AlertRow, action: ActionLinkClaims['action']): string | undefined {
    if (alert.status === 'closed') return `Alert #${alert.tiny_id} is already closed${by(alert.closed_by)}.`;
    if (action === 'acknowledge' && alert.acknowledged)
      return `Alert #${alert.tiny_id} is already acknowledged${by(alert.acknowledged_by)}.`;
    return undefined;
  }

  const schema = {
    hide: true,
    params: Params,
    querystring: Query,
  };
  // A link changed on the way (a `via` Vigil does not name) gets the page that says so, not the API's JSON.
  const route = { config: { public: true }, schema, attachValidation: true };

  // Encapsulated so that only these routes take the form body the button posts.
  void app.register(async (scope: HttpApp) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1024 },
      (_request, _body, done) => done(null, {}),
    );

    scope.get('/v1/alert-actions/*', route, async (request, reply) => {
      if (request.validationError) return send(reply, notValid);
      const resolved = await resolve(request.params['*']);
      if ('status' in resolved) return send(reply, resolved);
      const { claims, principal } = resolved;
      const alert = await findAlert(principal, claims.alertId);
      if (!alert) return send(reply, gone);
      const verb = VERBS[claims.action];
      const done = alreadyDone(alert, claims.action);
      if (done) {
        return send(reply, {
          status: 200,
          title: `Alert #${alert.tiny_id}`,
          body: summary(alert) + paragraph(escapeHtml(done)),
        });
      }
      return send(reply, {
        status: 200,
        title: `${verb.button} alert #${alert.tiny_id}`,
        body:
          summary(alert) +
          `<form method="post" style="margin:0 0 12px;">` +
          `<button type="submit" style="font:inherit;font-weight:600;font-size:16px;color:#ffffff;` +
          `background:${claims.action === 'acknowledge' ? '#15803d' : '#374151'};border:0;border-radius:6px;` +
          `padding:12px 20px;width:100%;cursor:pointer;">${verb.button}</button></form>` +
          `<p style="margin:0;font-size:13px;color:#6b7280;">As ${escapeHtml(resolved.userName)}.</p>`,
      });
    });

    scope.post('/v1/alert-actions/*', route, async (request, reply) => {
      // A push's Acknowledge / Close buttons POST from the console's service worker, whose origin may not
      // be the public URL's: it may read the answer (done, expired, refused). Any origin, never with
      // credentials: the token in the URL is the credential, and no cookie is read here.
      reply.header('access-control-allow-origin', '*');
      if (request.validationError) return send(reply, notValid);
      const resolved = await resolve(request.params['*']);
      if ('status' in resolved) return send(reply, resolved);
      const { claims, principal, userName } = resolved;
      const verb = VERBS[claims.action];
      const source = SOURCES[request.query.via ?? 'email'];
      let outcome;
      try {
        outcome = await alerts.act(
          principal,
          request.id,
          claims.alertId,
          'id',
          { kind: claims.action },
          { user: userName, source },
        );
      } catch (error) {
        if (!isDomainError(error, 'forbidden')) throw error;
        return send(reply, {
          status: 403,
          title: `Not ${verb.done}`,
          body: heading(`The alert was not ${verb.done}`) + paragraph(escapeHtml(error.message)),
        });
      }
      const alert = outcome.alert;
      if (!alert) return send(reply, gone);
      const acted =
        (claims.action === 'acknowledge' && outcome.status === 'Acknowledged') ||
        (claims.action === 'close' && outcome.status === 'Closed');
      request.log.info(
        {
          alertId: alert.id,
          userId: principal.userId,
          action: claims.action,
          status: outcome.status,
          source,
        },
        'alert action link used',
      );
      const message = acted
        ? `Alert #${alert.tiny_id} ${verb.done} by ${userName}.`
        : (alreadyDone(alert, claims.action) ?? outcome.status);
      return send(reply, {
        status: 200,
        title: acted ? `Alert #${alert.tiny_id} ${verb.done}` : `Alert #${alert.tiny_id}`,
        body: summary(alert) + heading(message),
      });
    });
  });
}

function by(name: string | null): string {
  return name ? ` by ${name}` : '';
}
