/**
 * The URLs an SNS message asks Vigil to fetch (its signing certificate, its SubscribeURL): only SNS's own
 * hosts over https, so that a forged message cannot make Vigil fetch anything else.
 */

const SNS_HOST = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;

function snsUrlProblem(name: string, raw: string): { url?: URL; problem?: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `${name} ${JSON.stringify(raw)} is not a valid URL.` };
  }
  if (url.protocol !== 'https:')
    return { problem: `${name} must use https, not ${url.protocol.slice(0, -1)}.` };
  if (url.username || url.password) return { problem: `${name} must not carry a user name or password.` };
  // url.host keeps a non-default port, which AWS's validators refuse too.
  if (!SNS_HOST.test(url.host)) {
    return { problem: `${name} host ${url.host} is not an SNS host (sns.<region>.amazonaws.com).` };
  }
  return { url };
}

/** Undefined when SNS could have sent this SigningCertURL, else why not. */
export function signingCertUrlProblem(url: string): string | undefined {
  const checked = snsUrlProblem('SigningCertURL', url);
  if (!checked.url) return checked.problem;
  if (!checked.url.pathname.endsWith('.pem') || checked.url.search || checked.url.hash) {
    return `SigningCertURL must end in .pem (got path ${checked.url.pathname}${checked.url.search}).`;
  }
  return undefined;
}

/** Undefined when this SubscribeURL points at SNS over https and may be fetched, else why not. */
export function subscribeUrlProblem(url: string): string | undefined {
  return snsUrlProblem('SubscribeURL', url).problem;
}
