import { isUuid } from '../../db/database.js';
import { signLinkToken, verifyLinkToken } from '../../notify/links.js';

/**
 * The download links of attachments: what Get Alert Attachment answers as `url`, as Opsgenie answers a
 * short-lived link to its storage. The link is the credential (a browser, curl or a chat client fetches it
 * without the API key), so it is signed, names one attachment of one alert of one organization, and
 * expires. It is a JWT signed with the key of the notifications' action links (notify/links.ts), of a
 * type of its own: an action link is never a download link, nor the other way round.
 */

export interface AttachmentLinkClaims {
  orgId: string;
  alertId: string;
  attachmentId: string;
}

export type AttachmentLinkVerdict = AttachmentLinkClaims | { error: 'invalid' | 'expired' };

export interface AttachmentLinks {
  url(claims: AttachmentLinkClaims, now: Date): string;
  verify(token: string, now: Date): Promise<AttachmentLinkVerdict>;
}

const TYP = 'vigil-attachment+jwt';
export const ATTACHMENT_LINK_PATH = '/v1/alert-attachments/';

export function createAttachmentLinks(secret: Buffer, publicUrl: string, ttlMs: number): AttachmentLinks {
  if (secret.length < 16) throw new Error('the link secret is too short');
  const base = publicUrl.replace(/\/+$/, '');
  return {
    url(claims, now) {
      if (!isUuid(claims.orgId) || !isUuid(claims.alertId) || !/^\d{1,18}$/.test(claims.attachmentId))
        throw new Error('an attachment link needs UUIDs for the organization and alert and a numeric id');
      const token = signLinkToken(secret, TYP, {
        org: claims.orgId.toLowerCase(),
        alert: claims.alertId.toLowerCase(),
        att: claims.attachmentId,
        exp: Math.floor((now.getTime() + ttlMs) / 1000),
      });
      return `${base}${ATTACHMENT_LINK_PATH}${token}`;
    },
    async verify(token, now) {
      const verified = await verifyLinkToken(secret, TYP, token, now, ['org', 'alert', 'att', 'exp']);
      if ('error' in verified) return verified;
      const { org, alert, att } = verified.payload;
      if (typeof org !== 'string' || typeof alert !== 'string' || typeof att !== 'string')
        return { error: 'invalid' };
      if (!isUuid(org) || !isUuid(alert) || !/^\d{1,18}$/.test(att)) return { error: 'invalid' };
      return { orgId: org, alertId: alert, attachmentId: att };
    },
  };
}
