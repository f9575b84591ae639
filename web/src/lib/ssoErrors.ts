/**
 * What the sign-in page says when single sign-on did not complete. The server sends the browser to
 * `/sign-in?error=<code>` (src/accounts/sso/service.ts, SSO_FAILURES) and the page shows these words
 * for the code, never the text of the address: anyone can send a link to Vigil's own sign-in page with
 * whatever they like in it ("Vigil has moved: sign in at …").
 */
export const SSO_ERROR_MESSAGES = {
  sso_not_set_up: 'This organization has no single sign-on: sign in with your password.',
  sso_wrong_browser:
    'This sign-in was not started in this browser (or its cookie was blocked): sign in again from here.',
  sso_expired: 'This sign-in took too long or was already used: sign in again.',
  sso_provider_refused: 'The sign-in provider refused. Try again, or sign in with your password.',
  sso_turned_off: 'Single sign-on has been turned off: sign in with your password.',
  sso_unchecked:
    "The sign-in provider's answer could not be checked: sign in again, or ask an admin to check the single sign-on settings.",
  sso_no_email:
    'The sign-in provider did not give an email address: ask an admin to let it share the email scope.',
  sso_email_unverified:
    'The sign-in provider did not say your email address is verified (email_verified): verify it there, or ask an admin to have the provider send the claim.',
  sso_not_a_user:
    'The email address the sign-in provider gave is not a user of this organization in Vigil: ask an admin to add or invite you.',
  sso_provider_unreachable:
    'The single sign-on provider could not be reached: try again in a minute, or sign in with your password.',
  sso_failed: 'Single sign-on did not complete: sign in again, or sign in with your password.',
} as const;

/** The words for the `error` of the sign-in page's address: the general ones for a code it does not know. */
export function ssoErrorMessage(code: string | null): string | undefined {
  if (!code) return undefined;
  return Object.hasOwn(SSO_ERROR_MESSAGES, code)
    ? SSO_ERROR_MESSAGES[code as keyof typeof SSO_ERROR_MESSAGES]
    : SSO_ERROR_MESSAGES.sso_failed;
}
