import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { Logger } from '../../logger.js';
import { SMTP_TIMEOUTS } from '../../notify/email.js';
import { escapeHtml, FONT } from '../../notify/html.js';

/** The links the console sends to people: an invitation to set a first password, or a reset. */
export interface AccountEmail {
  to: string;
  kind: 'invitation' | 'password-reset';
  organization: string;
  link: string;
  hoursValid: number;
}

export interface AccountMailer {
  /** Whether the email was handed to the SMTP relay; false when email is not set up or the relay refused. */
  send(email: AccountEmail): Promise<boolean>;
  close(): void;
}

function render(email: AccountEmail): { subject: string; text: string; html: string } {
  const subject =
    email.kind === 'invitation'
      ? `You are invited to ${email.organization} on Vigil`
      : `Set a new Vigil password for ${email.organization}`;
  const lead =
    email.kind === 'invitation'
      ? `You have been added to ${email.organization} on Vigil, where alerts are handled and on-call is kept. Choose your password to sign in:`
      : `Someone (hopefully you) asked to set a new password for your Vigil account in ${email.organization}. Choose it here:`;
  const tail =
    email.kind === 'invitation'
      ? `The link works once, for ${email.hoursValid} hours. When it has expired, ask an admin to invite you again.`
      : `The link works once, for ${email.hoursValid} hours. If you did not ask for it, ignore this email: your password stays as it is.`;
  return {
    subject,
    text: `${lead}\n\n${email.link}\n\n${tail}\n`,
    html: `<div style="font-family:${FONT};max-width:560px"><p>${escapeHtml(lead)}</p><p><a href="${escapeHtml(email.link)}" style="display:inline-block;padding:10px 16px;background:#1c7ed6;color:#fff;border-radius:4px;text-decoration:none">${email.kind === 'invitation' ? 'Set your password' : 'Set a new password'}</a></p><p style="color:#555">${escapeHtml(tail)}</p></div>`,
  };
}

/**
 * Sends through VIGIL_SMTP_URL from `from` (the From pages use too: emailFrom in
 * notify/destinations/email.ts); without VIGIL_SMTP_URL it sends nothing and says so. It waits on the
 * relay as long as pages do: an invitation is answered only once its email was tried (with the link
 * when that failed), and a reset's worker holds its lease while it sends.
 */
export function createAccountMailer(options: {
  smtpUrl: string | undefined;
  from: string;
  log: Logger;
}): AccountMailer {
  const { smtpUrl, log } = options;
  const transport = smtpUrl
    ? nodemailer.createTransport(
        { ...SMTP_TIMEOUTS, ...(parseConnectionUrl(smtpUrl) as SMTPTransport.Options) },
        { from: options.from },
      )
    : undefined;
  return {
    async send(email) {
      if (!transport) {
        log.warn(
          { kind: email.kind },
          'an account email was not sent: email is not set up (set VIGIL_SMTP_URL and VIGIL_EMAIL_FROM)',
        );
        return false;
      }
      try {
        await transport.sendMail({ to: email.to, ...render(email) });
        return true;
      } catch (error) {
        log.warn({ err: error, kind: email.kind }, 'an account email was refused by the SMTP relay');
        return false;
      }
    },
    close() {
      transport?.close();
    },
  };
}
